//! `onex validate`: reports (snapshots and explicit line:col), strictness, exit codes, and
//! the corpus.

mod common;
use common::{corpus, fixtures, onex, stdout};

use serde_json::Value;

fn json_report(args: &[&str]) -> (Value, i32) {
    let output = onex(&fixtures())
        .arg("validate")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    (report, output.status.code().unwrap())
}

/// `(file, line, column, severity, code)` of every finding.
fn located(report: &Value) -> Vec<(String, u64, u64, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["severity"].as_str().unwrap().to_owned(),
                f["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_planted_problem_is_reported_at_its_line_and_column() {
    let (report, code) = json_report(&["broken"]);
    assert_eq!(code, 1);
    let t = |file: &str, line, col, sev: &str, code: &str| {
        (file.to_owned(), line, col, sev.to_owned(), code.to_owned())
    };
    let expected = vec![
        t("broken/drift.yaml", 5, 14, "warning", "fingerprint-drift"),
        t("broken/drift.yaml", 10, 7, "warning", "topic-name"),
        t(
            "broken/duplicate_operation.yaml",
            9,
            18,
            "error",
            "duplicate-operation",
        ),
        t("broken/fsm.yaml", 12, 19, "error", "fsm-unreachable-state"),
        t("broken/fsm.yaml", 19, 30, "error", "fsm-unknown-operator"),
        t("broken/fsm.yaml", 22, 17, "error", "fsm-unknown-state"),
        t("broken/fsm.yaml", 25, 19, "error", "fsm-terminal-exit"),
        // Reported in the included file, at its own line:col.
        t(
            "broken/parts/door_fsm.yml",
            14,
            15,
            "error",
            "fsm-unknown-state",
        ),
        t(
            "broken/missing_contract_version.yaml",
            1,
            1,
            "error",
            "missing-key",
        ),
        t("broken/sql.yaml", 10, 25, "error", "sql-placeholders"),
        t("broken/sql.yaml", 10, 25, "error", "sql-placeholders"),
        t("broken/unknown_keys.yaml", 6, 1, "warning", "unknown-key"),
        t("broken/unknown_keys.yaml", 9, 7, "error", "unknown-key"),
        t(
            "broken/workflow_cycle.yaml",
            13,
            24,
            "error",
            "workflow-cycle",
        ),
        t(
            "broken/workflow_cycle.yaml",
            19,
            35,
            "error",
            "workflow-unknown-dependency",
        ),
        t("broken/yaml_syntax.yaml", 8, 6, "error", "yaml-syntax"),
    ];
    assert_eq!(located(&report), expected);
    let summary = &report["summary"];
    assert_eq!(summary["files"], 10);
    assert_eq!(summary["errors"], 13);
    assert_eq!(summary["warnings"], 3);
    assert_eq!(summary["exit_code"], 1);
}

#[test]
fn did_you_mean_and_help_reach_the_report() {
    let (report, _) = json_report(&["broken/unknown_keys.yaml"]);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings[0]["help"], "did you mean `description`?");
    assert_eq!(findings[1]["help"], "did you mean `operation_name`?");
    assert_eq!(
        findings[1]["message"],
        "unknown key `operation_nmae` in `effect_operations.operations[0]`"
    );
}

