//! The `replicate` command line: run models, stream their output, manage predictions, models,
//! trainings, deployments and files, keep the schema cache of `#[replicate::model]`, and start the
//! local emulator. Built on the client of `replicate-core`.
//!
//! The token and base URL come from `--token` / `--base-url`, else `REPLICATE_API_TOKEN` /
//! `REPLICATE_BASE_URL`, else the file `replicate auth login` writes (see [`config`]).
//! Exit codes are documented in [`error`]: 0 success, 1 API or I/O error, 2 usage, 3 model failed,
//! 4 canceled, 130 interrupted.

pub mod commands;
pub mod config;
pub mod error;
pub mod inputs;
pub mod output;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use replicate_core::{BASE_URL_ENV, Replicate, TOKEN_ENV};

use crate::commands::*;
use crate::error::{CliError, CliResult};

const AFTER_HELP: &str = "\
Inputs:
  key=value            coerced by the model's schema (integer, number, boolean, choice, list)
  key=@path            a local file (inlined or uploaded, see --file-encoding)
  key=https://...      a URL, passed as is
  key={{.output[0]}}   a value from the prediction piped in on stdin (chaining, see below)
  -                    a JSON object of inputs on stdin (key=value pairs override it)

Chaining: the output of one run feeds the next without downloading it:
  replicate run black-forest-labs/flux-schnell prompt=\"a cat\" --json \\
    | replicate run some/upscaler image={{.output[0]}}

Authentication: --token, else REPLICATE_API_TOKEN, else the token `replicate auth login` stored.

Exit codes:
  0    success
  1    API, network or local I/O error
  2    usage error: bad arguments, inputs that do not fit the model's schema, no token (nothing was sent)
  3    the prediction or training failed (the model raised an error)
  4    the prediction or training was canceled or aborted
  130  interrupted by Ctrl-C (the prediction is canceled on the server unless --no-cancel)";

/// The command line. Its `Debug` hides `--token`.
#[derive(Parser)]
#[command(
    name = "replicate",
    version,
    about = "Run machine-learning models on Replicate from your shell",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// API token (default: REPLICATE_API_TOKEN, else the one `replicate auth login` stored).
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// API base URL (default: REPLICATE_BASE_URL, else the stored one, else https://api.replicate.com/v1).
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// Prints resources as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs a model: `replicate run owner/name key=value ...`.
    Run(run::RunArgs),
    /// Runs a model and prints its output tokens as they arrive.
    Stream(run::StreamArgs),
    /// Predictions: list, show, cancel, wait.
    #[command(subcommand, visible_alias = "predictions")]
    Prediction(prediction::PredictionCommand),
    /// Models: show, list, search, schema, versions, create, delete.
    #[command(subcommand, visible_alias = "models")]
    Model(model::ModelCommand),
    /// Starts a training: the same as `replicate training create`.
    Train(training::TrainArgs),
    /// Trainings: create, list, show, cancel.
    #[command(subcommand, visible_alias = "trainings")]
    Training(training::TrainingCommand),
    /// Deployments: list, show, create, update, delete, run.
    #[command(subcommand, visible_alias = "deployments")]
    Deployment(deployment::DeploymentCommand),
    /// Files: upload, list, show, download, delete.
    #[command(subcommand, visible_alias = "files")]
    File(file::FileCommand),
    /// Hardware models can run on.
    #[command(subcommand)]
    Hardware(misc::HardwareCommand),
    /// Shows the account the token belongs to (`replicate account [current]`).
    Account {
        /// `current` (the default).
        #[command(subcommand)]
        command: Option<misc::AccountCommand>,
    },
    /// Searches models, collections and documentation.
    Search(misc::SearchArgs),
    /// Webhook settings: `replicate webhook secret`.
    #[command(subcommand, visible_alias = "webhooks")]
    Webhook(misc::WebhookCommand),
    /// The schema cache of `#[replicate::model]`: pull, check.
    #[command(subcommand, visible_alias = "schemas")]
    Schema(schema::SchemaCommand),
    /// Creates a starter project that runs a model with its example input (Rust, Python or Node).
    Scaffold(scaffold::ScaffoldArgs),
    /// Stores or removes the API token: login, logout, status.
    #[command(subcommand)]
    Auth(auth::AuthCommand),
    /// Starts a local Replicate (the emulator) until Ctrl-C.
    #[cfg(feature = "emulator")]
    Emulator(emulator::EmulatorArgs),
    /// Prints a shell completion script (e.g. `replicate completion bash > /etc/bash_completion.d/replicate`).
    Completion {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// What every command gets: the client and the output mode. Its `Debug` hides the token.
#[derive(Clone)]
pub struct Ctx {
    /// The API client.
    pub client: Replicate,
    /// `--json`.
    pub json: bool,
    /// `--token`, when given.
    pub token_flag: Option<String>,
    /// `--base-url`, when given.
    pub base_url_flag: Option<String>,
}

impl std::fmt::Debug for Cli {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cli")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("base_url", &self.base_url)
            .field("json", &self.json)
            .field("command", &self.command)
            .finish()
    }
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("client", &self.client)
            .field("json", &self.json)
            .field("token_flag", &self.token_flag.as_ref().map(|_| "***"))
            .field("base_url_flag", &self.base_url_flag)
            .finish()
    }
}

