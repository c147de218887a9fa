//! `replicate schema pull owner/name[:version]` and `replicate schema check`: the offline schema cache
//! that `#[replicate::model]` reads. The cache's rules (where it is, how files are named, what they hold)
//! belong to [`replicate_cog::cache`]; this module fetches and compares.
//!
//! The directory is `--dir`, else `$REPLICATE_SCHEMA_DIR` (a relative path is taken from the current
//! directory), else [`cache::default_dir`] of the current directory: `.replicate/` at the workspace root,
//! where builds look. `pull owner/name` writes the latest version to [`cache::model_file`];
//! `pull owner/name:<version>` writes that version to [`cache::version_file`], beside the latest, so
//! both are kept.

use clap::{Args, Subcommand};
use replicate_cog::cache;
use replicate_core::Replicate;
use serde_json::Value;
use std::path::{Path, PathBuf};

use crate::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

/// `replicate schema ...`.
#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Fetches a model version's schema into the cache: the latest version, or the one given (kept beside
    /// the latest).
    Pull {
        /// `owner/name` or `owner/name:<version id>`.
        model: String,
        /// The cache directory.
        #[command(flatten)]
        dir: DirArg,
    },
    /// Lists cached models whose latest version differs from the cached one, and pinned versions the API
    /// no longer has; exits 1 if any.
    Check {
        /// The cache directory.
        #[command(flatten)]
        dir: DirArg,
    },
}

/// `--dir`.
#[derive(Debug, Args)]
pub struct DirArg {
    /// The cache directory (default: `$REPLICATE_SCHEMA_DIR`, else `.replicate/` at the workspace root).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// Runs a schema command; `check` fails (exit code 1) when a cached schema is stale or unreadable.
pub async fn run(ctx: &Ctx, command: SchemaCommand) -> CliResult<()> {
    let client = &ctx.client;
    match command {
        SchemaCommand::Pull { model, dir } => {
            let dir = cache_dir(dir.dir);
            let pulled = pull(client, &model, &dir).await?;
            if ctx.json {
                return output::print_json(&serde_json::json!({
                    "model": pulled.model, "version": pulled.version, "path": pulled.path,
                }));
            }
            output::println_out(&format!(
                "{} version {} -> {}",
                pulled.model,
                pulled.version,
                pulled.path.display()
            ))
        }
        SchemaCommand::Check { dir } => {
            let dir = cache_dir(dir.dir);
            let report = check(client, &dir).await?;
            for entry in &report.entries {
                let line = match &entry.status {
                    Status::Current => format!("ok     {} {}", entry.model, entry.cached),
                    Status::Pinned => format!("pinned {}:{}", entry.model, entry.cached),
                    Status::Stale { latest } => format!(
                        "stale  {} {} -> {latest} (run `replicate schema pull {}`)",
                        entry.model, entry.cached, entry.model
                    ),
                    Status::Unknown(e) => format!("error  {}: {e}", entry.model),
                };
                output::println_out(&line)?;
            }
            if report.entries.is_empty() {
                output::println_out(&format!("no cached schemas in {}", dir.display()))?;
            }
            let bad = report.entries.iter().filter(|e| !e.status.is_ok()).count();
            if bad == 0 {
                Ok(())
            } else {
                Err(CliError::other(format!(
                    "{bad} of {} cached schemas are stale or unreadable",
                    report.entries.len()
                )))
            }
        }
    }
}

/// The cache directory: `explicit`, else `$REPLICATE_SCHEMA_DIR` (relative to the current directory),
/// else [`cache::default_dir`] of the current directory.
pub fn cache_dir(explicit: Option<PathBuf>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir;
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    match std::env::var_os(cache::SCHEMA_DIR_ENV).filter(|d| !d.is_empty()) {
        Some(dir) => cwd.join(dir),
        None => cache::default_dir(&cwd),
    }
}

/// What `pull` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    /// `owner/name`.
    pub model: String,
    /// The version id written.
    pub version: String,
    /// The file written.
    pub path: PathBuf,
}

