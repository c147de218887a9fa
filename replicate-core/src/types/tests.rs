//! Unit tests of the API types: decoding edge cases and request serialization.

use serde_json::{Value, json};

use super::*;

fn minimal_prediction() -> Value {
    json!({
        "id": "ufawqhfynnddngldkgtslldrkq",
        "version": "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
        "status": "starting",
        "created_at": "2024-01-01T00:00:00.000Z",
    })
}

#[test]
fn prediction_tolerates_unknown_fields() {
    let mut body = minimal_prediction();
    body["webhook_completed"] = Value::Null;
    body["brand_new_field"] = json!({"nested": [1, 2, 3]});
    body["urls"] = json!({"get": "https://api.replicate.com/v1/predictions/x", "other": "y"});
    let p: Prediction = serde_json::from_value(body).unwrap();
    assert_eq!(p.id, "ufawqhfynnddngldkgtslldrkq");
    assert_eq!(p.status, PredictionStatus::Starting);
    assert_eq!(p.urls.get.as_deref(), Some("https://api.replicate.com/v1/predictions/x"));
}

#[test]
fn prediction_without_optional_fields_decodes_with_defaults() {
    let p: Prediction = serde_json::from_value(minimal_prediction()).unwrap();
    assert_eq!(p.model, None);
    assert_eq!(p.input, Value::Null);
    assert_eq!(p.output, Value::Null);
    assert_eq!(p.logs, None);
    assert_eq!(p.error_message(), None);
    assert_eq!(p.data_removed, None);
    assert!(!p.is_data_removed());
    assert_eq!(p.urls, PredictionUrls::default());
    assert_eq!(p.metrics, None);
    assert_eq!(p.predict_time(), None);
    assert!(!p.is_terminal());
}

#[test]
fn prediction_requires_its_identity() {
    for key in ["id", "version", "status", "created_at"] {
        let mut body = minimal_prediction();
        body.as_object_mut().unwrap().remove(key);
        assert!(serde_json::from_value::<Prediction>(body).is_err(), "decoded without `{key}`");
    }
}

#[test]
fn every_status_parses_and_aborted_is_terminal() {
    let cases = [
        ("starting", PredictionStatus::Starting, false),
        ("processing", PredictionStatus::Processing, false),
        ("succeeded", PredictionStatus::Succeeded, true),
        ("failed", PredictionStatus::Failed, true),
        ("canceled", PredictionStatus::Canceled, true),
        ("aborted", PredictionStatus::Aborted, true),
    ];
    for (text, status, terminal) in cases {
        let parsed: PredictionStatus = serde_json::from_value(json!(text)).unwrap();
        assert_eq!(parsed, status);
        assert_eq!(parsed.is_terminal(), terminal, "{text}");
        assert_eq!(parsed.as_str(), text);
        assert_eq!(serde_json::to_value(parsed).unwrap(), json!(text));
    }
    let mut body = minimal_prediction();
    body["status"] = json!("aborted");
    let p: Prediction = serde_json::from_value(body).unwrap();
    assert_eq!(p.status, PredictionStatus::Aborted);
    assert!(p.is_terminal() && !p.succeeded());
}

#[test]
fn unknown_status_falls_back_instead_of_failing() {
    let mut body = minimal_prediction();
    body["status"] = json!("teleporting");
    let p: Prediction = serde_json::from_value(body).unwrap();
    assert_eq!(p.status, PredictionStatus::Unknown);
    assert!(!p.is_terminal());
}

#[test]
fn hidden_and_deployment_versions_are_plain_strings() {
    let mut body = minimal_prediction();
    body["version"] = json!("hidden");
    let hidden: Prediction = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(hidden.version, "hidden");
    assert!(hidden.has_hidden_version() && !hidden.is_from_deployment());

    body["version"] = json!("dp-a557b7387b4940df25b23f779dc534c4");
    let deployed: Prediction = serde_json::from_value(body).unwrap();
    assert!(deployed.is_from_deployment() && !deployed.has_hidden_version());
}

