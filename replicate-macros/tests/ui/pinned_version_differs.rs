#[replicate_macros::model(
    "stability-ai/sdxl",
    version = "0000000000000000000000000000000000000000000000000000000000000000"
)]
pub struct Sdxl;

fn main() {}
