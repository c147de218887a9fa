//! `client.account()`: the account the token belongs to.

use reqwest::Method;

use super::Backend;
use crate::client::Replicate;
use crate::request::{Plain, RequestSpec};
use crate::types;

/// The authenticated account: `client.account()`. (The data type is [`types::Account`].)
#[derive(Debug, Clone, Copy)]
pub struct Account<'a, C: Backend = Replicate> {
    pub(crate) client: &'a C,
}

operations! {
    Account {
        /// `GET /account`.
        pub fn get(&self) -> Call<types::Account, Plain> {
            self.client.call(RequestSpec::json(Method::GET, "/account"))
        }
    }
}
