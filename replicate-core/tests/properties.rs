//! `Debug` and `Display` of the public types: never panic, whatever the text inside, and never print a
//! secret (the API token, a webhook secret, a password in the base URL).

use std::time::Duration;

use base64::Engine as _;
use proptest::prelude::*;
use replicate_core::types::DefaultWebhookSecret;
use replicate_core::webhooks::{WebhookError, WebhookSecret, WebhookVerifier};
use replicate_core::{ApiToken, ClientBuilder, Error, FileInput, FileOutput};

fn token() -> impl Strategy<Value = String> {
    "r8_[A-Za-z0-9]{12,40}"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn the_token_is_never_shown(token in token(), password in "[A-Za-z0-9]{12,20}") {
        let base = format!("https://user:{password}@api.example.test/v1");
        let builder = ClientBuilder::default().bearer_token(token.clone()).base_url(base);
        let client = builder.clone().build().unwrap();
        let shown = format!("{:?} {:?} {:?} {:?}", ApiToken::new(token.clone()), builder, client, client.to_builder());
        prop_assert!(!shown.contains(&token[3..]), "{}", shown);
        prop_assert!(!shown.contains(&password), "{}", shown);
        let bad = ClientBuilder::default().base_url(format!("ftp://user:{password}@x")).build().unwrap_err();
        prop_assert!(!bad.to_string().contains(&password), "{}", bad);
    }

    #[test]
    fn webhook_secrets_are_never_shown(key in prop::collection::vec(any::<u8>(), 12..48)) {
        let encoded = base64::engine::general_purpose::STANDARD.encode(&key);
        let text = format!("whsec_{encoded}");
        let secret = WebhookSecret::parse(&text).unwrap();
        let verifier = WebhookVerifier::new(&text).unwrap().tolerance(Duration::MAX);
        let shown = format!("{secret:?} {verifier:?} {:?}", DefaultWebhookSecret::new(text.clone()));
        prop_assert!(!shown.contains(&encoded), "{}", shown);
        let err = verifier.verify_parts_at("id", "1", "v1,AAAA", b"", std::time::UNIX_EPOCH).unwrap_err();
        prop_assert!(!err.to_string().contains(&encoded));
    }

    #[test]
    fn file_values_show_any_text_without_panicking(
        text in prop_oneof!["\\PC{0,100}", "data:\\PC{0,100}", "data:\\PC{0,70},\\PC{0,10}"],
    ) {
        let output = FileOutput::new(text.clone(), None);
        let _ = format!("{output:?} {output} {:?}", FileInput::url(text.clone()));
        let _ = output.content_type();
    }

    #[test]
    fn errors_display_any_text_without_panicking(a in "\\PC{0,40}", b in "\\PC{0,40}") {
        let errors = [
            Error::InvalidRequest(a.clone()),
            Error::InvalidInput { field: a.clone(), message: b.clone() },
            Error::Stream { id: a.clone(), message: b.clone() },
            Error::DeadlineExceeded { id: a.clone(), canceled: true },
            Error::Decode { method: a.clone(), path: b.clone(), status: 200, message: a.clone(), body_bytes: 3 },
            Error::Webhook(WebhookError::SignatureMismatch),
        ];
        for error in errors {
            let _ = format!("{error} {error:?} {:?}", error.kind());
        }
    }
}