#[test]
fn error_message_reads_strings_and_renders_other_json() {
    let mut body = minimal_prediction();
    body["status"] = json!("failed");
    body["error"] = json!("CUDA out of memory");
    let p: Prediction = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(p.error_message().as_deref(), Some("CUDA out of memory"));
    body["error"] = json!({"detail": "boom"});
    let p: Prediction = serde_json::from_value(body).unwrap();
    assert_eq!(p.error_message().as_deref(), Some(r#"{"detail":"boom"}"#));
}

#[test]
fn metrics_keep_extra_entries() {
    let metrics: PredictionMetrics = serde_json::from_value(json!({
        "predict_time": 1.5,
        "total_time": 2,
        "input_token_count": 12,
        "tokens_per_second": 40.2,
    }))
    .unwrap();
    assert_eq!(metrics.predict_time, Some(1.5));
    assert_eq!(metrics.total_time, Some(2.0));
    assert_eq!(metrics.extra.get("input_token_count"), Some(&json!(12)));
    assert_eq!(metrics.extra.len(), 2);
    let back = serde_json::to_value(&metrics).unwrap();
    assert_eq!(back["tokens_per_second"], json!(40.2));
    assert_eq!(back["predict_time"], json!(1.5));
}

#[test]
fn create_prediction_without_version_has_no_version_key() {
    let body = serde_json::to_value(CreatePrediction::new(json!({"prompt": "hi"}))).unwrap();
    assert_eq!(body, json!({"input": {"prompt": "hi"}}));
    assert!(body.get("version").is_none());
}

#[test]
fn create_prediction_setters_fill_every_field() {
    let request = CreatePrediction::new(json!({"prompt": "hi"}))
        .version("owner/model:abc")
        .webhook("https://example.com/hook")
        .webhook_events_filter([WebhookEvent::Start, WebhookEvent::Completed])
        .stream(true);
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({
            "version": "owner/model:abc",
            "input": {"prompt": "hi"},
            "webhook": "https://example.com/hook",
            "webhook_events_filter": ["start", "completed"],
            "stream": true,
        })
    );
    let decoded: CreatePrediction = serde_json::from_value(serde_json::to_value(&request).unwrap()).unwrap();
    assert_eq!(decoded, request);
}

#[test]
fn webhook_events_use_the_api_spelling() {
    let all = serde_json::to_value(WebhookEvent::ALL).unwrap();
    assert_eq!(all, json!(["start", "output", "logs", "completed"]));
    assert!(serde_json::from_value::<WebhookEvent>(json!("finished")).is_err());
}

#[test]
fn default_webhook_secret_debug_is_redacted() {
    let secret: DefaultWebhookSecret =
        serde_json::from_value(json!({"key": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})).unwrap();
    let shown = format!("{secret:?}");
    assert!(shown.contains("whsec_***"), "{shown}");
    assert!(!shown.contains("MfKQ9r8"), "{shown}");
    let odd = DefaultWebhookSecret::new("plainsecret");
    assert!(!format!("{odd:?}").contains("plainsecret"));
    assert_eq!(secret.key, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
}

#[test]
fn model_requests_skip_unset_fields() {
    let create = CreateModel::new("alice", "hot-dog-detector", Visibility::Private, "cpu")
        .description("Detect hot dogs");
    assert_eq!(
        serde_json::to_value(&create).unwrap(),
        json!({
            "owner": "alice",
            "name": "hot-dog-detector",
            "visibility": "private",
            "hardware": "cpu",
            "description": "Detect hot dogs",
        })
    );
    assert!(UpdateModel::new().is_empty());
    assert_eq!(serde_json::to_value(UpdateModel::new()).unwrap(), json!({}));
    let update = UpdateModel::new().readme("# Hi").weights_url("https://hf.co/x");
    assert!(!update.is_empty());
    assert_eq!(
        serde_json::to_value(&update).unwrap(),
        json!({"readme": "# Hi", "weights_url": "https://hf.co/x"})
    );
}

#[test]
fn sort_options_use_the_spec_spelling() {
    assert_eq!(ModelSortBy::default().as_str(), "latest_version_created_at");
    assert_eq!(serde_json::to_value(ModelSortBy::ModelCreatedAt).unwrap(), json!("model_created_at"));
    assert_eq!(SortDirection::default(), SortDirection::Desc);
    assert_eq!(SortDirection::Asc.to_string(), "asc");
}

#[test]
fn deployment_decodes_the_documented_shape() {
    let deployment: Deployment = serde_json::from_value(json!({
        "owner": "acme",
        "name": "my-app-image-generator",
        "current_release": {
            "number": 1,
            "model": "stability-ai/sdxl",
            "version": "da77bc59ee60423279fd632efb4795ab731d9e3ca9705ef3341091fb989b7eaf",
            "created_at": "2024-02-15T16:32:57.018467Z",
            "created_by": {
                "type": "organization",
                "username": "acme",
                "name": "Acme Corp, Inc.",
                "github_url": "https://github.com/acme",
            },
            "configuration": {"hardware": "gpu-t4", "min_instances": 1, "max_instances": 5},
        },
    }))
    .unwrap();
    assert_eq!(deployment.full_name(), "acme/my-app-image-generator");
    let release = deployment.current_release.unwrap();
    assert_eq!(release.number, 1);
    assert_eq!(release.configuration.max_instances, 5);
    let creator = release.created_by.unwrap();
    assert_eq!(creator.kind, AccountType::Organization);
    assert_eq!(creator.avatar_url, None);

    let update = UpdateDeployment::new().min_instances(0).max_instances(2);
    assert_eq!(serde_json::to_value(&update).unwrap(), json!({"min_instances": 0, "max_instances": 2}));
    let create = CreateDeployment::new("app", "acme/model", "abc", "gpu-t4", 0, 1);
    assert_eq!(serde_json::to_value(&create).unwrap()["hardware"], "gpu-t4");
}

#[test]
fn account_type_round_trips_through_type_key() {
    let account: Account = serde_json::from_value(json!({"type": "user", "username": "alice"})).unwrap();
    assert_eq!(account.kind, AccountType::User);
    assert_eq!(serde_json::to_value(&account).unwrap(), json!({"type": "user", "username": "alice"}));
    let future: Account = serde_json::from_value(json!({"type": "team", "username": "t"})).unwrap();
    assert_eq!(future.kind, AccountType::Unknown);
}

#[test]
fn training_request_and_output_helpers() {
    let request = CreateTraining::new("alice/my-model", json!({"steps": 10}))
        .webhook_events_filter([WebhookEvent::Completed]);
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({
            "destination": "alice/my-model",
            "input": {"steps": 10},
            "webhook_events_filter": ["completed"],
        })
    );
    let training: Training = serde_json::from_value(json!({
        "id": "zz4ibbonubfz7carwiefibzgga",
        "version": "4a056052b8b98f6db8d011a450abbcd09a408ec9280c29f22d3538af1099646a",
        "status": "succeeded",
        "created_at": "2023-03-28T21:47:58.566434Z",
        "output": {"version": "owner/model:abc", "weights": "https://example.com/w.tar"},
    }))
    .unwrap();
    assert!(training.succeeded() && training.is_terminal());
    assert_eq!(training.output_version(), Some("owner/model:abc"));
    assert_eq!(training.output_weights(), Some("https://example.com/w.tar"));
}

#[test]
fn search_decodes_the_spec_example() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/openapi.json");
    let text = std::fs::read_to_string(path).unwrap();
    let spec: Value = serde_json::from_str(&text).unwrap();
    let example =
        &spec["paths"]["/search"]["get"]["responses"]["200"]["content"]["application/json"]["example"];
    assert!(example.is_object(), "the spec has no search example");
    let results: SearchResults = serde_json::from_value(example.clone()).unwrap();
    assert_eq!(results.query, "nano banana");
    let first = &results.models[0];
    assert_eq!(first.model.full_name(), "google/nano-banana");
    assert!(first.metadata.score.is_some_and(|s| s > 1.0));
    assert!(first.model.latest_version.is_some());
    assert_eq!(results.collections[0].slug, "image-editing");
    assert_eq!(results.pages[0].href, "/docs/guides/image-editing");
}

