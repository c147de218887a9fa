//! The schema cache contract, shared by `#[replicate::model]` (reads it at build time) and
//! `replicate schema pull/check` (writes and checks it), so both follow one set of rules:
//!
//! - Directory: `$REPLICATE_SCHEMA_DIR` when set ([`SCHEMA_DIR_ENV`]; a relative path is taken from the
//!   crate's directory and is then the only one searched), else `.replicate/` next to the crate's
//!   `Cargo.toml`, then `.replicate/` at the workspace root ([`search_dirs`]), then, for a crate built
//!   away from its sources (trybuild's generated crates, a `CARGO_TARGET_DIR` outside the checkout),
//!   `.replicate/` at the root of the workspace holding the invoking source file
//!   ([`Location::search_dirs`]). `replicate schema pull` writes to the workspace root's ([`default_dir`]).
//! - Messages: a path inside the crate is shown as `<crate>/...` ([`Location::show`]), so that a message
//!   reads the same wherever the crate is built.
//! - Files: `<dir>/<owner>/<name>.json` holds the version pulled without a pin (the latest);
//!   `<dir>/<owner>/<name>/<version>.json` holds a pinned version ([`version_file`]), so several pinned
//!   versions of one model live side by side (and beside the latest).
//! - Content: the version object as `GET /models/{owner}/{name}/versions/{id}` returns it; an official
//!   model's file is its `latest_version` with [`OFFICIAL_MARKER`]` : true` added: it runs by name.
//! - A version id is 64 lowercase hex digits ([`is_version_id`]), the rule the client enforces.

use std::path::{Path, PathBuf};

/// The environment variable naming the schema cache directory.
pub const SCHEMA_DIR_ENV: &str = "REPLICATE_SCHEMA_DIR";

/// The key added (as `true`) to an official model's cached version: it runs by name, not by version.
pub const OFFICIAL_MARKER: &str = "_official";

/// Whether `text` is a version id: 64 lowercase hex digits.
pub fn is_version_id(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The directories searched for a crate at `manifest_dir`, in order. `schema_dir` is
/// `$REPLICATE_SCHEMA_DIR`: when set (and not empty) it is the only one.
pub fn search_dirs(schema_dir: Option<&str>, manifest_dir: &Path) -> Vec<PathBuf> {
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

/// Where a model attribute is expanded: what decides the directories searched.
#[derive(Debug, Clone, Copy)]
pub struct Location<'a> {
    /// `$CARGO_MANIFEST_DIR` of the crate being compiled.
    pub manifest_dir: &'a Path,
    /// The directory of the source file holding the attribute, when the compiler knows it.
    pub source_dir: Option<&'a Path>,
    /// `$REPLICATE_SCHEMA_DIR`.
    pub schema_dir: Option<&'a str>,
}

impl Location<'_> {
    /// The directories searched, in order ([`search_dirs`]), then `.replicate/` at the workspace root of
    /// the invoking file when that is elsewhere (a crate generated under the target directory, e.g. by
    /// trybuild). `$REPLICATE_SCHEMA_DIR`, when set, is still the only one.
    pub fn search_dirs(&self) -> Vec<PathBuf> {
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

    /// `path` for a message: relative to the crate (`<crate>/...`) when inside it, so that the message
    /// reads the same wherever the crate is built.
    pub fn show(&self, path: &Path) -> String {
        match path.strip_prefix(self.manifest_dir) {
            Ok(inside) => format!("<crate>/{}", inside.display()),
            Err(_) => path.display().to_string(),
        }
    }
}

/// Where `replicate schema pull` writes when run in `cwd`: `.replicate/` at the workspace root holding
/// `cwd`, else next to the nearest `Cargo.toml`, else in `cwd`.
pub fn default_dir(cwd: &Path) -> PathBuf {
    let workspace = workspace_root(cwd);
    let package = || cwd.ancestors().find(|d| d.join("Cargo.toml").is_file()).map(Path::to_path_buf);
    workspace.or_else(package).unwrap_or_else(|| cwd.to_path_buf()).join(".replicate")
}

/// The nearest ancestor of `dir` (itself included) whose `Cargo.toml` has a `[workspace]` table.
pub fn workspace_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| {
            std::fs::read_to_string(d.join("Cargo.toml"))
                .is_ok_and(|text| text.lines().any(|l| l.trim() == "[workspace]"))
        })
        .map(Path::to_path_buf)
}

