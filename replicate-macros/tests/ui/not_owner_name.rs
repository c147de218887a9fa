#[replicate_macros::model("flux-schnell")]
pub struct Flux;

fn main() {}
