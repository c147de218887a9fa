//! What most programs need, in one import: `use replicate::prelude::*;`.
//!
//! The client and its main types, and the stream extension traits (anonymously, so that
//! `.next()`, `.try_next()`, `.collect()` work on the SDK's streams without naming `futures`).

pub use futures_util::{StreamExt as _, TryStreamExt as _};

pub use crate::{
    Error, ErrorKind, FileEncoding, FileInput, FileOutput, IntoModelRef, ModelRef, Output, Page, Replicate,
    Result, StreamEvent, TypedModel, TypedStreamModel, Wait, WaitMode, batch,
};
