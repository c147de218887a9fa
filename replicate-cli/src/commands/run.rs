//! `replicate run` and `replicate stream`, and the following of a prediction to its end that
//! `prediction wait` and `deployment run` share: progress on a terminal, logs on request, tokens as they
//! arrive, Ctrl-C cancelling on the server.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use replicate_cog::CogSchema;
use replicate_core::types::{Prediction, PredictionStatus};
use replicate_core::{FileEncoding, ModelRef, Replicate, StreamEvent};
use serde_json::{Map, Value};

use crate::Ctx;
use crate::error::{CliError, CliResult, EXIT_CANCELED, EXIT_FAILED, EXIT_INTERRUPTED};
use crate::inputs;
use crate::output;

/// How local files (`key=@path`) reach the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Encoding {
    /// Inline small files (256 KiB in all) as data URLs, upload larger ones.
    Auto,
    /// Always upload through the files API.
    Upload,
    /// Always inline as data URLs.
    DataUrl,
}

impl From<Encoding> for FileEncoding {
    fn from(e: Encoding) -> Self {
        match e {
            Encoding::Auto => FileEncoding::Auto,
            Encoding::Upload => FileEncoding::Upload,
            Encoding::DataUrl => FileEncoding::DataUrl,
        }
    }
}

/// The inputs of a run: `key=value` pairs and JSON.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Inputs: `key=value` (coerced by the model's schema), `key=@path` (a local file), `key=https://...`
    /// (a URL), `key={{.output[0]}}` (from the prediction piped in on stdin), `-` (a JSON object on stdin).
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Reads the input as a JSON object from a file (`-` for stdin); `key=value` pairs override it.
    #[arg(long, value_name = "FILE")]
    pub input_json: Option<String>,
    /// How local files are sent.
    #[arg(long, value_enum, default_value_t = Encoding::Auto)]
    pub file_encoding: Encoding,
}

/// How a prediction is followed and its result shown.
#[derive(Debug, Clone, Args)]
pub struct FollowArgs {
    /// Prints the model's logs on stderr as they arrive.
    #[arg(long)]
    pub logs: bool,
    /// On Ctrl-C, leaves the prediction running on the server instead of canceling it.
    #[arg(long)]
    pub no_cancel: bool,
    /// Saves file outputs into `./<prediction id>/` (or --output-directory).
    #[arg(long)]
    pub save: bool,
    /// Saves file outputs into this directory (implies --save).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output_directory: Option<PathBuf>,
}

/// `replicate run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The model: `owner/name`, `owner/name:<version id>` or a 64-character version id.
    pub model: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub input: InputArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub follow: FollowArgs,
    /// Waits for the prediction to finish (the default).
    #[arg(long, overrides_with = "no_wait")]
    pub wait: bool,
    /// Creates the prediction, prints its id and returns (`replicate prediction wait ID` follows it).
    #[arg(long, conflicts_with_all = ["stream", "save", "output_directory", "logs"])]
    pub no_wait: bool,
    /// Prints output tokens on stdout as they arrive (text models).
    #[arg(long, conflicts_with = "json")]
    pub stream: bool,
    /// An HTTPS URL to receive webhook deliveries for this prediction.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// Has the server cancel the prediction once this many seconds have passed (at least 5).
    #[arg(long, value_name = "SECONDS")]
    pub cancel_after: Option<f64>,
    /// Opens the prediction's web page in a browser and returns (like --no-wait).
    #[arg(long, conflicts_with_all = ["json", "stream"])]
    pub web: bool,
}

/// `replicate stream`.
#[derive(Debug, Clone, Args)]
pub struct StreamArgs {
    /// The model: `owner/name`, `owner/name:<version id>` or a 64-character version id.
    pub model: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub input: InputArgs,
    /// Prints the model's logs on stderr as they arrive.
    #[arg(long)]
    pub logs: bool,
    /// On Ctrl-C, leaves the prediction running on the server instead of canceling it.
    #[arg(long)]
    pub no_cancel: bool,
}

/// `replicate stream MODEL ...`: `run --stream` without progress display.
pub async fn stream(ctx: &Ctx, args: StreamArgs) -> CliResult<()> {
    let run = RunArgs {
        model: args.model,
        input: args.input,
        follow: FollowArgs {
            logs: args.logs,
            no_cancel: args.no_cancel,
            save: false,
            output_directory: None,
        },
        wait: true,
        no_wait: false,
        stream: true,
        webhook: None,
        cancel_after: None,
        web: false,
    };
    self::run(ctx, run).await
}

