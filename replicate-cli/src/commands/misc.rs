//! `replicate hardware list`, `replicate account`, `replicate search`, `replicate webhook secret`.

use clap::{Args, Subcommand};

use super::opt;
use crate::Ctx;
use crate::error::CliResult;
use crate::output;

/// `replicate hardware ...`.
#[derive(Debug, Subcommand)]
pub enum HardwareCommand {
    /// Lists the hardware SKUs.
    #[command(visible_alias = "ls")]
    List,
}

/// `replicate search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for.
    pub query: String,
    /// How many models to show (1 to 50).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub limit: u32,
}

/// `replicate account ...`.
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Shows the account the token belongs to (the default).
    #[command(visible_alias = "show")]
    Current,
}

/// `replicate webhook ...`.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Prints the secret that signs webhook deliveries (`whsec_...`).
    Secret,
}

/// `replicate hardware list`.
pub async fn hardware(ctx: &Ctx, command: HardwareCommand) -> CliResult<()> {
    match command {
        HardwareCommand::List => {
            let items = ctx.client.hardware().list().await?;
            if ctx.json {
                return output::print_json(&items);
            }
            let rows: Vec<Vec<String>> = items.iter().map(|h| vec![h.sku.clone(), h.name.clone()]).collect();
            output::print_table(&["SKU", "NAME"], &rows)
        }
    }
}

/// `replicate account`.
pub async fn account(ctx: &Ctx) -> CliResult<()> {
    let a = ctx.client.account().get().await?;
    if ctx.json {
        return output::print_json(&a);
    }
    output::print_fields(&[
        ("username", opt(a.username.clone())),
        ("name", a.name.clone()),
        ("type", opt(a.kind.to_string())),
        ("github", a.github_url.clone()),
    ])
}

/// `replicate search QUERY`.
pub async fn search(ctx: &Ctx, args: SearchArgs) -> CliResult<()> {
    let results = ctx.client.search(&args.query).limit(args.limit).await?;
    if ctx.json {
        return output::print_json(&results);
    }
    let rows: Vec<Vec<String>> = results
        .models
        .iter()
        .map(|m| {
            let description = m
                .metadata
                .generated_description
                .clone()
                .or_else(|| m.model.description.clone())
                .unwrap_or_default()
                .replace('\n', " ");
            let description = output::shorten(&description, 70);
            vec![m.model.full_name(), m.model.run_count.to_string(), description]
        })
        .collect();
    output::print_table(&["MODEL", "RUNS", "DESCRIPTION"], &rows)?;
    if output::stdout_is_tty() {
        for c in &results.collections {
            output::println_out(&format!("collection {}: {}", c.slug, c.name))?;
        }
        for p in &results.pages {
            output::println_out(&format!("docs {}: {}", p.name, p.href))?;
        }
    }
    Ok(())
}

/// `replicate webhook secret`.
pub async fn webhook(ctx: &Ctx, command: WebhookCommand) -> CliResult<()> {
    match command {
        WebhookCommand::Secret => {
            let secret = ctx.client.webhooks().default().secret().await?;
            if ctx.json {
                return output::print_json(&secret);
            }
            output::println_out(&secret.key)
        }
    }
}
