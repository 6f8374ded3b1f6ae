//! `onex fingerprint`: printing, `--check` and byte-for-byte `--write`.

mod common;
use common::{corpus, fixtures, onex, stderr, stdout};

use std::fs;
use std::path::Path;

/// The computed fingerprint of a file, through the library the command uses.
fn computed(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    let doc = onex_contracts::yaml::parse(&text).unwrap();
    onex_contracts::fingerprint::compute(&doc)
        .unwrap()
        .to_string()
}

fn temp_copy(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in names {
        fs::copy(
            fixtures().join("fingerprint").join(name),
            dir.path().join(name),
        )
        .unwrap();
    }
    dir
}

#[test]
fn prints_fingerprint_and_path() {
    let dir = fixtures().join("fingerprint");
    let output = onex(&dir)
        .args(["fingerprint", "drifted.yaml", "missing.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout(&output),
        format!(
            "{}  drifted.yaml\n{}  missing.yaml\n",
            computed(&dir.join("drifted.yaml")),
            computed(&dir.join("missing.yaml"))
        )
    );
    // Walking a directory skips documents without `contract_version`, with a note.
    let output = onex(&dir).args(["fingerprint", "."]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output).lines().count(), 2);
    assert!(stderr(&output).contains("1 file(s) without `contract_version` skipped"));
}

#[test]
fn check_names_drift_and_missing_declarations() {
    let dir = fixtures().join("fingerprint");
    let drifted = computed(&dir.join("drifted.yaml"));
    let missing = computed(&dir.join("missing.yaml"));
    let output = onex(&dir)
        .args(["fingerprint", "--check", "drifted.yaml", "missing.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        format!(
            "drifted.yaml:7:16: drift: declared \"2.1.3:000000000000\", computed \"{drifted}\"\n\
             missing.yaml: missing: no `fingerprint` declared (computed \"{missing}\")\n\
             Checked 2 fingerprints: 0 up to date, 1 drifted, 1 missing.\n"
        )
    );
}

#[test]
fn write_changes_only_the_fingerprint_value_byte_for_byte() {
    let dir = temp_copy(&["drifted.yaml"]);
    let path = dir.path().join("drifted.yaml");
    let before = fs::read(&path).unwrap();
    let fp = computed(&path);
    onex(dir.path())
        .args(["fingerprint", "--write", "drifted.yaml"])
        .assert()
        .code(0)
        .stdout(format!(
            "drifted.yaml: updated \"2.1.3:000000000000\" -> \"{fp}\"\n\
             Wrote 1 file (1 updated, 0 inserted); 0 already up to date.\n"
        ));
    let after = fs::read(&path).unwrap();
    let expected = String::from_utf8(before)
        .unwrap()
        .replace(
            "fingerprint:   \"2.1.3:000000000000\"   # stale on purpose\n",
            &format!("fingerprint:   \"{fp}\"   # stale on purpose\n"),
        )
        .into_bytes();
    assert_eq!(after, expected);
    // Now up to date: --check passes, a second --write touches nothing.
    onex(dir.path())
        .args(["fingerprint", "--check", "drifted.yaml"])
        .assert()
        .code(0);
    onex(dir.path())
        .args(["fingerprint", "--write", "drifted.yaml"])
        .assert()
        .code(0)
        .stdout("Wrote 0 files (0 updated, 0 inserted); 1 already up to date.\n");
    assert_eq!(fs::read(&path).unwrap(), expected);
}

#[test]
fn write_inserts_after_the_contract_version_block() {
    let dir = temp_copy(&["missing.yaml"]);
    let path = dir.path().join("missing.yaml");
    let before = fs::read_to_string(&path).unwrap();
    let fp = computed(&path);
    onex(dir.path())
        .args(["fingerprint", "--write", "missing.yaml"])
        .assert()
        .code(0);
    let expected = before.replace(
        "  patch: 0\n\n# models\n",
        &format!("  patch: 0\nfingerprint: \"{fp}\"\n\n# models\n"),
    );
    assert_ne!(expected, before);
    assert_eq!(fs::read_to_string(&path).unwrap(), expected);
}

