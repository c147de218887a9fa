//! Decodes every response recorded against api.replicate.com (`shared/api-recordings/*.yaml`) into
//! the typed bodies of `replicate_core::types`, chosen from the request's method and path, and checks
//! real facts about what was decoded. A JSON response whose operation is not mapped fails the test,
//! so new recordings cannot be skipped silently.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use replicate_core::types::{
    CollectionSummary, File, Hardware, Model, ModelVersion, Prediction, PredictionStatus, Training,
    Visibility,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The base URL every recorded request was made against.
const API_BASE: &str = "https://api.replicate.com/v1";

/// The recordings directory: `shared/` sits beside the checkout.
fn recordings_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/api-recordings")
}

/// One recorded request/response pair, normalised over the two cassette formats found in the
/// recordings (vcrpy's older `content`/`status_code` and newer `body.string`/`status.code`).
#[derive(Debug)]
struct Interaction {
    file: String,
    method: String,
    uri: String,
    status: u16,
    content_type: String,
    body: String,
}

impl Interaction {
    fn label(&self) -> String {
        format!("{}: {} {} -> {}", self.file, self.method, self.uri, self.status)
    }

    fn is_json(&self) -> bool {
        let media = self.content_type.split(';').next().unwrap_or("").trim();
        media == "application/json" || media.ends_with("+json")
    }
}

/// The first value of a recorded header, matched case-insensitively.
fn header(headers: &serde_yaml::Value, name: &str) -> Option<String> {
    let map = headers.as_mapping()?;
    map.iter().find_map(|(key, value)| {
        let key = key.as_str()?;
        if !key.eq_ignore_ascii_case(name) {
            return None;
        }
        match value {
            serde_yaml::Value::Sequence(items) => items.first()?.as_str().map(str::to_owned),
            other => other.as_str().map(str::to_owned),
        }
    })
}

/// The response body as text: recorded as text, or as base64 of the gzip-compressed bytes
/// (serde_yaml drops the `!!binary` tag and hands back the base64 text).
fn body_text(raw: &str) -> String {
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.starts_with("H4sI") {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .expect("binary body is base64");
        let text = gzip::decompress(&bytes);
        return String::from_utf8(text).expect("gzip body is UTF-8");
    }
    raw.to_owned()
}

fn load_interactions() -> Vec<Interaction> {
    let dir = recordings_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no recordings in {}", dir.display());

    let mut out = Vec::new();
    for path in paths {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: serde_yaml::Value =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file} is not valid YAML: {e}"));
        let interactions =
            doc["interactions"].as_sequence().unwrap_or_else(|| panic!("{file} has no interactions"));
        assert!(!interactions.is_empty(), "{file} has an empty interaction list");
        for (index, interaction) in interactions.iter().enumerate() {
            let request = &interaction["request"];
            let response = &interaction["response"];
            let method = request["method"].as_str().expect("method").to_owned();
            let uri = request["uri"].as_str().expect("uri").to_owned();
            let status = response["status_code"]
                .as_u64()
                .or_else(|| response["status"]["code"].as_u64())
                .unwrap_or_else(|| panic!("{file}#{index} has no status code"));
            let raw_body =
                response["content"].as_str().or_else(|| response["body"]["string"].as_str()).unwrap_or("");
            out.push(Interaction {
                file: file.clone(),
                method,
                uri,
                status: u16::try_from(status).unwrap(),
                content_type: header(&response["headers"], "content-type").unwrap_or_default(),
                body: body_text(raw_body),
            });
        }
    }
    out
}

/// What a response body decodes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Prediction,
    PredictionPage,
    Model,
    ModelPage,
    Version,
    VersionPage,
    Training,
    TrainingPage,
    File,
    FilePage,
    Collection,
    CollectionPage,
    Hardware,
    Deployment,
    DeploymentPage,
    Account,
    Search,
    WebhookSecret,
}