/// Splits `owner/name[:version]`; a version must be a version id ([`cache::is_version_id`]).
pub fn parse_spec(spec: &str) -> CliResult<(String, String, Option<String>)> {
    let (model, version) = match spec.split_once(':') {
        Some((m, v)) if cache::is_version_id(v) => (m, Some(v.to_owned())),
        Some((_, v)) => {
            return Err(CliError::usage(format!(
                "{spec:?}: the version `{v}` is not a version id (64 lowercase hex digits)"
            )));
        }
        None => (spec, None),
    };
    match model.split_once('/') {
        Some((o, n)) if !o.is_empty() && !n.is_empty() && !n.contains('/') => {
            Ok((o.to_owned(), n.to_owned(), version))
        }
        _ => Err(CliError::usage(format!("{spec:?} is not owner/name or owner/name:version"))),
    }
}

/// Fetches the version (the latest unless `spec` pins one) and writes it atomically (a temporary file
/// renamed over the old one) to its cache file: [`cache::model_file`] for the latest, with
/// [`cache::OFFICIAL_MARKER`] for an official model; [`cache::version_file`] for a pinned version.
pub async fn pull(client: &Replicate, spec: &str, dir: &Path) -> CliResult<Pulled> {
    let (owner, name, pin) = parse_spec(spec)?;
    let model = format!("{owner}/{name}");
    let (version, official) = match &pin {
        Some(id) => {
            let v = client.models().versions().get(&model, id).await.map_err(|e| context(e, spec))?;
            if v.id != *id {
                return Err(CliError::other(format!("{spec}: the API returned version {}", v.id)));
            }
            (v, false)
        }
        None => {
            let m = client.models().get(&model).await.map_err(|e| context(e, &model))?;
            let official = m.official();
            let latest = m.latest_version.ok_or_else(|| {
                CliError::other(format!("{model} has no latest version to cache (is it private or empty?)"))
            })?;
            (latest, official)
        }
    };
    if !version.openapi_schema.is_object() {
        return Err(CliError::other(format!("{model} version {} has no openapi_schema", version.id)));
    }
    let mut doc = serde_json::to_value(&version).map_err(|e| CliError::other(e.to_string()))?;
    if official && let Value::Object(map) = &mut doc {
        map.insert(cache::OFFICIAL_MARKER.into(), Value::Bool(true));
    }
    let path = match &pin {
        Some(id) => cache::version_file(dir, &owner, &name, id),
        None => cache::model_file(dir, &owner, &name),
    };
    write_atomically(&path, &doc)?;
    Ok(Pulled { model, version: version.id, path })
}

fn context(e: replicate_core::Error, what: &str) -> CliError {
    CliError::from(e).context(what)
}

fn write_atomically(path: &Path, doc: &Value) -> CliResult<()> {
    let io = |p: &Path, e: std::io::Error| CliError::other(format!("{}: {e}", p.display()));
    let parent = path
        .parent()
        .ok_or_else(|| CliError::other(format!("{} has no parent directory", path.display())))?;
    std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    let mut text = serde_json::to_string_pretty(doc).map_err(|e| CliError::other(e.to_string()))?;
    text.push('\n');
    let tmp = parent.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("schema"),
        std::process::id()
    ));
    std::fs::write(&tmp, text).map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(path, e)
    })
}

/// One cached file compared with the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `owner/name`.
    pub model: String,
    /// The cached version id (for a pinned file, the version its name pins).
    pub cached: String,
    /// How it compares.
    pub status: Status,
}

/// Whether a cached version is what builds should use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The cached (unpinned) version is the model's latest.
    Current,
    /// A pinned version: its file holds it and the API still has it. Pins never go stale.
    Pinned,
    /// The model has a newer version than the cached (unpinned) one.
    Stale {
        /// The latest version id.
        latest: String,
    },
    /// The file or the model could not be checked.
    Unknown(String),
}

impl Status {
    /// Whether builds can rely on the file as it is.
    pub fn is_ok(&self) -> bool {
        matches!(self, Status::Current | Status::Pinned)
    }
}

/// Every cached file, sorted by model, the latest before the pinned versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The entries.
    pub entries: Vec<Entry>,
}

