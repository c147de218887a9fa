//! `replicate-emulator`: serve the Replicate HTTP API locally until killed.
//! Prints the base URL (e.g. `http://127.0.0.1:5055/v1`) on its own line once listening.

use std::path::PathBuf;

use replicate_emulator::{Emulator, Faults, RateLimits};

const HELP: &str = "\
replicate-emulator: a local server that speaks the Replicate HTTP API.

Usage: replicate-emulator [OPTIONS]

Options:
  --port N                         TCP port, 0 picks a free one [default: 5055]
  --host ADDR                      Address to bind [default: 127.0.0.1]
  --models-dir DIR                 Directory of Cog version files (<owner>__<name>.json,
                                   <owner>/<name>.json, <folder>/<owner>__<name>.json)
  --models-dir-replaces-builtins   Let --models-dir files replace built-in models of the same name
                                   (default: built-ins win and a warning is printed)
  --token T                        Accepted token (repeatable; default: any non-empty token)
  --time-scale X                   Multiplier for model durations, 0 = instant [default: 1]
  --rate-limits                    The service's rate limits (600 creates/min, 3000 others/min)
  --creates-per-minute N           Custom creates per minute (implies --rate-limits)
  --others-per-minute N            Custom other requests per minute (implies --rate-limits)
  --faults SPEC                    Fault probabilities, e.g. error_500=0.1,drop_before=0.05,sse_cut=0.2
  --seed N                         Seed for faults and synthetic outputs [default: 0]
  --data-urls                      Return output files as data: URLs
  --data-retention SECS            Remove finished predictions' data after SECS nominal seconds
                                   (time-scaled; the service uses 3600) [default: never]
  --cog OWNER/NAME=URL             Serve a model from a running Cog server (repeatable), e.g.
                                   --cog me/my-model=http://127.0.0.1:5000
  --cog-schema OWNER/NAME=FILE     Schema file for a --cog model whose server serves none (repeatable)
  -h, --help                       Print this help
  -V, --version                    Print the version
";

/// The command line, parsed by hand: the library stays free of a CLI parser.
#[derive(Debug, Default)]
struct Args {
    port: Option<u16>,
    host: Option<String>,
    models_dir: Option<PathBuf>,
    models_dir_replaces_builtins: bool,
    tokens: Vec<String>,
    time_scale: Option<f64>,
    rate_limits: bool,
    creates_per_minute: Option<u32>,
    others_per_minute: Option<u32>,
    faults: String,
    seed: u64,
    data_urls: bool,
    data_retention: Option<f64>,
    cog: Vec<String>,
    cog_schema: Vec<String>,
}

fn parse_args(raw: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut a = Args::default();
    let mut it = raw.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline.clone().or_else(|| it.next()).ok_or_else(|| format!("{name} needs a value"))
        };
        fn num<T: std::str::FromStr>(flag: &str, v: String) -> Result<T, String> {
            v.parse().map_err(|_| format!("{flag}: invalid value {v:?}"))
        }
        match flag.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(None);
            }
            "-V" | "--version" => {
                println!("replicate-emulator {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "--port" => a.port = Some(num(&flag, value(&flag)?)?),
            "--host" => a.host = Some(value(&flag)?),
            "--models-dir" => a.models_dir = Some(PathBuf::from(value(&flag)?)),
            "--models-dir-replaces-builtins" => a.models_dir_replaces_builtins = true,
            "--token" => a.tokens.push(value(&flag)?),
            "--time-scale" => a.time_scale = Some(num(&flag, value(&flag)?)?),
            "--rate-limits" => a.rate_limits = true,
            "--creates-per-minute" => a.creates_per_minute = Some(num(&flag, value(&flag)?)?),
            "--others-per-minute" => a.others_per_minute = Some(num(&flag, value(&flag)?)?),
            "--faults" => a.faults = value(&flag)?,
            "--seed" => a.seed = num(&flag, value(&flag)?)?,
            "--data-urls" => a.data_urls = true,
            "--data-retention" => a.data_retention = Some(num(&flag, value(&flag)?)?),
            "--cog" => a.cog.push(value(&flag)?),
            "--cog-schema" => a.cog_schema.push(value(&flag)?),
            other => return Err(format!("unexpected argument {other:?} (see --help)")),
        }
    }
    Ok(Some(a))
}

#[tokio::main]
async fn main() {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => return,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let faults = match Faults::parse(&args.faults) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: --faults: {e}");
            std::process::exit(2);
        }
    };
    let mut b = Emulator::builder()
        .port(args.port.unwrap_or(5055))
        .host(args.host.unwrap_or_else(|| "127.0.0.1".into()))
        .time_scale(args.time_scale.unwrap_or(1.0))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_flags_in_both_forms() {
        let a =
            parse(&["--port", "0", "--token=a", "--token", "b", "--cog", "me/m=http://x:1", "--data-urls"])
                .unwrap()
                .unwrap();
        assert_eq!(
            (a.port, a.tokens.as_slice(), a.cog.len(), a.data_urls),
            (Some(0), &["a".to_string(), "b".to_string()][..], 1, true)
        );
        assert!(parse(&["--port", "x"]).unwrap_err().contains("--port"));
        assert!(parse(&["--port"]).unwrap_err().contains("needs a value"));
        assert!(parse(&["--bogus"]).unwrap_err().contains("--bogus"));
        assert!(parse(&["--help"]).unwrap().is_none());
    }
}