/// Chooses the body type from the method and the path below `/v1`.
fn kind_of(method: &str, uri: &str) -> Option<Kind> {
    let path = uri.strip_prefix(API_BASE)?;
    let path = path.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    use Kind::*;
    let kind = match (method, segments.as_slice()) {
        ("GET", ["predictions"]) => PredictionPage,
        ("POST", ["predictions"]) => Prediction,
        ("GET", ["predictions", _]) => Prediction,
        ("POST", ["predictions", _, "cancel"]) => Prediction,
        ("GET", ["models"]) | ("QUERY", ["models"]) => ModelPage,
        ("POST", ["models"]) => Model,
        ("GET" | "PATCH", ["models", _, _]) => Model,
        ("GET", ["models", _, _, "examples"]) => PredictionPage,
        ("POST", ["models", _, _, "predictions"]) => Prediction,
        ("GET", ["models", _, _, "versions"]) => VersionPage,
        ("GET", ["models", _, _, "versions", _]) => Version,
        ("POST", ["models", _, _, "versions", _, "trainings"]) => Training,
        ("GET", ["trainings"]) => TrainingPage,
        ("GET", ["trainings", _]) => Training,
        ("POST", ["trainings", _, "cancel"]) => Training,
        ("GET", ["files"]) => FilePage,
        ("POST", ["files"]) => File,
        ("GET", ["files", _]) => File,
        ("GET", ["collections"]) => CollectionPage,
        ("GET", ["collections", _]) => Collection,
        ("GET", ["hardware"]) => Hardware,
        ("GET", ["deployments"]) => DeploymentPage,
        ("POST", ["deployments"]) => Deployment,
        ("GET" | "PATCH", ["deployments", _, _]) => Deployment,
        ("POST", ["deployments", _, _, "predictions"]) => Prediction,
        ("GET", ["account"]) => Account,
        ("GET", ["search"]) => Search,
        ("GET", ["webhooks", "default", "secret"]) => WebhookSecret,
        _ => return None,
    };
    Some(kind)
}

/// Decodes `value` as `T`, and checks that serializing the result and decoding it again is stable.
fn decode<T: DeserializeOwned + Serialize + PartialEq + Debug>(value: &Value, label: &str) -> T {
    let typed: T = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("{label}: does not decode as {}: {e}", std::any::type_name::<T>()));
    let reencoded = serde_json::to_value(&typed).unwrap();
    let again: T = serde_json::from_value(reencoded)
        .unwrap_or_else(|e| panic!("{label}: re-encoded body does not decode: {e}"));
    assert_eq!(typed, again, "{label}: serialize/deserialize is not stable");
    typed
}

