//! Verifying a webhook delivery: `cargo run --example webhook`.
//!
//! A receiver gets the raw body and the `webhook-*` headers; the verifier checks the signature with the
//! account's secret and the timestamp within 5 minutes. Here a delivery is signed locally so the example
//! runs anywhere; a forged one is rejected.

use replicate::WebhookVerifier;
use replicate::reqwest::header::{HeaderMap, HeaderValue};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // In an application: `client.webhooks().default().secret().await?.key`.
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let verifier = WebhookVerifier::new(secret)?;

    let body = br#"{"id":"gm3qorzdhgbfurvjtvhg6dckhu","status":"succeeded","output":"hello Rust"}"#;
    let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    let signature = verifier.secret().sign("msg_2mG7wEXAMPLE", timestamp, body);

    let mut headers = HeaderMap::new();
    headers.insert("webhook-id", HeaderValue::from_static("msg_2mG7wEXAMPLE"));
    headers.insert("webhook-timestamp", HeaderValue::from_str(&timestamp.to_string())?);
    headers.insert("webhook-signature", HeaderValue::from_str(&signature)?);

    verifier.verify(&headers, body)?;
    println!("genuine delivery: verified");

    let forged = br#"{"id":"gm3qorzdhgbfurvjtvhg6dckhu","status":"succeeded","output":"pwned"}"#;
    match verifier.verify(&headers, forged) {
        Err(e) => println!("forged delivery: rejected ({e})"),
        Ok(()) => return Err("a forged delivery was accepted".into()),
    }
    Ok(())
}
