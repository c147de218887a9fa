#[replicate_macros::model("nobody/nothing")]
pub struct Nothing;

fn main() {}