/// Decodes a list page: `next`/`previous` are strings or null, `results` decode as `Vec<T>`.
fn decode_page<T: DeserializeOwned + Serialize + PartialEq + Debug>(value: &Value, label: &str) -> Vec<T> {
    for key in ["next", "previous"] {
        let link = value.get(key).unwrap_or_else(|| panic!("{label}: page has no `{key}`"));
        match link {
            Value::Null => {}
            Value::String(url) => {
                assert!(url.starts_with("https://"), "{label}: `{key}` is not an absolute URL: {url}")
            }
            other => panic!("{label}: `{key}` is neither a string nor null: {other}"),
        }
    }
    let results = value.get("results").unwrap_or_else(|| panic!("{label}: page has no `results`"));
    decode::<Vec<T>>(results, label)
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn looks_like_rfc3339(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 20
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && (text.ends_with('Z') || text[19..].contains(['+', '-']))
}

fn check_prediction(p: &Prediction, raw: &Value, label: &str) {
    assert_eq!(Some(p.id.as_str()), raw["id"].as_str(), "{label}: id");
    assert!(
        p.id.len() == 26 && p.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
        "{label}: prediction id is not a 26-char lowercase id: {}",
        p.id
    );
    assert_ne!(p.status, PredictionStatus::Unknown, "{label}: unknown status");
    assert_eq!(Some(p.status.as_str()), raw["status"].as_str(), "{label}: status");
    assert!(!p.version.is_empty(), "{label}: empty version");
    assert!(
        is_hex(&p.version, 64)
            || p.version == "hidden"
            || p.version.starts_with("dp-")
            || p.version.starts_with("d-"),
        "{label}: unexpected version form {}",
        p.version
    );
    assert!(looks_like_rfc3339(&p.created_at), "{label}: created_at {}", p.created_at);
    for time in [&p.started_at, &p.completed_at].into_iter().flatten() {
        assert!(looks_like_rfc3339(time), "{label}: timestamp {time}");
    }
    assert!(p.input.is_object(), "{label}: input is not an object");
    assert_eq!(p.input, raw["input"], "{label}: input");
    assert_eq!(&p.output, raw.get("output").unwrap_or(&Value::Null), "{label}: output");
    if let Some(get) = &p.urls.get {
        assert!(get.ends_with(&p.id), "{label}: urls.get {get} does not name the prediction");
    }
    if let Some(cancel) = &p.urls.cancel {
        assert!(cancel.ends_with("/cancel"), "{label}: urls.cancel {cancel}");
    }
    if p.status == PredictionStatus::Succeeded {
        assert!(p.is_terminal() && !p.output.is_null(), "{label}: succeeded without output");
    }
    if !p.is_terminal() {
        assert!(p.completed_at.is_none(), "{label}: unfinished but completed");
    }
    if p.status == PredictionStatus::Failed {
        assert!(p.error_message().is_some(), "{label}: failed without error");
    } else {
        assert!(p.error.is_null(), "{label}: error set on a {} prediction", p.status);
    }
}

fn check_training(t: &Training, raw: &Value, label: &str) {
    assert_eq!(Some(t.id.as_str()), raw["id"].as_str(), "{label}: id");
    assert_eq!(t.id.len(), 26, "{label}: training id {}", t.id);
    assert_ne!(t.status, PredictionStatus::Unknown, "{label}: unknown status");
    assert_eq!(Some(t.status.as_str()), raw["status"].as_str(), "{label}: status");
    assert!(is_hex(&t.version, 64), "{label}: training version {}", t.version);
    assert!(t.input.is_object(), "{label}: input is not an object");
    assert!(looks_like_rfc3339(&t.created_at), "{label}: created_at");
    if let Some(get) = &t.urls.get {
        assert!(get.ends_with(&t.id), "{label}: urls.get {get}");
    }
}

fn check_model(m: &Model, label: &str) {
    assert!(!m.owner.is_empty() && !m.name.is_empty(), "{label}: empty owner/name");
    assert_eq!(m.url, format!("https://replicate.com/{}", m.full_name()), "{label}: model url");
    if let Some(example) = &m.default_example {
        let raw = serde_json::to_value(example).unwrap();
        check_prediction(example, &raw, &format!("{label} (default_example)"));
        assert_eq!(example.status, PredictionStatus::Succeeded, "{label}: example status");
    }
    if let Some(version) = &m.latest_version {
        check_version(version, label);
    }
}

fn check_version(v: &ModelVersion, label: &str) {
    assert!(is_hex(&v.id, 64), "{label}: version id {}", v.id);
    let created = v.created_at.as_deref().unwrap_or("");
    assert!(looks_like_rfc3339(created), "{label}: version created_at {created:?}");
    let cog = v.cog_version.as_deref().unwrap_or("");
    assert!(cog.starts_with("0."), "{label}: cog_version {cog:?}");
    let input = &v.openapi_schema["components"]["schemas"]["Input"];
    assert_eq!(input["type"], "object", "{label}: schema has no Input object");
}

fn check_file(f: &File, raw: &Value, label: &str) {
    assert_eq!(Some(f.id.as_str()), raw["id"].as_str(), "{label}: id");
    assert!(!f.id.is_empty(), "{label}: empty file id");
    assert_eq!(Some(f.size), raw["size"].as_u64(), "{label}: size");
    assert!(!f.content_type.is_empty(), "{label}: empty content type");
    let sha = f.checksums.sha256.as_deref().unwrap_or("");
    assert!(is_hex(sha, 64), "{label}: sha256 {sha:?}");
    if f.size == 0 {
        // The SHA-256 of nothing.
        assert_eq!(
            sha, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "{label}: checksum of an empty file"
        );
    }
    assert!(f.urls.get.ends_with(&f.id), "{label}: urls.get {}", f.urls.get);
    assert!(looks_like_rfc3339(&f.created_at), "{label}: created_at");
    let expires = f.expires_at.as_deref().unwrap_or("");
    assert!(expires > f.created_at.as_str(), "{label}: expires_at {expires:?} not after creation");
}

/// Checks a response that is an `application/problem+json` error.
fn check_problem(i: &Interaction, raw: &Value, label: &str) {
    assert!(i.status >= 400, "{label}: problem body on a success status");
    let detail = raw["detail"].as_str().unwrap_or("");
    assert!(!detail.is_empty(), "{label}: problem without detail");
    assert_eq!(raw["status"].as_u64(), Some(u64::from(i.status)), "{label}: problem status");
    // `title` is not always present (a recorded 404 has only detail and status), but is text when it is.
    if let Some(title) = raw.get("title") {
        assert!(title.as_str().is_some_and(|t| !t.is_empty()), "{label}: title {title}");
    }
    // The client's problem type reads the same facts.
    let problem: replicate_core::Problem = serde_json::from_value(raw.clone())
        .unwrap_or_else(|e| panic!("{label}: does not decode as Problem: {e}"));
    assert_eq!(problem.detail.as_deref(), Some(detail), "{label}: Problem.detail");
    assert_eq!(problem.status, Some(i.status), "{label}: Problem.status");
    assert_eq!(problem.title.as_deref(), raw["title"].as_str(), "{label}: Problem.title");
}

#[test]
fn every_recorded_response_decodes_into_its_type() {
    let interactions = load_interactions();
    let mut decoded: BTreeMap<Kind, usize> = BTreeMap::new();
    let mut problems = 0;
    let mut empty = 0;
    let mut unmapped = Vec::new();

    for i in &interactions {
        let label = i.label();
        if i.body.trim().is_empty() {
            assert!(i.status == 204 || i.status == 202, "{label}: empty body on status {}", i.status);
            empty += 1;
            continue;
        }
        assert!(i.is_json(), "{label}: unexpected content type {:?}", i.content_type);
        let raw: Value =
            serde_json::from_str(&i.body).unwrap_or_else(|e| panic!("{label}: body is not JSON: {e}"));

        if i.status >= 400 {
            assert!(
                i.content_type.starts_with("application/problem+json"),
                "{label}: error body is {:?}, not problem+json",
                i.content_type
            );
            check_problem(i, &raw, &label);
            problems += 1;
            continue;
        }

        let Some(kind) = kind_of(&i.method, &i.uri) else {
            unmapped.push(label);
            continue;
        };
        match kind {
            Kind::Prediction => {
                let p: Prediction = decode(&raw, &label);
                check_prediction(&p, &raw, &label);
            }
            Kind::PredictionPage => {
                for p in decode_page::<Prediction>(&raw, &label) {
                    let item = serde_json::to_value(&p).unwrap();
                    check_prediction(&p, &item, &label);
                }
            }
            Kind::Model => {
                let m: Model = decode(&raw, &label);
                check_model(&m, &label);
            }
            Kind::ModelPage => decode_page::<Model>(&raw, &label).iter().for_each(|m| check_model(m, &label)),
            Kind::Version => {
                let v: ModelVersion = decode(&raw, &label);
                assert!(i.uri.ends_with(&v.id), "{label}: version id is not the one asked for");
                check_version(&v, &label);
            }
            Kind::VersionPage => {
                decode_page::<ModelVersion>(&raw, &label).iter().for_each(|v| check_version(v, &label))
            }
            Kind::Training => {
                let t: Training = decode(&raw, &label);
                check_training(&t, &raw, &label);
            }
            Kind::TrainingPage => {
                for t in decode_page::<Training>(&raw, &label) {
                    let item = serde_json::to_value(&t).unwrap();
                    check_training(&t, &item, &label);
                }
            }
            Kind::File => {
                let f: File = decode(&raw, &label);
                check_file(&f, &raw, &label);
            }
            Kind::FilePage => {
                let files = decode_page::<File>(&raw, &label);
                assert!(!files.is_empty(), "{label}: empty file list");
                for (f, item) in files.iter().zip(raw["results"].as_array().unwrap()) {
                    check_file(f, item, &label);
                }
            }
            Kind::Collection => {
                let c: replicate_core::types::Collection = decode(&raw, &label);
                assert!(!c.slug.is_empty(), "{label}: empty slug");
                c.models.iter().for_each(|m| check_model(m, &label));
            }
            Kind::CollectionPage => {
                let collections = decode_page::<CollectionSummary>(&raw, &label);
                assert!(!collections.is_empty(), "{label}: no collections");
                for c in &collections {
                    assert!(
                        !c.slug.is_empty()
                            && c.slug
                                .bytes()
                                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                        "{label}: slug {:?} is not lowercase with dashes",
                        c.slug
                    );
                    assert!(!c.name.is_empty(), "{label}: collection without a name");
                }
            }
            Kind::Hardware => {
                let hardware: Vec<Hardware> = decode(&raw, &label);
                assert!(!hardware.is_empty(), "{label}: empty hardware list");
                assert!(hardware.iter().any(|h| h.sku == "cpu"), "{label}: no `cpu` SKU");
                assert!(
                    hardware.iter().all(|h| !h.name.is_empty() && !h.sku.is_empty()),
                    "{label}: hardware with an empty name or SKU"
                );
            }
            Kind::Deployment => {
                let d: replicate_core::types::Deployment = decode(&raw, &label);
                assert!(!d.owner.is_empty() && !d.name.is_empty(), "{label}: deployment name");
            }
            Kind::DeploymentPage => {
                decode_page::<replicate_core::types::Deployment>(&raw, &label);
            }
            Kind::Account => {
                let a: replicate_core::types::Account = decode(&raw, &label);
                assert!(!a.username.is_empty(), "{label}: empty username");
            }
            Kind::Search => {
                let s: replicate_core::types::SearchResults = decode(&raw, &label);
                assert!(!s.query.is_empty(), "{label}: empty query");
            }
            Kind::WebhookSecret => {
                let s: replicate_core::types::DefaultWebhookSecret = decode(&raw, &label);
                assert!(s.key.starts_with("whsec_"), "{label}: secret form");
            }
        }
        *decoded.entry(kind).or_default() += 1;
    }

    assert!(unmapped.is_empty(), "responses of unmapped operations: {unmapped:#?}");

    // What the recordings hold today: every one of these must have been decoded, so a broken
    // loader (nothing decoded, everything skipped) cannot pass.
    for kind in [
        Kind::Prediction,
        Kind::Model,
        Kind::Version,
        Kind::Training,
        Kind::File,
        Kind::FilePage,
        Kind::CollectionPage,
        Kind::Hardware,
    ] {
        assert!(decoded.contains_key(&kind), "no {kind:?} response was decoded: {decoded:?}");
    }
    assert!(decoded[&Kind::Prediction] >= 10, "predictions decoded: {decoded:?}");
    assert!(problems >= 2, "problem+json errors checked: {problems}");
    assert!(empty >= 1, "empty (204) responses seen: {empty}");
    let total: usize = decoded.values().sum::<usize>() + problems + empty;
    assert_eq!(total, interactions.len(), "every interaction is accounted for");
}

/// Facts of particular recordings the types must keep.
#[test]
fn recorded_special_cases_decode_as_expected() {
    let interactions = load_interactions();
    let find = |file: &str, method: &str, status: u16| {
        interactions
            .iter()
            .filter(|i| i.file == file && i.method == method && i.status == status)
            .map(|i| serde_json::from_str::<Value>(&i.body).unwrap())
            .collect::<Vec<_>>()
    };

    // A blocking (`Prefer: wait=10`) create that timed out: still processing, streamed output so far.
    let blocking = find("models-predictions-create-blocking-wait10.yaml", "POST", 201);
    let p: Prediction = serde_json::from_value(blocking[0].clone()).unwrap();
    assert_eq!(p.status, PredictionStatus::Processing);
    assert!(p.version.starts_with("dp-") && p.is_from_deployment());
    assert_eq!(p.data_removed, Some(false));
    assert!(p.stream_url().is_some_and(|u| u.starts_with("https://")));
    assert_eq!(p.output.as_array().map(Vec::len), Some(17));

    // Old predictions lack `data_removed`, `output` (at creation) and even `model` (some gets).
    let gets = find("predictions-get.yaml", "GET", 200);
    let without_model: Prediction = serde_json::from_value(gets[1].clone()).unwrap();
    assert_eq!(without_model.model, None);
    assert_eq!(without_model.data_removed, None);
    assert!(!without_model.is_data_removed());
    assert_eq!(without_model.status, PredictionStatus::Succeeded);
    assert!(without_model.predict_time().is_some_and(|t| t > 0.0));

    // A canceled prediction: `logs` is null, both metrics are present.
    let cancel = find("predictions-cancel.yaml", "POST", 200);
    let canceled: Prediction = serde_json::from_value(cancel[0].clone()).unwrap();
    assert_eq!(canceled.status, PredictionStatus::Canceled);
    assert!(canceled.is_terminal());
    assert_eq!(canceled.logs, None);
    assert!(canceled.total_time().is_some_and(|t| t >= canceled.predict_time().unwrap()));

    // A training in progress with empty metrics.
    let training_get = find("trainings-get.yaml", "GET", 200);
    let t: Training = serde_json::from_value(training_get[0].clone()).unwrap();
    assert_eq!(t.status, PredictionStatus::Processing);
    assert!(!t.is_terminal());
    assert_eq!(t.metrics.as_ref().map(|m| m.predict_time), Some(None));
    assert_eq!(t.output_version(), None);

    // A model without versions or an example.
    let models = find("models-get.yaml", "GET", 200);
    let empty: Model = serde_json::from_value(models[1].clone()).unwrap();
    assert_eq!(empty.full_name(), "mattt/empty");
    assert_eq!(empty.latest_version, None);
    assert_eq!(empty.default_example, None);
    assert_eq!(empty.description, None);
    let created = find("models-create.yaml", "POST", 201);
    let private: Model = serde_json::from_value(created[0].clone()).unwrap();
    assert_eq!(private.visibility, Visibility::Private);
    assert_eq!(private.run_count, 0);

    // The file list, recorded gzip-compressed, holds the created file before its deletion only.
    let lists = find("file-operations.yaml", "GET", 200);
    let ids = |page: &Value| -> Vec<String> {
        let files: Vec<File> = serde_json::from_value(page["results"].clone()).unwrap();
        files.into_iter().map(|f| f.id).collect()
    };
    let created_id = "NGZiNmY2YzQtMThhZi00ZjcyLWFhZjktODg4NTY0NWNlMDEy";
    let (before, after) = (ids(&lists[1]), ids(&lists[2]));
    assert!(before.iter().any(|id| id == created_id));
    assert!(!after.iter().any(|id| id == created_id));
    assert_eq!(before.len(), after.len() + 1);
}

/// The model versions recorded in `shared/model-schemas` (the schema cache format: the version
/// object without `created_at`, plus `_model`/`_source` notes) decode as `ModelVersion`.
#[test]
fn every_model_schema_file_decodes_as_a_version() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/model-schemas");
    let mut paths = Vec::new();
    for dir in [root.clone(), root.join("corpus")] {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "json") {
                paths.push(path);
            }
        }
    }
    assert!(paths.len() >= 90, "only {} schema files", paths.len());
    let mut without_cog = 0;
    for path in &paths {
        let label = path.display().to_string();
        let raw: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let v: ModelVersion = decode(&raw, &label);
        assert_eq!(v.created_at, None, "{label}: schema files carry no created_at");
        let reconstructed = raw.get("_reconstructed").is_some();
        assert!(is_hex(&v.id, 64) || reconstructed, "{label}: version id {}", v.id);
        match &v.cog_version {
            // Free text in the wild: `0.8.6`, `0.10.0-alpha11`, `v0.3.13+dev`, even `dev`.
            Some(cog) => assert!(!cog.trim().is_empty(), "{label}: empty cog_version"),
            None => without_cog += 1,
        }
        let input = &v.openapi_schema["components"]["schemas"]["Input"];
        assert_eq!(input["type"], "object", "{label}: schema has no Input object");
    }
    // Documented: the whisper clone's cog_version is unknown, and flux-schnell is reconstructed.
    assert!((1..=2).contains(&without_cog), "{without_cog} schema files without cog_version");
}

