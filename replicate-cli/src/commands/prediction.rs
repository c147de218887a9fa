//! `replicate prediction list|show|cancel|wait`.

use std::time::Duration;

use clap::Subcommand;
use replicate_core::types::Prediction;

use super::run::{FollowArgs, Interrupt, Mode, finish, follow};
use super::{opt, take};
use crate::Ctx;
use crate::error::CliResult;
use crate::output;

/// `replicate prediction ...`.
#[derive(Debug, Subcommand)]
pub enum PredictionCommand {
    /// Creates a prediction: the same as `replicate run`.
    #[command(visible_aliases = ["new", "run"])]
    Create(super::run::RunArgs),
    /// Lists your predictions, newest first.
    #[command(visible_alias = "ls")]
    List {
        /// How many to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Only predictions created after this RFC 3339 time (e.g. 2025-01-31T00:00:00Z).
        #[arg(long, value_name = "TIME")]
        created_after: Option<String>,
        /// Only predictions created before this RFC 3339 time.
        #[arg(long, value_name = "TIME")]
        created_before: Option<String>,
    },
    /// Shows a prediction.
    #[command(visible_alias = "get")]
    Show {
        /// The prediction id.
        id: String,
        /// Also prints its logs.
        #[arg(long)]
        logs: bool,
    },
    /// Cancels a prediction.
    Cancel {
        /// The prediction id.
        id: String,
    },
    /// Waits for a prediction to finish and prints its output (exit code as for `run`).
    Wait {
        /// The prediction id.
        id: String,
        /// Gives up (and cancels) after this many seconds.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<f64>,
        #[command(flatten)]
        #[allow(missing_docs)]
        follow: FollowArgs,
    },
}

/// Runs a prediction command.
pub async fn run(ctx: &Ctx, command: PredictionCommand) -> CliResult<()> {
    let predictions = ctx.client.predictions();
    match command {
        PredictionCommand::Create(args) => super::run::run(ctx, args).await,
        PredictionCommand::List { limit, created_after, created_before } => {
            let mut request = predictions.list();
            if let Some(t) = created_after {
                request = request.created_after(t);
            }
            if let Some(t) = created_before {
                request = request.created_before(t);
            }
            let items = take(request.into_stream(), limit).await?;
            if ctx.json {
                return output::print_json(&items);
            }
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|p| {
                    vec![
                        p.id.clone(),
                        p.model.clone().unwrap_or_else(|| p.version.clone()),
                        p.status.to_string(),
                        p.created_at.clone(),
                    ]
                })
                .collect();
            output::print_table(&["ID", "MODEL", "STATUS", "CREATED"], &rows)
        }
        PredictionCommand::Show { id, logs } => {
            let p = predictions.get(&id).await?;
            if ctx.json {
                return output::print_json(&p);
            }
            show(&p, logs)
        }
        PredictionCommand::Cancel { id } => {
            let p = predictions.cancel(&id).await?;
            if ctx.json {
                return output::print_json(&p);
            }
            output::println_out(&format!("{} {}", p.id, p.status))
        }
        PredictionCommand::Wait { id, timeout, follow: args } => {
            let mut interrupt = Interrupt::new()?;
            let p = predictions.get(&id).await?;
            let mode = Mode { tokens: false, logs: args.logs, no_cancel: args.no_cancel };
            let followed = match timeout {
                None => follow(&ctx.client, p, mode, &mut interrupt).await?,
                Some(secs) => {
                    let limit = Duration::try_from_secs_f64(secs).map_err(|_| {
                        crate::error::CliError::usage(format!("--timeout {secs} is not a number of seconds"))
                    })?;
                    super::run::Followed {
                        prediction: tokio::select! {
                            done = predictions.wait(&id, Some(limit)).cancel_on_timeout(true) => done?,
                            () = interrupt.recv() => {
                                return Err(crate::error::CliError::new(
                                    crate::error::EXIT_INTERRUPTED,
                                    format!("interrupted; prediction {id} keeps running on the server"),
                                ));
                            }
                        },
                        streamed: false,
                    }
                }
            };
            finish(ctx, &followed.prediction, &args, false, false, &mut interrupt).await
        }
    }
}

fn show(p: &Prediction, logs: bool) -> CliResult<()> {
    let time = |t: Option<f64>| t.map(|t| format!("{t:.2}s"));
    output::print_fields(&[
        ("id", opt(p.id.clone())),
        ("model", p.model.clone()),
        ("version", opt(p.version.clone())),
        ("status", opt(p.status.to_string())),
        ("created", opt(p.created_at.clone())),
        ("started", p.started_at.clone()),
        ("completed", p.completed_at.clone()),
        ("predict time", time(p.predict_time())),
        ("total time", time(p.total_time())),
        ("error", p.error_message()),
        ("web", p.urls.web.clone()),
        ("input", opt(serde_json::to_string(&p.input).unwrap_or_default())),
    ])?;
    let rendered = output::render_output(&p.output, false);
    if !rendered.is_empty() {
        output::println_out("output:")?;
        output::println_out(&rendered)?;
    }
    if logs && let Some(l) = p.logs.as_deref().filter(|l| !l.is_empty()) {
        output::println_out("logs:")?;
        output::println_out(l.trim_end())?;
    }
    Ok(())
}
