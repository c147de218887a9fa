//! The input struct: fields with docs and JSON Schema keys, a constructor taking the required inputs
//! and one setter per optional input.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::tokens::{Target, docs, ident, json, ty};
use crate::plan::{InputFieldPlan, Plan, Ty};

pub(crate) fn input_tokens(plan: &Plan, target: &Target) -> TokenStream {
    let krate = &target.krate;
    let vis = &target.vis;
    let name = ident(&plan.input_type);
    let serde_crate = target.serde_crate();
    let schemars_crate = target.schemars_crate();
    let (clone, eq) = plan.all_derivable(plan.inputs.iter().map(|f| &f.ty));
    let extra_derives =
        [clone.then(|| quote!(::core::clone::Clone,)), eq.then(|| quote!(::core::cmp::PartialEq,))];
    let doc = docs(&[
        format!("The input of {}.", target.describe()),
        String::new(),
        "Build it with `new` (the required inputs) and a setter per optional input; unset inputs are left"
            .into(),
        "out of the request, so the model's own defaults apply. Checked against the schema's bounds before"
            .into(),
        "any request; deserializing rejects unknown fields, wrong types and unknown choices.".into(),
    ]);

    let fields = plan.inputs.iter().map(|f| field_tokens(plan, f, target));
    let required: Vec<&InputFieldPlan> = plan.inputs.iter().filter(|f| !f.optional).collect();
    let params = required.iter().map(|f| {
        let id = ident(&f.ident);
        let param = param_ty(plan, &f.ty, target);
        quote!(#id: #param)
    });
    let inits = plan.inputs.iter().map(|f| {
        let id = ident(&f.ident);
        if f.optional {
            quote!(#id: ::core::option::Option::None)
        } else if into_param(&f.ty) {
            quote!(#id: #id.into())
        } else {
            quote!(#id)
        }
    });
    let new_doc = if required.is_empty() {
        " An input with every input unset (the model's defaults apply).".to_owned()
    } else {
        let names: Vec<String> = required.iter().map(|f| format!("`{}`", f.json_name)).collect();
        format!(" An input with the required {}; every optional input unset.", names.join(", "))
    };
    let setters = plan.inputs.iter().filter(|f| f.optional).map(|f| setter_tokens(plan, f, target));
    let default_impl = required.is_empty().then(|| {
        quote! {
            impl ::core::default::Default for #name {
                fn default() -> Self { Self::new() }
            }
        }
    });

    quote! {
        #doc
        #[derive(::core::fmt::Debug, #(#extra_derives)* #krate::__private::serde::Serialize, #krate::__private::serde::Deserialize, #krate::__private::schemars::JsonSchema)]
        #serde_crate
        #[serde(deny_unknown_fields)]
        #schemars_crate
        #[allow(dead_code)]
        #vis struct #name {
            #(#fields,)*
        }

        // `new` takes every required input; setters are named after the schema's properties.
        #[allow(dead_code, clippy::too_many_arguments, clippy::should_implement_trait)]
        impl #name {
            #[doc = #new_doc]
            #vis fn new(#(#params),*) -> Self {
                Self { #(#inits,)* }
            }
            #(#setters)*
        }

        #default_impl
    }
}

fn field_tokens(plan: &Plan, f: &InputFieldPlan, target: &Target) -> TokenStream {
    let vis = &target.vis;
    let id = ident(&f.ident);
    let doc = docs(&f.docs);
    let inner = ty(plan, &f.ty, target);
    let rename = (f.ident != f.json_name).then(|| {
        let json_name = &f.json_name;
        quote!(#[serde(rename = #json_name)])
    });
    let (field_ty, optional_attr) = if f.optional {
        (
            quote!(::core::option::Option<#inner>),
            Some(quote!(#[serde(default, skip_serializing_if = "::core::option::Option::is_none")])),
        )
    } else {
        (inner, None)
    };
    let keys = f.schema_keys.iter().map(|(k, v)| {
        let v = json(v);
        quote!(#k = #v)
    });
    let extend = (!f.schema_keys.is_empty()).then(|| quote!(#[schemars(extend(#(#keys),*))]));
    quote! {
        #doc
        #rename
        #optional_attr
        #extend
        #vis #id: #field_ty
    }
}

/// Whether the constructor and setters take `impl Into<T>` (strings and JSON values).
fn into_param(ty: &Ty) -> bool {
    matches!(ty, Ty::String | Ty::Any)
}

fn param_ty(plan: &Plan, t: &Ty, target: &Target) -> TokenStream {
    let inner = ty(plan, t, target);
    if into_param(t) { quote!(impl ::core::convert::Into<#inner>) } else { inner }
}

fn setter_tokens(plan: &Plan, f: &InputFieldPlan, target: &Target) -> TokenStream {
    let vis = &target.vis;
    let id = ident(&f.ident);
    // `new` is the constructor.
    let setter = if f.ident == "new" { format_ident!("with_new") } else { id.clone() };
    let param = param_ty(plan, &f.ty, target);
    let value = if into_param(&f.ty) { quote!(value.into()) } else { quote!(value) };
    let mut lines = vec![format!("Sets `{}`:", f.json_name)];
    lines.extend(f.docs.iter().cloned());
    let doc = docs(&lines);
    quote! {
        #doc
        #[must_use]
        #vis fn #setter(mut self, value: #param) -> Self {
            self.#id = ::core::option::Option::Some(#value);
            self
        }
    }
}