#[test]
fn operations_map_to_their_body_types() {
    let cases = [
        ("GET", "/predictions", Some(Kind::PredictionPage)),
        ("GET", "/predictions?created_after=2025-01-01T00:00:00Z", Some(Kind::PredictionPage)),
        ("POST", "/predictions/abc/cancel", Some(Kind::Prediction)),
        ("QUERY", "/models", Some(Kind::ModelPage)),
        ("GET", "/models/o/n/examples", Some(Kind::PredictionPage)),
        ("POST", "/models/o/n/versions/v/trainings", Some(Kind::Training)),
        ("POST", "/deployments/o/n/predictions", Some(Kind::Prediction)),
        ("GET", "/webhooks/default/secret", Some(Kind::WebhookSecret)),
        ("GET", "/models/o/n/readme", None),
        ("DELETE", "/files/abc", None),
        ("GET", "/unknown", None),
    ];
    for (method, path, expected) in cases {
        let uri = format!("{API_BASE}{path}");
        assert_eq!(kind_of(method, &uri), expected, "{method} {path}");
    }
    assert_eq!(kind_of("GET", "https://example.com/v1/predictions"), None);
}

#[test]
fn gzip_decoder_reads_fixed_and_stored_blocks() {
    // `printf 'hello hello hello\n' | gzip -n`: a fixed-Huffman block with a back-reference.
    let fixed = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8,
        0x40, 0x90, 0x5c, 0x00, 0x3b, 0x7c, 0x8a, 0xdf, 0x12, 0x00, 0x00, 0x00,
    ];
    assert_eq!(gzip::decompress(&fixed), b"hello hello hello\n");
    // `stored\n` at compression level 0: one stored block.
    let stored = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x03, 0x01, 0x07, 0x00, 0xf8, 0xff, 0x73, 0x74,
        0x6f, 0x72, 0x65, 0x64, 0x0a, 0xe2, 0x9c, 0x53, 0xa5, 0x07, 0x00, 0x00, 0x00,
    ];
    assert_eq!(gzip::decompress(&stored), b"stored\n");
}

