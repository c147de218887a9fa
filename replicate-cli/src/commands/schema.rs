//! `replicate schema pull owner/name[:version]` and `replicate schema check`: the offline schema cache
//! that `#[replicate::model]` reads.
//!
//! The cache directory is `--dir`, else `$REPLICATE_SCHEMA_DIR`, else `.replicate/` at the root of the
//! cargo workspace holding the current directory (else next to the nearest `Cargo.toml`, else in the
//! current directory). Each model is one file, `<dir>/<owner>/<name>.json`, holding the version object
//! as `GET /models/{owner}/{name}/versions/{id}` returns it; an official model's file is its
//! `latest_version` with `"_official": true` added, so the macro runs it by name.

use clap::{Args, Subcommand};
use replicate_core::Replicate;
use serde_json::Value;
use std::path::{Path, PathBuf};

use crate::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

/// `replicate schema ...`.
#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Fetches a model version's schema into the cache (the latest version unless one is given).
    Pull {
        /// `owner/name` or `owner/name:<version id>`.
        model: String,
        /// The cache directory.
        #[command(flatten)]
        dir: DirArg,
    },
    /// Lists cached models whose latest version differs from the cached one; exits 1 if any.
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
            let pulled = pull(client, &model, &dir).await.map_err(CliError::other)?;
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
            let report = check(client, &dir).await.map_err(CliError::other)?;
            for entry in &report.entries {
                let line = match &entry.status {
                    Status::Current => format!("ok     {} {}", entry.model, entry.cached),
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
            let bad = report.entries.iter().filter(|e| !matches!(e.status, Status::Current)).count();
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

/// The cache directory: `explicit`, else `$REPLICATE_SCHEMA_DIR`, else `.replicate/` at the workspace
/// root of the current directory.
pub fn cache_dir(explicit: Option<PathBuf>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir;
    }
    if let Some(dir) = std::env::var_os("REPLICATE_SCHEMA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    default_dir(&cwd)
}

/// `.replicate/` at the workspace root holding `cwd`, else next to the nearest `Cargo.toml`, else in `cwd`.
pub fn default_dir(cwd: &Path) -> PathBuf {
    let manifest = |d: &Path| std::fs::read_to_string(d.join("Cargo.toml")).ok();
    let workspace =
        cwd.ancestors().find(|d| manifest(d).is_some_and(|t| t.lines().any(|l| l.trim() == "[workspace]")));
    let package = cwd.ancestors().find(|d| manifest(d).is_some());
    workspace.or(package).unwrap_or(cwd).join(".replicate")
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

/// Splits `owner/name[:version]`.
pub fn parse_spec(spec: &str) -> Result<(String, String, Option<String>), String> {
    let (model, version) = match spec.split_once(':') {
        Some((m, v)) if !v.is_empty() => (m, Some(v.to_owned())),
        Some(_) => return Err(format!("{spec:?}: the version after `:` is empty")),
        None => (spec, None),
    };
    match model.split_once('/') {
        Some((o, n)) if !o.is_empty() && !n.is_empty() && !n.contains('/') => {
            Ok((o.to_owned(), n.to_owned(), version))
        }
        _ => Err(format!("{spec:?} is not owner/name or owner/name:version")),
    }
}

/// Fetches the version (the latest unless `spec` names one) and writes it to `<dir>/<owner>/<name>.json`
/// atomically (a temporary file renamed over the old one).
pub async fn pull(client: &Replicate, spec: &str, dir: &Path) -> Result<Pulled, String> {
    let (owner, name, version) = parse_spec(spec)?;
    let model = format!("{owner}/{name}");
    let (version, official) = match version {
        Some(id) => {
            let v = client
                .models()
                .versions()
                .get(&model, &id)
                .await
                .map_err(|e| format!("{model}:{id}: {e}"))?;
            (v, false)
        }
        None => {
            let m = client.models().get(&model).await.map_err(|e| format!("{model}: {e}"))?;
            let official = m.official();
            let latest = m
                .latest_version
                .ok_or_else(|| format!("{model} has no latest version to cache (is it private or empty?)"))?;
            (latest, official)
        }
    };
    if !version.openapi_schema.is_object() {
        return Err(format!("{model} version {} has no openapi_schema", version.id));
    }
    let mut doc = serde_json::to_value(&version).map_err(|e| e.to_string())?;
    if official && let Value::Object(map) = &mut doc {
        map.insert("_official".into(), Value::Bool(true));
    }
    let path = dir.join(&owner).join(format!("{name}.json"));
    write_atomically(&path, &doc)?;
    Ok(Pulled { model, version: version.id, path })
}

fn write_atomically(path: &Path, doc: &Value) -> Result<(), String> {
    let parent = path.parent().ok_or_else(|| format!("{} has no parent directory", path.display()))?;
    std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let mut text = serde_json::to_string_pretty(doc).map_err(|e| e.to_string())?;
    text.push('\n');
    let tmp = parent.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("schema"),
        std::process::id()
    ));
    std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", path.display())
    })
}

