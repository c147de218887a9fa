//! `replicate auth login|logout|status`.

use std::io::{BufRead, IsTerminal};

use clap::Subcommand;
use replicate_core::{BASE_URL_ENV, TOKEN_ENV};

use crate::error::{CliError, CliResult};
use crate::{Ctx, config, output};

/// `replicate auth ...`.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Reads a token from stdin (or --token), checks it, and stores it for later commands in the config
    /// directory, readable by you only. With --base-url, stores that too.
    Login {
        /// Stores the token without checking it with the API.
        #[arg(long)]
        no_verify: bool,
    },
    /// Removes the stored token.
    Logout,
    /// Says which account the current token belongs to and where it comes from.
    Status,
}

/// Runs an auth command.
pub async fn run(ctx: &Ctx, command: AuthCommand) -> CliResult<()> {
    match command {
        AuthCommand::Login { no_verify } => {
            let token = match &ctx.token_flag {
                Some(t) => t.trim().to_owned(),
                None => read_token()?,
            };
            if token.is_empty() {
                return Err(CliError::usage(
                    "no token given: pipe one in (`echo $TOKEN | replicate auth login`) or pass --token",
                ));
            }
            let client = crate::client(Some(&token), ctx.base_url_flag.as_deref())?;
            let username = if no_verify {
                None
            } else {
                let account = client.account().get().await.map_err(|e| {
                    CliError::from(e).context("the token was not accepted; nothing was stored")
                })?;
                Some(account.username)
            };
            let mut stored = config::load().unwrap_or_default();
            stored.token = Some(token);
            if let Some(url) = &ctx.base_url_flag {
                stored.base_url = Some(url.clone());
            }
            let path = config::save(&stored)?;
            match username {
                Some(u) => eprintln!("logged in as {u}; token stored in {}", path.display()),
                None => eprintln!("token stored in {} (not checked)", path.display()),
            }
            if std::env::var(TOKEN_ENV).is_ok_and(|v| !v.trim().is_empty()) {
                eprintln!("note: {TOKEN_ENV} is set and takes precedence over the stored token");
            }
            Ok(())
        }
        AuthCommand::Logout => {
            if config::remove()? {
                eprintln!("removed the stored token");
            } else {
                eprintln!("no token was stored");
            }
            Ok(())
        }
        AuthCommand::Status => {
            let env = |n: &str| std::env::var(n).is_ok_and(|v| !v.trim().is_empty());
            let stored = config::load().unwrap_or_default();
            let source = if ctx.token_flag.is_some() {
                "--token".to_owned()
            } else if env(TOKEN_ENV) {
                TOKEN_ENV.to_owned()
            } else if stored.token.is_some() {
                config::config_path().map(|p| p.display().to_string()).unwrap_or_default()
            } else {
                return Err(CliError::usage(crate::error::NO_TOKEN));
            };
            let account = ctx.client.account().get().await?;
            if ctx.json {
                return output::print_json(&account);
            }
            let base = if env(BASE_URL_ENV) || ctx.base_url_flag.is_some() || stored.base_url.is_some() {
                format!(" at {}", ctx.client.base_url())
            } else {
                String::new()
            };
            output::println_out(&format!("logged in as {}{base} (token from {source})", account.username))
        }
    }
}

/// The token from stdin: typed without echo on a terminal, else the first line of what is piped in.
fn read_token() -> CliResult<String> {
    let failed = |e: std::io::Error| CliError::usage(format!("reading the token from stdin: {e}"));
    let stdin = std::io::stdin();
    let term = console::Term::stderr();
    if stdin.is_terminal() && term.is_term() {
        eprint!(
            "Paste your API token from https://replicate.com/account/api-tokens (it is not shown) and press Enter: "
        );
        return term.read_secure_line().map(|t| t.trim().to_owned()).map_err(failed);
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(failed)?;
    Ok(line.trim().to_owned())
}