#[test]
fn file_decodes_without_unspecified_fields() {
    let file: File = serde_json::from_value(json!({
        "id": "cneqzikepnug6xezperrr4z55o",
        "urls": {"get": "https://api.replicate.com/v1/files/cneqzikepnug6xezperrr4z55o"},
        "content_type": "application/zip",
        "size": 69420,
        "checksums": {"sha256": "f047f8e745f9996c6e386064e06cb2007b8e6bc0a968a334fc0d2b2d64012066"},
        "metadata": {"customer_reference_id": 123},
        "created_at": "2024-02-21T12:54:18.578761Z",
        "expires_at": "2024-02-21T13:54:18.578761Z",
    }))
    .unwrap();
    assert_eq!(file.name, None);
    assert_eq!(file.checksums.md5, None);
    assert_eq!(file.metadata["customer_reference_id"], json!(123));
}

#[test]
fn collection_summary_drops_models() {
    let collection: Collection = serde_json::from_value(json!({
        "name": "Super resolution",
        "slug": "super-resolution",
        "description": "Upscaling models",
        "models": [],
    }))
    .unwrap();
    assert_eq!(collection.full_description, None);
    assert_eq!(collection.summary().slug, "super-resolution");
    let hardware: Vec<Hardware> = serde_json::from_value(json!([{"name": "CPU", "sku": "cpu"}])).unwrap();
    assert_eq!(hardware[0].sku, "cpu");
}

