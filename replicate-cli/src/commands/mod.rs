//! One module per command.

pub mod schema;
