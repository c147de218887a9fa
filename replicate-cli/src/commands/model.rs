//! `replicate model show|list|search|schema|versions|create|delete`.

use clap::{Subcommand, ValueEnum};
use replicate_cog::CogSchema;
use replicate_core::ModelRef;
use replicate_core::types::{CreateModel, Model, ModelSortBy, SortDirection, Visibility};

use super::{opt, take};
use crate::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

/// Public or private.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VisibilityArg {
    /// Anyone can see and run it.
    Public,
    /// Only you (or your organization).
    Private,
}

/// `replicate model ...`.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Runs the model: the same as `replicate run`.
    Run(super::run::RunArgs),
    /// Shows a model.
    #[command(visible_alias = "get")]
    Show {
        /// `owner/name`.
        model: String,
    },
    /// Lists public models (newest version first unless sorted otherwise).
    #[command(visible_alias = "ls")]
    List {
        /// How many to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Sort by when the model was created rather than by its latest version.
        #[arg(long)]
        by_creation: bool,
        /// Oldest first.
        #[arg(long)]
        ascending: bool,
    },
    /// Searches models.
    Search {
        /// What to look for.
        query: String,
        /// How many to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Shows a model's inputs and output (`--json`: the OpenAPI schema).
    Schema {
        /// `owner/name` or `owner/name:<version id>`.
        model: String,
    },
    /// Lists a model's versions.
    Versions {
        /// `owner/name`.
        model: String,
    },
    /// Creates a model (push versions with Cog).
    Create {
        /// `owner/name`.
        model: String,
        /// Hardware SKU (see `replicate hardware list`).
        #[arg(long, default_value = "cpu")]
        hardware: String,
        /// Visibility.
        #[arg(long, value_enum, default_value_t = VisibilityArg::Private)]
        visibility: VisibilityArg,
        /// A description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Deletes a model (it must have no versions).
    Delete {
        /// `owner/name`.
        model: String,
    },
}

/// Runs a model command.
pub async fn run(ctx: &Ctx, command: ModelCommand) -> CliResult<()> {
    let models = ctx.client.models();
    match command {
        ModelCommand::Run(args) => super::run::run(ctx, args).await,
        ModelCommand::Show { model } => {
            let m = models.get(&owner_name(&model)?).await?;
            if ctx.json {
                return output::print_json(&m);
            }
            output::print_fields(&[
                ("model", opt(m.full_name())),
                ("description", m.description.clone()),
                ("visibility", opt(m.visibility.to_string())),
                ("official", m.official().then(|| "yes".to_owned())),
                ("runs", opt(m.run_count.to_string())),
                ("latest version", m.latest_version.as_ref().map(|v| v.id.clone())),
                ("url", opt(m.url.clone())),
                ("github", m.github_url.clone()),
            ])
        }
        ModelCommand::List { limit, by_creation, ascending } => {
            let mut request = models.list();
            if by_creation {
                request = request.sort_by(ModelSortBy::ModelCreatedAt);
            }
            if ascending {
                request = request.sort_direction(SortDirection::Asc);
            }
            let items = take(request.into_stream(), limit).await?;
            print_models(ctx, &items)
        }
        ModelCommand::Search { query, limit } => {
            let items = take(models.search(&query).into_stream(), limit).await?;
            print_models(ctx, &items)
        }
        ModelCommand::Schema { model } => {
            let model_ref = ModelRef::parse(&model)?;
            if ctx.json {
                let version = match &model_ref {
                    ModelRef::Version { version, .. } => {
                        models.versions().get(&owner_name(&model)?, version).await?
                    }
                    _ => models
                        .get(&owner_name(&model)?)
                        .await?
                        .latest_version
                        .ok_or_else(|| CliError::other(format!("{model} has no version")))?,
                };
                return output::print_json(&version.openapi_schema);
            }
            let schema = super::run::fetch_schema(&ctx.client, &model_ref)
                .await?
                .ok_or_else(|| CliError::other(format!("{model} has no readable schema")))?;
            print_schema(&schema)
        }
        ModelCommand::Versions { model } => {
            let items = take(models.versions().list(&owner_name(&model)?).into_stream(), usize::MAX).await?;
            if ctx.json {
                return output::print_json(&items);
            }
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|v| {
                    vec![
                        v.id.clone(),
                        v.created_at.clone().unwrap_or_default(),
                        v.cog_version.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            output::print_table(&["VERSION", "CREATED", "COG"], &rows)
        }
        ModelCommand::Create { model, hardware, visibility, description } => {
            let full = owner_name(&model)?;
            let (owner, name) = full.split_once('/').unwrap_or_default();
            let visibility = match visibility {
                VisibilityArg::Public => Visibility::Public,
                VisibilityArg::Private => Visibility::Private,
            };
            let mut request = CreateModel::new(owner, name, visibility, hardware);
            request.description = description;
            let m = models.create(request).await?;
            if ctx.json {
                return output::print_json(&m);
            }
            output::println_out(&format!("created {}: {}", m.full_name(), m.url))
        }
        ModelCommand::Delete { model } => {
            let full = owner_name(&model)?;
            models.delete(&full).await?;
            output::println_out(&format!("deleted {full}"))
        }
    }
}

/// `owner/name` from a model reference (a version, if any, is dropped).
pub(crate) fn owner_name(model: &str) -> CliResult<String> {
    ModelRef::parse(model)?
        .model()
        .ok_or_else(|| CliError::usage(format!("{model:?} is a version id; give owner/name")))
}

fn print_models(ctx: &Ctx, items: &[Model]) -> CliResult<()> {
    if ctx.json {
        return output::print_json(&items);
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|m| {
            let description = m.description.clone().unwrap_or_default().replace('\n', " ");
            let description = output::shorten(&description, 70);
            vec![m.full_name(), m.run_count.to_string(), description]
        })
        .collect();
    output::print_table(&["MODEL", "RUNS", "DESCRIPTION"], &rows)
}

pub(crate) fn print_schema(schema: &CogSchema) -> CliResult<()> {
    let rows: Vec<Vec<String>> = schema
        .inputs()
        .iter()
        .map(|f| {
            let default = match (&f.default, f.required) {
                (_, true) => "(required)".to_owned(),
                (Some(d), _) => d.to_string(),
                (None, _) => String::new(),
            };
            let mut description = f.description.clone().unwrap_or_default().replace('\n', " ");
            let mut bounds = Vec::new();
            if let Some(min) = f.bounds.minimum {
                bounds.push(format!("min {min}"));
            }
            if let Some(max) = f.bounds.maximum {
                bounds.push(format!("max {max}"));
            }
            if !bounds.is_empty() {
                description = format!("{description} [{}]", bounds.join(", ")).trim().to_owned();
            }
            vec![f.name.clone(), f.ty.describe(), default, description]
        })
        .collect();
    output::print_table(&["INPUT", "TYPE", "DEFAULT", "DESCRIPTION"], &rows)?;
    output::println_out(&format!("output: {}", describe_output(schema.output())))
}

fn describe_output(o: &replicate_cog::OutputSchema) -> String {
    use replicate_cog::OutputSchema as O;
    match o {
        O::Scalar(t) => format!("{t:?}").to_lowercase(),
        O::File => "file".to_owned(),
        O::Array(item) => format!("list of {}", plural(item)),
        O::Iterator { item, concatenate: true } => format!("stream of {} tokens", describe_output(item)),
        O::Iterator { item, .. } => format!("stream of {}", plural(item)),
        O::Object(fields) => {
            let names: Vec<&str> = fields.iter().map(|(n, _, _)| n.as_str()).collect();
            format!("object with {}", names.join(", "))
        }
        _ => "any JSON value".to_owned(),
    }
}

fn plural(o: &replicate_cog::OutputSchema) -> String {
    match o {
        replicate_cog::OutputSchema::File => "files".to_owned(),
        replicate_cog::OutputSchema::Scalar(t) => format!("{}s", format!("{t:?}").to_lowercase()),
        other => describe_output(other),
    }
}
