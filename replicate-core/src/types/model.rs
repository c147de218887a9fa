//! Models and their versions, with the create/update requests and the list sort options.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::prediction::Prediction;

/// Whether a model can be seen and run by anyone or only by its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Anyone can view and run the model.
    Public,
    /// Only the owner (user or organization members) can view and run the model.
    Private,
}

impl Visibility {
    /// The visibility as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The field `GET /models` sorts by (`sort_by`; default `latest_version_created_at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelSortBy {
    /// Sort by when the model was created (`model_created_at`).
    ModelCreatedAt,
    /// Sort by when the model's latest version was created (`latest_version_created_at`).
    #[default]
    LatestVersionCreatedAt,
}

impl ModelSortBy {
    /// The value as the API spells it in the query string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ModelCreatedAt => "model_created_at",
            Self::LatestVersionCreatedAt => "latest_version_created_at",
        }
    }
}

impl fmt::Display for ModelSortBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A sort direction (`sort_direction`; default `desc`, newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortDirection {
    /// Ascending, oldest first.
    Asc,
    /// Descending, newest first.
    #[default]
    Desc,
}

impl SortDirection {
    /// The value as the API spells it in the query string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

impl fmt::Display for SortDirection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version of a model: its Cog version and the OpenAPI schema of its inputs and outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelVersion {
    /// The ID of the version (64 hex characters).
    pub id: String,
    /// The date and time the version was created (RFC 3339; absent from schema cache files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The version of Cog used to create this version (`null` when unknown).
    #[serde(default)]
    pub cog_version: Option<String>,
    /// The OpenAPI schema for the model's inputs and outputs (`null` when unavailable).
    #[serde(default)]
    pub openapi_schema: Value,
}

/// A model on Replicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Model {
    /// The URL of the model on Replicate.
    pub url: String,
    /// The name of the user or organization that owns the model.
    pub owner: String,
    /// The name of the model.
    pub name: String,
    /// A description of the model.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the model is public or private.
    pub visibility: Visibility,
    /// A URL for the model's source code on GitHub.
    #[serde(default)]
    pub github_url: Option<String>,
    /// A URL for the model's paper.
    #[serde(default)]
    pub paper_url: Option<String>,
    /// A URL for the model's license.
    #[serde(default)]
    pub license_url: Option<String>,
    /// The number of times the model has been run.
    #[serde(default)]
    pub run_count: u64,
    /// A URL for the model's cover image.
    #[serde(default)]
    pub cover_image_url: Option<String>,
    /// The model's default example prediction.
    #[serde(default, deserialize_with = "empty_object_as_none")]
    pub default_example: Option<Prediction>,
    /// The model's latest version.
    #[serde(default, deserialize_with = "empty_object_as_none")]
    pub latest_version: Option<ModelVersion>,
    /// Whether the model is officially maintained by Replicate (always on, stable API, predictable pricing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_official: Option<bool>,
    /// When the model was created (RFC 3339; not in every response).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// Reads `null` and `{}` (which carries nothing; the spec's own examples use it) as `None`.
fn empty_object_as_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::Object(map) if map.is_empty() => Ok(None),
        other => T::deserialize(other).map(Some).map_err(serde::de::Error::custom),
    }
}

impl Model {
    /// The model's full name, `owner/name`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// Whether the model is official (`is_official`; `false` when absent).
    pub fn official(&self) -> bool {
        self.is_official.unwrap_or(false)
    }
}

/// The body of `POST /models`: creates a model (its versions are pushed with Cog).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateModel {
    /// The user or organization that will own the model: the owner of the API token.
    pub owner: String,
    /// The name of the model, unique among the owner's models.
    pub name: String,
    /// Whether the model is public or private.
    pub visibility: Visibility,
    /// The SKU of the hardware that runs the model (see `GET /hardware`).
    pub hardware: String,
    /// A description of the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A URL for the model's source code on GitHub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github_url: Option<String>,
    /// A URL for the model's paper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper_url: Option<String>,
    /// A URL for the model's license.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_url: Option<String>,
    /// A URL for the model's cover image (an image file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_image_url: Option<String>,
}

setters!(CreateModel {
    /// Sets the description.
    description: String,
    /// Sets the GitHub URL of the model's source code.
    github_url: String,
    /// Sets the URL of the model's paper.
    paper_url: String,
    /// Sets the URL of the model's license.
    license_url: String,
    /// Sets the URL of the model's cover image.
    cover_image_url: String,
});

impl CreateModel {
    /// A request with the required fields: owner, name, visibility and hardware SKU.
    pub fn new(
        owner: impl Into<String>,
        name: impl Into<String>,
        visibility: Visibility,
        hardware: impl Into<String>,
    ) -> Self {
        Self {
            owner: owner.into(),
            name: name.into(),
            visibility,
            hardware: hardware.into(),
            description: None,
            github_url: None,
            paper_url: None,
            license_url: None,
            cover_image_url: None,
        }
    }
}

/// The body of `PATCH /models/{owner}/{name}`: only the fields set are changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateModel {
    /// A description of the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A URL for the model's source code on GitHub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github_url: Option<String>,
    /// A URL for the model's license.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_url: Option<String>,
    /// A URL for the model's paper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper_url: Option<String>,
    /// The README content of the model (Markdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readme: Option<String>,
    /// A URL for the model's weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_url: Option<String>,
}

setters!(UpdateModel {
    /// Sets the description.
    description: String,
    /// Sets the GitHub URL of the model's source code.
    github_url: String,
    /// Sets the URL of the model's license.
    license_url: String,
    /// Sets the URL of the model's paper.
    paper_url: String,
    /// Sets the README content (Markdown).
    readme: String,
    /// Sets the URL of the model's weights.
    weights_url: String,
});

impl UpdateModel {
    /// An update that changes nothing yet; chain setters to choose fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no field is set (the request would change nothing).
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}
