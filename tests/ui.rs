//! trybuild UI tests: what users see when a node compiles, and when it does not.
//!
//! The `.stderr` files are exact rustc output for the toolchain pinned in
//! `rust-toolchain.toml`; bless them with `TRYBUILD=overwrite` on that toolchain only and
//! review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*/*.rs");
}