/// The official OpenAPI spec of the Replicate API, beside the checkout.
fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Follows a local `$ref` (`#/components/...`).
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            spec.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {reference}"))
        }
        None => schema,
    }
}

/// A value fitting `schema` with every declared property filled (free-form nullable objects are null).
fn synthesize(spec: &Value, schema: &Value) -> Value {
    let schema = resolve(spec, schema);
    if let Some(first) = schema.get("oneOf").and_then(|s| s.get(0)) {
        return synthesize(spec, first);
    }
    if let Some(choice) = schema.get("enum").and_then(|e| e.get(0)) {
        return choice.clone();
    }
    let nullable = schema["nullable"] == json!(true);
    match schema["type"].as_str() {
        Some("object") => match schema.get("properties").and_then(Value::as_object) {
            Some(properties) => properties
                .iter()
                .map(|(key, property)| (key.clone(), synthesize(spec, property)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            None if nullable => Value::Null,
            None => json!({}),
        },
        Some("array") => json!([synthesize(spec, &schema["items"])]),
        Some("string") => match schema["format"].as_str() {
            Some("date-time") => json!("2024-01-01T00:00:00Z"),
            Some("uri") => json!("https://example.com/x"),
            _ => json!("text"),
        },
        Some("integer") => json!(3),
        Some("number") => json!(1.5),
        Some("boolean") => json!(true),
        _ => Value::Null,
    }
}

/// Every property `schema` declares (recursively) is still in `encoded`, unless it was synthesized null.
fn assert_keeps_properties(spec: &Value, schema: &Value, encoded: &Value, at: &str) {
    let schema = resolve(spec, schema);
    match schema["type"].as_str() {
        Some("object") => {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                return;
            };
            for (key, property) in properties {
                let here = format!("{at}.{key}");
                if synthesize(spec, property).is_null() {
                    continue;
                }
                let value =
                    encoded.get(key).unwrap_or_else(|| panic!("{here}: the type drops this spec property"));
                assert_keeps_properties(spec, property, value, &here);
            }
        }
        Some("array") => {
            if let Some(first) = encoded.get(0) {
                assert_keeps_properties(spec, &schema["items"], first, &format!("{at}[0]"));
            }
        }
        _ => {}
    }
}

/// A body with every property of `schema` decodes as `T`, and re-encoding keeps every property.
fn check_against_spec<T>(spec: &Value, schema: &Value, name: &str)
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let body = synthesize(spec, schema);
    let typed: T = serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("{name}: a full spec body does not decode: {e}\n{body:#}"));
    let encoded = serde_json::to_value(&typed).unwrap();
    assert_keeps_properties(spec, schema, &encoded, name);
}

