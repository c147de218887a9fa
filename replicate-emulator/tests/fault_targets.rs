//! `Faults::server_faults_on_gets_only` keeps 5xx and dropped connections off creates (which clients must not
//! retry) while 429 still hits everything.

use replicate_emulator::{Emulator, Faults};
use serde_json::json;

#[tokio::test]
async fn server_faults_can_be_kept_to_gets() {
    let faults = Faults { error_503: 1.0, server_faults_on_gets_only: true, ..Faults::default() };
    let emu = Emulator::builder().faults(faults).start().await.unwrap();
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{}/predictions", emu.base_url()))
        .bearer_auth("t")
        .json(&json!({"version": replicate_emulator::HELLO_WORLD_VERSION, "input": {"text": "x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201, "creates are spared");
    let id = created.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let got = http.get(format!("{}/predictions/{id}", emu.base_url())).bearer_auth("t").send().await.unwrap();
    assert_eq!(got.status().as_u16(), 503, "GETs take the fault");
    assert!(Faults::parse("503=0.05,gets_only=1").unwrap().server_faults_on_gets_only);
}
