//! Shared pieces: where the runtime lives, Rust types, JSON literals and doc attributes.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use crate::plan::{Plan, Ty};

/// What the generated code is for and where its runtime lives.
pub(crate) struct Target {
    /// Path of the `replicate` facade crate (`::replicate` unless the attribute says `crate = "..."`).
    pub krate: TokenStream,
    /// The same path as text, for `#[serde(crate = "...")]`.
    pub krate_text: String,
    /// Visibility of the generated items (the model struct's).
    pub vis: TokenStream,
    /// `owner/name`.
    pub model: String,
    /// The version id the model runs with (`None` for an official model run by name).
    pub version: Option<String>,
    /// The cached version id, for docs.
    pub version_id: Option<String>,
    /// The cached `cog_version`, for docs.
    pub cog_version: Option<String>,
    /// Absolute path of the cache file (`include_str!`).
    pub schema_path: String,
}

impl Target {
    /// `#[serde(crate = "...")]`.
    pub(crate) fn serde_crate(&self) -> TokenStream {
        let path = format!("{}::__private::serde", self.krate_text);
        quote!(#[serde(crate = #path)])
    }

    /// `#[schemars(crate = "...")]`.
    pub(crate) fn schemars_crate(&self) -> TokenStream {
        let path = format!("{}::__private::schemars", self.krate_text);
        quote!(#[schemars(crate = #path)])
    }

    /// `model` at version `id` (cog x), for docs.
    pub(crate) fn describe(&self) -> String {
        let mut text = format!("`{}`", self.model);
        match (&self.version, &self.version_id) {
            (Some(v), _) => text.push_str(&format!(" at version `{v}`")),
            (None, Some(v)) => text.push_str(&format!(" (official model run by name; cached version `{v}`)")),
            (None, None) => text.push_str(" (official model run by name)"),
        }
        if let Some(cog) = &self.cog_version {
            text.push_str(&format!(", built with Cog {cog}"));
        }
        text
    }
}

/// An identifier (names come from [`crate::naming`], so they are valid and never keywords).
pub(crate) fn ident(name: &str) -> Ident {
    format_ident!("{}", name)
}

/// `#[doc = "..."]` for each line.
pub(crate) fn docs<S: AsRef<str>>(lines: &[S]) -> TokenStream {
    let lines = lines.iter().map(|l| format!(" {}", l.as_ref()).trim_end().to_owned());
    quote!(#(#[doc = #lines])*)
}

/// The Rust type.
pub(crate) fn ty(plan: &Plan, ty: &Ty, target: &Target) -> TokenStream {
    let krate = &target.krate;
    match ty {
        Ty::String => quote!(::std::string::String),
        Ty::Integer => quote!(i64),
        Ty::Number => quote!(f64),
        Ty::Boolean => quote!(bool),
        Ty::FileInput => quote!(#krate::FileInput),
        Ty::Secret => quote!(#krate::Secret),
        Ty::FileOutput => quote!(#krate::FileOutput),
        Ty::Any => quote!(#krate::__private::serde_json::Value),
        Ty::Enum(i) => {
            let name = ident(&plan.enums[*i].type_name);
            quote!(#name)
        }
        Ty::Struct(i) => {
            let name = ident(&plan.structs[*i].type_name);
            quote!(#name)
        }
        Ty::Vec(item) => {
            let item = self::ty(plan, item, target);
            quote!(::std::vec::Vec<#item>)
        }
    }
}

/// A JSON value as tokens `serde_json::json!` (and schemars' `extend`) accept.
pub(crate) fn json(value: &Value) -> TokenStream {
    match value {
        Value::Null => quote!(null),
        Value::Bool(b) => quote!(#b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                if i < 0 {
                    let lit = Literal::u64_unsuffixed(i.unsigned_abs());
                    quote!(-#lit)
                } else {
                    let lit = Literal::i64_unsuffixed(i);
                    quote!(#lit)
                }
            } else if let Some(u) = n.as_u64() {
                let lit = Literal::u64_unsuffixed(u);
                quote!(#lit)
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                let lit = Literal::f64_unsuffixed(f.abs());
                if f < 0.0 { quote!(-#lit) } else { quote!(#lit) }
            }
        }
        Value::String(s) => {
            let lit = Literal::string(s);
            quote!(#lit)
        }
        Value::Array(items) => {
            let items = items.iter().map(json);
            quote!([#(#items),*])
        }
        Value::Object(map) => {
            let entries = map.iter().map(|(k, v)| {
                let v = json(v);
                quote!(#k: #v)
            });
            quote!({#(#entries),*})
        }
    }
}

/// A string literal spanning the call site.
pub(crate) fn lit(text: &str) -> Literal {
    let mut lit = Literal::string(text);
    lit.set_span(Span::call_site());
    lit
}
