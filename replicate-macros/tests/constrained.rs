//! A model with the awkward parts the 12 shared models lack (patterns, lengths, item counts, keyword and
//! digit property names, odd choice values, untyped inputs, nested output objects), cached in this
//! crate's own `.replicate/` (which the macro searches before the workspace root's).

#![allow(missing_docs)]

use std::path::PathBuf;

use replicate::{Error, Replicate, TypedModel};
use replicate_emulator::Emulator;
use serde_json::json;

#[replicate_macros::model("test/constrained")]
#[derive(Debug)]
pub struct Constrained;

fn field_of(result: replicate::Result<()>) -> String {
    match result {
        Err(Error::InvalidInput { field, message }) => format!("{field}: {message}"),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn patterns_lengths_and_item_counts_are_checked() {
    assert!(Constrained::validate(&ConstrainedInput::new("abc")).is_ok());
    assert_eq!(
        field_of(Constrained::validate(&ConstrainedInput::new("ABC"))),
        "code: \"ABC\" does not match the pattern `^[a-z]+$`"
    );
    assert_eq!(
        field_of(Constrained::validate(&ConstrainedInput::new("a").title("x"))),
        "title: \"x\" has 1 characters, fewer than the minimum length 2"
    );
    assert_eq!(
        field_of(Constrained::validate(&ConstrainedInput::new("a").title("abcdef"))),
        "title: \"abcdef\" has 6 characters, more than the maximum length 5"
    );
    assert_eq!(
        field_of(Constrained::validate(&ConstrainedInput::new("a").tags(vec![]))),
        "tags: 0 items, fewer than the minimum 1"
    );
    assert_eq!(
        field_of(Constrained::validate(&ConstrainedInput::new("a").ratio(1.0))),
        "ratio: 1 is not less than the exclusive maximum 1"
    );
}

#[test]
fn awkward_names_map_to_valid_rust() {
    let input = ConstrainedInput::new("a")
        .type_("kind")
        .field_2x(true)
        .lang(ConstrainedLang::PtBr)
        .size(ConstrainedSize::V512)
        .extra(json!({"any": [1, 2]}));
    assert_eq!(
        serde_json::to_value(&input).unwrap(),
        json!({"code": "a", "type": "kind", "2x": true, "lang": "pt BR", "size": "512", "extra": {"any": [1, 2]}})
    );
    let variants: Vec<&str> = ConstrainedLang::ALL.iter().map(|v| v.as_str()).collect();
    assert_eq!(variants, ["zh-CN", "pt BR", "none", "Self", "", "日本語", "1:1"]);
    assert_eq!(
        [ConstrainedLang::ZhCn, ConstrainedLang::None, ConstrainedLang::SelfValue, ConstrainedLang::Empty],
        [ConstrainedLang::ALL[0], ConstrainedLang::ALL[2], ConstrainedLang::ALL[3], ConstrainedLang::ALL[4]]
    );
    assert_eq!(ConstrainedLang::Value5.as_str(), "日本語");
    assert_eq!(ConstrainedLang::V1_1.as_str(), "1:1");
    assert_eq!(ConstrainedLang::default(), ConstrainedLang::None);
}

#[tokio::test]
async fn runs_against_the_emulator_and_refuses_bad_input_before_sending() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".replicate");
    let emu = Emulator::builder().models_dir(dir).time_scale(0.01).start().await.unwrap();
    let c = Replicate::builder().bearer_token("r8_test").base_url(emu.base_url()).build().unwrap();
    let err = Constrained::run(&c, &ConstrainedInput::new("NOPE")).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert_eq!(emu.stats().predictions_created, 0);
    let output = Constrained::run(&c, &ConstrainedInput::new("ok").tags(vec!["a".into()])).await.unwrap();
    assert!(output.files.iter().all(|f| !f.url().is_empty()));
    let _: Option<i64> = output.meta.and_then(|m| m.n);
    assert_eq!(emu.stats().predictions_created, 1);
}
