//! `onex doctor` in a scratch crate: contract statuses and the exit code.
//!
//! The toolchain line depends on the machine, so these tests pin the scratch crate to the
//! workspace's own toolchain (the one running them) and assert on the contract section.

mod common;
use common::{onex, stdout};

use std::fs;
use std::path::Path;

const VALID: &str =
    "name: a\nnode_type: COMPUTE_GENERIC\ncontract_version: {major: 1, minor: 0, patch: 0}\n";
const BROKEN: &str = "name: a\nnode_type: COMPUTE_GENERIC\n";

fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rust-toolchain.toml");
    fs::copy(pin, dir.path().join("rust-toolchain.toml")).unwrap();
    fs::create_dir_all(dir.path().join("src")).unwrap();
    fs::create_dir_all(dir.path().join("tests/fixtures")).unwrap();
    fs::create_dir_all(dir.path().join("target")).unwrap();
    fs::write(dir.path().join("src/contract.yaml"), VALID).unwrap();
    fs::write(dir.path().join("tests/fixtures/broken.yaml"), BROKEN).unwrap();
    // Never looked at: build output and hidden directories.
    fs::write(dir.path().join("target/copy.yaml"), BROKEN).unwrap();
    fs::create_dir_all(dir.path().join(".github")).unwrap();
    fs::write(dir.path().join(".github/ci.yml"), "on: push\n").unwrap();
    fs::write(dir.path().join("compose.yml"), "services: {}\n").unwrap();
    dir
}

#[test]
fn lists_contracts_and_passes_when_src_is_clean() {
    let dir = scratch();
    let output = onex(dir.path()).arg("doctor").output().unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    // `[ok]` where the pinned toolchain runs; `[warn]` with a system rustc of another version.
    assert!(
        text.contains("Toolchain\n  [ok]   rustc ") || text.contains("Toolchain\n  [warn] rustc "),
        "{text}"
    );
    assert!(text.contains("PostgreSQL"), "{text}");
    assert!(text.contains("NATS"), "{text}");
    assert!(
        text.contains("Contracts (2 under this directory; 1 other YAML file is not a contract)"),
        "{text}"
    );
    assert!(
        text.contains("  [ok]   valid                src/contract.yaml (compute node contract)"),
        "{text}"
    );
    // Broken fixtures outside src/ are listed, but do not block building.
    assert!(
        text.contains(
            "  [warn] 1 error              tests/fixtures/broken.yaml (compute node contract)"
        ),
        "{text}"
    );
    assert!(!text.contains("target/copy.yaml"), "{text}");
    assert!(!text.contains("ci.yml"), "{text}");
    assert!(text.ends_with("Nothing blocks building.\n"), "{text}");
}

#[test]
fn a_broken_contract_under_src_blocks_building() {
    let dir = scratch();
    fs::write(dir.path().join("src/contract.yaml"), BROKEN).unwrap();
    let output = onex(dir.path()).arg("doctor").output().unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("  [FAIL] 1 error              src/contract.yaml"),
        "{text}"
    );
    assert!(text.contains("1 problem(s) block building"), "{text}");
}
