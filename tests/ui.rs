//! trybuild UI tests: what users see when a node compiles, and when it does not.
//!
//! The `.stderr` files are exact rustc output for the toolchain pinned in
//! `rust-toolchain.toml`; bless them with `TRYBUILD=overwrite` on that toolchain only and
//! review the diff.
//!
//! Layout: `ui/pass/*.rs` compile and run; `ui/fail/<category>/<rule>.rs` fail to compile
//! with exactly `<rule>.stderr`. A fail case's contract sits next to it (`<rule>.yaml`; a
//! second node's, `<rule>_<node>.yaml`), so messages show a short `rule.yaml:LINE:COL`;
//! pass cases share `ui/contracts/`;
//! `ui/corpus/*.rs` fail on contracts of `../shared/onex-corpus` (run when it is present).

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
    // Already matched above (trybuild runs each file once); listed so the reducer cases
    // are found by name: every FSM error class, rejected at `file.yaml:LINE:COL`.
    t.compile_fail("ui/fail/fsm/*.rs");
    // Likewise for orchestrators: every workflow error class, rejected at `file.yaml:LINE:COL`
    // (or, for bindings and step impls, at the Rust that is wrong).
    t.compile_fail("ui/fail/workflow/*.rs");
    // Cases that compile contracts of the shared corpus, which a user's clone lacks.
    if shared_corpus_present() {
        t.compile_fail("ui/corpus/*.rs");
    }
}

/// True when `../shared/onex-corpus` sits beside the clone; CI (`CI` set) requires it.
fn shared_corpus_present() -> bool {
    let present = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/onex-corpus")
        .is_dir();
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs ../shared/onex-corpus beside the clone"
        );
        eprintln!(
            "skipping ui/corpus: ../shared/onex-corpus not found (a user's clone has no shared data)"
        );
    }
    present
}
