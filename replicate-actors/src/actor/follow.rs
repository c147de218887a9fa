//! The follower of one incarnation of a prediction actor, when webhooks are off: the prediction's event
//! stream, then adaptive polling. What it sees goes to the actor as messages.

use std::sync::Arc;

use futures_util::StreamExt;
use kameo::actor::{Actor, ActorRef};
use kameo::message::Message;
use replicate_core::{ErrorKind, StreamEvent};
use tokio::time::Instant;

use super::messages::{CreateFailed, Observed, StreamLost, Streamed};
use crate::context::{Read, Shared};
use crate::events::ActorError;
use crate::run::progress::Seen;
use crate::run::tracker::Tracker;
use crate::stats::bump;

/// An actor that takes what a follower reports.
pub(crate) trait Follower:
    Actor + Message<Streamed> + Message<StreamLost> + Message<Observed> + Message<CreateFailed>
{
}

impl<A> Follower for A where
    A: Actor + Message<Streamed> + Message<StreamLost> + Message<Observed> + Message<CreateFailed>
{
}

/// Follows a created prediction for one incarnation of its actor when webhooks are off: its event
/// stream when it has one, then adaptive polling. (With webhooks, no task per prediction: the
/// the supervisor's `safety_polls` sweep covers them all.)
pub(crate) async fn follow<A: Follower>(shared: Arc<Shared>, tracker: Arc<Tracker>, me: ActorRef<A>) {
    let Some(id) = tracker.id.get().cloned() else { return };
    let (created_at, streamable, resumed_stream) = {
        let mut state = tracker.state();
        let resumed = state.streaming;
        // A restarted actor does not reopen the stream (its events would be published twice).
        state.streaming = false;
        let streamable = state.latest.as_ref().and_then(Seen::prediction).filter(|p| p.urls.stream.is_some());
        (state.created_at.unwrap_or_else(Instant::now), streamable, resumed)
    };
    let mut first_delay = None;
    if let Some(prediction) = streamable.filter(|_| shared.config.use_stream && !resumed_stream) {
        shared.budget.others.take().await;
        bump(&shared.counters.streams);
        // The prediction as created carries its stream URL: no GET before connecting.
        let mut events = shared.client.predictions().stream_from(&prediction);
        drop(prediction);
        let mut done = false;
        while let Some(event) = events.next().await {
            match event {
                Ok(StreamEvent::Done { .. }) => {
                    done = true;
                    break;
                }
                Ok(event) => {
                    if me.tell(Streamed(event)).await.is_err() {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        if !done {
            let _ = me.tell(StreamLost).await;
        }
        // The stream ended: fetch the final prediction at once.
        first_delay = Some(std::time::Duration::ZERO);
    }
    let schedule = shared.config.poll;
    let mut n = 0;
    loop {
        let delay = match first_delay.take() {
            Some(delay) => delay,
            None => {
                let delay = schedule.delay(n, created_at.elapsed());
                n += 1;
                delay
            }
        };
        tokio::time::sleep(delay).await;
        if !poll_once(&shared, &me, &id).await {
            return;
        }
    }
}

/// One poll; false when following should stop.
async fn poll_once<A: Follower>(shared: &Shared, me: &ActorRef<A>, id: &str) -> bool {
    match shared.read(Read::Get, id).await {
        Ok(prediction) => me.tell(Observed(prediction)).await.is_ok(),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let error = ActorError::Api(Arc::new(e));
            let _ = me.tell(CreateFailed(error)).await;
            false
        }
        // Retries are spent for this round; the next poll tries again.
        Err(_) => true,
    }
}
