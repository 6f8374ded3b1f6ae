//! trybuild UI tests: what users see when a node compiles, and when it does not.
//!
//! The `.stderr` files are exact rustc output for the toolchain pinned in
//! `rust-toolchain.toml`; bless them with `TRYBUILD=overwrite` on that toolchain only and
//! review the diff.
//!
//! Layout: `ui/pass/*.rs` compile and run; `ui/fail/<category>/<rule>.rs` fail to compile
//! with exactly `<rule>.stderr`. A fail case's contract sits next to it (`<rule>.yaml`), so
//! messages show a short `rule.yaml:LINE:COL`; pass cases share `ui/contracts/`.

use std::path::{Path, PathBuf};

/// trybuild builds the cases in its own project, `<target>/tests/trybuild/<package>/`, and
/// that is the `CARGO_MANIFEST_DIR` the macro sees. A `relative_to = manifest` case
/// therefore needs its contract copied there (the `CARGO_MANIFEST_DIR_OVERRIDE` idea of
/// trybuild issue 202, without an extra env read in the macro).
fn stage_manifest_relative_contract() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is `<target>/tmp`");
    let project: PathBuf = target
        .join("tests")
        .join("trybuild")
        .join(env!("CARGO_PKG_NAME"));
    let dir = project.join("contracts");
    std::fs::create_dir_all(&dir).expect("create the trybuild contracts directory");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/contracts/manifest_relative.yaml");
    let text = std::fs::read(&source).expect("read ui/contracts/manifest_relative.yaml");
    let dest = dir.join("manifest_relative.yaml");
    // Rewrite only on change, so the mtime (and rebuild tracking) stays stable.
    if std::fs::read(&dest).ok().as_deref() != Some(text.as_slice()) {
        std::fs::write(&dest, text).expect("stage the manifest-relative contract");
    }
}

#[test]
fn ui() {
    stage_manifest_relative_contract();
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*/*.rs");
}
