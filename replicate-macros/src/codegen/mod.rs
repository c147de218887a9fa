//! Tokens from a [`Plan`]: the input struct, enums, output types and the `TypedModel` impl.

mod choice;
mod input;
mod model;
mod output;
mod tokens;

use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::Plan;

pub(crate) use tokens::Target;

/// Everything the attribute expands to, after the model's own unit struct.
pub(crate) fn generate(plan: &Plan, target: &Target) -> TokenStream {
    let enums = plan.enums.iter().map(|e| choice::enum_tokens(e, target));
    let structs = plan.structs.iter().map(|s| output::struct_tokens(plan, s, target));
    let input = input::input_tokens(plan, target);
    let output_alias = output::alias_tokens(plan, target);
    let model = model::model_tokens(plan, target);
    quote! {
        #input
        #(#enums)*
        #output_alias
        #(#structs)*
        #model
    }
}
