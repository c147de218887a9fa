//! Deployments: a named, numbered release of a model version with its hardware settings.

use serde_json::{Value, json};

use crate::clock::Ts;

/// A stored deployment.
#[derive(Clone, Debug)]
pub(crate) struct Deployment {
    /// Owner (the account).
    pub owner: String,
    /// Name.
    pub name: String,
    /// Release number (starts at 1).
    pub number: u64,
    /// `owner/name` of the model.
    pub model: String,
    /// Version id.
    pub version: String,
    /// Hardware sku.
    pub hardware: String,
    /// Min instances.
    pub min_instances: u64,
    /// Max instances.
    pub max_instances: u64,
    /// When the current release was made.
    pub released: i64,
}

impl Deployment {
    /// JSON as `GET /deployments/{owner}/{name}` returns it.
    pub(crate) fn to_json(&self, username: &str) -> Value {
        json!({
            "owner": self.owner,
            "name": self.name,
            "current_release": {
                "number": self.number,
                "model": self.model,
                "version": self.version,
                "created_at": Ts(self.released).to_string(),
                "created_by": {"type": "user", "username": username, "name": "Replicate Emulator",
                                "github_url": format!("https://github.com/{username}")},
                "configuration": {
                    "hardware": self.hardware,
                    "min_instances": self.min_instances,
                    "max_instances": self.max_instances,
                }
            }
        })
    }
}
