//! The model's `TypedModel` impl (with the generated input checks) and its `run`/`stream` functions.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::tokens::{Target, ident, lit, ty};
use crate::plan::{InputFieldPlan, Plan, Ty, number_text};

pub(crate) fn model_tokens(plan: &Plan, target: &Target) -> TokenStream {
    let krate = &target.krate;
    let vis = &target.vis;
    let model = ident(&plan.model_type);
    let input = ident(&plan.input_type);
    let output = ident(&plan.output_type);
    let model_name = lit(&target.model);
    let version = match &target.version {
        Some(v) => {
            let v = lit(v);
            quote!(::core::option::Option::Some(#v))
        }
        None => quote!(::core::option::Option::None),
    };
    let schema_path = lit(&target.schema_path);
    let (schema, track) = match &plan.schema_override {
        Some(text) => {
            let text = lit(text);
            (
                quote!(#text),
                Some(quote!(
                    const _: &str = ::core::include_str!(#schema_path);
                )),
            )
        }
        None => (quote!(::core::include_str!(#schema_path)), None),
    };

    let checks: Vec<TokenStream> = plan.inputs.iter().filter_map(|f| field_checks(f, target)).collect();
    let validate = (!checks.is_empty()).then(|| {
        quote! {
            fn validate(input: &Self::Input) -> #krate::Result<()> {
                let invalid = |field: &str, message: ::std::string::String| #krate::Error::InvalidInput {
                    field: ::std::string::String::from(field),
                    message,
                };
                #(#checks)*
                ::core::result::Result::Ok(())
            }
        }
    });

    let (stream_impl, stream_fn) = match &plan.stream_item {
        Some(item) => {
            let item = ty(plan, item, target);
            let what = if plan.concatenate { "text chunks" } else { "items" };
            let doc = format!(
                " Starts a prediction and yields its {what} as the model produces them (after the same checks as `run`)."
            );
            (
                Some(quote! {
                    impl #krate::TypedStreamModel for #model {
                        type Item = #item;
                    }
                }),
                Some(quote! {
                    #[doc = #doc]
                    #vis fn stream(client: &#krate::Replicate, input: &#input) -> #krate::BoxStream<#item> {
                        #krate::__rt::stream::<Self>(client, input)
                    }
                }),
            )
        }
        None => (None, None),
    };

    quote! {
        impl #krate::TypedModel for #model {
            type Input = #input;
            type Output = #output;
            const MODEL: &'static str = #model_name;
            const VERSION: ::core::option::Option<&'static str> = #version;
            const SCHEMA: &'static str = #schema;
            #validate
        }

        #track
        #stream_impl

        #[allow(dead_code)]
        impl #model {
            /// Checks the input, runs a prediction, waits for it and returns its typed output.
            #vis async fn run(client: &#krate::Replicate, input: &#input) -> #krate::Result<#output> {
                #krate::__rt::run::<Self>(client, input).await
            }
            #stream_fn
        }
    }
}

/// `(-5f64)` or `4f64`.
fn float(x: f64) -> TokenStream {
    let lit = Literal::f64_suffixed(x.abs());
    if x < 0.0 { quote!((-#lit)) } else { quote!(#lit) }
}

/// The checks of one input, or `None` when it has no bounds.
fn field_checks(f: &InputFieldPlan, target: &Target) -> Option<TokenStream> {
    let c = &f.checks;
    let field = lit(&f.json_name);
    let mut stmts = Vec::new();
    match &f.ty {
        Ty::Integer | Ty::Number => {
            let x = if f.ty == Ty::Integer { quote!((*value as f64)) } else { quote!(*value) };
            let rules = [
                (c.minimum, quote!(<), "{} is less than the minimum {}"),
                (c.maximum, quote!(>), "{} is greater than the maximum {}"),
                (c.exclusive_minimum, quote!(<=), "{} is not greater than the exclusive minimum {}"),
                (c.exclusive_maximum, quote!(>=), "{} is not less than the exclusive maximum {}"),
            ];
            for (bound, op, message) in rules {
                if let Some(b) = bound {
                    let b_lit = float(b);
                    let message = message.replacen("{}", "{value}", 1).replacen("{}", &number_text(b), 1);
                    let message = lit(&message);
                    stmts.push(quote! {
                        if #x #op #b_lit {
                            return ::core::result::Result::Err(invalid(#field, ::std::format!(#message)));
                        }
                    });
                }
            }
            if f.ty == Ty::Number && !stmts.is_empty() {
                stmts.insert(
                    0,
                    quote! {
                        if !value.is_finite() {
                            return ::core::result::Result::Err(invalid(#field, ::std::format!("{value} is not a finite number")));
                        }
                    },
                );
            }
        }
        Ty::String => {
            let length_rules = [
                (c.min_length, quote!(<), "{value:?} has {length} characters, fewer than the minimum length"),
                (c.max_length, quote!(>), "{value:?} has {length} characters, more than the maximum length"),
            ];
            let mut length_checks = Vec::new();
            for (bound, op, message) in length_rules {
                if let Some(n) = bound {
                    let message = lit(&format!("{message} {n}"));
                    let n = Literal::usize_suffixed(n as usize);
                    length_checks.push(quote! {
                        if length #op #n {
                            return ::core::result::Result::Err(invalid(#field, ::std::format!(#message)));
                        }
                    });
                }
            }
            if !length_checks.is_empty() {
                stmts.push(quote! {
                    let length = value.chars().count();
                    #(#length_checks)*
                });
            }
            if let Some(pattern) = &c.pattern {
                let pattern_lit = lit(pattern);
                let krate = &target.krate;
                let mismatch = lit(&format!("{{value:?}} does not match the pattern `{pattern}`"));
                let broken = lit(&format!("the pattern `{pattern}` does not compile: {{error}}"));
                stmts.push(quote! {
                    static PATTERN: ::std::sync::LazyLock<
                        ::core::result::Result<#krate::__private::regex::Regex, #krate::__private::regex::Error>,
                    > = ::std::sync::LazyLock::new(|| #krate::__private::regex::Regex::new(#pattern_lit));
                    match &*PATTERN {
                        ::core::result::Result::Ok(pattern) => {
                            if !pattern.is_match(value) {
                                return ::core::result::Result::Err(invalid(#field, ::std::format!(#mismatch)));
                            }
                        }
                        ::core::result::Result::Err(error) => {
                            return ::core::result::Result::Err(invalid(#field, ::std::format!(#broken)));
                        }
                    }
                });
            }
        }
        Ty::Vec(_) => {
            let rules = [
                (c.min_items, quote!(<), "{count} items, fewer than the minimum"),
                (c.max_items, quote!(>), "{count} items, more than the maximum"),
            ];
            for (bound, op, message) in rules {
                if let Some(n) = bound {
                    let message = lit(&format!("{message} {n}"));
                    let n = Literal::usize_suffixed(n as usize);
                    stmts.push(quote! {
                        let count = value.len();
                        if count #op #n {
                            return ::core::result::Result::Err(invalid(#field, ::std::format!(#message)));
                        }
                    });
                }
            }
        }
        _ => {}
    }
    if stmts.is_empty() {
        return None;
    }
    let id = ident(&f.ident);
    Some(if f.optional {
        quote! {
            if let ::core::option::Option::Some(value) = &input.#id {
                #(#stmts)*
            }
        }
    } else {
        quote! {
            {
                let value = &input.#id;
                #(#stmts)*
            }
        }
    })
}
