//! An enum for a choice: variants, `Display`/`FromStr`, `Default`, serde and JSON Schema impls that
//! write the exact schema values.

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

use super::tokens::{Target, docs, ident, lit};
use crate::plan::{EnumKind, EnumPlan};

pub(crate) fn enum_tokens(e: &EnumPlan, target: &Target) -> TokenStream {
    let krate = &target.krate;
    let vis = &target.vis;
    let name = ident(&e.type_name);
    let variants: Vec<_> = e.variants.iter().map(|v| ident(v)).collect();
    let texts: Vec<String> = (0..e.values.len()).map(|i| e.text(i)).collect();
    let variant_docs = e.values.iter().map(|v| format!(" `{v}`"));
    let expected = texts.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ");
    let doc = docs(&[
        format!("A value of the choice `{}` of {}.", e.schema_name, target.describe()),
        String::new(),
        format!("Serializes to the exact schema value: one of {expected}."),
    ]);
    let field_name = lit(&e.schema_name);
    let type_name = lit(&e.type_name);

    let default = e.default.map(|i| {
        let v = &variants[i];
        quote! {
            impl ::core::default::Default for #name {
                fn default() -> Self { Self::#v }
            }
        }
    });

    let serde = quote!(#krate::__private::serde);
    let serialize_body = match e.kind {
        EnumKind::Str => quote!(serializer.serialize_str(self.as_str())),
        EnumKind::Int | EnumKind::Mixed => {
            let arms = e.values.iter().zip(&variants).map(|(value, v)| match value {
                Value::String(s) => quote!(Self::#v => serializer.serialize_str(#s)),
                other => {
                    let n = other.as_i64().unwrap_or_default();
                    quote!(Self::#v => serializer.serialize_i64(#n))
                }
            });
            quote!(match self { #(#arms,)* })
        }
    };
    let read_text = match e.kind {
        EnumKind::Str => quote! {
            let text = <::std::string::String as #serde::Deserialize>::deserialize(deserializer)?;
        },
        EnumKind::Int | EnumKind::Mixed => quote! {
            let text = match <#krate::__private::serde_json::Value as #serde::Deserialize>::deserialize(deserializer)? {
                #krate::__private::serde_json::Value::String(text) => text,
                #krate::__private::serde_json::Value::Number(number) => number.to_string(),
                other => {
                    return ::core::result::Result::Err(<D::Error as #serde::de::Error>::custom(
                        ::std::format!("expected one of {}, found {}", #expected, other),
                    ))
                }
            };
        },
    };
    let json_ty = match e.kind {
        EnumKind::Str => Some("string"),
        EnumKind::Int => Some("integer"),
        EnumKind::Mixed => None,
    };
    let schema_type = json_ty.map(|t| {
        quote!(schema.insert(::std::string::String::from("type"), #krate::__private::serde_json::Value::from(#t));)
    });

    quote! {
        #doc
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy, ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::hash::Hash)]
        #[allow(dead_code)]
        #vis enum #name {
            #( #[doc = #variant_docs] #variants, )*
        }

        #[allow(dead_code)]
        impl #name {
            /// Every value, in the schema's order.
            #vis const ALL: &'static [Self] = &[#(Self::#variants),*];

            /// The value as the schema writes it (integers as decimal text).
            #vis const fn as_str(&self) -> &'static str {
                Self::VALUES[*self as usize]
            }

            /// The values as the schema writes them, in the schema's order (integers as decimal text).
            #vis const VALUES: &'static [&'static str] = &[#(#texts),*];
        }

        impl ::core::fmt::Display for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for #name {
            type Err = #krate::Error;
            fn from_str(text: &str) -> ::core::result::Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text).ok_or_else(|| #krate::Error::InvalidInput {
                    field: ::std::string::String::from(#field_name),
                    message: ::std::format!("unknown value {:?}; expected one of {}", text, #expected),
                })
            }
        }

        #default

        impl #serde::Serialize for #name {
            fn serialize<S: #serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                #serialize_body
            }
        }

        impl<'de> #serde::Deserialize<'de> for #name {
            fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                #read_text
                Self::ALL.iter().copied().find(|v| v.as_str() == text).ok_or_else(|| {
                    <D::Error as #serde::de::Error>::unknown_variant(&text, Self::VALUES)
                })
            }
        }

        impl #krate::__private::schemars::JsonSchema for #name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(#type_name)
            }
            fn json_schema(_: &mut #krate::__private::schemars::SchemaGenerator) -> #krate::__private::schemars::Schema {
                let mut schema = #krate::__private::serde_json::Map::new();
                #schema_type
                let values = Self::ALL.iter().map(|v| {
                    #krate::__private::serde_json::to_value(v).unwrap_or(#krate::__private::serde_json::Value::Null)
                });
                schema.insert(::std::string::String::from("enum"), #krate::__private::serde_json::Value::Array(values.collect()));
                #krate::__private::schemars::Schema::from(schema)
            }
        }
    }
}
