//! `replicate file upload|list|show|download|delete`.

use std::path::PathBuf;

use clap::Subcommand;
use replicate_core::types::File;
use replicate_core::{DownloadParams, FileOutput, FileUpload};

use super::{opt, take};
use crate::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

/// `replicate file ...`.
#[derive(Debug, Subcommand)]
pub enum FileCommand {
    /// Uploads a file; prints its id and URL (usable as a model input).
    Upload {
        /// The file.
        path: PathBuf,
        /// Metadata as a JSON object.
        #[arg(long, value_name = "JSON")]
        metadata: Option<String>,
    },
    /// Lists your files.
    #[command(visible_alias = "ls")]
    List {
        /// How many to show.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Shows a file.
    #[command(visible_alias = "get")]
    Show {
        /// The file id.
        id: String,
    },
    /// Downloads a file by id (or a signed download URL).
    Download {
        /// The file id, or a signed `.../files/<id>/download?...` URL.
        id: String,
        /// Where to write it (default: the file's name, in the current directory).
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
        /// The owner, for a signed download.
        #[arg(long, requires_all = ["expiry", "signature"])]
        owner: Option<String>,
        /// The expiry (Unix time), for a signed download.
        #[arg(long)]
        expiry: Option<i64>,
        /// The signature, for a signed download.
        #[arg(long)]
        signature: Option<String>,
    },
    /// Deletes a file.
    #[command(visible_alias = "rm")]
    Delete {
        /// The file id.
        id: String,
    },
}

/// Runs a file command.
pub async fn run(ctx: &Ctx, command: FileCommand) -> CliResult<()> {
    let files = ctx.client.files();
    match command {
        FileCommand::Upload { path, metadata } => {
            if !path.is_file() {
                return Err(CliError::usage(format!("{} is not a readable file", path.display())));
            }
            let mut upload = FileUpload::from_path(&path);
            if let Some(m) = metadata {
                let value: serde_json::Value = serde_json::from_str(&m)
                    .map_err(|e| CliError::usage(format!("--metadata is not JSON: {e}")))?;
                upload = upload.metadata(value);
            }
            let f = files.create(upload).await?;
            if ctx.json {
                return output::print_json(&f);
            }
            output::println_out(&format!("{} {}", f.id, f.urls.get))
        }
        FileCommand::List { limit } => {
            let items = take(files.list().into_stream(), limit).await?;
            if ctx.json {
                return output::print_json(&items);
            }
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|f| {
                    vec![
                        f.id.clone(),
                        f.name.clone().unwrap_or_default(),
                        f.content_type.clone(),
                        f.size.to_string(),
                        f.created_at.clone(),
                    ]
                })
                .collect();
            output::print_table(&["ID", "NAME", "TYPE", "SIZE", "CREATED"], &rows)
        }
        FileCommand::Show { id } => {
            let f = files.get(&id).await?;
            print_file(ctx, &f)
        }
        FileCommand::Download { id, output: path, owner, expiry, signature } => {
            let (url, default_name) = if id.starts_with("https://") || id.starts_with("http://") {
                let name = id.split('?').next().unwrap_or_default().trim_end_matches("/download");
                (id.clone(), name.rsplit('/').next().unwrap_or("download").to_owned())
            } else {
                let f = files.get(&id).await?;
                let name = f.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| f.id.clone());
                let base = ctx.client.base_url().as_str().trim_end_matches('/').to_owned();
                let url = match (owner, expiry, signature) {
                    (Some(owner), Some(expiry), Some(signature)) => {
                        let params = DownloadParams { owner, expiry, signature };
                        let mut url =
                            replicate_core::reqwest::Url::parse(&format!("{base}/files/{id}/download"))
                                .map_err(|e| CliError::other(e.to_string()))?;
                        url.query_pairs_mut()
                            .append_pair("owner", &params.owner)
                            .append_pair("expiry", &params.expiry.to_string())
                            .append_pair("signature", &params.signature);
                        url.to_string()
                    }
                    _ => format!("{base}/files/{id}/download"),
                };
                (url, name)
            };
            let path = path.unwrap_or_else(|| PathBuf::from(sanitize(&default_name)));
            let bytes = FileOutput::new(url, Some(ctx.client.clone()))
                .save(&path)
                .await
                .map_err(|e| CliError::from(e).context(format!("downloading {id}")))?;
            eprintln!("wrote {bytes} bytes");
            output::println_out(&path.display().to_string())
        }
        FileCommand::Delete { id } => {
            files.delete(&id).await?;
            output::println_out(&format!("deleted {id}"))
        }
    }
}

fn sanitize(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .collect();
    if clean.is_empty() || clean.starts_with('.') { format!("download{clean}") } else { clean }
}

fn print_file(ctx: &Ctx, f: &File) -> CliResult<()> {
    if ctx.json {
        return output::print_json(f);
    }
    output::print_fields(&[
        ("id", opt(f.id.clone())),
        ("name", f.name.clone()),
        ("type", opt(f.content_type.clone())),
        ("size", opt(f.size.to_string())),
        ("sha256", f.checksums.sha256.clone()),
        ("created", opt(f.created_at.clone())),
        ("expires", f.expires_at.clone()),
        ("url", opt(f.urls.get.clone())),
    ])
}
