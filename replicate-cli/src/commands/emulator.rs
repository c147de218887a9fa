//! `replicate emulator`: the local Replicate of `replicate-emulator`, with its flags.

use std::path::PathBuf;

use clap::Args;
use replicate_emulator::{Emulator, Faults, RateLimits};

use crate::error::{CliError, CliResult};

/// `replicate emulator` flags (the same as the `replicate-emulator` binary's).
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// TCP port (0 picks a free one).
    #[arg(long, default_value_t = 5055)]
    pub port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Directory of Cog version files (`<owner>__<name>.json`, `<owner>/<name>.json`, ...).
    #[arg(long)]
    pub models_dir: Option<PathBuf>,
    /// Lets --models-dir files replace built-in models of the same name.
    #[arg(long)]
    pub models_dir_replaces_builtins: bool,
    /// Accepted token (repeatable; default: any non-empty token).
    #[arg(long = "accept-token", value_name = "TOKEN")]
    pub tokens: Vec<String>,
    /// Multiplier for model durations (0 = instant).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Enables the service's rate limits (600 creates/min, 3000 others/min).
    #[arg(long)]
    pub rate_limits: bool,
    /// Custom creates per minute (implies --rate-limits).
    #[arg(long)]
    pub creates_per_minute: Option<u32>,
    /// Custom other requests per minute (implies --rate-limits).
    #[arg(long)]
    pub others_per_minute: Option<u32>,
    /// Fault probabilities, e.g. `error_500=0.1,drop_before=0.05,sse_cut=0.2`.
    #[arg(long, default_value = "")]
    pub faults: String,
    /// Seed for faults and synthetic outputs.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Returns output files as data: URLs.
    #[arg(long)]
    pub data_urls: bool,
    /// Removes finished predictions' data this many (time-scaled) seconds after they finish.
    #[arg(long, value_name = "SECS")]
    pub data_retention: Option<f64>,
}

/// Starts the emulator, prints its base URL on stdout, and serves until Ctrl-C.
pub async fn run(args: EmulatorArgs) -> CliResult<()> {
    let faults = Faults::parse(&args.faults).map_err(|e| CliError::usage(format!("--faults: {e}")))?;
    let mut b = Emulator::builder()
        .port(args.port)
        .host(args.host)
        .time_scale(args.time_scale)
        .faults(faults)
        .seed(args.seed)
        .data_urls(args.data_urls)
        .models_dir_replaces_builtins(args.models_dir_replaces_builtins);
    if !args.tokens.is_empty() {
        b = b.tokens(args.tokens);
    }
    if args.rate_limits || args.creates_per_minute.is_some() || args.others_per_minute.is_some() {
        b = b.rate_limits(RateLimits {
            creates_per_minute: args.creates_per_minute.unwrap_or(600),
            others_per_minute: args.others_per_minute.unwrap_or(3000),
        });
    }
    if let Some(secs) = args.data_retention {
        b = b.data_retention(secs);
    }
    if let Some(d) = args.models_dir {
        b = b.models_dir(d);
    }
    let handle = b.start().await.map_err(|e| CliError::other(format!("{e}; try another --port")))?;
    for w in handle.warnings() {
        eprintln!("warning: {w}");
    }
    crate::output::println_out(handle.base_url())?;
    eprintln!(
        "emulator listening; in another shell:\n  export REPLICATE_BASE_URL={} REPLICATE_API_TOKEN=local\n\
         Ctrl-C stops it",
        handle.base_url()
    );
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    Ok(())
}
