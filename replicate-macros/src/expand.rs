//! The attribute's expansion: arguments, the cached schema, and the generated code after the item.

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use serde_json::Value;
use syn::parse::{Parse, ParseStream};
use syn::{DeriveInput, LitStr, Token};

use crate::cache;
use crate::codegen::{self, Target};
use crate::plan;
use crate::schema;

/// `"owner/name"`, optionally followed by `version = "<id>"` and `crate = "<path>"`.
pub(crate) struct Args {
    pub model: LitStr,
    pub version: Option<LitStr>,
    pub krate: Option<LitStr>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let model: LitStr = input.parse()?;
        let mut args = Args { model, version: None, krate: None };
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            if input.peek(Token![crate]) {
                input.parse::<Token![crate]>()?;
                input.parse::<Token![=]>()?;
                args.krate = Some(input.parse()?);
                continue;
            }
            let key: syn::Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let value: LitStr = input.parse()?;
            if key == "version" {
                args.version = Some(value);
            } else {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown argument `{key}`: expected `version = \"<id>\"` or `crate = \"<path>\"`"
                    ),
                ));
            }
        }
        Ok(args)
    }
}

/// The attribute's output: the item with added docs, then the generated code; a compile error at the
/// offending literal when the schema cannot be found or read.
pub(crate) fn expand(attr: TokenStream, item: TokenStream, source_dir: Option<&Path>) -> TokenStream {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let schema_dir = std::env::var(cache::SCHEMA_DIR_ENV).ok();
    let location =
        cache::Location { manifest_dir: &manifest_dir, source_dir, schema_dir: schema_dir.as_deref() };
    expand_in(attr, item, &location)
}

/// [`expand`] for a crate at the given location.
pub(crate) fn expand_in(attr: TokenStream, item: TokenStream, location: &cache::Location<'_>) -> TokenStream {
    match try_expand(attr, item.clone(), location) {
        Ok(tokens) => tokens,
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#item #error)
        }
    }
}

fn try_expand(
    attr: TokenStream,
    item: TokenStream,
    location: &cache::Location<'_>,
) -> syn::Result<TokenStream> {
    let args: Args = syn::parse2(attr)?;
    let mut item: DeriveInput = syn::parse2(item)?;
    match &item.data {
        syn::Data::Struct(s) if matches!(s.fields, syn::Fields::Unit) => {}
        _ => {
            return Err(syn::Error::new_spanned(
                &item.ident,
                "#[replicate::model] goes on a unit struct: `pub struct Flux;`",
            ));
        }
    }
    let model = args.model.value();
    let (owner, name) = match model.split_once('/') {
        Some((o, n)) if !o.is_empty() && !n.is_empty() && !n.contains('/') => (o.to_owned(), n.to_owned()),
        _ => {
            return Err(syn::Error::new(
                args.model.span(),
                "expected \"owner/name\", e.g. \"black-forest-labs/flux-schnell\"",
            ));
        }
    };
    let pinned = args.version.as_ref().map(LitStr::value);
    if let (Some(pin), Some(lit)) = (&pinned, &args.version)
        && !cache::is_version_id(pin)
    {
        return Err(syn::Error::new(
            lit.span(),
            format!("version `{pin}` is not a version id: 64 lowercase hex digits, as the API spells it"),
        ));
    }
    let pull = match &pinned {
        Some(v) => format!("replicate schema pull {model}:{v}"),
        None => format!("replicate schema pull {model}"),
    };

    let dirs = location.search_dirs();
    let wanted = match &pinned {
        Some(v) => format!("{owner}/{name}/{v}.json"),
        None => format!("{owner}/{name}.json"),
    };
    let path = cache::find(&dirs, &owner, &name, pinned.as_deref()).map_err(|tried| {
        let tried: Vec<String> = tried.iter().map(|p| location.show(p)).collect();
        syn::Error::new(
            args.model.span(),
            format!(
                "no cached schema for `{model}`: looked for {}. Run `{pull}` to cache it (builds never fetch schemas), \
                 or set {} to a directory holding `{wanted}`",
                tried.join(" and "),
                cache::SCHEMA_DIR_ENV
            ),
        )
    })?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| syn::Error::new(args.model.span(), format!("cannot read {}: {e}", path.display())))?;
    let version: Value = serde_json::from_str(&text).map_err(|e| {
        syn::Error::new(
            args.model.span(),
            format!("{} is not valid JSON ({e}); run `{pull}` to fetch it again", path.display()),
        )
    })?;
    let cached_id = version.get("id").and_then(Value::as_str).map(str::to_owned);
    if let (Some(pin), Some(lit)) = (&pinned, &args.version)
        && cached_id.as_deref() != Some(pin.as_str())
    {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "version `{pin}` is pinned but {} caches version `{}`; run `{pull}` to cache the pinned version",
                path.display(),
                cached_id.as_deref().unwrap_or("(none)")
            ),
        ));
    }
    let official = version.get(cache::OFFICIAL_MARKER).and_then(Value::as_bool) == Some(true)
        || !cached_id.as_deref().is_some_and(cache::is_version_id);
    let run_version = pinned.clone().or_else(|| if official { None } else { cached_id.clone() });

    let krate_text = match &args.krate {
        Some(lit) => lit.value(),
        None => "::replicate".to_owned(),
    };
    let krate: syn::Path = match &args.krate {
        Some(lit) => lit.parse()?,
        None => syn::parse_quote!(::replicate),
    };
    let target = Target {
        krate: krate.to_token_stream(),
        krate_text,
        vis: item.vis.to_token_stream(),
        model: model.clone(),
        version: run_version,
        version_id: cached_id,
        cog_version: version.get("cog_version").and_then(Value::as_str).map(str::to_owned),
        schema_path: absolute(&path).display().to_string(),
    };
    let model_type = item.ident.to_string();
    let (generated, degraded) = generate(&version, &model_type, &target)
        .map_err(|e| syn::Error::new(args.model.span(), format!("{}: {e}", path.display())))?;

    let mut doc_lines = vec![
        String::new(),
        format!("Typed model {}.", target.describe()),
        String::new(),
        format!(
            "Input: [`{model_type}Input`]; output: [`{model_type}Output`]; run it with `{model_type}::run(&client, &input)`."
        ),
    ];
    if !degraded.is_empty() {
        doc_lines.push(String::new());
        doc_lines.push("Parts of the schema without a Rust mapping take any JSON value:".into());
        doc_lines.extend(degraded.iter().map(|d| format!("- {d}")));
    }
    for line in doc_lines {
        let line = format!(" {line}").trim_end().to_owned();
        item.attrs.push(syn::parse_quote!(#[doc = #line]));
    }
    let env = cache::SCHEMA_DIR_ENV;
    Ok(quote! {
        #item
        // Rebuild when the cache location changes (the cache file itself is tracked by `include_str!`).
        const _: ::core::option::Option<&str> = ::core::option_env!(#env);
        #generated
    })
}

fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The generated code for a version object, and notes on degraded parts. Pure: used by the tests.
pub(crate) fn generate(
    version: &Value,
    model_type: &str,
    target: &Target,
) -> Result<(TokenStream, Vec<String>), replicate_cog::SchemaError> {
    let loaded = schema::load(version)?;
    let mut plan = plan::plan(&loaded.schema, model_type);
    plan.schema_override = loaded.patched.as_ref().map(Value::to_string);
    Ok((codegen::generate(&plan, target), loaded.degraded))
}