/// Runs a command, printing its results and errors; the exit code says how it went.
pub async fn run(cli: Cli) -> ExitCode {
    match dispatch(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}

/// Builds the client: flags, then the environment, then the stored config.
pub fn client(token: Option<&str>, base_url: Option<&str>) -> CliResult<Replicate> {
    let stored = config::load().unwrap_or_else(|e| {
        eprintln!("warning: {e}");
        config::Config::default()
    });
    let env_set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let mut builder = Replicate::builder().user_agent(format!("replicate-cli/{}", env!("CARGO_PKG_VERSION")));
    if let Some(t) = token.or(stored.token.as_deref().filter(|_| !env_set(TOKEN_ENV))) {
        builder = builder.bearer_token(t);
    }
    if let Some(u) = base_url.or(stored.base_url.as_deref().filter(|_| !env_set(BASE_URL_ENV))) {
        builder = builder.base_url(u);
    }
    builder.build().map_err(|e| CliError::usage(format!("{e}; check --base-url / REPLICATE_BASE_URL")))
}

async fn dispatch(cli: Cli) -> CliResult<()> {
    match cli.command {
        Command::Completion { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "replicate", &mut script);
            return output::println_out(String::from_utf8_lossy(&script).trim_end());
        }
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => return emulator::run(args).await,
        _ => {}
    }
    let ctx = Ctx {
        client: client(cli.token.as_deref(), cli.base_url.as_deref())?,
        json: cli.json,
        token_flag: cli.token,
        base_url_flag: cli.base_url,
    };
    match cli.command {
        Command::Run(args) => run::run(&ctx, args).await,
        Command::Stream(args) => run::stream(&ctx, args).await,
        Command::Prediction(c) => prediction::run(&ctx, c).await,
        Command::Model(c) => model::run(&ctx, c).await,
        Command::Training(c) => training::run(&ctx, c).await,
        Command::Deployment(c) => deployment::run(&ctx, c).await,
        Command::File(c) => file::run(&ctx, c).await,
        Command::Hardware(c) => misc::hardware(&ctx, c).await,
        Command::Account { .. } => misc::account(&ctx).await,
        Command::Train(args) => training::run(&ctx, training::TrainingCommand::Create(args)).await,
        Command::Search(args) => misc::search(&ctx, args).await,
        Command::Webhook(c) => misc::webhook(&ctx, c).await,
        Command::Schema(c) => schema::run(&ctx, c).await,
        Command::Scaffold(args) => scaffold::run(&ctx, args).await,
        Command::Auth(c) => auth::run(&ctx, c).await,
        Command::Completion { .. } => Ok(()),
        #[cfg(feature = "emulator")]
        Command::Emulator(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn debug_never_shows_the_token() {
        let cli = Cli::try_parse_from(["replicate", "--token", "r8_secret", "account"]).unwrap();
        assert!(!format!("{cli:?}").contains("r8_secret"));
        let ctx = Ctx {
            client: client(Some("r8_secret"), None).unwrap(),
            json: false,
            token_flag: Some("r8_secret".into()),
            base_url_flag: None,
        };
        assert!(!format!("{ctx:?}").contains("r8_secret"));
    }

    #[test]
    fn singular_and_plural_names_parse() {
        for name in ["prediction", "predictions"] {
            let cli = Cli::try_parse_from(["replicate", name, "list"]).unwrap();
            assert!(matches!(cli.command, Command::Prediction(_)));
        }
        for (name, ok) in [("models", true), ("files", true), ("trainings", true), ("deployments", true)] {
            assert_eq!(Cli::try_parse_from(["replicate", name, "list"]).is_ok(), ok, "{name}");
        }
    }
}
