//! Deployments: a model version on dedicated hardware with scaling limits, and its requests.

use serde::{Deserialize, Serialize};

use super::account::Account;

/// The hardware and scaling configuration of a deployment release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeploymentConfiguration {
    /// The SKU of the hardware that runs the model.
    pub hardware: String,
    /// The minimum number of instances for scaling.
    pub min_instances: u32,
    /// The maximum number of instances for scaling.
    pub max_instances: u32,
}

/// A release of a deployment: the model version and configuration it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeploymentRelease {
    /// The release number (starts at 1, grows with each update).
    pub number: u64,
    /// The model, as `owner/name`.
    pub model: String,
    /// The ID of the model version used in the release.
    pub version: String,
    /// The time the release was created (RFC 3339).
    pub created_at: String,
    /// The account that created the release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Account>,
    /// The hardware and scaling configuration.
    pub configuration: DeploymentConfiguration,
}

/// A deployment: a named, always-available endpoint for a model version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Deployment {
    /// The owner of the deployment.
    pub owner: String,
    /// The name of the deployment.
    pub name: String,
    /// The release the deployment currently serves.
    #[serde(default)]
    pub current_release: Option<DeploymentRelease>,
}

impl Deployment {
    /// The deployment's full name, `owner/name`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

/// The body of `POST /deployments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateDeployment {
    /// The name of the deployment.
    pub name: String,
    /// The full name of the model to deploy, `owner/name`.
    pub model: String,
    /// The 64-character ID of the model version to deploy.
    pub version: String,
    /// The SKU of the hardware that runs the model (see `GET /hardware`).
    pub hardware: String,
    /// The minimum number of instances for scaling (0 to 5).
    pub min_instances: u32,
    /// The maximum number of instances for scaling (0 to 20).
    pub max_instances: u32,
}

impl CreateDeployment {
    /// A request with every field the API requires.
    pub fn new(
        name: impl Into<String>,
        model: impl Into<String>,
        version: impl Into<String>,
        hardware: impl Into<String>,
        min_instances: u32,
        max_instances: u32,
    ) -> Self {
        Self {
            name: name.into(),
            model: model.into(),
            version: version.into(),
            hardware: hardware.into(),
            min_instances,
            max_instances,
        }
    }
}

/// The body of `PATCH /deployments/{owner}/{name}`: only the fields set are changed (a new release).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateDeployment {
    /// The ID of the model version to deploy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The SKU of the hardware that runs the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware: Option<String>,
    /// The minimum number of instances for scaling (0 to 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_instances: Option<u32>,
    /// The maximum number of instances for scaling (0 to 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_instances: Option<u32>,
}

setters!(UpdateDeployment {
    /// Sets the model version to deploy.
    version: String,
    /// Sets the hardware SKU.
    hardware: String,
    /// Sets the minimum number of instances.
    min_instances: u32,
    /// Sets the maximum number of instances.
    max_instances: u32,
});

impl UpdateDeployment {
    /// An update that changes nothing yet; chain setters to choose fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no field is set (the request would change nothing).
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}
