//! `client.search(query)`: models, collections and docs pages matching a query.

use reqwest::Method;

use super::Backend;
use crate::request::{ApiRequest, RequestSpec};
use crate::types::SearchResults;

/// Marks the search, which takes [`ApiRequest::limit`].
#[derive(Debug, Clone, Copy)]
pub enum Search {}

pub(crate) fn search<C: Backend>(client: &C, query: &str) -> C::Call<SearchResults, Search> {
    let mut spec = RequestSpec::json(Method::GET, "/search").query("query", Some(query));
    if query.trim().is_empty() {
        spec.reject("the search query is empty".to_owned());
    }
    client.call(spec)
}

impl ApiRequest<SearchResults, Search> {
    /// At most this many models (1 to 50; the API's default is 20). Refused before sending otherwise.
    pub fn limit(mut self, limit: u32) -> Self {
        if !(1..=50).contains(&limit) {
            self.spec.reject(format!("search limit {limit} is outside 1..=50"));
        }
        self.spec = self.spec.query("limit", Some(limit));
        self
    }
}
