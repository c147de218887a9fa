//! `#[replicate::model("owner/name")]`: typed Rust from a model version's cached Cog schema.
//!
//! ```no_run
//! #[replicate::model("black-forest-labs/flux-schnell")]   // optional: version = "<64-hex id>"
//! pub struct FluxSchnell;
//!
//! # async fn demo(client: replicate::Replicate) -> replicate::Result<()> {
//! let input = FluxSchnellInput::new("an astronaut riding a horse")
//!     .aspect_ratio(FluxSchnellAspectRatio::V16_9)
//!     .num_outputs(2);
//! let images: Vec<replicate::FileOutput> = FluxSchnell::run(&client, &input).await?;
//! # Ok(()) }
//! ```
//!
//! The attribute keeps the unit struct and adds, next to it, `{Model}Input` (a struct), `{Model}Output`
//! (a struct for object outputs, otherwise a type alias), one enum per choice named `{Model}{Choice}`,
//! structs for nested output objects, `impl replicate::TypedModel for {Model}` (`Input`, `Output`,
//! `MODEL`, `VERSION`, `SCHEMA`, and `validate` with the schema's bounds), `{Model}::run(&client, &input)`
//! and, for iterator outputs, `impl replicate::TypedStreamModel` and `{Model}::stream(&client, &input)`.
//! Generated code only names `::replicate::...` (or the path given with `crate = "..."`).
//!
//! # The schema cache
//! Builds never touch the network. The version object (`GET /models/{owner}/{name}/versions/{id}`:
//! `id`, `cog_version`, `openapi_schema`) is read from `<dir>/<owner>/<name>.json`, where `<dir>` is
//! `$REPLICATE_SCHEMA_DIR` (relative to the crate) when set, else the first of `.replicate/` next to the
//! crate's `Cargo.toml` and `.replicate/` at the workspace root that has the file. `replicate schema pull
//! owner/name[:version]` writes it. The file is `include_str!`ed, so editing it rebuilds the crate.
//!
//! Errors point at the attribute's string literal: no cache file (with every path searched and the
//! `replicate schema pull` command), unreadable JSON (the path and the parse error), a pinned `version`
//! that differs from the cached one. A file whose version `id` is not 64 hex digits, or that has
//! `"_official": true`, is an official model: it runs by name (`VERSION` is `None`).
//!
//! # Inputs
//! | schema | Rust |
//! |---|---|
//! | `string` | `String` (constructor and setters take `impl Into<String>`) |
//! | `integer` / `number` / `boolean` | `i64` / `f64` / `bool` |
//! | `string` + `format: uri` | `replicate::FileInput` (path, bytes, reader or URL) |
//! | `x-cog-secret` / `format: password` | `replicate::Secret` (Debug redacted) |
//! | `array` of T | `Vec<T>` |
//! | choice (`allOf: [{$ref}]` to an `enum` component, or an inline `enum`) of strings and/or integers | a generated enum |
//! | no type, `object`, or anything the mapping cannot type | `serde_json::Value` |
//!
//! A required input (listed in `required`, without a default, not nullable) is a plain field and a
//! parameter of `{Model}Input::new`; every other input is an `Option`, has a setter named after the
//! field (`with_new` for a field called `new`) and is left out of the request when unset, so the
//! model's own default applies. Every field's docs carry the schema's description, default and bounds;
//! its JSON Schema (from `schemars`) carries the default and bounds too. The input derives `Debug`,
//! `serde::Serialize`, `serde::Deserialize` (unknown fields, wrong types and unknown choices are
//! rejected) and `schemars::JsonSchema` (plus `Clone` and `PartialEq` when it holds no file or secret).
//!
//! Field names are snake_case words of the property name (`guidanceScale` → `guidance_scale`); a keyword
//! gets a trailing `_` (`type` → `type_`), a leading digit gets `field_` (`2x` → `field_2x`), a name
//! without letters or digits becomes `field_{index}`, and a clash gets `_2`, `_3`. A field whose name
//! differs from the property is renamed back with `#[serde(rename)]`.
//!
//! ## Choices
//! Enum names are `{Model}` + the UpperCamelCase component (or property) name. Variants:
//! words are runs of ASCII letters and digits (Latin-1 letters transliterated: `é` → `e`), split at
//! every other character and at case changes, each capitalized and joined: `no_refiner` → `NoRefiner`,
//! `K_EULER` → `KEuler`, `DDIM` → `Ddim`, `zh-CN` → `ZhCn`, `pt BR` → `PtBr`, `none` → `None`.
//! Digits from separate words keep a `_` between them and a leading digit gets `V`: `1:1` → `V1_1`,
//! `16:9` → `V16_9`, `0.25` → `V0_25`, `64` → `V64`; a leading `-` before a digit gives `Neg` (`-1` →
//! `Neg1`). The empty string is `Empty`, `Self` is `SelfValue`, a value without usable letters or
//! digits (`日本語`) is `Value{index}`, and a clash gets a number (`V1_2`, `Foo2`). Each enum has
//! `ALL`, `as_str()`, `Display`/`FromStr` (the exact schema text), `Default` (the schema default of a
//! field using it, when there is one), and serializes to the exact value (string or integer).
//!
//! ## Checks
//! `TypedModel::validate`, run by the generated `run` and `stream` before any request, checks `minimum`,
//! `maximum`, `exclusiveMinimum`, `exclusiveMaximum` (and pydantic's `ge`/`le`/`gt`/`lt`) of numbers,
//! `minLength`/`maxLength` (characters) and `pattern` (unanchored, as JSON Schema) of strings, and
//! `minItems`/`maxItems` of arrays. A violation is `Error::InvalidInput { field, message }` with a
//! message naming the value and the bound, e.g. `5 is greater than the maximum 4`.
//!
//! # Outputs
//! | schema | `run` returns | `stream` yields |
//! |---|---|---|
//! | `string` / `integer` / `number` / `boolean` | `String` / `i64` / `f64` / `bool` | |
//! | `string` + `format: uri` | `replicate::FileOutput` | |
//! | `array` of T | `Vec<T>` | |
//! | `object` with `properties` | a generated struct (optional properties are `Option`) | |
//! | iterator (`x-cog-array-type: iterator`, or any top-level array for Cog < 0.3.9) of T | `Vec<T>` | `T` |
//! | iterator with `x-cog-array-display: concatenate` | `String` (the joined text) | `String` chunks |
//! | no type, or unreadable | `serde_json::Value` | |
#![forbid(unsafe_code)]

mod cache;
mod codegen;
mod expand;
mod naming;
mod plan;
mod schema;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Generates typed inputs, outputs and `run`/`stream` for a Replicate model from its cached Cog schema.
/// See the [crate docs](crate) for the arguments, the cache and the mapping rules.
#[proc_macro_attribute]
pub fn model(attr: TokenStream, item: TokenStream) -> TokenStream {
    // The invoking file's directory: a fallback for crates built away from their sources (trybuild's
    // generated crates, a `CARGO_TARGET_DIR` outside the checkout), whose manifest dir has no cache.
    let source_dir =
        proc_macro::Span::call_site().local_file().and_then(|f| f.parent().map(std::path::Path::to_path_buf));
    expand::expand(attr.into(), item.into(), source_dir.as_deref()).into()
}
