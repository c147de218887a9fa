//! What a prediction actor is told or asked, by whom: its follower, the create task, the receiver,
//! the supervisor and handles.

use replicate_core::StreamEvent;
use replicate_core::types::Prediction;

use crate::events::ActorError;

/// From the create task, without webhooks or with a cancel pending: the prediction exists (in the
/// tracker): follow it, cancel it if asked to.
#[derive(Debug)]
pub(crate) struct Created;

/// From the follower: the prediction failed for good (gone).
#[derive(Debug)]
pub(crate) struct CreateFailed(pub(crate) ActorError);

/// A prediction as seen by a poll, a cancel or a webhook delivery.
#[derive(Debug)]
pub(crate) struct Observed(pub(crate) Prediction);

/// An event of the prediction's stream.
#[derive(Debug)]
pub(crate) struct Streamed(pub(crate) StreamEvent);

/// The event stream failed: chunks now come from observations.
#[derive(Debug)]
pub(crate) struct StreamLost;

/// Ask: an [`OutcomeWaiter`](crate::OutcomeWaiter), which gives the outcome once the prediction ends.
#[derive(Debug)]
pub struct Wait;

/// Ask: a stream of events, starting with the current state.
#[derive(Debug)]
pub struct Subscribe;

/// Ask or tell: cancel the prediction (idempotent; before the create, the create never happens).
#[derive(Debug)]
pub struct Cancel;

/// Ask: the prediction as last seen (`None` before it is created).
#[derive(Debug)]
pub struct GetState;
