//! The `replicate` command line. Today: `replicate schema pull owner/name[:version]` and
//! `replicate schema check`, which keep the schema cache of `#[replicate::model]` (see
//! [`commands::schema`]). The client reads `REPLICATE_API_TOKEN` and `REPLICATE_BASE_URL`.
#![forbid(unsafe_code)]

pub mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "replicate", version, about = "Replicate from the command line")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The schema cache of `#[replicate::model]`.
    #[command(subcommand)]
    Schema(commands::schema::SchemaCommand),
}

/// Runs a command, printing its results and errors; the exit code says whether it succeeded.
pub async fn run(cli: Cli) -> ExitCode {
    let client = match replicate_core::Replicate::new() {
        Ok(client) => client,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Schema(command) => commands::schema::run(&client, command).await,
    }
}
