//! Test helpers shared by the suites that read `../shared` (the corpus and the vectors).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `../shared` beside the clone, when it holds `onex-corpus` and `onex-vectors`.
///
/// A user's clone has no shared data: the caller skips (a reason is printed). CI (`CI`
/// set) always has it, so there a missing directory fails the test instead of skipping it.
pub fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if dir.join("onex-corpus").is_dir() && dir.join("onex-vectors").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI needs ../shared (onex-corpus, onex-vectors) beside the clone"
    );
    eprintln!("skipping: ../shared not found (a user's clone has no shared data)");
    None
}

/// `../shared/onex-corpus`, as [`shared`].
pub fn corpus() -> Option<PathBuf> {
    shared().map(|s| s.join("onex-corpus"))
}

/// The `.yaml` files directly in `dir`, sorted.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    out.sort();
    out
}
