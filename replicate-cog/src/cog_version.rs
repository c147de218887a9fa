//! Comparing `cog_version` strings, for the rule that old Cog versions stream every top-level array.

/// The first Cog release that marks iterator outputs with `x-cog-array-type`.
const ITERATOR_MARKER_SINCE: (u64, u64, u64) = (0, 3, 9);

/// Whether outputs of a model built with `cog_version` treat any top-level array as an iterator.
///
/// Versions are compared semver-style on their numeric core: a leading `v` and any `+build` suffix are
/// ignored, and a pre-release (`0.3.9-alpha`) sorts before its release, so it counts as older than 0.3.9.
/// `None` and strings without a numeric core (e.g. `"dev"`) count as modern.
pub fn legacy_array_iterator(cog_version: Option<&str>) -> bool {
    match cog_version.and_then(parse) {
        Some((core, pre_release)) => {
            core < ITERATOR_MARKER_SINCE || (core == ITERATOR_MARKER_SINCE && pre_release)
        }
        None => false,
    }
}

/// `(major, minor, patch)` and whether it is a pre-release; missing minor/patch count as 0.
fn parse(version: &str) -> Option<((u64, u64, u64), bool)> {
    let version = version.trim();
    let version = version.strip_prefix(['v', 'V']).unwrap_or(version);
    let version = version.split('+').next().unwrap_or(version);
    let (core, pre_release) = match version.split_once('-') {
        Some((core, pre)) => (core, !pre.is_empty()),
        None => (version, false),
    };
    let mut parts = core.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = match parts.next() {
        Some(p) => p.parse().ok()?,
        None => 0,
    };
    let patch = match parts.next() {
        Some(p) => p.parse().ok()?,
        None => 0,
    };
    Some(((major, minor, patch), pre_release))
}

#[cfg(test)]
mod tests {
    use super::legacy_array_iterator as legacy;

    #[test]
    fn compares_semver_ish_versions() {
        assert!(legacy(Some("0.1.2")));
        assert!(legacy(Some("0.1.3+shimmed")));
        assert!(legacy(Some("0.3.3")));
        assert!(legacy(Some("0.3.9-alpha")));
        assert!(!legacy(Some("0.3.9")));
        assert!(!legacy(Some("0.3.13")));
        assert!(!legacy(Some("v0.3.13+dev")));
        assert!(!legacy(Some("0.10.0")));
        assert!(!legacy(Some("0.10.0-alpha5")));
        assert!(!legacy(Some("1")));
        assert!(legacy(Some("0")));
        assert!(!legacy(Some("dev")));
        assert!(!legacy(None));
    }
}
