//! A typed model with a secret input (`x-cog-secret`): the field is a `replicate::Secret`, sent as the plain
//! string, never shown by `Debug`.

#[replicate::model("emulator/secret-input")]
#[derive(Debug)]
pub struct SecretInput;

#[tokio::test]
async fn secret_inputs_are_typed_sent_and_redacted() {
    let emu = replicate_emulator::Emulator::builder().start().await.unwrap();
    let client = replicate::Replicate::builder().bearer_token("t").base_url(emu.base_url()).build().unwrap();
    let input = SecretInputInput::new(replicate::Secret::new("sk-live-abcdef")).prompt("hi");
    assert!(!format!("{input:?}").contains("sk-live"), "{input:?}");
    let output = SecretInput::run(&client, &input).await.unwrap();
    assert_eq!(output, "hi: used a secret of 14 characters");
}
