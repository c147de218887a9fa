//! Models and versions known to the emulator, with the handler that runs each one.

pub(crate) mod builtin;
pub(crate) mod dir;
pub(crate) mod examples;
pub(crate) mod synth;
pub(crate) mod typed;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

use crate::clock::{Ts, now_micros};
use crate::domain::predictions::lifecycle::{Handler, RunContext};

/// One version of a model.
pub(crate) struct Version {
    /// 64 hex chars.
    pub id: Arc<str>,
    /// Creation time (unix µs).
    pub created: i64,
    /// Cog version that built it.
    pub cog_version: Option<String>,
    /// The version's `openapi_schema`.
    pub openapi_schema: Value,
    /// The parsed Cog schema (validation, defaults, secrets, output kind and synthesis); `None` when the
    /// `openapi_schema` is not a usable Cog schema, in which case inputs are taken as they come.
    pub cog: Option<replicate_cog::CogSchema>,
}

impl Version {
    /// A version from its parts.
    pub(crate) fn new(id: impl Into<Arc<str>>, cog_version: Option<String>, openapi_schema: Value) -> Self {
        let cog = replicate_cog::CogSchema::from_openapi(&openapi_schema, cog_version.as_deref()).ok();
        Version { id: id.into(), created: now_micros(), cog_version, openapi_schema, cog }
    }

    /// Validates an input; on success returns it with defaults applied.
    pub(crate) fn validate(&self, input: &Value) -> Result<Value, Vec<crate::problem::InvalidField>> {
        let Some(cog) = &self.cog else { return Ok(input.clone()) };
        match cog.validate_input(input) {
            Ok(()) => {
                let mut v = cog.with_defaults(input);
                if let Some(o) = v.as_object_mut() {
                    o.retain(|_, x| !x.is_null());
                }
                Ok(v)
            }
            Err(fields) => Err(fields
                .into_iter()
                .map(|f| crate::problem::InvalidField {
                    kind: f.r#type,
                    field: f.field,
                    description: f.description,
                })
                .collect()),
        }
    }

    /// The input as stored: secret fields (`x-cog-secret`) replaced by asterisks.
    pub(crate) fn redact(&self, input: &Value) -> Value {
        let mut v = input.clone();
        let (Some(cog), Some(o)) = (&self.cog, v.as_object_mut()) else { return v };
        for f in cog.inputs().iter().filter(|f| matches!(f.ty, replicate_cog::InputType::Secret)) {
            if let Some(slot) = o.get_mut(&f.name)
                && !slot.is_null()
            {
                *slot = Value::String("**********".into());
            }
        }
        v
    }

    /// How the output streams: `None` for a single value, files (a stream under `/v1/files/...`) or items.
    pub(crate) fn stream_kind(&self) -> Option<crate::domain::predictions::record::StreamKind> {
        use replicate_cog::OutputSchema;
        match self.cog.as_ref()?.output() {
            OutputSchema::Iterator { item, .. } if matches!(**item, OutputSchema::File) => {
                Some(crate::domain::predictions::record::StreamKind::Files)
            }
            OutputSchema::Iterator { .. } => Some(crate::domain::predictions::record::StreamKind::Items),
            _ => None,
        }
    }

    /// JSON as `GET /models/{o}/{n}/versions/{id}` returns it.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": &*self.id,
            "created_at": Ts(self.created).to_string(),
            "cog_version": self.cog_version,
            "openapi_schema": self.openapi_schema,
        })
    }
}