#[test]
fn types_carry_every_property_the_spec_declares() {
    let spec = spec();
    let schema = |name: &str| spec["components"]["schemas"][name].clone();
    let op = |path: &str, method: &str| spec["paths"][path][method].clone();
    let response = |path: &str, method: &str, code: &str| {
        op(path, method)["responses"][code]["content"]["application/json"]["schema"].clone()
    };
    let request = |path: &str, method: &str| {
        op(path, method)["requestBody"]["content"]["application/json"]["schema"].clone()
    };

    check_against_spec::<Prediction>(&spec, &schema("schemas_prediction_response"), "prediction");
    check_against_spec::<Model>(&spec, &schema("schemas_model_response"), "model");
    check_against_spec::<ModelVersion>(&spec, &schema("schemas_version_response"), "version");
    check_against_spec::<Training>(&spec, &schema("schemas_training_response"), "training");
    check_against_spec::<File>(&spec, &schema("schemas_file_response"), "file");
    check_against_spec::<Collection>(&spec, &schema("schemas_collection_response"), "collection");
    check_against_spec::<CollectionSummary>(
        &spec,
        &schema("schemas_collection_list_item"),
        "collection list item",
    );
    check_against_spec::<Deployment>(&spec, &schema("schemas_deployment_response"), "deployment");
    check_against_spec::<SearchResults>(&spec, &schema("schemas_search_response"), "search");
    check_against_spec::<Account>(&spec, &response("/account", "get", "200"), "account");
    check_against_spec::<Vec<Hardware>>(&spec, &response("/hardware", "get", "200"), "hardware");
    check_against_spec::<DefaultWebhookSecret>(
        &spec,
        &response("/webhooks/default/secret", "get", "200"),
        "webhook secret",
    );
    let search_page = response("/models", "query", "200");
    check_against_spec::<Vec<Model>>(&spec, &search_page["properties"]["results"], "models.search");

    check_against_spec::<CreatePrediction>(
        &spec,
        &schema("schemas_version_prediction_request"),
        "predictions.create",
    );
    check_against_spec::<CreatePrediction>(
        &spec,
        &schema("schemas_prediction_request"),
        "models.predictions.create",
    );
    check_against_spec::<CreateTraining>(&spec, &schema("schemas_training_request"), "trainings");
    check_against_spec::<CreateModel>(&spec, &request("/models", "post"), "models.create");
    check_against_spec::<UpdateModel>(
        &spec,
        &request("/models/{model_owner}/{model_name}", "patch"),
        "models.update",
    );
    check_against_spec::<CreateDeployment>(&spec, &request("/deployments", "post"), "deployments.create");
    check_against_spec::<UpdateDeployment>(
        &spec,
        &request("/deployments/{deployment_owner}/{deployment_name}", "patch"),
        "deployments.update",
    );
}

#[test]
fn request_types_send_only_spec_properties() {
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let keys = |schema: &Value| -> Vec<String> {
        let mut keys: Vec<String> = schema["properties"].as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    let sent = |body: Value| -> Vec<String> {
        let mut keys: Vec<String> = body.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    let full = CreatePrediction::new(json!({}))
        .version("v")
        .webhook("https://example.com")
        .webhook_events_filter(WebhookEvent::ALL)
        .stream(true);
    assert_eq!(
        sent(serde_json::to_value(&full).unwrap()),
        keys(&schemas["schemas_version_prediction_request"])
    );
    let training = CreateTraining::new("a/b", json!({}))
        .webhook("https://example.com")
        .webhook_events_filter(WebhookEvent::ALL);
    assert_eq!(sent(serde_json::to_value(&training).unwrap()), keys(&schemas["schemas_training_request"]));
    // The spec forbids extra keys on prediction requests (`additionalProperties: false`).
    assert_eq!(schemas["schemas_version_prediction_request"]["additionalProperties"], json!(false));
}
