//! Output types: an alias for non-object outputs, structs for object outputs.

use proc_macro2::TokenStream;
use quote::quote;

use super::tokens::{Target, docs, ident, ty};
use crate::plan::{Plan, StructPlan, Ty};

/// `type ModelOutput = ...;` unless the output is an object (then the struct carries the name).
pub(crate) fn alias_tokens(plan: &Plan, target: &Target) -> TokenStream {
    if matches!(&plan.output, Ty::Struct(i) if plan.structs[*i].type_name == plan.output_type) {
        return TokenStream::new();
    }
    let vis = &target.vis;
    let name = ident(&plan.output_type);
    let output = ty(plan, &plan.output, target);
    let how = if plan.concatenate {
        "The text tokens the model streams, joined into one string (`stream` yields them one by one)."
    } else if plan.stream_item.is_some() {
        "Every item the model produces (`stream` yields them one by one as they are produced)."
    } else {
        "What the model returns."
    };
    let doc = docs(&[format!("The output of {}.", target.describe()), String::new(), how.to_owned()]);
    quote! {
        #doc
        #[allow(dead_code)]
        #vis type #name = #output;
    }
}

/// A struct for an object output.
pub(crate) fn struct_tokens(plan: &Plan, s: &StructPlan, target: &Target) -> TokenStream {
    let krate = &target.krate;
    let vis = &target.vis;
    let name = ident(&s.type_name);
    let serde_crate = target.serde_crate();
    let (clone, eq) = plan.all_derivable(s.fields.iter().map(|f| &f.ty));
    let extra_derives =
        [clone.then(|| quote!(::core::clone::Clone,)), eq.then(|| quote!(::core::cmp::PartialEq,))];
    let doc = docs(&[format!("An object in the output of {}.", target.describe())]);
    let fields = s.fields.iter().map(|f| {
        let id = ident(&f.ident);
        let inner = ty(plan, &f.ty, target);
        let rename = (f.ident != f.json_name).then(|| {
            let json_name = &f.json_name;
            quote!(#[serde(rename = #json_name)])
        });
        let field_doc = docs(&[if f.optional {
            format!("`{}` (may be absent).", f.json_name)
        } else {
            format!("`{}`.", f.json_name)
        }]);
        if f.optional {
            quote! {
                #field_doc
                #rename
                #[serde(default, skip_serializing_if = "::core::option::Option::is_none")]
                #vis #id: ::core::option::Option<#inner>
            }
        } else {
            quote!(#field_doc #rename #vis #id: #inner)
        }
    });
    quote! {
        #doc
        #[derive(::core::fmt::Debug, #(#extra_derives)* #krate::__private::serde::Serialize, #krate::__private::serde::Deserialize)]
        #serde_crate
        #[allow(dead_code)]
        #vis struct #name {
            #(#fields,)*
        }
    }
}
