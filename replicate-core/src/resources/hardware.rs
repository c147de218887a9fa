//! `client.hardware()`: the hardware models can run on.

use reqwest::Method;

use super::Backend;
use crate::client::Replicate;
use crate::request::{Plain, RequestSpec};
use crate::types::Hardware;

/// Hardware: `client.hardware()`.
#[derive(Debug, Clone, Copy)]
pub struct HardwareGroup<'a, C: Backend = Replicate> {
    pub(crate) client: &'a C,
}

operations! {
    HardwareGroup {
        /// `GET /hardware`: every hardware option (a bare array, not a page).
        pub fn list(&self) -> Call<Vec<Hardware>, Plain> {
            self.client.call(RequestSpec::json(Method::GET, "/hardware"))
        }
    }
}