/// A model: metadata, versions and behaviour.
#[derive(Clone)]
pub(crate) struct Model {
    /// Owner.
    pub owner: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// `public` or `private`.
    pub visibility: String,
    /// Official models run by name, report `version: "hidden"` and hide their versions.
    pub official: bool,
    /// Hardware sku.
    pub hardware: String,
    /// Links.
    pub github_url: Option<String>,
    /// Paper link.
    pub paper_url: Option<String>,
    /// License link.
    pub license_url: Option<String>,
    /// Cover image.
    pub cover_image_url: Option<String>,
    /// README (markdown).
    pub readme: Option<String>,
    /// Creation time.
    pub created: i64,
    /// Versions, oldest first. Official models keep their one hidden version here.
    pub versions: Vec<Arc<Version>>,
    /// Runs so far.
    pub run_count: Arc<AtomicU64>,
    /// Behaviour; `None` synthesizes outputs from the version's Output schema.
    pub handler: Option<Handler>,
    /// Nominal seconds from `starting` to `processing`.
    pub setup_seconds: f64,
    /// The handler says when the run really starts (a Cog model: when Cog reports it);
    /// until then the prediction stays `starting`.
    pub reports_start: bool,
    /// Prediction id of an example run, if any.
    pub default_example: Option<Arc<str>>,
    /// Input of the example run made when the emulator starts (`default_example`).
    pub example_input: Option<Value>,
    /// Tags for search.
    pub tags: Vec<String>,
}

impl Model {
    /// A public, unofficial model with one version and no handler (outputs synthesised from its schema).
    pub(crate) fn new(owner: &str, name: &str, version: Version) -> Self {
        Model {
            owner: owner.into(),
            name: name.into(),
            description: None,
            visibility: "public".into(),
            official: false,
            hardware: "cpu".into(),
            github_url: None,
            paper_url: None,
            license_url: None,
            cover_image_url: None,
            readme: None,
            created: now_micros(),
            versions: vec![Arc::new(version)],
            run_count: Arc::new(AtomicU64::new(0)),
            handler: None,
            setup_seconds: 0.05,
            reports_start: false,
            default_example: None,
            example_input: None,
            tags: Vec::new(),
        }
    }

    /// `owner/name`.
    pub(crate) fn key(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// The version new predictions use by default.
    pub(crate) fn latest(&self) -> Option<&Arc<Version>> {
        self.versions.last()
    }

    /// JSON as `GET /models/{o}/{n}` returns it (`default_example` filled by the caller).
    pub(crate) fn to_json(&self, default_example: Value) -> Value {
        let latest = self.latest().map(|v| v.to_json()).unwrap_or(Value::Null);
        json!({
            "url": format!("https://replicate.com/{}/{}", self.owner, self.name),
            "owner": self.owner,
            "name": self.name,
            "description": self.description,
            "visibility": self.visibility,
            "github_url": self.github_url,
            "paper_url": self.paper_url,
            "license_url": self.license_url,
            "run_count": self.run_count.load(Ordering::Relaxed),
            "cover_image_url": self.cover_image_url,
            "default_example": default_example,
            "latest_version": latest,
            "is_official": self.official,
            "created_at": Ts(self.created).to_string(),
        })
    }
}

/// All models, by `owner/name`, plus an index of version ids.
#[derive(Default)]
pub(crate) struct Catalog {
    /// Models by key.
    pub models: BTreeMap<String, Arc<Model>>,
    /// Version id → model key.
    pub version_index: HashMap<String, String>,
}

impl Catalog {
    /// Adds or replaces a model.
    pub(crate) fn insert(&mut self, model: Model) -> Arc<Model> {
        let key = model.key();
        for v in &model.versions {
            self.version_index.insert(v.id.to_string(), key.clone());
        }
        let m = Arc::new(model);
        self.models.insert(key, m.clone());
        m
    }

    /// A model by owner and name.
    pub(crate) fn get(&self, owner: &str, name: &str) -> Option<Arc<Model>> {
        self.models.get(&format!("{owner}/{name}")).cloned()
    }

    /// The model that holds a version id, and the version.
    pub(crate) fn by_version(&self, id: &str) -> Option<(Arc<Model>, Arc<Version>)> {
        let key = self.version_index.get(id)?;
        let model = self.models.get(key)?.clone();
        let version = model.versions.iter().find(|v| &*v.id == id)?.clone();
        Some((model, version))
    }

