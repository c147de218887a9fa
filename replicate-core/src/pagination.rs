//! Pages of list results, and a lazy [`Stream`] over every item of every page.

use std::collections::HashSet;
use std::fmt;
use std::pin::Pin;

use bytes::Bytes;
use futures_core::Stream;
use serde::de::DeserializeOwned;

use crate::client::Replicate;
use crate::error::{Error, Result};
use crate::request::{ApiRequest, Decoder, RequestSpec};

/// A boxed stream of results (list items or pages); `Unpin`, so `.next()` / `.try_next()` work directly.
pub type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T>> + Send + 'static>>;

/// One page of a list: its results and the links to its neighbours.
#[derive(Clone)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page (newest first).
    pub results: Vec<T>,
    /// The absolute URL of the next page, if any.
    pub next: Option<String>,
    /// The absolute URL of the previous page, if any.
    pub previous: Option<String>,
    client: Replicate,
}

impl<T: fmt::Debug> fmt::Debug for Page<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Page")
            .field("results", &self.results)
            .field("next", &self.next)
            .field("previous", &self.previous)
            .finish()
    }
}

#[derive(serde::Deserialize)]
struct RawPage<T> {
    results: Vec<T>,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    previous: Option<String>,
}

impl<T: DeserializeOwned + Send + 'static> Page<T> {
    /// The request for the next page, if there is one. The `next` URL is followed verbatim and must be on
    /// the API host (the token is never sent elsewhere).
    pub fn next_page(&self) -> Option<ApiRequest<Page<T>>> {
        self.next.as_deref().map(|url| link(&self.client, url))
    }

    /// The request for the previous page, if there is one.
    pub fn previous_page(&self) -> Option<ApiRequest<Page<T>>> {
        self.previous.as_deref().map(|url| link(&self.client, url))
    }
}

impl<T> Page<T> {
    /// Whether a next page exists.
    pub fn has_next(&self) -> bool {
        self.next.is_some()
    }

    /// The items of this page.
    pub fn into_results(self) -> Vec<T> {
        self.results
    }
}

fn link<T: DeserializeOwned + Send + 'static>(client: &Replicate, url: &str) -> ApiRequest<Page<T>> {
    ApiRequest::new(client.clone(), RequestSpec::absolute(url, page_decoder()))
}

pub(crate) fn page_decoder<T: DeserializeOwned>() -> Decoder<Page<T>> {
    Decoder::Body(decode_page::<T>)
}

fn decode_page<T: DeserializeOwned>(client: &Replicate, body: Bytes) -> std::result::Result<Page<T>, String> {
    let raw: RawPage<T> = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    Ok(Page { results: raw.results, next: raw.next, previous: raw.previous, client: client.clone() })
}

impl<T: DeserializeOwned + Send + 'static> RequestSpec<Page<T>> {
    /// A list operation at `path`.
    pub(crate) fn page(path: impl Into<String>) -> Self {
        RequestSpec::new(reqwest::Method::GET, path, page_decoder())
    }
}

impl<T: DeserializeOwned + Send + 'static, M> ApiRequest<Page<T>, M> {
    /// Every item of every page, fetched lazily: the next page is requested only when the items of
    /// the current one have been consumed. Stops at the first error (yielded as the last item).
    ///
    /// ```no_run
    /// # async fn demo(client: replicate_core::Replicate) -> replicate_core::Result<()> {
    /// use futures_util::TryStreamExt;
    /// let mut all = client.predictions().list().into_stream();
    /// while let Some(prediction) = all.try_next().await? {
    ///     println!("{}", prediction.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn into_stream(self) -> BoxStream<T> {
        let first = ApiRequest::<Page<T>>::new(self.client, self.spec);
        let start = (State::Request(first), HashSet::new());
        Box::pin(futures_util::stream::try_unfold(start, |(state, mut seen)| async move {
            let mut state = state;
            loop {
                match state {
                    State::Done => return Ok(None),
                    State::Request(request) => {
                        let page = request.send().await?;
                        state = State::Items(follow(&page, &mut seen)?, page.results.into_iter());
                    }
                    State::Items(next, mut items) => match items.next() {
                        Some(item) => return Ok(Some((item, (State::Items(next, items), seen)))),
                        None => state = next.map_or(State::Done, State::Request),
                    },
                }
            }
        }))
    }

    /// Every page, fetched lazily.
    pub fn into_page_stream(self) -> BoxStream<Page<T>> {
        let first = ApiRequest::<Page<T>>::new(self.client, self.spec);
        Box::pin(futures_util::stream::try_unfold(
            (Some(first), HashSet::new()),
            |(request, mut seen)| async move {
                let Some(request) = request else { return Ok(None) };
                let page = request.send().await?;
                let next = follow(&page, &mut seen)?;
                Ok(Some((page, (next, seen))))
            },
        ))
    }
}

/// The request for the page after `page`, unless its link repeats one already followed: a server that
/// links back would otherwise be walked forever.
fn follow<T: DeserializeOwned + Send + 'static>(
    page: &Page<T>,
    seen: &mut HashSet<String>,
) -> Result<Option<ApiRequest<Page<T>>>> {
    let Some(next) = &page.next else { return Ok(None) };
    if !seen.insert(next.clone()) {
        return Err(Error::InvalidRequest(format!(
            "refusing to follow the next link {next:?}: it repeats a page already read"
        )));
    }
    Ok(page.next_page())
}

enum State<T> {
    Request(ApiRequest<Page<T>>),
    Items(Option<ApiRequest<Page<T>>>, std::vec::IntoIter<T>),
    Done,
}
