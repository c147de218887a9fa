//! Webhook configuration: the default signing secret (`GET /webhooks/default/secret`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The signing secret of webhook deliveries (`whsec_...`); its `Debug` output hides the key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DefaultWebhookSecret {
    /// The signing secret, `whsec_` followed by the base64 key.
    pub key: String,
}

impl DefaultWebhookSecret {
    /// A secret holding this key.
    pub fn new(key: impl Into<String>) -> Self {
        Self { key: key.into() }
    }
}

impl fmt::Debug for DefaultWebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = if self.key.starts_with("whsec_") { "whsec_***" } else { "***" };
        f.debug_struct("DefaultWebhookSecret").field("key", &shown).finish()
    }
}