#[test]
fn write_keeps_crlf_line_endings_and_quote_style() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crlf.yaml");
    let text = "name: crlf\r\nnode_type: COMPUTE_GENERIC\r\ncontract_version: {major: 1, minor: 0, patch: 0}\r\nfingerprint: '1.0.0:ffffffffffff'\r\ninput_model: pkg.M\r\n";
    fs::write(&path, text).unwrap();
    let fp = computed(&path);
    onex(dir.path())
        .args(["fingerprint", "--write", "crlf.yaml"])
        .assert()
        .code(0);
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        text.replace("'1.0.0:ffffffffffff'", &format!("'{fp}'"))
    );
}

#[test]
fn files_that_cannot_be_fingerprinted() {
    let dir = fixtures().join("fingerprint");
    // Named explicitly, a document without `contract_version` is an error.
    onex(&dir)
        .args(["fingerprint", "no_version.yaml"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "error: no_version.yaml:1:1: the contract has no `contract_version`",
        ));
    onex(&dir)
        .args(["fingerprint", "nope.yaml"])
        .assert()
        .code(2)
        .stderr("error: cannot read `nope.yaml`: No such file or directory\n");
    // `--check` and `--write` together, or no path: usage errors.
    onex(&dir)
        .args(["fingerprint", "--check", "--write", "drifted.yaml"])
        .assert()
        .code(2);
    onex(&dir).arg("fingerprint").assert().code(2);
}

#[test]
fn matches_the_corpus_table() {
    let Some(corpus) = corpus() else { return };
    let output = onex(&corpus.join("valid"))
        .args(["fingerprint", "."])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let printed = stdout(&output);
    let table = fs::read_to_string(corpus.join("FINGERPRINTS.tsv")).unwrap();
    let mut rows = 0;
    for row in table.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let (path, computed) = (cols[0], cols[2]);
        let line = format!("{computed}  ./{path}");
        assert!(
            printed.lines().any(|l| l == line),
            "{line} not in\n{printed}"
        );
        rows += 1;
    }
    assert!(rows >= 40, "{rows} rows");
}

#[test]
fn write_over_the_corpus_touches_only_fingerprint_lines() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut originals = Vec::new();
    for entry in walk(&corpus.join("valid")) {
        let rel = entry.strip_prefix(corpus.join("valid")).unwrap().to_owned();
        let dest = dir.path().join(&rel);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::copy(&entry, &dest).unwrap();
        originals.push((rel, fs::read_to_string(&entry).unwrap()));
    }
    onex(dir.path())
        .args(["fingerprint", "--check", "."])
        .assert()
        .code(1);
    onex(dir.path())
        .args(["fingerprint", "--write", "."])
        .assert()
        .code(0);
    onex(dir.path())
        .args(["fingerprint", "--check", "."])
        .assert()
        .code(0);
    let mut changed = 0;
    for (rel, before) in originals {
        let after = fs::read_to_string(dir.path().join(&rel)).unwrap();
        if after == before {
            continue;
        }
        changed += 1;
        // Removing every `fingerprint:` line from both leaves identical text.
        let strip = |t: &str| {
            t.split_inclusive('\n')
                .filter(|l| !l.starts_with("fingerprint:"))
                .collect::<String>()
        };
        assert_eq!(strip(&before), strip(&after), "{}", rel.display());
        assert!(after.len() - strip(&after).len() <= 40);
    }
    assert!(changed >= 30, "{changed} files rewritten");
    // And the macros' loader no longer reports drift.
    let output = onex(dir.path())
        .args(["validate", ".", "--format", "json"])
        .output()
        .unwrap();
    assert!(!stdout(&output).contains("fingerprint-drift"));
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
