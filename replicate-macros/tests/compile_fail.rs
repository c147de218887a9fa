//! Compile errors: wrong input type, unknown enum variant, missing required input, missing cache,
//! a pinned version that differs from the cached one, and a malformed model name.

#[test]
fn compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