/// A small gzip (RFC 1952) and inflate (RFC 1951) decoder for the compressed recorded bodies,
/// after zlib's `puff.c`. Panics on malformed input: it reads only the fixtures.
mod gzip {
    const LENGTH_BASE: [u16; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163,
        195, 227, 258,
    ];
    const LENGTH_EXTRA: [u8; 29] =
        [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
    const DIST_BASE: [u16; 30] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049,
        3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ];
    const DIST_EXTRA: [u8; 30] =
        [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
    const CODE_LENGTH_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

    struct Huffman {
        count: [u16; 16],
        symbol: Vec<u16>,
    }

    impl Huffman {
        fn new(lengths: &[u8]) -> Self {
            let mut count = [0u16; 16];
            for &len in lengths {
                count[usize::from(len)] += 1;
            }
            let mut offset = [0u16; 16];
            for len in 1..15 {
                offset[len + 1] = offset[len] + count[len];
            }
            let mut symbol = vec![0u16; lengths.len()];
            for (sym, &len) in lengths.iter().enumerate() {
                if len != 0 {
                    let slot = &mut offset[usize::from(len)];
                    symbol[usize::from(*slot)] = sym as u16;
                    *slot += 1;
                }
            }
            Self { count, symbol }
        }
    }

    struct Bits<'a> {
        data: &'a [u8],
        pos: usize,
        buf: u32,
        cnt: u32,
    }