/// `replicate run MODEL ...`.
pub async fn run(ctx: &Ctx, args: RunArgs) -> CliResult<()> {
    let client = &ctx.client;
    let model_ref = ModelRef::parse(&args.model)?;
    let (raw, base) = read_inputs(&args.input)?;
    let schema = fetch_schema(client, &model_ref).await?;
    let input = inputs::build(schema.as_ref(), &args.model, base, &raw)?;

    let mut interrupt = Interrupt::new()?;
    let mut request = client.run(model_ref, input).file_encoding(args.input.file_encoding.into()).poll_only();
    if let Some(url) = &args.webhook {
        request = request.webhook(url.clone());
    }
    if let Some(secs) = args.cancel_after {
        let after = Duration::try_from_secs_f64(secs)
            .ok()
            .filter(|d| *d >= Duration::from_secs(5))
            .ok_or_else(|| CliError::usage(format!("--cancel-after {secs}: give at least 5 seconds")))?;
        request = request.cancel_after(after);
    }
    let prediction = tokio::select! {
        created = request.start() => created?,
        () = interrupt.recv() => {
            return Err(CliError::new(EXIT_INTERRUPTED, "interrupted before the prediction was created"));
        }
    };
    if args.web {
        let url = prediction
            .urls
            .web
            .clone()
            .unwrap_or_else(|| format!("https://replicate.com/p/{}", prediction.id));
        output::println_out(&url)?;
        open_in_browser(&url);
        return Ok(());
    }
    if args.no_wait {
        if ctx.json {
            output::print_json(&prediction)?;
        } else {
            output::println_out(&prediction.id)?;
        }
        if output::stderr_is_tty() {
            eprintln!(
                "prediction {} is {}; follow it with `replicate prediction wait {}`",
                prediction.id, prediction.status, prediction.id
            );
        }
        return Ok(());
    }
    let concatenate = schema.as_ref().is_some_and(|s| s.output().is_concatenate());
    let mode = Mode { tokens: args.stream, logs: args.follow.logs, no_cancel: args.follow.no_cancel };
    let followed = follow(client, prediction, mode, &mut interrupt).await?;
    finish(ctx, &followed.prediction, &args.follow, concatenate, followed.streamed, &mut interrupt).await
}

/// Asks the desktop to open `url`; failing is not an error (the URL was printed).
fn open_in_browser(url: &str) {
    let opener: &[&str] = if cfg!(target_os = "macos") {
        &["open"]
    } else if cfg!(windows) {
        &["cmd", "/C", "start", ""]
    } else {
        &["xdg-open"]
    };
    let opened = std::process::Command::new(opener[0])
        .args(&opener[1..])
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    if !opened.is_ok_and(|s| s.success()) {
        eprintln!("note: could not open a browser; the URL is above");
    }
}

/// Reads the `key=value` pairs and the JSON input (stdin or file), and resolves `{{...}}` references
/// against the prediction piped in on stdin.
pub fn read_inputs(args: &InputArgs) -> CliResult<(inputs::RawInputs, Map<String, Value>)> {
    let mut raw = inputs::parse_args(&args.inputs)?;
    let stdin_for_input = raw.stdin_json || args.input_json.as_deref() == Some("-");
    if raw.stdin_json && args.input_json.is_some() {
        return Err(CliError::usage("give the JSON input once: `-` or --input-json, not both"));
    }
    let base = match (&args.input_json, raw.stdin_json) {
        (Some(source), _) => inputs::read_json_object(source)?,
        (None, true) => inputs::read_json_object("-")?,
        (None, false) => Map::new(),
    };
    if inputs::has_references(&raw) {
        if stdin_for_input {
            return Err(CliError::usage(
                "stdin holds the JSON input, so {{...}} references have no prediction to read: \
                 pipe a prediction (`replicate run ... --json`) and give inputs as key=value",
            ));
        }
        let previous = inputs::read_stdin_json("the piped prediction")?;
        inputs::substitute(&mut raw, &previous)?;
    }
    Ok((raw, base))
}

/// The schema of the version a reference runs: from the schema cache (`.replicate/`, see
/// [`crate::commands::schema::cache_dir`]) when it holds the pinned version, else from the API; `None` for a bare version id (no model to ask).
pub async fn fetch_schema(client: &Replicate, model: &ModelRef) -> CliResult<Option<CogSchema>> {
    let parse = |v: &Value| {
        CogSchema::from_version(v)
            .map_err(|e| CliError::other(format!("the model's schema cannot be read: {e}")))
    };
    match model {
        ModelRef::Model { owner, name } => {
            let m = client.models().get(&format!("{owner}/{name}")).await?;
            match m.latest_version {
                Some(v) if v.openapi_schema.is_object() => Ok(Some(parse(&version_json(&v))?)),
                _ => Ok(None),
            }
        }
        ModelRef::Version { owner, name, version } => {
            let dirs = [crate::commands::schema::cache_dir(None)];
            if let Some(doc) = replicate_cog::cache::find(&dirs, owner, name, Some(version))
                .ok()
                .and_then(|path| std::fs::read_to_string(path).ok())
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .filter(|d| d.get("id").and_then(Value::as_str) == Some(version.as_str()))
            {
                return Ok(Some(parse(&doc)?));
            }
            let v = client.models().versions().get(&format!("{owner}/{name}"), version).await?;
            Ok(Some(parse(&version_json(&v))?))
        }
        ModelRef::VersionId(_) => {
            eprintln!(
                "note: a bare version id names no model to read a schema from; inputs are sent as guessed"
            );
            Ok(None)
        }
    }
}

