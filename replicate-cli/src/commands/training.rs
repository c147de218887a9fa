//! `replicate training create|list|show|cancel`.

use clap::{Args, Subcommand};
use replicate_cog::CogSchema;
use replicate_core::ModelRef;
use replicate_core::types::{CreateTraining, PredictionStatus, Training};
use serde_json::{Map, Value};

use super::{opt, take, upload_local_files};
use crate::Ctx;
use crate::error::{CliError, CliResult, EXIT_CANCELED, EXIT_FAILED};
use crate::{inputs, output};

/// `replicate training ...`.
#[derive(Debug, Subcommand)]
pub enum TrainingCommand {
    /// Starts a training of `owner/name:<version>` that pushes a new version to --destination.
    #[command(visible_alias = "new")]
    Create(TrainArgs),
    /// Lists your trainings, newest first.
    #[command(visible_alias = "ls")]
    List {
        /// How many to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Shows a training.
    #[command(visible_alias = "get")]
    Show {
        /// The training id.
        id: String,
    },
    /// Cancels a training.
    Cancel {
        /// The training id.
        id: String,
    },
}

/// `replicate training create` (and `replicate train`).
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The trainable version: `owner/name:<version id>`.
    pub model: String,
    /// The model that receives the trained version: `owner/name`.
    #[arg(long, short = 'd')]
    pub destination: String,
    /// Training inputs: `key=value` (coerced by the version's training schema), `key=@path` for files
    /// (uploaded through the files API).
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// An HTTPS URL to receive webhook deliveries.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
}

/// Runs a training command.
pub async fn run(ctx: &Ctx, command: TrainingCommand) -> CliResult<()> {
    let trainings = ctx.client.trainings();
    match command {
        TrainingCommand::Create(TrainArgs { model, destination, inputs: args, webhook }) => {
            let ModelRef::Version { owner, name, version } = ModelRef::parse(&model)? else {
                return Err(CliError::usage(format!(
                    "{model:?}: a training needs a version: owner/name:<version id> (see `replicate model versions`)"
                )));
            };
            let raw = inputs::parse_args(&args)?;
            let v = ctx.client.models().versions().get(&format!("{owner}/{name}"), &version).await?;
            let schema = training_schema(&v.openapi_schema, v.cog_version.as_deref());
            let mut input = inputs::build(schema.as_ref(), &model, Map::new(), &raw)?;
            upload_local_files(&ctx.client, &mut input).await?;
            let mut request = CreateTraining::new(destination, input);
            request.webhook = webhook;
            let t = trainings.create(&format!("{owner}/{name}"), &version, request).await?;
            print_training(ctx, &t)
        }
        TrainingCommand::List { limit } => {
            let items = take(trainings.list().into_stream(), limit).await?;
            if ctx.json {
                return output::print_json(&items);
            }
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|t| {
                    vec![
                        t.id.clone(),
                        t.model.clone().unwrap_or_default(),
                        t.status.to_string(),
                        t.created_at.clone(),
                    ]
                })
                .collect();
            output::print_table(&["ID", "MODEL", "STATUS", "CREATED"], &rows)
        }
        TrainingCommand::Show { id } => {
            let t = trainings.get(&id).await?;
            print_training(ctx, &t)?;
            match t.status {
                PredictionStatus::Failed => Err(CliError::new(EXIT_FAILED, format!("training {id} failed"))),
                PredictionStatus::Canceled | PredictionStatus::Aborted => {
                    Err(CliError::new(EXIT_CANCELED, format!("training {id} was {}", t.status)))
                }
                _ => Ok(()),
            }
        }
        TrainingCommand::Cancel { id } => {
            let t = trainings.cancel(&id).await?;
            print_training(ctx, &t)
        }
    }
}

/// The schema of a version's training inputs (`components.schemas.TrainingInput`), read as a Cog input
/// schema; `None` when the version declares none (inputs are then sent as guessed).
pub fn training_schema(openapi: &Value, cog_version: Option<&str>) -> Option<CogSchema> {
    let schemas = openapi.get("components")?.get("schemas")?;
    let training = schemas.get("TrainingInput")?.clone();
    let mut doc = openapi.clone();
    let target = doc.get_mut("components")?.get_mut("schemas")?.as_object_mut()?;
    target.insert("Input".to_owned(), training);
    let output = schemas.get("TrainingOutput").cloned().unwrap_or_else(|| serde_json::json!({}));
    target.insert("Output".to_owned(), output);
    CogSchema::from_openapi(&doc, cog_version).ok()
}

fn print_training(ctx: &Ctx, t: &Training) -> CliResult<()> {
    if ctx.json {
        return output::print_json(t);
    }
    output::print_fields(&[
        ("id", opt(t.id.clone())),
        ("model", t.model.clone()),
        ("version", opt(t.version.clone())),
        ("status", opt(t.status.to_string())),
        ("created", opt(t.created_at.clone())),
        ("completed", t.completed_at.clone()),
        ("error", t.error_message()),
        ("new version", t.output_version().map(str::to_owned)),
        ("weights", t.output_weights().map(str::to_owned)),
        ("web", t.urls.web.clone()),
    ])
}
