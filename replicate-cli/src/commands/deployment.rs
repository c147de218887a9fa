//! `replicate deployment list|show|create|update|delete|run`.

use clap::{Args, Subcommand};
use replicate_cog::CogSchema;
use replicate_core::types::{CreateDeployment, CreatePrediction, Deployment, UpdateDeployment};

use super::run::{FollowArgs, InputArgs, Interrupt, Mode, finish, follow, read_inputs};
use super::{opt, take, upload_local_files};
use crate::Ctx;
use crate::error::{CliError, CliResult, EXIT_INTERRUPTED};
use crate::{inputs, output};

/// `replicate deployment ...`.
#[derive(Debug, Subcommand)]
pub enum DeploymentCommand {
    /// Lists your deployments.
    #[command(visible_alias = "ls")]
    List,
    /// Shows a deployment.
    #[command(visible_alias = "get")]
    Show {
        /// `owner/name`.
        name: String,
    },
    /// Creates a deployment.
    Create {
        /// The deployment's name (without owner).
        name: String,
        /// The model: `owner/name`.
        #[arg(long)]
        model: String,
        /// The version id to deploy.
        #[arg(long)]
        version: String,
        /// Hardware SKU (see `replicate hardware list`).
        #[arg(long)]
        hardware: String,
        /// Minimum instances.
        #[arg(long, default_value_t = 0)]
        min_instances: u32,
        /// Maximum instances.
        #[arg(long, default_value_t = 1)]
        max_instances: u32,
    },
    /// Updates a deployment (a new release).
    Update {
        /// `owner/name`.
        name: String,
        /// The version id to deploy.
        #[arg(long)]
        version: Option<String>,
        /// Hardware SKU.
        #[arg(long)]
        hardware: Option<String>,
        /// Minimum instances.
        #[arg(long)]
        min_instances: Option<u32>,
        /// Maximum instances.
        #[arg(long)]
        max_instances: Option<u32>,
    },
    /// Deletes a deployment.
    Delete {
        /// `owner/name`.
        name: String,
    },
    /// Runs a prediction through a deployment.
    Run(DeploymentRunArgs),
    /// Shows the inputs and output of the version a deployment serves (`--json`: the OpenAPI schema).
    Schema {
        /// `owner/name`.
        name: String,
    },
}

/// `replicate deployment run`.
#[derive(Debug, Args)]
pub struct DeploymentRunArgs {
    /// `owner/name`.
    pub name: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub input: InputArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub follow: FollowArgs,
    /// Creates the prediction, prints its id and returns.
    #[arg(long)]
    pub no_wait: bool,
    /// Prints output tokens as they arrive.
    #[arg(long)]
    pub stream: bool,
}

/// Runs a deployment command.
pub async fn run(ctx: &Ctx, command: DeploymentCommand) -> CliResult<()> {
    let deployments = ctx.client.deployments();
    match command {
        DeploymentCommand::List => {
            let items = take(deployments.list().into_stream(), usize::MAX).await?;
            if ctx.json {
                return output::print_json(&items);
            }
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|d| {
                    let r = d.current_release.as_ref();
                    vec![
                        d.full_name(),
                        r.map(|r| r.model.clone()).unwrap_or_default(),
                        r.map(|r| r.number.to_string()).unwrap_or_default(),
                        r.map(|r| r.configuration.hardware.clone()).unwrap_or_default(),
                    ]
                })
                .collect();
            output::print_table(&["DEPLOYMENT", "MODEL", "RELEASE", "HARDWARE"], &rows)
        }
        DeploymentCommand::Show { name } => print_deployment(ctx, &deployments.get(&name).await?),
        DeploymentCommand::Create { name, model, version, hardware, min_instances, max_instances } => {
            let d = deployments
                .create(CreateDeployment::new(name, model, version, hardware, min_instances, max_instances))
                .await?;
            print_deployment(ctx, &d)
        }
        DeploymentCommand::Update { name, version, hardware, min_instances, max_instances } => {
            let update = UpdateDeployment { version, hardware, min_instances, max_instances };
            if update.is_empty() {
                return Err(CliError::usage(
                    "nothing to update: give --version, --hardware, --min-instances or --max-instances",
                ));
            }
            print_deployment(ctx, &deployments.update(&name, update).await?)
        }
        DeploymentCommand::Delete { name } => {
            deployments.delete(&name).await?;
            output::println_out(&format!("deleted {name}"))
        }
        DeploymentCommand::Run(args) => run_deployment(ctx, args).await,
        DeploymentCommand::Schema { name } => {
            let d = deployments.get(&name).await?;
            let r = d
                .current_release
                .ok_or_else(|| CliError::other(format!("deployment {name} has no release")))?;
            let v = ctx.client.models().versions().get(&r.model, &r.version).await?;
            if ctx.json {
                return output::print_json(&v.openapi_schema);
            }
            let schema =
                CogSchema::from_version(&serde_json::to_value(&v).unwrap_or_default()).map_err(|e| {
                    CliError::other(format!("the schema of {}:{} cannot be read: {e}", r.model, r.version))
                })?;
            super::model::print_schema(&schema)
        }
    }
}

async fn run_deployment(ctx: &Ctx, args: DeploymentRunArgs) -> CliResult<()> {
    let client = &ctx.client;
    let deployment = client.deployments().get(&args.name).await?;
    let schema = match &deployment.current_release {
        Some(r) => {
            let v = client.models().versions().get(&r.model, &r.version).await?;
            CogSchema::from_version(&serde_json::to_value(&v).unwrap_or_default()).ok()
        }
        None => None,
    };
    let (raw, base) = read_inputs(&args.input)?;
    let mut input = inputs::build(schema.as_ref(), &args.name, base, &raw)?;
    upload_local_files(client, &mut input).await?;
    let mut interrupt = Interrupt::new()?;
    let prediction = tokio::select! {
        created = client.deployments().predictions().create(&args.name, CreatePrediction::new(input)) => created?,
        () = interrupt.recv() => {
            return Err(CliError::new(EXIT_INTERRUPTED, "interrupted before the prediction was created"));
        }
    };
    if args.no_wait {
        return if ctx.json { output::print_json(&prediction) } else { output::println_out(&prediction.id) };
    }
    let mode = Mode { tokens: args.stream, logs: args.follow.logs, no_cancel: args.follow.no_cancel };
    let followed = follow(client, prediction, mode, &mut interrupt).await?;
    let concatenate = schema.as_ref().is_some_and(|s| s.output().is_concatenate());
    finish(ctx, &followed.prediction, &args.follow, concatenate, followed.streamed, &mut interrupt).await
}

fn print_deployment(ctx: &Ctx, d: &Deployment) -> CliResult<()> {
    if ctx.json {
        return output::print_json(d);
    }
    let r = d.current_release.as_ref();
    output::print_fields(&[
        ("deployment", opt(d.full_name())),
        ("release", r.map(|r| r.number.to_string())),
        ("model", r.map(|r| r.model.clone())),
        ("version", r.map(|r| r.version.clone())),
        ("hardware", r.map(|r| r.configuration.hardware.clone())),
        (
            "instances",
            r.map(|r| format!("{}–{}", r.configuration.min_instances, r.configuration.max_instances)),
        ),
    ])
}
