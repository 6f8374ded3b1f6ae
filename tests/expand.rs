//! End-to-end expansions of `#[effect_node]` through rustc (`cargo expand`), compared with
//! the committed `expand/*.expanded.rs` (DESIGN.md §8, STYLE.md §11.5).
//!
//! Needs `cargo-expand` on `PATH`, so it is ignored by default; `.ci/run` installs the
//! pinned version and runs it:
//!
//! ```text
//! cargo install --locked cargo-expand --version 1.0.127
//! cargo test -p onex-tests --test expand -- --ignored
//! ```
//!
//! To regenerate the `.expanded.rs` files after an intended change to the generated code,
//! run with `MACROTEST=overwrite` (on the pinned toolchain: the output is rustc's own
//! pretty-printing) and review the diff. The files are portable by construction: contract
//! paths are file-relative (rustc inlines `include_bytes!` as a byte string), so no absolute
//! path can appear in them; `no_absolute_paths_in_expansions` checks that without
//! cargo-expand.

#[test]
#[ignore = "needs cargo-expand; run with --ignored (.ci/run installs a pinned cargo-expand)"]
fn expansions() {
    if std::env::var_os("MACROTEST").is_some_and(|v| v == "overwrite") {
        macrotest::expand("expand/*.rs");
    } else {
        macrotest::expand_without_refresh("expand/*.rs");
    }
}

#[test]
fn no_absolute_paths_in_expansions() {
    let manifest = env!("CARGO_MANIFEST_DIR");
    let workspace = std::path::Path::new(manifest)
        .parent()
        .expect("workspace root")
        .to_string_lossy()
        .into_owned();
    let dir = std::path::Path::new(manifest).join("expand");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("list expand/") {
        let path = entry.expect("directory entry").path();
        if !path.to_string_lossy().ends_with(".expanded.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read an expanded file");
        for needle in [
            manifest,
            workspace.as_str(),
            "/work/",
            "/target/",
            "/home/",
            "/root/",
        ] {
            assert!(
                !text.contains(needle),
                "{} contains the absolute path `{needle}`",
                path.display()
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 2,
        "expected the committed .expanded.rs files in {}",
        dir.display()
    );
}