    /// Models newest first.
    pub(crate) fn newest_first(&self) -> Vec<Arc<Model>> {
        let mut v: Vec<_> = self.models.values().cloned().collect();
        v.sort_by(|a, b| b.created.cmp(&a.created).then(a.key().cmp(&b.key())));
        v
    }
}

/// The lowercase words of a text (runs of letters and digits).
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Whether query word `q` matches text word `t`: `t` starts with `q` (`image` finds `images`),
/// or both share a stem (`generation` finds `generates`: a common prefix of at least five
/// letters, at most three short of the shorter word).
fn word_matches(q: &str, t: &str) -> bool {
    if t.starts_with(q) {
        return true;
    }
    let common = q.chars().zip(t.chars()).take_while(|(a, b)| a == b).count();
    let shorter = q.chars().count().min(t.chars().count());
    common >= 5 && common + 3 >= shorter
}

/// Where a search hits and what each place weighs: the name counts most, then the
/// description and tags, then the README.
const NAME_WEIGHT: u32 = 8;
const DESCRIPTION_WEIGHT: u32 = 4;
const README_WEIGHT: u32 = 1;

impl Model {
    /// The search score of this model for a query's words (0: no word hits). Each query word
    /// adds the weight of every place it hits; the whole query inside `owner/name` adds more.
    pub(crate) fn search_score(&self, query: &str, query_words: &[String]) -> u32 {
        let name = words(&self.key());
        let description = words(self.description.as_deref().unwrap_or(""));
        let tags: Vec<String> = self.tags.iter().flat_map(|t| words(t)).collect();
        let readme = words(self.readme.as_deref().unwrap_or(""));
        let hits = |q: &str, place: &[String]| place.iter().any(|t| word_matches(q, t));
        let mut score = 0;
        for q in query_words {
            if hits(q, &name) {
                score += NAME_WEIGHT;
            }
            if hits(q, &description) || hits(q, &tags) {
                score += DESCRIPTION_WEIGHT;
            }
            if hits(q, &readme) {
                score += README_WEIGHT;
            }
        }
        let whole = query.trim().to_lowercase();
        if !whole.is_empty() && self.key().to_lowercase().contains(&whole) {
            score += 2 * NAME_WEIGHT;
        }
        score
    }
}

impl Catalog {
    /// Models matching a search, best first (ties newest first); every model when the query
    /// has no words.
    pub(crate) fn search(&self, query: &str) -> Vec<Arc<Model>> {
        let q = words(query);
        let all = self.newest_first();
        if q.is_empty() {
            return all;
        }
        let mut scored: Vec<(u32, Arc<Model>)> =
            all.into_iter().map(|m| (m.search_score(query, &q), m)).filter(|(s, _)| *s > 0).collect();
        scored.sort_by_key(|s| std::cmp::Reverse(s.0));
        scored.into_iter().map(|(_, m)| m).collect()
    }
}

/// A model to add to a running or starting emulator (the Rust registration API).
pub struct ModelSpec {
    pub(crate) model: Model,
}

impl std::fmt::Debug for ModelSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelSpec")
            .field("model", &self.model.key())
            .field("version", &self.model.latest().map(|v| v.id.clone()))
            .finish()
    }
}

impl ModelSpec {
    /// A model `owner/name` whose version has the given Cog `openapi_schema` and handler.
    /// The version id is derived from the name, so it is stable across runs.
    pub fn new<F, Fut>(owner_name: &str, openapi_schema: Value, handler: F) -> Self
    where
        F: Fn(Value, RunContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, String>> + Send + 'static,
    {
        let (owner, name) = owner_name.split_once('/').unwrap_or(("emulator", owner_name));
        let handler: Handler = Arc::new(move |input, ctx| Box::pin(handler(input, ctx)));
        let version =
            Version::new(crate::ids::version_id_for(owner_name), Some("0.9.4".into()), openapi_schema);
        ModelSpec { model: Model { handler: Some(handler), ..Model::new(owner, name, version) } }
    }

    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.model.description = Some(d.into());
        self
    }

    /// Marks the model official (run by name, `version: "hidden"`, versions list 404).
    pub fn official(mut self, official: bool) -> Self {
        self.model.official = official;
        self
    }

    /// Sets the nominal seconds spent in `starting`.
    pub fn setup_seconds(mut self, s: f64) -> Self {
        self.model.setup_seconds = s.max(0.0);
        self
    }

