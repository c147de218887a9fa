//! Search (`GET /search`): models, collections and documentation pages matching a query.

use serde::{Deserialize, Serialize};

use super::model::Model;

/// Extra search metadata of a matching model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SearchModelMetadata {
    /// An AI-generated detailed description of the model.
    #[serde(default)]
    pub generated_description: Option<String>,
    /// The search relevance score.
    #[serde(default)]
    pub score: Option<f64>,
    /// Descriptive tags of the model.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A model matching a search, with its search metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SearchModel {
    /// The model.
    pub model: Model,
    /// Extra metadata: generated description, relevance score and tags.
    #[serde(default)]
    pub metadata: SearchModelMetadata,
}

/// A collection matching a search; its models are given by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SearchCollection {
    /// The name of the collection.
    pub name: String,
    /// The slug of the collection (lowercase with dashes).
    pub slug: String,
    /// A description of the collection.
    pub description: String,
    /// The names (`owner/name`) of the models in the collection.
    #[serde(default)]
    pub models: Option<Vec<String>>,
}

/// A Replicate documentation page matching a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SearchPage {
    /// The title of the page.
    pub name: String,
    /// The URL path of the page.
    pub href: String,
}

/// The response of `GET /search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SearchResults {
    /// The search term that was evaluated.
    pub query: String,
    /// Models that match the query, with extra metadata.
    #[serde(default)]
    pub models: Vec<SearchModel>,
    /// Collections that match the query.
    #[serde(default)]
    pub collections: Vec<SearchCollection>,
    /// Documentation pages that match the query.
    #[serde(default)]
    pub pages: Vec<SearchPage>,
}
