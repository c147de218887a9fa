//! A run's state: what it is ([`spec`]), how far its prediction has got ([`progress`]) and the state
//! shared by its handle, its actor and the supervisor ([`tracker`]).

pub(crate) mod progress;
pub(crate) mod spec;
pub(crate) mod tracker;
