//! `client.webhooks()`: the account's default webhook signing secret.

use reqwest::Method;

use super::Backend;
use crate::client::Replicate;
use crate::request::{Plain, RequestSpec};
use crate::types::DefaultWebhookSecret;

/// Webhooks: `client.webhooks()`.
#[derive(Debug, Clone, Copy)]
pub struct Webhooks<'a, C: Backend = Replicate> {
    pub(crate) client: &'a C,
}

impl<'a, C: Backend> Webhooks<'a, C> {
    /// The default webhook.
    pub fn default(&self) -> DefaultWebhook<'a, C> {
        DefaultWebhook { client: self.client }
    }
}

/// The default webhook: `client.webhooks().default()`.
#[derive(Debug, Clone, Copy)]
pub struct DefaultWebhook<'a, C: Backend = Replicate> {
    client: &'a C,
}

operations! {
    DefaultWebhook {
        /// `GET /webhooks/default/secret`: the `whsec_...` key deliveries are signed with; give it to
        /// [`WebhookVerifier::new`](crate::webhooks::WebhookVerifier::new).
        pub fn secret(&self) -> Call<DefaultWebhookSecret, Plain> {
            self.client.call(RequestSpec::json(Method::GET, "/webhooks/default/secret"))
        }
    }
}