#[test]
fn human_report_snapshot() {
    let output = onex(&fixtures())
        .args(["validate", "broken", "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("validate_broken_human", stdout(&output));
}

#[test]
fn json_report_snapshot() {
    let output = onex(&fixtures())
        .args(["validate", "broken", "--format", "json"])
        .output()
        .unwrap();
    insta::assert_snapshot!("validate_broken_json", stdout(&output));
}

#[test]
fn human_report_has_snippet_caret_label_and_help() {
    let output = onex(&fixtures())
        .args(["validate", "broken/fsm.yaml", "--color", "never"])
        .output()
        .unwrap();
    let text = stdout(&output);
    assert!(text.contains("╭─[broken/fsm.yaml:22:17]"), "{text}");
    assert!(text.contains(" 22 │       to_state: lockd"), "{text}");
    assert!(text.contains("╰── fsm unknown state"), "{text}");
    assert!(text.contains("help: did you mean `locked`?"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no ANSI escapes with --color never"
    );
    assert!(
        text.ends_with(
            "Checked 1 file (1 node contract): 4 errors, no warnings; 1 file with errors.\n"
        ),
        "{text}"
    );
}

#[test]
fn colors_can_be_forced() {
    let output = onex(&fixtures())
        .args(["validate", "broken/fsm.yaml", "--color", "always"])
        .output()
        .unwrap();
    assert!(stdout(&output).contains('\u{1b}'));
}

#[test]
fn warnings_pass_unless_strict() {
    let (report, code) = json_report(&["broken/drift.yaml"]);
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["warnings"], 2);
    let (report, code) = json_report(&["broken/drift.yaml", "--strict"]);
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["errors"], 2);
    assert_eq!(report["summary"]["warnings"], 0);
    assert_eq!(report["findings"][0]["severity"], "error");
    assert_eq!(report["findings"][0]["code"], "fingerprint-drift");
}

#[test]
fn exit_codes() {
    let dir = fixtures();
    onex(&dir).args(["validate", "clean"]).assert().code(0);
    onex(&dir)
        .args(["validate", "clean", "--strict"])
        .assert()
        .code(0);
    onex(&dir).args(["validate", "broken"]).assert().code(1);
    onex(&dir)
        .args(["validate", "broken/fsm.yaml"])
        .assert()
        .code(1);
    // Usage errors.
    onex(&dir)
        .args(["validate", "--format", "xml"])
        .assert()
        .code(2);
    onex(&dir).args(["validate", "--nope"]).assert().code(2);
    onex(&dir).arg("frobnicate").assert().code(2);
    // A path that does not exist: an I/O problem, even beside valid files.
    onex(&dir)
        .args(["validate", "clean", "no/such/file.yaml"])
        .assert()
        .code(2)
        .stdout(predicates::str::contains(
            "cannot read `no/such/file.yaml`: No such file or directory",
        ));
}

#[test]
fn clean_contracts_report_nothing_but_the_summary() {
    let output = onex(&fixtures())
        .args(["validate", "clean"])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&output),
        "Checked 3 files (3 node contracts): no errors, no warnings.\n"
    );
}

#[test]
fn without_paths_the_current_directory_is_walked() {
    let output = onex(&fixtures().join("clean"))
        .arg("validate")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).starts_with("Checked 3 files"));
}

#[test]
fn the_valid_corpus_has_no_errors() {
    let Some(corpus) = corpus() else { return };
    let output = onex(&corpus)
        .args(["validate", "valid", "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(report["summary"]["errors"], 0);
    assert!(report["summary"]["files"].as_u64().unwrap() >= 47);
    // Every file is reported as what it is.
    for file in report["files"].as_array().unwrap() {
        assert!(file["kind"].is_string(), "{file}");
    }
    let kinds: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "effect",
        "compute",
        "reducer",
        "orchestrator",
        "workflow",
        "handler_contract",
        "db_repository",
        "fragment",
    ] {
        assert!(kinds.contains(&kind), "no {kind} in the corpus report");
    }
    // The human form says the same, with a note on the include fragment.
    let output = onex(&corpus).args(["validate", "valid"]).output().unwrap();
    let text = stdout(&output);
    assert!(
        text.contains("note: valid/includes/subcontracts/routing.yaml: not an ONEX contract"),
        "{text}"
    );
    assert!(text.contains(": no errors, "), "{text}");
}

#[test]
fn the_invalid_corpus_fails_with_include_errors() {
    let Some(corpus) = corpus() else { return };
    let (report, code) = {
        let output = onex(&corpus)
            .args(["validate", "invalid", "--format", "json"])
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        (report, output.status.code().unwrap())
    };
    assert_eq!(code, 1);
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    for expected in ["include-cycle", "include-security", "include-not-found"] {
        assert!(codes.contains(&expected), "{codes:?}");
    }
}
