//! Walking a [`Page`]: its items as an iterator, and everything from it on as a stream.

use serde::de::DeserializeOwned;

use crate::pagination::{BoxStream, Page};

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    /// The items of this page.
    fn into_iter(self) -> Self::IntoIter {
        self.results.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a Page<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    /// The items of this page, borrowed.
    fn into_iter(self) -> Self::IntoIter {
        self.results.iter()
    }
}

impl<T> Page<T> {
    /// The items of this page, borrowed.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.results.iter()
    }

    /// How many items this page holds.
    pub fn len(&self) -> usize {
        self.results.len()
    }

    /// Whether this page holds no items.
    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }
}

impl<T: DeserializeOwned + Send + 'static> Page<T> {
    /// This page's items, then every item of the following pages, fetched lazily.
    pub fn into_stream(self) -> BoxStream<T> {
        use futures_util::StreamExt;
        let next = self.next_page();
        let here = futures_util::stream::iter(self.results.into_iter().map(Ok));
        match next {
            Some(next) => Box::pin(here.chain(next.into_stream())),
            None => Box::pin(here),
        }
    }
}
