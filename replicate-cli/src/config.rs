//! Where the CLI keeps its settings: `<config dir>/replicate/config.json`, holding the token stored by
//! `replicate auth login` (and the base URL when one was given), readable by its owner only.
//!
//! The config directory is `$XDG_CONFIG_HOME`, else `$HOME/.config` (on Windows `%APPDATA%`).
//! Precedence when building the client: `--token` / `--base-url` flags, then `REPLICATE_API_TOKEN` /
//! `REPLICATE_BASE_URL`, then this file, then the defaults.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{CliError, CliResult};

/// The stored settings.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// The API token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The API base URL, when not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// The directory holding `config.json`, when one can be found.
pub fn config_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base = if cfg!(windows) {
        var("APPDATA")
    } else {
        var("XDG_CONFIG_HOME").or_else(|| var("HOME").map(|h| h.join(".config")))
    };
    base.map(|b| b.join("replicate"))
}

/// The path of the config file.
pub fn config_path() -> Option<PathBuf> {
    config_dir().map(|d| d.join("config.json"))
}

/// Reads the config file; a missing file is an empty config.
pub fn load() -> CliResult<Config> {
    let Some(path) = config_path() else { return Ok(Config::default()) };
    load_from(&path)
}

/// Reads a config file; a missing file is an empty config.
pub fn load_from(path: &Path) -> CliResult<Config> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            CliError::usage(format!(
                "{} is not a valid config file ({e}); fix it or run `replicate auth login` again",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(CliError::other(format!("reading {}: {e}", path.display()))),
    }
}

/// Writes the config file readable and writable by its owner only (mode 0600 in a 0700 directory on
/// Unix), replacing it atomically.
pub fn save(config: &Config) -> CliResult<PathBuf> {
    let path = config_path().ok_or_else(|| {
        CliError::usage("no config directory: set HOME or XDG_CONFIG_HOME (or use REPLICATE_API_TOKEN)")
    })?;
    save_to(&path, config)?;
    Ok(path)
}

/// Writes `config` to `path` with owner-only permissions.
pub fn save_to(path: &Path, config: &Config) -> CliResult<()> {
    let io =
        |what: &str, p: &Path, e: std::io::Error| CliError::other(format!("{what} {}: {e}", p.display()));
    let dir = path.parent().ok_or_else(|| CliError::other(format!("{} has no directory", path.display())))?;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| io("creating", dir, e))?;
    let mut text = serde_json::to_string_pretty(config).map_err(|e| CliError::other(e.to_string()))?;
    text.push('\n');
    let tmp = dir.join(format!(".config.json.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut f| {
        use std::io::Write;
        f.write_all(text.as_bytes())?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("writing", &tmp, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io("writing", path, e)
    })
}

/// Removes the stored token (and base URL). Returns whether a file was removed.
pub fn remove() -> CliResult<bool> {
    let Some(path) = config_path() else { return Ok(false) };
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(CliError::other(format!("removing {}: {e}", path.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_token() {
        let c = Config { token: Some("r8_secret".into()), base_url: None };
        assert!(!format!("{c:?}").contains("r8_secret"));
    }

    #[test]
    fn save_and_load_round_trip_with_owner_only_permissions() {
        let dir = std::env::temp_dir().join(format!("replicate-cli-config-{}", std::process::id()));
        let path = dir.join("replicate/config.json");
        let c = Config { token: Some("r8_abc".into()), base_url: Some("http://127.0.0.1:1/v1".into()) };
        save_to(&path, &c).unwrap();
        assert_eq!(load_from(&path).unwrap(), c);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(load_from(&dir.join("missing.json")).unwrap(), Config::default());
        std::fs::write(&path, "not json").unwrap();
        assert_eq!(load_from(&path).unwrap_err().code, crate::error::EXIT_USAGE);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