/// `<dir>/<owner>/<name>.json`: the model's unpinned (latest) version.
pub fn model_file(dir: &Path, owner: &str, name: &str) -> PathBuf {
    dir.join(owner).join(format!("{name}.json"))
}

/// `<dir>/<owner>/<name>/<version>.json`: one pinned version of the model.
pub fn version_file(dir: &Path, owner: &str, name: &str, version: &str) -> PathBuf {
    dir.join(owner).join(name).join(format!("{version}.json"))
}

/// The cache file for `owner/name` (pinned to `version` when given) in the first directory that has it, or
/// every path tried. A pinned version is looked for as its own file first, then as the model's file (which
/// the caller must check holds that version).
pub fn find(
    dirs: &[PathBuf],
    owner: &str,
    name: &str,
    version: Option<&str>,
) -> Result<PathBuf, Vec<PathBuf>> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(version) = version {
        candidates.extend(dirs.iter().map(|d| version_file(d, owner, name, version)));
    }
    candidates.extend(dirs.iter().map(|d| model_file(d, owner, name)));
    match candidates.iter().find(|p| p.is_file()) {
        Some(found) => Ok(found.clone()),
        None => Err(candidates),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("replicate-cog-cache-{tag}-{}", std::process::id()));
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
        assert_eq!(default_dir(&member), root.join(".replicate"), "pull writes where the build looks");

        assert_eq!(
            find(&dirs, "acme", "model", None),
            Err(vec![member.join(".replicate/acme/model.json"), root.join(".replicate/acme/model.json")])
        );
        std::fs::create_dir_all(root.join(".replicate/acme")).unwrap();
        std::fs::write(root.join(".replicate/acme/model.json"), "{}").unwrap();
        assert_eq!(find(&dirs, "acme", "model", None), Ok(root.join(".replicate/acme/model.json")));
        std::fs::create_dir_all(member.join(".replicate/acme")).unwrap();
        std::fs::write(member.join(".replicate/acme/model.json"), "{}").unwrap();
        assert_eq!(find(&dirs, "acme", "model", None), Ok(member.join(".replicate/acme/model.json")));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn pinned_versions_have_files_of_their_own() {
        let dir = temp_dir("pins");
        let dirs = vec![dir.clone()];
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        std::fs::create_dir_all(dir.join("acme/model")).unwrap();
        std::fs::write(model_file(&dir, "acme", "model"), "{}").unwrap();
        std::fs::write(version_file(&dir, "acme", "model", &a), "{}").unwrap();
        assert_eq!(find(&dirs, "acme", "model", Some(&a)), Ok(dir.join(format!("acme/model/{a}.json"))));
        // Without its own file, a pin falls back to the model's file (the caller checks the id).
        assert_eq!(find(&dirs, "acme", "model", Some(&b)), Ok(dir.join("acme/model.json")));
        assert_eq!(find(&dirs, "acme", "model", None), Ok(dir.join("acme/model.json")));
        let _ = std::fs::remove_dir_all(&dir);
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
        let dirs = location.search_dirs();
        assert_eq!(dirs, vec![generated.join(".replicate"), root.join(".replicate")]);
        assert_eq!(location.show(&generated.join(".replicate/a/b.json")), "<crate>/.replicate/a/b.json");
        assert_eq!(location.show(&root.join("x.json")), root.join("x.json").display().to_string());
        // The sources' workspace cache is found, pinned files included.
        let a = "a".repeat(64);
        std::fs::create_dir_all(root.join(".replicate/acme/model")).unwrap();
        std::fs::write(version_file(&root.join(".replicate"), "acme", "model", &a), "{}").unwrap();
        assert_eq!(
            find(&dirs, "acme", "model", Some(&a)),
            Ok(root.join(format!(".replicate/acme/model/{a}.json")))
        );
        // A source file inside the crate adds nothing twice.
        let inside = Location { source_dir: Some(&generated), ..location };
        assert_eq!(inside.search_dirs(), vec![generated.join(".replicate")]);
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
        assert_eq!(search_dirs(Some(""), dir)[0], dir.join(".replicate"));
    }

    #[test]
    fn version_ids_are_64_lowercase_hex() {
        assert!(is_version_id(&"0123456789abcdef".repeat(4)));
        assert!(!is_version_id(&"0123456789ABCDEF".repeat(4)), "the client refuses upper case");
        assert!(!is_version_id("abc"));
        assert!(!is_version_id(&"g".repeat(64)));
    }
}