    impl Bits<'_> {
        fn bits(&mut self, need: u32) -> u32 {
            while self.cnt < need {
                let byte = *self.data.get(self.pos).expect("deflate data ends early");
                self.pos += 1;
                self.buf |= u32::from(byte) << self.cnt;
                self.cnt += 8;
            }
            let value = self.buf & ((1u32 << need) - 1);
            self.buf >>= need;
            self.cnt -= need;
            value
        }

        fn decode(&mut self, h: &Huffman) -> u16 {
            let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
            for len in 1..16 {
                code |= self.bits(1) as i32;
                let count = i32::from(h.count[len]);
                if code - count < first {
                    return h.symbol[(index + (code - first)) as usize];
                }
                index += count;
                first = (first + count) << 1;
                code <<= 1;
            }
            panic!("invalid Huffman code");
        }
    }

    fn inflate(data: &[u8]) -> Vec<u8> {
        let mut s = Bits { data, pos: 0, buf: 0, cnt: 0 };
        let mut out = Vec::new();
        loop {
            let last = s.bits(1) == 1;
            match s.bits(2) {
                0 => {
                    s.buf = 0;
                    s.cnt = 0;
                    let header = &s.data[s.pos..s.pos + 4];
                    let len = usize::from(u16::from_le_bytes([header[0], header[1]]));
                    s.pos += 4;
                    out.extend_from_slice(&s.data[s.pos..s.pos + len]);
                    s.pos += len;
                }
                1 => {
                    let mut lengths = [0u8; 288];
                    lengths[..144].fill(8);
                    lengths[144..256].fill(9);
                    lengths[256..280].fill(7);
                    lengths[280..].fill(8);
                    let lit = Huffman::new(&lengths);
                    let dist = Huffman::new(&[5u8; 30]);
                    codes(&mut s, &mut out, &lit, &dist);
                }
                2 => {
                    let nlen = s.bits(5) as usize + 257;
                    let ndist = s.bits(5) as usize + 1;
                    let ncode = s.bits(4) as usize + 4;
                    let mut lengths = [0u8; 320];
                    for &slot in &CODE_LENGTH_ORDER[..ncode] {
                        lengths[slot] = s.bits(3) as u8;
                    }
                    let code_lengths = Huffman::new(&lengths[..19]);
                    let mut index = 0;
                    while index < nlen + ndist {
                        let sym = s.decode(&code_lengths);
                        let (value, repeat) = match sym {
                            0..=15 => (sym as u8, 1),
                            16 => (lengths[index - 1], 3 + s.bits(2) as usize),
                            17 => (0, 3 + s.bits(3) as usize),
                            _ => (0, 11 + s.bits(7) as usize),
                        };
                        lengths[index..index + repeat].fill(value);
                        index += repeat;
                    }
                    let lit = Huffman::new(&lengths[..nlen]);
                    let dist = Huffman::new(&lengths[nlen..nlen + ndist]);
                    codes(&mut s, &mut out, &lit, &dist);
                }
                _ => panic!("invalid deflate block type"),
            }
            if last {
                return out;
            }
        }
    }

    fn codes(s: &mut Bits<'_>, out: &mut Vec<u8>, lit: &Huffman, dist: &Huffman) {
        loop {
            let sym = usize::from(s.decode(lit));
            match sym {
                0..=255 => out.push(sym as u8),
                256 => return,
                _ => {
                    let sym = sym - 257;
                    let len = usize::from(LENGTH_BASE[sym]) + s.bits(u32::from(LENGTH_EXTRA[sym])) as usize;
                    let dsym = usize::from(s.decode(dist));
                    let distance =
                        usize::from(DIST_BASE[dsym]) + s.bits(u32::from(DIST_EXTRA[dsym])) as usize;
                    let start = out.len() - distance;
                    for k in 0..len {
                        out.push(out[start + k]);
                    }
                }
            }
        }
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    /// Decompresses one gzip member and checks its CRC-32 and length trailer.
    pub(crate) fn decompress(member: &[u8]) -> Vec<u8> {
        assert!(member.len() >= 18 && member[..3] == [0x1f, 0x8b, 8], "not a gzip member");
        let flags = member[3];
        let mut pos = 10;
        if flags & 4 != 0 {
            pos += 2 + usize::from(u16::from_le_bytes([member[pos], member[pos + 1]]));
        }
        for flag in [8, 16] {
            if flags & flag != 0 {
                pos += member[pos..].iter().position(|&b| b == 0).expect("unterminated field") + 1;
            }
        }
        if flags & 2 != 0 {
            pos += 2;
        }
        let trailer = &member[member.len() - 8..];
        let out = inflate(&member[pos..member.len() - 8]);
        let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
        let size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
        assert_eq!(crc32(&out), crc, "gzip CRC-32 mismatch");
        assert_eq!(out.len() as u32, size, "gzip length mismatch");
        out
    }
}
