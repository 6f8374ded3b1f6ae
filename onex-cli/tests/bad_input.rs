//! Bad input: binary, empty and non-UTF-8 files, directories without contracts, unreadable
//! paths, and random bytes. Clear messages, the right exit code, never a panic.

mod common;
use common::{onex, stdout};

use std::fs;

use proptest::prelude::*;

#[test]
fn binary_and_non_utf8_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("blob.yaml"),
        [0x7f, 0x45, 0x4c, 0x46, 0xff, 0x00, 0x01],
    )
    .unwrap();
    fs::write(dir.path().join("latin1.yaml"), b"name: caf\xe9\n").unwrap();
    let output = onex(dir.path())
        .args(["validate", "blob.yaml", "latin1.yaml", "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("the contract is not UTF-8 text (invalid byte at offset 4)"),
        "{text}"
    );
    assert!(
        text.contains("the contract is not UTF-8 text (invalid byte at offset 9)"),
        "{text}"
    );
    onex(dir.path())
        .args(["fingerprint", "blob.yaml"])
        .assert()
        .code(1)
        .stderr("error: blob.yaml: not UTF-8 text (invalid byte at offset 4)\n");
    onex(dir.path())
        .args(["graph", "latin1.yaml"])
        .assert()
        .code(1);
}

#[test]
fn binary_utf8_is_a_yaml_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("nul.yaml"),
        "name: a\u{0}b\n\u{1}\u{2}: [\n",
    )
    .unwrap();
    let output = onex(dir.path())
        .args(["validate", "nul.yaml", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("\"code\": \"yaml-syntax\""));
}

#[test]
fn empty_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("empty.yaml"), "").unwrap();
    fs::write(dir.path().join("blank.yml"), "\n# only a comment\n\n").unwrap();
    let output = onex(dir.path())
        .args(["validate", ".", "--color", "never"])
        .output()
        .unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("Checked 2 files"), "{text}");
    onex(dir.path())
        .args(["fingerprint", "empty.yaml"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("empty.yaml:1:1:"));
}

#[test]
fn directories_without_contracts() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("empty")).unwrap();
    fs::write(dir.path().join("empty/readme.txt"), "not yaml").unwrap();
    onex(dir.path())
        .args(["validate", "empty"])
        .assert()
        .code(2)
        .stdout(predicates::str::contains(
            "error: no contract files found (looked for .yaml and .yml files)",
        ));
    onex(dir.path())
        .args(["fingerprint", "empty"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no contract files found"));
    // Beside a contract, an empty directory is only a note.
    fs::write(
        dir.path().join("ok.yaml"),
        "name: a\nnode_type: COMPUTE_GENERIC\ncontract_version: {major: 1, minor: 0, patch: 0}\n",
    )
    .unwrap();
    onex(dir.path())
        .args(["validate", "empty", "ok.yaml"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains(
            "note: empty: no .yaml or .yml file here",
        ));
}

#[test]
fn unreadable_paths() {
    let dir = tempfile::tempdir().unwrap();
    // A dangling link found while walking: reported, exit 2.
    #[cfg(unix)]
    std::os::unix::fs::symlink("missing-target.yaml", dir.path().join("dangling.yaml")).unwrap();
    let output = onex(dir.path())
        .args(["validate", ".", "--format", "json"])
        .output()
        .unwrap();
    #[cfg(unix)]
    {
        assert_eq!(output.status.code(), Some(2));
        assert!(stdout(&output).contains("\"code\": \"read-failed\""));
    }
    #[cfg(not(unix))]
    let _ = output;
    // A path that does not exist.
    onex(dir.path())
        .args(["validate", "nowhere"])
        .assert()
        .code(2)
        .stdout(predicates::str::contains(
            "cannot read `nowhere`: No such file or directory",
        ));
    // A file without read permission (not testable as root, who reads anything).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let secret = dir.path().join("secret.yaml");
        fs::write(&secret, "name: a\n").unwrap();
        fs::set_permissions(&secret, fs::Permissions::from_mode(0o000)).unwrap();
        if fs::read(&secret).is_err() {
            onex(dir.path())
                .args(["validate", "secret.yaml"])
                .assert()
                .code(2)
                .stdout(predicates::str::contains("Permission denied"));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Random bytes through the file entry point and both report forms: no panic, and a
    /// finding-backed exit code.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("random.yaml");
        fs::write(&path, &bytes).unwrap();
        let report = onex_cli::validate::validate(std::slice::from_ref(&path), false);
        prop_assert!(report.exit_code() <= 1);
        let _ = onex_cli::render::human(&report, onex_cli::render::Style::PLAIN);
        let _ = onex_cli::render::json(&report);
        let _ = onex_cli::fingerprint::inspect(&path, true);
        if let Some(file) = report.files.first() {
            let _ = onex_cli::graph::draw(&file.loaded, onex_cli::graph::Format::Dot);
        }
    }

    /// YAML-ish text (printable, with structure characters) reaches deeper into the parser.
    #[test]
    fn yamlish_text_never_panics(text in "[a-z_:\\-\\[\\]{}#'\" \n*!&|>0-9]{0,300}") {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("text.yaml");
        fs::write(&path, &text).unwrap();
        let report = onex_cli::validate::validate(std::slice::from_ref(&path), true);
        let _ = onex_cli::render::human(&report, onex_cli::render::Style::PLAIN);
        if let (onex_cli::fingerprint::Outcome::Computed { computed, .. }, Some(text)) =
            onex_cli::fingerprint::inspect(&path, true)
        {
            // A rewrite either succeeds and declares the value, or refuses: never corrupts.
            if let Ok((new, _)) = onex_cli::rewrite::rewrite(&text, &computed) {
                let doc = onex_contracts::yaml::parse(&new).unwrap();
                prop_assert_eq!(onex_contracts::fingerprint::compute(&doc).unwrap(), computed.clone());
            }
        }
    }
}
