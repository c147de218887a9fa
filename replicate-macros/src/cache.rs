//! The schema cache: its rules (where `.replicate/` is searched, `$REPLICATE_SCHEMA_DIR`, the file of
//! each version, the `_official` marker, what a version id is) are owned by `replicate_cog::cache`, which
//! the `replicate schema` CLI uses too. [`Location`] adds the invoking file's workspace for crates built away
//! from their sources, and shows paths inside the crate as `<crate>/...`.

pub(crate) use replicate_cog::cache::{Location, OFFICIAL_MARKER, SCHEMA_DIR_ENV, find, is_version_id};
