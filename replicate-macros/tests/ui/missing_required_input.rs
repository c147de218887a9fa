#[replicate_macros::model("black-forest-labs/flux-schnell")]
pub struct FluxSchnell;

fn main() {
    let _ = FluxSchnellInput::new();
}
