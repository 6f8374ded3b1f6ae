//! Helpers shared by the `onex` command's integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// `tests/fixtures`.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The `onex` binary, run from `dir`, colors off.
pub fn onex(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("onex").unwrap();
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
    cmd
}

/// `../shared/onex-corpus` beside the clone.
///
/// A user's clone has no shared data: the caller skips (a reason is printed). CI (`CI`
/// set) always has it, so there a missing directory fails the test instead.
pub fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/onex-corpus");
    if dir.join("valid").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI needs ../shared/onex-corpus beside the clone"
    );
    eprintln!("skipping: ../shared/onex-corpus not found (a user's clone has no shared data)");
    None
}

/// stdout of a finished command, as text.
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// stderr of a finished command, as text.
pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}
