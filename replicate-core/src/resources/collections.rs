//! `client.collections()`: curated collections of models.

use reqwest::Method;

use super::{Backend, segment, spec_at};
use crate::client::Replicate;
use crate::pagination::Page;
use crate::request::{Plain, RequestSpec};
use crate::types::{Collection, CollectionSummary};

/// Collections: `client.collections()`.
#[derive(Debug, Clone, Copy)]
pub struct Collections<'a, C: Backend = Replicate> {
    pub(crate) client: &'a C,
}

operations! {
    Collections {
        /// `GET /collections`.
        pub fn list(&self) -> Call<Page<CollectionSummary>, Plain> {
            self.client.call(RequestSpec::page("/collections"))
        }

        /// `GET /collections/{slug}`: the collection with its models.
        pub fn get(&self, slug: &str) -> Call<Collection, Plain> {
            let path = segment(slug, "the collection slug").map(|s| format!("/collections/{s}"));
            self.client.call(spec_at(path, |p| RequestSpec::json(Method::GET, p)))
        }
    }
}
