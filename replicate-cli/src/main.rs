//! The `replicate` command.

use std::process::ExitCode;

use clap::Parser;
use replicate_cli::{Cli, run};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    run(Cli::parse()).await
}