/// Compares every cached latest version ([`cache::model_file`]) with the model's latest version, and
/// checks that every pinned version ([`cache::version_file`]) holds its version and still exists.
pub async fn check(client: &Replicate, dir: &Path) -> CliResult<Report> {
    let mut entries = Vec::new();
    for file in cached_files(dir)? {
        let model = format!("{}/{}", file.owner, file.name);
        let cached = std::fs::read_to_string(&file.path)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned));
        let (cached, status) = match (file.pin, cached) {
            (pin, None) => (
                pin.unwrap_or_default(),
                Status::Unknown(format!("{} is not a version object", file.path.display())),
            ),
            (Some(pin), Some(id)) if pin != id => {
                let status = Status::Unknown(format!("{} holds version {id}", file.path.display()));
                (pin, status)
            }
            (Some(pin), Some(_)) => {
                let status = match client.models().versions().get(&model, &pin).await {
                    Ok(_) => Status::Pinned,
                    Err(e) => Status::Unknown(CliError::from(e).to_string()),
                };
                (pin, status)
            }
            (None, Some(id)) => {
                let status = latest_status(client.models().get(&model).await, &id);
                (id, status)
            }
        };
        entries.push(Entry { model, cached, status });
    }
    Ok(Report { entries })
}

fn latest_status(model: replicate_core::Result<replicate_core::types::Model>, cached: &str) -> Status {
    match model {
        Ok(m) => match m.latest_version {
            Some(latest) if latest.id == cached => Status::Current,
            Some(latest) => Status::Stale { latest: latest.id },
            None => Status::Unknown("the model has no latest version".into()),
        },
        Err(e) => Status::Unknown(CliError::from(e).to_string()),
    }
}

/// A file of the cache: a model's latest version, or one pinned version.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct CachedFile {
    owner: String,
    name: String,
    /// The version a pinned file's name pins; `None` for the latest.
    pin: Option<String>,
    path: PathBuf,
}

/// Every [`cache::model_file`] and [`cache::version_file`] under `dir`, sorted (a model's latest before
/// its pinned versions). Other files (temporary ones, notes) are skipped.
fn cached_files(dir: &Path) -> CliResult<Vec<CachedFile>> {
    let mut out = Vec::new();
    for (owner, owner_dir) in entries(dir)?.into_iter().filter(|(_, p)| p.is_dir()) {
        for (file, path) in entries(&owner_dir)? {
            if path.is_dir() {
                for (pinned, _) in entries(&path)? {
                    if let Some(pin) = pinned.strip_suffix(".json").filter(|v| cache::is_version_id(v)) {
                        let path = cache::version_file(dir, &owner, &file, pin);
                        out.push(CachedFile {
                            owner: owner.clone(),
                            name: file.clone(),
                            pin: Some(pin.into()),
                            path,
                        });
                    }
                }
            } else if let Some(name) = file.strip_suffix(".json").filter(|n| !n.starts_with('.')) {
                let path = cache::model_file(dir, &owner, name);
                out.push(CachedFile { owner: owner.clone(), name: name.to_owned(), pin: None, path });
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `(file name, path)` of the entries of `dir`; a missing directory has none.
fn entries(dir: &Path) -> CliResult<Vec<(String, PathBuf)>> {
    match std::fs::read_dir(dir) {
        Ok(read) => Ok(read
            .filter_map(Result::ok)
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(CliError::other(format!("{}: {e}", dir.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_owner_name_and_an_optional_version_id() {
        let v = "0123456789abcdef".repeat(4);
        assert_eq!(parse_spec("a/b").unwrap(), ("a".into(), "b".into(), None));
        assert_eq!(parse_spec(&format!("a/b:{v}")).unwrap(), ("a".into(), "b".into(), Some(v.clone())));
        for bad in ["a", "a/b/c", "/b", "a/b:", "a/b:123", &format!("a/b:{}", v.to_uppercase())] {
            let err = parse_spec(bad).unwrap_err();
            assert_eq!(err.code, crate::error::EXIT_USAGE, "{bad}: {err}");
        }
    }

    #[test]
    fn cached_files_are_the_latest_and_the_pinned_versions() {
        let dir = std::env::temp_dir().join(format!("replicate-cli-cached-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        for path in [
            cache::model_file(&dir, "acme", "model"),
            cache::version_file(&dir, "acme", "model", &b),
            cache::version_file(&dir, "acme", "model", &a),
            dir.join("acme/.model.json.1.tmp"),
            dir.join("acme/model/notes.json"),
        ] {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "{}").unwrap();
        }
        let found: Vec<(String, Option<String>)> =
            cached_files(&dir).unwrap().into_iter().map(|f| (f.name, f.pin)).collect();
        assert_eq!(found, [("model".into(), None), ("model".into(), Some(a)), ("model".into(), Some(b))]);
        assert!(cached_files(&dir.join("missing")).unwrap().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
