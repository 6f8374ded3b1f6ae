//! The compatibility corpus: real ONEX contracts from the Python ecosystem.
//!
//! Every file in `valid/` must load without errors and be classified as `INDEX.md` says;
//! every node contract must lower to operations; every file in `invalid/` must fail with
//! the expected error. Skipped (with a printed reason) when `../shared` is absent.

mod common;
use common::{corpus, yaml_files};

use std::path::Path;

use onex_contracts::{DocumentKind, NodeKind, load_file};

/// The kind column of INDEX.md for `valid/...` entries.
fn expected_kinds(corpus: &Path) -> Vec<(String, String)> {
    let index = std::fs::read_to_string(corpus.join("INDEX.md")).unwrap();
    index
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("- `")?;
            let (path, rest) = rest.split_once('`')?;
            let kind = rest.trim_start_matches(" |").split('|').next()?.trim();
            (path.starts_with("valid/") && path.ends_with(".yaml"))
                .then(|| (path.to_owned(), kind.to_owned()))
        })
        .collect()
}

fn kind_name(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Node(NodeKind::Effect) => "effect",
        DocumentKind::Node(NodeKind::Compute) => "compute",
        DocumentKind::Node(NodeKind::Reducer) => "reducer",
        DocumentKind::Node(NodeKind::Orchestrator) => "orchestrator",
        DocumentKind::Workflow => "workflow",
        DocumentKind::HandlerContract => "handler-contract",
        DocumentKind::DbRepository | DocumentKind::Fragment => "no node_type",
    }
}

#[test]
fn every_valid_file_loads_without_errors_and_has_the_indexed_kind() {
    let Some(corpus) = corpus() else { return };
    let kinds = expected_kinds(&corpus);
    assert!(
        kinds.len() >= 45,
        "INDEX.md lists {} valid files",
        kinds.len()
    );
    let mut failures = Vec::new();
    for (rel, expected) in &kinds {
        let path = corpus.join(rel);
        let loaded = load_file(&path, rel);
        for e in loaded.errors() {
            failures.push(loaded.render(e));
        }
        let Some(contract) = &loaded.contract else {
            failures.push(format!("{rel}: no contract"));
            continue;
        };
        if kind_name(contract.kind) != expected {
            failures.push(format!(
                "{rel}: kind {:?}, INDEX.md says {expected}",
                contract.kind
            ));
        }
        if let Some(kind) = contract.node_kind() {
            let ops = loaded.operations.as_ref().expect("node contracts lower");
            if matches!(kind, NodeKind::Effect | NodeKind::Compute) && ops.operations.is_empty() {
                failures.push(format!("{rel}: no operations"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_node_file_is_indexed() {
    let Some(corpus) = corpus() else { return };
    let kinds = expected_kinds(&corpus);
    for file in yaml_files(&corpus.join("valid/nodes")) {
        let rel = format!(
            "valid/nodes/{}",
            file.file_name().unwrap().to_string_lossy()
        );
        assert!(
            kinds.iter().any(|(p, _)| *p == rel),
            "{rel} missing from INDEX.md"
        );
    }
}

#[test]
fn include_is_merged() {
    let Some(corpus) = corpus() else { return };
    let loaded = load_file(
        &corpus.join("valid/includes/contract_with_include.yaml"),
        "contract_with_include.yaml",
    );
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let contract = loaded.contract.unwrap();
    let routing = contract.root.get("routing").expect("routing");
    assert!(
        routing.get("default_handler").is_some(),
        "included mapping merged: {routing:?}"
    );
    assert_eq!(routing.loc.source, 1, "included nodes remember their file");
    assert_eq!(loaded.sources.len(), 2);
    assert_eq!(loaded.sources[1].display, "subcontracts/routing.yaml");
}

#[test]
fn invalid_includes_fail_with_the_expected_error() {
    let Some(corpus) = corpus() else { return };
    let cases = [
        // The cycle is reported at the `!include` that closes it, in the file that holds it.
        (
            "circular_a.yaml",
            "circular_b.yaml",
            "include-cycle",
            "circular include: circular_a.yaml → circular_b.yaml → circular_a.yaml",
        ),
        (
            "circular_b.yaml",
            "circular_a.yaml",
            "include-cycle",
            "circular include: circular_b.yaml → circular_a.yaml → circular_b.yaml",
        ),
        (
            "self_reference.yaml",
            "self_reference.yaml",
            "include-cycle",
            "circular include: self_reference.yaml → self_reference.yaml",
        ),
        (
            "path_traversal.yaml",
            "path_traversal.yaml",
            "include-security",
            "path traversal is not allowed",
        ),
        (
            "absolute_path.yaml",
            "absolute_path.yaml",
            "include-security",
            "absolute paths are not allowed",
        ),
        (
            "missing_include.yaml",
            "missing_include.yaml",
            "include-not-found",
            "include file not found: `nonexistent_file.yaml`",
        ),
    ];
    let dir = corpus.join("invalid/includes");
    assert_eq!(
        yaml_files(&dir).len(),
        cases.len(),
        "every invalid file has a case"
    );
    for (file, reported_in, code, message) in cases {
        let loaded = load_file(&dir.join(file), file);
        let errors: Vec<_> = loaded.errors().collect();
        assert_eq!(errors.len(), 1, "{file}: {errors:#?}");
        assert_eq!(errors[0].code, code, "{file}");
        assert!(
            errors[0].message.contains(message),
            "{file}: {}",
            errors[0].message
        );
        assert_eq!(errors[0].loc.line, 5, "{file}: the `!include` line");
        let rendered = loaded.render(errors[0]);
        assert!(
            rendered.starts_with(&format!("{reported_in}:5:")),
            "{file}: {rendered}"
        );
    }
}