fn version_json(v: &replicate_core::types::ModelVersion) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// What following shows.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    /// Print output chunks on stdout as they arrive.
    pub tokens: bool,
    /// Print logs on stderr as they arrive.
    pub logs: bool,
    /// Do not cancel on Ctrl-C.
    pub no_cancel: bool,
}

/// A followed prediction.
#[derive(Debug)]
pub struct Followed {
    /// The prediction in its final state.
    pub prediction: Prediction,
    /// Whether output chunks were printed while following.
    pub streamed: bool,
}

/// Ctrl-C, listened for from creation on so that the default handler never kills the process mid-run.
#[derive(Debug)]
pub struct Interrupt {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl Interrupt {
    /// Starts listening for Ctrl-C (SIGINT).
    pub fn new() -> CliResult<Self> {
        #[cfg(unix)]
        {
            let signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .map_err(|e| CliError::other(format!("cannot listen for Ctrl-C: {e}")))?;
            Ok(Interrupt { signal })
        }
        #[cfg(not(unix))]
        {
            Ok(Interrupt {})
        }
    }

    /// Waits for Ctrl-C.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        {
            self.signal.recv().await;
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Follows a prediction to its end; on Ctrl-C cancels it on the server (unless `no_cancel`) and fails
/// with exit code 130.
pub async fn follow(
    client: &Replicate,
    prediction: Prediction,
    mode: Mode,
    interrupt: &mut Interrupt,
) -> CliResult<Followed> {
    let id = prediction.id.clone();
    let progress = Progress::new(&prediction, !mode.tokens);
    let mut streamed = false;
    let mut last_char = '\n';
    if !prediction.is_terminal() && (mode.tokens || mode.logs || progress.shown()) {
        let mut events = client.predictions().stream_from(&prediction);
        loop {
            tokio::select! {
                event = events.next() => match event {
                    Some(Ok(StreamEvent::Output(chunk))) => {
                        progress.output();
                        if mode.tokens {
                            let written = {
                                let mut out = std::io::stdout().lock();
                                out.write_all(chunk.as_bytes()).and_then(|()| out.flush())
                            };
                            if let Err(e) = written {
                                progress.finish();
                                return Err(closed_stdout(client, &id, mode.no_cancel, e).await);
                            }
                            streamed = true;
                            last_char = chunk.chars().last().unwrap_or(last_char);
                        }
                    }
                    Some(Ok(StreamEvent::Logs(logs))) => {
                        progress.logs(&logs);
                        if mode.logs {
                            progress.suspend(|| {
                                eprint!("{logs}");
                                if !logs.ends_with('\n') { eprintln!(); }
                            });
                        }
                    }
                    Some(Ok(_)) | None => break,
                    // A broken stream: the final state comes from polling below.
                    Some(Err(_)) => break,
                },
                () = interrupt.recv() => {
                    progress.finish();
                    return Err(interrupted(client, &id, mode.no_cancel).await);
                }
            }
        }
    }
    let predictions = client.predictions();
    let finished = tokio::select! {
        done = predictions.wait(&id, None) => done,
        () = interrupt.recv() => {
            progress.finish();
            return Err(interrupted(client, &id, mode.no_cancel).await);
        }
    };
    progress.finish();
    if streamed && last_char != '\n' {
        println!();
    }
    Ok(Followed { prediction: finished?, streamed })
}

/// Stdout failed while printing tokens. A closed pipe (`replicate stream ... | head`) means nobody reads
/// the rest: the prediction is canceled (unless `no_cancel`) and the command ends quietly.
async fn closed_stdout(client: &Replicate, id: &str, no_cancel: bool, e: std::io::Error) -> CliError {
    if !no_cancel {
        let _ = client.predictions().cancel(id).await;
    }
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::new(crate::error::EXIT_OK, "")
    } else {
        CliError::other(format!("writing to stdout: {e}"))
    }
}

async fn interrupted(client: &Replicate, id: &str, no_cancel: bool) -> CliError {
    let message = if no_cancel {
        format!(
            "interrupted; prediction {id} keeps running on the server (--no-cancel): follow it with \
             `replicate prediction wait {id}`"
        )
    } else {
        match client.predictions().cancel(id).await {
            Ok(p) => format!("interrupted; canceled prediction {id} on the server (status: {})", p.status),
            Err(e) => format!(
                "interrupted; could not cancel prediction {id} ({}): cancel it with `replicate prediction cancel {id}`",
                CliError::from(e)
            ),
        }
    };
    CliError::new(EXIT_INTERRUPTED, message)
}

/// Prints (or saves) the result of a finished prediction; failed and canceled predictions become errors
/// with their exit codes.
pub async fn finish(
    ctx: &Ctx,
    prediction: &Prediction,
    follow: &FollowArgs,
    concatenate: bool,
    streamed: bool,
    interrupt: &mut Interrupt,
) -> CliResult<()> {
    let save_dir = match (&follow.output_directory, follow.save) {
        (Some(dir), _) => Some(dir.clone()),
        (None, true) => Some(PathBuf::from(&prediction.id)),
        (None, false) => None,
    };
    if ctx.json {
        output::print_json(prediction)?;
    }
    match prediction.status {
        PredictionStatus::Succeeded => {
            if let Some(dir) = save_dir {
                let paths = tokio::select! {
                    saved = output::save_files(&ctx.client, &prediction.output, &dir) => saved?,
                    () = interrupt.recv() => {
                        return Err(CliError::new(
                            EXIT_INTERRUPTED,
                            format!("interrupted while saving the outputs into {}", dir.display()),
                        ));
                    }
                };
                if paths.is_empty() {
                    eprintln!("note: the output holds no files to save");
                }
                for path in paths {
                    if ctx.json {
                        eprintln!("saved {}", path.display());
                    } else {
                        output::println_out(&path.display().to_string())?;
                    }
                }
            } else if !ctx.json && !streamed {
                let text = output::render_output(&prediction.output, concatenate);
                if !text.is_empty() {
                    output::println_out(&text)?;
                }
            }
            if output::stderr_is_tty() {
                let time = prediction.total_time().or(prediction.predict_time());
                eprintln!(
                    "prediction {} succeeded{}{}",
                    prediction.id,
                    time.map(|t| format!(" in {t:.1}s")).unwrap_or_default(),
                    prediction.urls.web.as_deref().map(|w| format!(": {w}")).unwrap_or_default()
                );
            }
            Ok(())
        }
        PredictionStatus::Failed => Err(CliError::new(
            EXIT_FAILED,
            format!(
                "prediction {} failed: {}; see its logs with `replicate prediction show {} --logs`",
                prediction.id,
                prediction.error_message().unwrap_or_else(|| "no error message".to_owned()),
                prediction.id
            ),
        )),
        status => Err(CliError::new(EXIT_CANCELED, format!("prediction {} was {status}", prediction.id))),
    }
}

/// A spinner on stderr while a prediction runs (only when stderr is a terminal): status, elapsed time and
/// the percentage the model last logged.
struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Progress {
    fn new(prediction: &Prediction, enabled: bool) -> Self {
        let started = Instant::now();
        if !enabled || !output::stderr_is_tty() || prediction.is_terminal() {
            return Progress { bar: None, started };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {prefix} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_prefix(prediction.id.clone());
        bar.set_message(prediction.status.to_string());
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar: Some(bar), started }
    }

    fn shown(&self) -> bool {
        self.bar.is_some()
    }

    fn output(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message("processing: receiving output");
        }
    }

