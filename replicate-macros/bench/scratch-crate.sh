# Sourced by the bench scripts: the manifest of a scratch crate using the workspace's replicate and
# replicate-macros (its own [workspace], so it builds outside ours). Needs $root.
#
#   write_manifest DIR NAME
write_manifest() {
    mkdir -p "$1/src"
    cat > "$1/Cargo.toml" <<TOML
[package]
name = "$2"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
replicate = { path = "$root" }
replicate-macros = { path = "$root/replicate-macros" }

[workspace]
TOML
}
