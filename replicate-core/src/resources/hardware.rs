//! `client.hardware()`: the hardware models can run on.

use reqwest::Method;

use super::Backend;
use crate::client::Replicate;
use crate::request::{Plain, RequestSpec};
use crate::types;

/// Hardware: `client.hardware()`. (The data type is [`types::Hardware`].)
#[derive(Debug, Clone, Copy)]
pub struct Hardware<'a, C: Backend = Replicate> {
    pub(crate) client: &'a C,
}

operations! {
    Hardware {
        /// `GET /hardware`: every hardware option (a bare array, not a page).
        pub fn list(&self) -> Call<Vec<types::Hardware>, Plain> {
            self.client.call(RequestSpec::json(Method::GET, "/hardware"))
        }
    }
}