    fn logs(&self, logs: &str) {
        if let Some(bar) = &self.bar {
            match last_percent(logs) {
                Some(p) => bar.set_message(format!("processing {p}%")),
                None => {
                    if !bar.message().starts_with("processing") {
                        bar.set_message("processing");
                    }
                }
            }
        }
    }

    fn suspend(&self, f: impl FnOnce()) {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let _ = self.started;
    }
}

/// The last percentage (`0`–`100`) in a chunk of logs, as progress bars such as tqdm print them
/// (` 42%|████`).
pub fn last_percent(logs: &str) -> Option<u8> {
    let bytes = logs.as_bytes();
    let mut found = None;
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'%' {
            continue;
        }
        let start = bytes[..i].iter().rposition(|c| !c.is_ascii_digit()).map_or(0, |p| p + 1);
        if start < i
            && i - start <= 3
            && let Ok(n) = logs[start..i].parse::<u8>()
            && n <= 100
        {
            found = Some(n);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_read_from_progress_bar_logs() {
        assert_eq!(last_percent(" 10%|█         | 1/10\r 42%|████      | 4/10"), Some(42));
        assert_eq!(last_percent("100%|██████████|"), Some(100));
        assert_eq!(last_percent("no progress here"), None);
        assert_eq!(last_percent("1234% nonsense"), None);
    }
}
