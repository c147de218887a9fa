//! A run's state: what it is ([`spec`]), how far its prediction has got ([`progress`]), the state
//! shared by its handle, its actor and the supervisor ([`tracker`]), and the run with its actor's
//! current incarnation ([`live`]).

pub(crate) mod live;
pub(crate) mod progress;
pub(crate) mod spec;
pub(crate) mod tracker;
