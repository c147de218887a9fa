//! Loading models from `--models-dir DIR`: every `DIR/<owner>/<name>.json` and
//! `DIR/<owner>__<name>.json` holding a version object (`id`, `cog_version`, `openapi_schema`).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use serde_json::Value;

use crate::catalog::{Model, Version};
use crate::clock::now_micros;

/// A model built from one version file.
pub fn model_from_version(owner: &str, name: &str, doc: &Value) -> Result<Model, String> {
    let id = doc.get("id").and_then(Value::as_str).ok_or("the version object has no `id`")?;
    let schema = doc.get("openapi_schema").cloned().unwrap_or(Value::Null);
    if !schema.is_object() {
        return Err("the version object has no `openapi_schema` object".into());
    }
    let cog = doc.get("cog_version").and_then(Value::as_str).map(str::to_string);
    let version = Version::new(id, cog, schema);
    Ok(Model {
        owner: owner.into(),
        name: name.into(),
        description: Some(format!("{owner}/{name} (emulated from its Cog schema)")),
        visibility: "public".into(),
        official: false,
        hardware: "gpu-t4".into(),
        github_url: None,
        paper_url: None,
        license_url: None,
        cover_image_url: None,
        readme: None,
        created: now_micros(),
        versions: vec![Arc::new(version)],
        run_count: Arc::new(AtomicU64::new(0)),
        handler: None,
        setup_seconds: 0.3,
        default_example: None,
        tags: Vec::new(),
    })
}

fn load_file(path: &Path, owner: &str, name: &str, out: &mut Vec<Model>) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let m = model_from_version(owner, name, &doc).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(existing) = out.iter_mut().find(|x| x.owner == owner && x.name == name) {
        existing.versions.extend(m.versions);
    } else {
        out.push(m);
    }
    Ok(())
}

/// Reads every model in a directory.
pub fn load(dir: &Path) -> Result<Vec<Model>, String> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        let Some(fname) = p.file_name().and_then(|f| f.to_str()).map(str::to_string) else { continue };
        if p.is_dir() {
            let mut inner: Vec<_> = std::fs::read_dir(&p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .collect();
            inner.sort();
            for f in inner {
                if let Some(name) =
                    f.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".json"))
                {
                    load_file(&f, &fname, name, &mut out)?;
                }
            }
        } else if let Some(stem) = fname.strip_suffix(".json")
            && let Some((owner, name)) = stem.split_once("__")
        {
            load_file(&p, owner, name, &mut out)?;
        }
    }
    Ok(out)
}
