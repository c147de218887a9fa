//! `replicate-emulator`: serve the Replicate HTTP API locally until killed.
//! Prints the base URL (e.g. `http://127.0.0.1:5055/v1`) on its own line once listening.

use std::path::PathBuf;

use clap::Parser;
use replicate_emulator::{Emulator, Faults, RateLimits};

/// A local server that speaks the Replicate HTTP API.
#[derive(Parser)]
#[command(name = "replicate-emulator", version)]
struct Args {
    /// TCP port (0 picks a free one).
    #[arg(long, default_value_t = 5055)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Directory of Cog version files (`<owner>__<name>.json`, `<owner>/<name>.json`,
    /// `<folder>/<owner>__<name>.json`).
    #[arg(long)]
    models_dir: Option<PathBuf>,
    /// Let --models-dir files replace built-in models of the same name (default: built-ins
    /// win and a warning is printed).
    #[arg(long)]
    models_dir_replaces_builtins: bool,
    /// Accepted token (repeatable; default: any non-empty token).
    #[arg(long = "token")]
    tokens: Vec<String>,
    /// Multiplier for model durations (0 = instant).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Enable the service's rate limits (600 creates/min, 3000 others/min).
    #[arg(long)]
    rate_limits: bool,
    /// Custom creates per minute (implies --rate-limits).
    #[arg(long)]
    creates_per_minute: Option<u32>,
    /// Custom other requests per minute (implies --rate-limits).
    #[arg(long)]
    others_per_minute: Option<u32>,
    /// Fault probabilities, e.g. `error_500=0.1,drop_before=0.05,sse_cut=0.2,webhook_duplicate=0.5`.
    #[arg(long, default_value = "")]
    faults: String,
    /// Seed for faults and synthetic outputs.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Return output files as data: URLs.
    #[arg(long)]
    data_urls: bool,
    /// Remove finished predictions' data (output null, data_removed true, files 404) this many
    /// nominal seconds after they finish, time-scaled; the service uses 3600. Default: never.
    #[arg(long, value_name = "SECS")]
    data_retention: Option<f64>,
    /// Serve model owner/name from a running Cog server (`PORT=5000 python -m cog.server.http`),
    /// e.g. `--cog me/my-model=http://127.0.0.1:5000` (repeatable).
    #[arg(long = "cog", value_name = "OWNER/NAME=URL")]
    cog: Vec<String>,
    /// A schema file for a --cog model whose server serves none (coglet without
    /// .cog/openapi_schema.json), e.g. `--cog-schema me/my-model=schema.json` (repeatable).
    #[arg(long = "cog-schema", value_name = "OWNER/NAME=FILE")]
    cog_schema: Vec<String>,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let faults = match Faults::parse(&args.faults) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: --faults: {e}");
            std::process::exit(2);
        }
    };
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
    let mut schemas = std::collections::HashMap::new();
    for spec in &args.cog_schema {
        let Some((name, file)) = spec.split_once('=') else {
            eprintln!("error: --cog-schema {spec:?}: expected owner/name=FILE");
            std::process::exit(2);
        };
        let schema = std::fs::read(file)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).map_err(|e| e.to_string()));
        match schema {
            Ok(s) => schemas.insert(name.to_string(), s),
            Err(e) => {
                eprintln!("error: --cog-schema {file}: {e}");
                std::process::exit(2);
            }
        };
    }
    for spec in &args.cog {
        match replicate_emulator::CogModel::parse(spec) {
            Ok(c) => {
                b = match schemas.remove(&c.name) {
                    Some(schema) => b.cog_with_schema(&c.name, &c.url, schema),
                    None => b.cog(&c.name, &c.url),
                }
            }
            Err(e) => {
                eprintln!("error: --cog {e}");
                std::process::exit(2);
            }
        }
    }
    let handle = match b.start().await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    for w in handle.warnings() {
        eprintln!("warning: {w}");
    }
    println!("{}", handle.base_url());
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
}
