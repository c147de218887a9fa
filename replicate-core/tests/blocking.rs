//! The blocking client against the scripted server (feature `blocking`).
#![cfg(feature = "blocking")]

mod support;

use support::{Action, Server, prediction_json};

fn server_in_background(script: Vec<Action>) -> (Server, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(Server::start(script));
    (server, runtime)
}

#[test]
fn blocking_calls_share_the_resource_groups() {
    let page = |ids: &[&str], next: &str| {
        let results: Vec<String> = ids.iter().map(|id| prediction_json(id, "succeeded")).collect();
        Action::json(200, format!(r#"{{"next":{next},"previous":null,"results":[{}]}}"#, results.join(",")))
    };
    let (server, _runtime) = server_in_background(vec![
        Action::json(503, r#"{"detail":"busy","status":503}"#),
        Action::json(200, prediction_json("b1", "succeeded")),
        page(&["x", "y"], r#""{base}/predictions?cursor=2""#),
        page(&["z"], "null"),
    ]);
    let client = replicate_core::blocking::Replicate::from_async(support::client(&server)).unwrap();
    let prediction = client.predictions().get("b1").send().unwrap();
    assert_eq!(prediction.id, "b1");
    assert_eq!(server.count(), 2, "the 503 was retried");
    let ids: Vec<String> = client.predictions().list().iter().map(|p| p.unwrap().id).collect();
    assert_eq!(ids, ["x", "y", "z"]);
    let err = client.models().get("bad").send().unwrap_err();
    assert_eq!(err.kind(), replicate_core::ErrorKind::InvalidRequest);
    assert!(!format!("{client:?}").contains("r8_test_token"));
}
