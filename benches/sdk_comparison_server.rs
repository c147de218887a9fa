//! The emulator process of the SDK comparison benchmarks (`benches/sdk-comparison.sh`): the built-in models plus
//! `bench/tokens`, a streaming model that emits `tokens` output tokens with no delay, yielding to the
//! runtime after every `burst` tokens (the stream writer sends whatever is pending in one write, so
//! `burst` sets the size of the chunks a client reads: 1 gives small chunks as a live model does,
//! 1000 gives ~40 KB chunks).
//!
//! `sdk_comparison_server --serve [--time-scale X]` listens on a free port, prints its base URL on one line
//! and serves until killed. Without `--serve` (as `cargo bench` runs every bench target) it prints how to
//! run the benchmarks and exits, so the server never blocks a plain `cargo bench`.

use replicate_emulator::{Emulator, ModelSpec, RunContext, cog_schema};
use serde_json::{Value, json};

/// The largest output `bench/tokens` accepts.
const MAX_TOKENS: u64 = 1_000_000;

fn tokens_model() -> ModelSpec {
    let schema = cog_schema(
        json!({
            "tokens": {"type": "integer", "title": "Tokens", "x-order": 0, "default": 1000,
                       "minimum": 1, "maximum": MAX_TOKENS, "description": "Output tokens to emit"},
            "burst": {"type": "integer", "title": "Burst", "x-order": 1, "default": 1, "minimum": 1,
                      "maximum": MAX_TOKENS, "description": "Tokens emitted between two yields to the runtime"}
        }),
        &[],
        json!({"type": "array", "items": {"type": "string"}, "title": "Output",
               "x-cog-array-type": "iterator", "x-cog-array-display": "concatenate"}),
        json!({}),
    );
    ModelSpec::new("bench/tokens", schema, |input: Value, ctx: RunContext| async move {
        let n = input.get("tokens").and_then(Value::as_u64).unwrap_or(1000).min(MAX_TOKENS);
        let burst = input.get("burst").and_then(Value::as_u64).unwrap_or(1).max(1);
        for i in 0..n {
            ctx.emit(Value::String(format!(" t{}", i % 1000)));
            if (i + 1) % burst == 0 {
                tokio::task::yield_now().await;
            }
        }
        Ok(Value::Null)
    })
    .description("Benchmark: emits `tokens` output tokens instantly, `burst` at a time")
    .setup_seconds(0.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--serve") {
        println!(
            "sdk_comparison_server: the emulator process of benches/sdk-comparison.sh (run with --serve)"
        );
        return;
    }
    let time_scale = args
        .iter()
        .position(|a| a == "--time-scale")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.parse::<f64>().expect("--time-scale takes a number"))
        .unwrap_or(1.0);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async move {
        let handle = Emulator::builder()
            .time_scale(time_scale)
            .model(tokens_model())
            .start()
            .await
            .expect("the emulator starts");
        println!("{}", handle.base_url());
        // Serve until killed.
        std::future::pending::<()>().await;
    });
}