/// One cached model compared with the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `owner/name`.
    pub model: String,
    /// The cached version id.
    pub cached: String,
    /// How it compares.
    pub status: Status,
}

/// Whether a cached version is the latest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The cached version is the model's latest.
    Current,
    /// The model has a newer version.
    Stale {
        /// The latest version id.
        latest: String,
    },
    /// The model could not be checked.
    Unknown(String),
}

/// Every cached model, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The entries.
    pub entries: Vec<Entry>,
}

/// Compares every `<dir>/<owner>/<name>.json` with the model's latest version.
pub async fn check(client: &Replicate, dir: &Path) -> Result<Report, String> {
    let mut entries = Vec::new();
    for (model, path) in cached_files(dir)? {
        let cached = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned));
        let Some(cached) = cached else {
            entries.push(Entry {
                model,
                cached: String::new(),
                status: Status::Unknown(format!("{} is not a version object", path.display())),
            });
            continue;
        };
        let status = match client.models().get(&model).await {
            Ok(m) => match m.latest_version {
                Some(latest) if latest.id == cached => Status::Current,
                Some(latest) => Status::Stale { latest: latest.id },
                None => Status::Unknown("the model has no latest version".into()),
            },
            Err(e) => Status::Unknown(e.to_string()),
        };
        entries.push(Entry { model, cached, status });
    }
    Ok(Report { entries })
}

/// `(owner/name, path)` of every cache file, sorted.
fn cached_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let mut out = Vec::new();
    let owners = match std::fs::read_dir(dir) {
        Ok(owners) => owners,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    for owner in owners.filter_map(Result::ok).filter(|e| e.path().is_dir()) {
        let owner_name = owner.file_name().to_string_lossy().into_owned();
        let files =
            std::fs::read_dir(owner.path()).map_err(|e| format!("{}: {e}", owner.path().display()))?;
        for file in files.filter_map(Result::ok) {
            let path = file.path();
            let file_name = file.file_name().to_string_lossy().into_owned();
            if let Some(name) = file_name.strip_suffix(".json")
                && !name.starts_with('.')
            {
                out.push((format!("{owner_name}/{name}"), path));
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_owner_name_and_optional_version() {
        assert_eq!(parse_spec("a/b"), Ok(("a".into(), "b".into(), None)));
        assert_eq!(parse_spec("a/b:123"), Ok(("a".into(), "b".into(), Some("123".into()))));
        assert!(parse_spec("a").is_err());
        assert!(parse_spec("a/b/c").is_err());
        assert!(parse_spec("/b").is_err());
        assert!(parse_spec("a/b:").is_err());
    }

    #[test]
    fn the_default_dir_is_at_the_workspace_root() {
        let root = std::env::temp_dir().join(format!("replicate-cli-dir-{}", std::process::id()));
        let member = root.join("member/src");
        std::fs::create_dir_all(&member).unwrap();
        std::fs::write(root.join("Cargo.toml"), "[workspace]\n").unwrap();
        std::fs::write(root.join("member/Cargo.toml"), "[package]\n").unwrap();
        assert_eq!(default_dir(&member), root.join(".replicate"));
        std::fs::remove_file(root.join("Cargo.toml")).unwrap();
        assert_eq!(default_dir(&member), root.join("member/.replicate"));
        let _ = std::fs::remove_dir_all(&root);
    }
}
