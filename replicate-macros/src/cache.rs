//! Finding a model's cached version file: `$REPLICATE_SCHEMA_DIR`, else `.replicate/` next to the
//! crate's `Cargo.toml`, else `.replicate/` at the workspace root.

use std::path::{Path, PathBuf};

/// The environment variable naming the schema cache directory.
pub(crate) const SCHEMA_DIR_ENV: &str = "REPLICATE_SCHEMA_DIR";

/// The directories searched, in order. `schema_dir` is `$REPLICATE_SCHEMA_DIR` (relative paths are
/// taken from the crate's directory); when it is set, it is the only one.
pub(crate) fn search_dirs(schema_dir: Option<&str>, manifest_dir: &Path) -> Vec<PathBuf> {
    if let Some(dir) = schema_dir.filter(|d| !d.is_empty()) {
        return vec![manifest_dir.join(dir)];
    }
    let mut dirs = vec![manifest_dir.join(".replicate")];
    if let Some(root) = workspace_root(manifest_dir)
        && root != manifest_dir
    {
        dirs.push(root.join(".replicate"));
    }
    dirs
}

/// The nearest ancestor of `dir` (itself included) whose `Cargo.toml` has a `[workspace]` table.
pub(crate) fn workspace_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| {
            std::fs::read_to_string(d.join("Cargo.toml"))
                .is_ok_and(|text| text.lines().any(|l| l.trim() == "[workspace]"))
        })
        .map(Path::to_path_buf)
}

/// `<dir>/<owner>/<name>.json` in the first directory that has it, or every path tried.
pub(crate) fn find(dirs: &[PathBuf], owner: &str, name: &str) -> Result<PathBuf, Vec<PathBuf>> {
    let candidates: Vec<PathBuf> = dirs.iter().map(|d| d.join(owner).join(format!("{name}.json"))).collect();
    match candidates.iter().find(|p| p.is_file()) {
        Some(found) => Ok(found.clone()),
        None => Err(candidates),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("replicate-macros-cache-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn searches_the_crate_then_the_workspace_root() {
        let root = temp_dir("ws");
        std::fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = [\"member\"]\n").unwrap();
        let member = root.join("member");
        std::fs::create_dir_all(&member).unwrap();
        std::fs::write(member.join("Cargo.toml"), "[package]\nname = \"member\"\n").unwrap();
        let dirs = search_dirs(None, &member);
        assert_eq!(dirs, vec![member.join(".replicate"), root.join(".replicate")]);

        assert_eq!(
            find(&dirs, "acme", "model"),
            Err(vec![member.join(".replicate/acme/model.json"), root.join(".replicate/acme/model.json")])
        );
        std::fs::create_dir_all(root.join(".replicate/acme")).unwrap();
        std::fs::write(root.join(".replicate/acme/model.json"), "{}").unwrap();
        assert_eq!(find(&dirs, "acme", "model"), Ok(root.join(".replicate/acme/model.json")));
        std::fs::create_dir_all(member.join(".replicate/acme")).unwrap();
        std::fs::write(member.join(".replicate/acme/model.json"), "{}").unwrap();
        assert_eq!(find(&dirs, "acme", "model"), Ok(member.join(".replicate/acme/model.json")));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn the_environment_variable_wins() {
        let dir = Path::new("/somewhere/crate");
        assert_eq!(search_dirs(Some("/cache"), dir), vec![PathBuf::from("/cache")]);
        assert_eq!(search_dirs(Some("schemas"), dir), vec![dir.join("schemas")]);
    }
}
