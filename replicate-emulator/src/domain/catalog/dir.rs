//! Loading models from `--models-dir DIR`: every `DIR/<owner>__<name>.json`,
//! `DIR/<owner>/<name>.json` and `DIR/<folder>/<owner>__<name>.json` holding a version object
//! (`id`, `cog_version`, `openapi_schema`). One level down, a file name with `__` names the
//! model itself (the folder only groups files, as `model-schemas/corpus/` does); without `__`
//! the folder is the owner. Files naming the same model add versions to it (in path order, so
//! the last one is the latest); a version id seen twice is loaded once.

use std::path::Path;

use serde_json::Value;

use crate::domain::catalog::{Model, Version};

/// A model built from one version file.
pub(crate) fn model_from_version(owner: &str, name: &str, doc: &Value) -> Result<Model, String> {
    let id = doc.get("id").and_then(Value::as_str).ok_or("the version object has no `id`")?;
    let schema = doc.get("openapi_schema").cloned().unwrap_or(Value::Null);
    if !schema.is_object() {
        return Err("the version object has no `openapi_schema` object".into());
    }
    let cog = doc.get("cog_version").and_then(Value::as_str).map(str::to_string);
    let version = Version::new(id, cog, schema);
    Ok(Model {
        description: Some(format!("{owner}/{name} (emulated from its Cog schema)")),
        hardware: "gpu-t4".into(),
        setup_seconds: 0.3,
        ..Model::new(owner, name, version)
    })
}

fn load_file(path: &Path, owner: &str, name: &str, out: &mut Vec<Model>) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let m = model_from_version(owner, name, &doc).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(existing) = out.iter_mut().find(|x| x.owner == owner && x.name == name) {
        for v in m.versions {
            if !existing.versions.iter().any(|e| e.id == v.id) {
                existing.versions.push(v);
            }
        }
    } else {
        out.push(m);
    }
    Ok(())
}

/// Reads every model in a directory.
pub(crate) fn load(dir: &Path) -> Result<Vec<Model>, String> {
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
                let Some(stem) = f.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".json"))
                else {
                    continue;
                };
                match stem.split_once("__") {
                    Some((owner, name)) => load_file(&f, owner, name, &mut out)?,
                    None => load_file(&f, &fname, stem, &mut out)?,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn version_file(id: &str) -> String {
        serde_json::json!({
            "id": id,
            "cog_version": "0.9.4",
            "openapi_schema": {"components": {"schemas": {
                "Input": {"type": "object", "properties": {}},
                "Output": {"type": "string"}
            }}}
        })
        .to_string()
    }

    #[test]
    fn both_layouts_and_double_underscores_one_level_down() {
        let dir = std::env::temp_dir().join(format!("emu-models-dir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("corpus")).unwrap();
        std::fs::create_dir_all(dir.join("alice")).unwrap();
        std::fs::write(dir.join("bob__top.json"), version_file("b1")).unwrap();
        std::fs::write(dir.join("alice/nested.json"), version_file("a1")).unwrap();
        std::fs::write(dir.join("corpus/carol__grouped.json"), version_file("c1")).unwrap();
        std::fs::write(dir.join("corpus/bob__top.json"), version_file("b0")).unwrap();
        std::fs::write(dir.join("dup__x.json"), version_file("d1")).unwrap();
        std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
        let models = load(&dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let keys: Vec<String> = models.iter().map(Model::key).collect();
        assert_eq!(keys, ["alice/nested", "bob/top", "carol/grouped", "dup/x"]);
        let bob = &models[1];
        let ids: Vec<&str> = bob.versions.iter().map(|v| &*v.id).collect();
        assert_eq!(ids, ["b1", "b0"], "versions in path order: corpus/bob__top.json is the latest");
    }
}
