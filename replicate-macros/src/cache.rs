//! Finding a model's cached version file: `$REPLICATE_SCHEMA_DIR`, else `.replicate/` next to the
//! crate's `Cargo.toml`, else `.replicate/` at the workspace root, else (for crates built away from their
//! sources, such as trybuild's) `.replicate/` at the root of the workspace holding the invoking file.

use std::path::{Path, PathBuf};

/// The environment variable naming the schema cache directory.
pub(crate) const SCHEMA_DIR_ENV: &str = "REPLICATE_SCHEMA_DIR";

/// Where the attribute is expanded: what decides the directories searched.
#[derive(Debug)]
pub(crate) struct Location<'a> {
    /// `$CARGO_MANIFEST_DIR` of the crate being compiled.
    pub(crate) manifest_dir: &'a Path,
    /// The directory of the file holding the attribute, when the compiler knows it.
    pub(crate) source_dir: Option<&'a Path>,
    /// `$REPLICATE_SCHEMA_DIR`.
    pub(crate) schema_dir: Option<&'a str>,
}

impl Location<'_> {
    /// The directories searched, in order (see [`search_dirs`]), then the workspace root of the invoking
    /// file when that is elsewhere (a crate generated under the target directory, e.g. by trybuild).
    pub(crate) fn search_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = search_dirs(self.schema_dir, self.manifest_dir);
        if self.schema_dir.is_none_or(str::is_empty)
            && let Some(root) = self.source_dir.and_then(workspace_root)
        {
            let dir = root.join(".replicate");
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
        dirs
    }

    /// `path` for an error message: relative to the crate (`<crate>/...`) when inside it, so that the
    /// message reads the same wherever the crate is built.
    pub(crate) fn show(&self, path: &Path) -> String {
        match path.strip_prefix(self.manifest_dir) {
            Ok(inside) => format!("<crate>/{}", inside.display()),
            Err(_) => path.display().to_string(),
        }
    }
}

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
    fn a_crate_built_away_from_its_sources_finds_the_sources_workspace() {
        let root = temp_dir("away");
        std::fs::write(root.join("Cargo.toml"), "[workspace]\n").unwrap();
        std::fs::create_dir_all(root.join("tests/ui")).unwrap();
        let generated = temp_dir("generated");
        std::fs::write(generated.join("Cargo.toml"), "[package]\nname = \"t\"\n[workspace]\n").unwrap();
        let ui = root.join("tests/ui");
        let location = Location { manifest_dir: &generated, source_dir: Some(&ui), schema_dir: None };
        assert_eq!(location.search_dirs(), vec![generated.join(".replicate"), root.join(".replicate")]);
        assert_eq!(location.show(&generated.join(".replicate/a/b.json")), "<crate>/.replicate/a/b.json");
        // The environment variable still wins alone.
        let location = Location { schema_dir: Some("/cache"), ..location };
        assert_eq!(location.search_dirs(), vec![PathBuf::from("/cache")]);
        let _ = std::fs::remove_dir_all(&root);
        let _ = std::fs::remove_dir_all(&generated);
    }

    #[test]
    fn the_environment_variable_wins() {
        let dir = Path::new("/somewhere/crate");
        assert_eq!(search_dirs(Some("/cache"), dir), vec![PathBuf::from("/cache")]);
        assert_eq!(search_dirs(Some("schemas"), dir), vec![dir.join("schemas")]);
    }
}
