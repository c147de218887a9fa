//! Loading the recorded model versions of `shared/model-schemas`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use replicate_cog::CogSchema;
use serde_json::Value;

pub(crate) const SCHEMA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/model-schemas");

/// Every `*.json` of the schema directory and its `corpus/`, sorted.
pub(crate) fn all_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [PathBuf::from(SCHEMA_DIR), Path::new(SCHEMA_DIR).join("corpus")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

pub(crate) fn read_version(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A version by its file name, looked up in the schema directory, then in `corpus/`.
pub(crate) fn version(name: &str) -> Value {
    let direct = Path::new(SCHEMA_DIR).join(name);
    let path = if direct.exists() { direct } else { Path::new(SCHEMA_DIR).join("corpus").join(name) };
    read_version(&path)
}

pub(crate) fn schema(name: &str) -> CogSchema {
    CogSchema::from_version(&version(name)).unwrap()
}
