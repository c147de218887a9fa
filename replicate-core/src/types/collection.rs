//! Collections: curated groups of models (`/collections`).

use serde::{Deserialize, Serialize};

use super::model::Model;

/// A collection as `GET /collections` lists it: without its models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CollectionSummary {
    /// The name of the collection.
    pub name: String,
    /// The slug of the collection (lowercase with dashes).
    pub slug: String,
    /// A description of the collection.
    pub description: String,
}

/// A collection as `GET /collections/{slug}` returns it: with its models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Collection {
    /// The name of the collection.
    pub name: String,
    /// The slug of the collection (lowercase with dashes).
    pub slug: String,
    /// A description of the collection.
    pub description: String,
    /// The full description of the collection in Markdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_description: Option<String>,
    /// The models in this collection.
    #[serde(default)]
    pub models: Vec<Model>,
}

impl Collection {
    /// The collection without its models, as the list operation returns it.
    pub fn summary(&self) -> CollectionSummary {
        CollectionSummary {
            name: self.name.clone(),
            slug: self.slug.clone(),
            description: self.description.clone(),
        }
    }
}
