//! `#[replicate::model("owner/name")]`: will turn a cached Cog OpenAPI schema into typed Rust (not built yet).
