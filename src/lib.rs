//! `replicate`: a typed, async Rust SDK for [Replicate](https://replicate.com).
//!
//! This facade re-exports the HTTP client of [`replicate_core`]. See the README for the feature list.
#![forbid(unsafe_code)]

pub use replicate_core::*;
