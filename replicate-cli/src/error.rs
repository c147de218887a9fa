//! The CLI's errors: one line saying what went wrong and what to do, and the exit code.

use std::fmt;
use std::process::ExitCode;

use replicate_core::{Error, ErrorKind};

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: an API or network error, or a local I/O error.
pub const EXIT_ERROR: u8 = 1;
/// Exit code: bad usage (arguments, inputs that do not fit the model's schema, no API token). Nothing
/// was sent.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: the prediction (or training) failed: the model raised an error.
pub const EXIT_FAILED: u8 = 3;
/// Exit code: the prediction (or training) was canceled or aborted.
pub const EXIT_CANCELED: u8 = 4;
/// Exit code: interrupted by Ctrl-C (the prediction was canceled on the server unless `--no-cancel`).
pub const EXIT_INTERRUPTED: u8 = 130;

/// An error to print on stderr, with its exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// The exit code (see the `EXIT_*` constants).
    pub code: u8,
    /// One line: what went wrong and what to do.
    pub message: String,
}

/// A `Result` whose error is [`CliError`].
pub type CliResult<T> = Result<T, CliError>;

impl CliError {
    /// An error with this exit code.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        CliError { code, message: message.into() }
    }

    /// A usage error (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(EXIT_USAGE, message)
    }

    /// A general error (exit code 1).
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(EXIT_ERROR, message)
    }

    /// Prints `error: <message>` on stderr (nothing for an empty message) and returns the exit code.
    pub fn report(&self) -> ExitCode {
        if !self.message.is_empty() {
            eprintln!("error: {}", one_line(&self.message));
        }
        ExitCode::from(self.code)
    }

    /// Prefixes the message with what was being done.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        let code = match e.kind() {
            ErrorKind::MissingToken
            | ErrorKind::InvalidRequest
            | ErrorKind::InvalidInput
            | ErrorKind::InvalidModelRef => EXIT_USAGE,
            ErrorKind::ModelFailed => EXIT_FAILED,
            ErrorKind::Canceled | ErrorKind::Aborted => EXIT_CANCELED,
            _ => EXIT_ERROR,
        };
        CliError { code, message: describe(&e) }
    }
}

/// The lines of `text` joined by `; ` (API details sometimes hold several lines).
pub fn one_line(text: &str) -> String {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
}

/// The message for a client error, phrased for someone at a shell.
fn describe(e: &Error) -> String {
    match e {
        Error::MissingToken => NO_TOKEN.to_owned(),
        Error::Api(api) => {
            let mut text = match (&api.problem.title, &api.problem.detail) {
                (Some(t), Some(d)) if !d.is_empty() => format!("{t}: {d}"),
                (Some(t), _) => t.clone(),
                (None, Some(d)) => d.clone(),
                (None, None) => api.status.to_string(),
            };
            for field in &api.problem.invalid_fields {
                text.push_str(&format!("; {}: {}", field.field, field.description));
            }
            let hint = match api.status.as_u16() {
                401 => "; check the token (`replicate auth login`, --token or REPLICATE_API_TOKEN)",
                402 => "; add credit at https://replicate.com/account/billing",
                404 => "; check the name (`replicate search`, `replicate model show`)",
                429 => "; rate limited: wait a moment and try again",
                500..=599 => "; the service had a problem: try again shortly",
                _ => "",
            };
            format!("{} {} answered {}: {text}{hint}", api.method, api.path, api.status.as_u16())
        }
        Error::Connection { .. } | Error::Timeout { .. } => {
            format!("{e}; check your network, or --base-url / REPLICATE_BASE_URL")
        }
        Error::ModelFailed(p) => {
            format!(
                "prediction {} failed: {}; see its logs with `replicate prediction show {} --logs`",
                p.id,
                p.error_message().unwrap_or_else(|| "no error message".to_owned()),
                p.id
            )
        }
        other => other.to_string(),
    }
}

/// The message when no token is configured.
pub const NO_TOKEN: &str = "no API token: run `replicate auth login`, pass --token, or set REPLICATE_API_TOKEN \
     (create one at https://replicate.com/account/api-tokens)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_missing_token_message_speaks_shell_not_rust() {
        let e = CliError::from(Error::MissingToken);
        assert_eq!(e.code, EXIT_USAGE);
        assert!(e.message.contains("replicate auth login"), "{e}");
        assert!(e.message.contains("REPLICATE_API_TOKEN"), "{e}");
        assert!(!e.message.contains("builder"), "{e}");
        assert!(!e.message.contains('\n'));
    }

    #[test]
    fn errors_print_on_one_line() {
        assert_eq!(
            one_line("- input.prompt: required\n- input.n: too big\n"),
            "- input.prompt: required; - input.n: too big"
        );
    }

    #[test]
    fn bad_model_references_are_usage_errors() {
        let e = CliError::from(replicate_core::ModelRef::parse("nope").unwrap_err());
        assert_eq!(e.code, EXIT_USAGE);
    }
}
