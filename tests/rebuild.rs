//! Rebuild tracking (DESIGN.md §3): editing only a node's contract YAML rebuilds the crate.
//!
//! The fixture crate in `rebuild/fixture/` (not a workspace member) is copied to a scratch
//! directory under `CARGO_TARGET_TMPDIR`, so the repository is never modified, and built
//! with its own target directory `target/rebuild-fixture` (shared between runs, so its
//! dependencies compile once). Then, touching no `.rs` file and never running
//! `cargo clean`:
//!
//! 1. a description edit is picked up: `cargo run` prints the new `CONTRACT.description`;
//! 2. the retry policy is the contract's: the always-failing handler runs 1 + `max_retries`
//!    times, 3 before and 6 after `max_retries` goes from 2 to 5 in the YAML;
//! 3. a new operation makes `cargo build` fail with rustc's own E0046 naming the new
//!    handler method.
//!
//! Step timings are printed (`--nocapture` shows them).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Instant, SystemTime};

const FIRST: &str = "description: first description";
const SECOND: &str = "description: second description, edited by tests/rebuild.rs";
const RETRIES_BEFORE: &str = "max_retries: 2";
const RETRIES_AFTER: &str = "max_retries: 5";
const NEW_OPERATION: &str =
    "    - operation: pong.back\n      description: Added by tests/rebuild.rs.\n";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_owned()
}

/// Copies `from` into `to` recursively (regular files and directories only).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a directory of the copy");
    for entry in std::fs::read_dir(from).expect("list the fixture") {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a fixture file");
        }
    }
}

/// The fixture copy and the cargo command that builds it.
struct Fixture {
    dir: PathBuf,
    target_dir: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        // A fixed path (not a fresh random one): the fixture keeps one package id, so
        // repeated runs reuse its artifacts instead of piling up new ones.
        let dir = tmp.join("onex-rebuild-fixture");
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(&workspace_root().join("tests/rebuild/fixture"), &dir);

        let runtime = workspace_root().join("onex-runtime");
        let manifest = dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).expect("read the fixture manifest");
        let relative = "path = \"../../../onex-runtime\"";
        assert!(
            text.contains(relative),
            "the fixture's onex-runtime path changed"
        );
        let absolute = format!("path = {:?}", runtime.to_string_lossy());
        std::fs::write(&manifest, text.replace(relative, &absolute)).expect("fix the path");
        // The workspace's lock file: the same dependency versions as the workspace, and no
        // index lookup. Cargo trims it to what the fixture uses.
        std::fs::copy(workspace_root().join("Cargo.lock"), dir.join("Cargo.lock"))
            .expect("copy Cargo.lock");

        let target_dir = tmp
            .parent()
            .expect("CARGO_TARGET_TMPDIR is inside the target directory")
            .join("rebuild-fixture");
        Fixture { dir, target_dir }
    }

    fn cargo(&self, step: &str, args: &[&str]) -> Output {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let start = Instant::now();
        let output = Command::new(cargo)
            .args(args)
            .args(["--quiet", "--color", "never"])
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target_dir)
            .env_remove("CARGO_MANIFEST_DIR")
            .output()
            .expect("run cargo");
        println!(
            "[rebuild] {step}: {:.1} s (cargo {})",
            start.elapsed().as_secs_f64(),
            args.join(" ")
        );
        output
    }

    fn contract(&self) -> PathBuf {
        self.dir.join("src/contract.yaml")
    }

    fn edit_contract(&self, from: &str, to: &str) {
        let path = self.contract();
        let text = std::fs::read_to_string(&path).expect("read the contract");
        assert!(text.contains(from), "the fixture contract lacks {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("edit the contract");
    }

    /// Modification times of every `.rs` file of the copy.
    fn rust_sources(&self) -> Vec<(PathBuf, SystemTime)> {
        let mut out = Vec::new();
        let mut dirs = vec![self.dir.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("list the copy") {
                let path = entry.expect("directory entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let modified = path.metadata().and_then(|m| m.modified()).expect("mtime");
                    out.push((path, modified));
                }
            }
        }
        out.sort();
        out
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn lines(output: &Output) -> Vec<String> {
    text(&output.stdout).lines().map(str::to_owned).collect()
}

fn assert_success(step: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{step} failed:\n--- stdout\n{}\n--- stderr\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

#[test]
fn editing_the_contract_rebuilds_the_crate() {
    let total = Instant::now();
    let fixture = Fixture::new();
    let sources = fixture.rust_sources();
    assert!(!sources.is_empty(), "the fixture has Rust sources");

    let build = fixture.cargo("initial build", &["build"]);
    assert_success("the initial build", &build);
    let run = fixture.cargo("run (no change)", &["run"]);
    assert_success("the first run", &run);
    assert_eq!(lines(&run), ["first description", "attempts: 3"]);

    // A non-breaking edit: the crate must be rebuilt and the binary must see it.
    fixture.edit_contract(FIRST, SECOND);
    let run = fixture.cargo("run after the description edit", &["run"]);
    assert_success("the run after the description edit", &run);
    assert_eq!(
        lines(&run)[0],
        SECOND.trim_start_matches("description: "),
        "editing only the YAML did not rebuild the crate (the contract is not tracked)"
    );

    // The policy is read from the contract: more retries in the YAML, more attempts.
    fixture.edit_contract(RETRIES_BEFORE, RETRIES_AFTER);
    let run = fixture.cargo("run after the max_retries edit", &["run"]);
    assert_success("the run after the max_retries edit", &run);
    assert_eq!(
        lines(&run)[1],
        "attempts: 6",
        "changing `max_retries` in the YAML must change how often the handler runs"
    );

    // A breaking edit: the new operation needs a handler method nobody wrote.
    let mut contract = std::fs::read_to_string(fixture.contract()).expect("read the contract");
    contract.push_str(NEW_OPERATION);
    std::fs::write(fixture.contract(), contract).expect("add an operation");
    let build = fixture.cargo("build after adding an operation", &["build"]);
    let stderr = text(&build.stderr);
    assert!(
        !build.status.success(),
        "the build must fail once the contract has an operation without a handler:\n{stderr}"
    );
    for needle in ["E0046", "not all trait items implemented", "pong_back"] {
        assert!(
            stderr.contains(needle),
            "the failed build's stderr lacks `{needle}`:\n{stderr}"
        );
    }

    assert_eq!(
        fixture.rust_sources(),
        sources,
        "the test must not touch any .rs file"
    );
    println!("[rebuild] total: {:.1} s", total.elapsed().as_secs_f64());
}