    /// An example input: when the emulator starts it runs the model on it once (sleeps
    /// skipped) and lists that prediction as the model's `default_example` and in
    /// `GET /models/{owner}/{name}/examples`.
    pub fn example(mut self, input: Value) -> Self {
        self.model.example_input = Some(input);
        self
    }

    /// Sets the README text.
    pub fn readme(mut self, r: impl Into<String>) -> Self {
        self.model.readme = Some(r.into());
        self
    }

    /// Sets the version id (64 hex chars).
    pub fn version_id(mut self, id: &str) -> Self {
        if let Some(v) = self.model.versions.pop() {
            let v = Arc::try_unwrap(v).unwrap_or_else(|a| {
                Version::new(a.id.clone(), a.cog_version.clone(), a.openapi_schema.clone())
            });
            self.model.versions.push(Arc::new(Version { id: id.into(), ..v }));
        }
        self
    }

    /// The version id the model will have.
    pub fn current_version_id(&self) -> Option<String> {
        self.model.latest().map(|v| v.id.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version() -> Version {
        Version::new(
            "v1",
            Some("0.9.4".into()),
            crate::domain::catalog::builtin::cog_schema(
                json!({
                    "prompt": {"type": "string", "x-order": 0, "maxLength": 5},
                    "width": {"type": "integer", "x-order": 1, "default": 8, "minimum": 1, "maximum": 10},
                    "key": {"type": "string", "format": "password", "x-cog-secret": true, "x-order": 2}
                }),
                &["prompt"],
                json!({"type": "array", "items": {"type": "string", "format": "uri"}, "x-cog-array-type": "iterator"}),
                json!({}),
            ),
        )
    }

    #[test]
    fn validates_applies_defaults_and_redacts_secrets() {
        let v = version();
        assert_eq!(v.validate(&json!({"prompt": "hi"})).unwrap()["width"], 8);
        let kinds: Vec<String> =
            v.validate(&json!({"width": 11})).unwrap_err().into_iter().map(|f| f.kind).collect();
        assert_eq!(kinds, ["required", "maximum"]);
        let stored = v.redact(&json!({"prompt": "p", "key": "sekrit"}));
        assert_eq!((stored["prompt"].as_str(), stored["key"].as_str()), (Some("p"), Some("**********")));
        assert_eq!(v.stream_kind(), Some(crate::domain::predictions::record::StreamKind::Files));
    }

    fn model(owner_name: &str, description: &str, readme: &str) -> Model {
        let (o, n) = owner_name.split_once('/').unwrap();
        Model {
            description: Some(description.into()),
            readme: Some(readme.into()),
            ..Model::new(o, n, Version::new(owner_name, None, json!({})))
        }
    }

    #[test]
    fn search_matches_words_ranked_by_where_they_hit() {
        let mut c = Catalog::default();
        c.insert(model("acme/painter", "Paints pictures", "Good at image generation"));
        c.insert(model("acme/image-gen", "Makes images", ""));
        c.insert(model("acme/describer", "Image generation from text prompts", ""));
        c.insert(model("acme/other", "Nothing related", "nothing"));
        let keys = |q: &str| c.search(q).iter().map(|m| m.key()).collect::<Vec<_>>();
        assert_eq!(keys("image generation"), ["acme/image-gen", "acme/describer", "acme/painter"]);
        assert_eq!(keys("IMAGES"), ["acme/image-gen", "acme/describer", "acme/painter"]);
        assert_eq!(keys("painter"), ["acme/painter"]);
        assert_eq!(keys("zebra"), Vec::<String>::new());
        assert_eq!(keys("  ").len(), 4);
        assert!(word_matches("generation", "generates"));
        assert!(!word_matches("gen", "regenerate"));
    }

    #[test]
    fn an_unusable_schema_takes_inputs_as_they_come() {
        let v = Version::new("v2", None, json!({"not": "a cog schema"}));
        assert_eq!(v.validate(&json!({"x": 1})).unwrap(), json!({"x": 1}));
        assert_eq!(v.stream_kind(), None);
    }
}
