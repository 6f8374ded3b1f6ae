//! The workflow vectors recorded from the Python reference (`../shared/onex-vectors/workflow/`,
//! `workflow_invalid/`; semantics in that directory's README, section "Workflow vectors").
//!
//! Valid graphs (the 6 corpus orchestrators and the 2 synthetic graphs): onex loads them
//! without errors, and its plan equals Python's: `order()` is `get_execution_order`
//! (sequential/batch) and `waves()` the waves `_execute_parallel` ran. Invalid graphs: onex
//! rejects each with its own codes, at the recorded places. Skipped (with a printed reason)
//! when `../shared` is absent.

mod common;
use common::{shared, yaml_files};

use std::path::{Path, PathBuf};

use onex_contracts::workflow::{ExecutionMode, Workflow};
use onex_contracts::{Loaded, load_file};
use serde_json::Value;

fn ids(wf: &Workflow, steps: &[usize]) -> Vec<String> {
    steps
        .iter()
        .map(|&i| wf.steps[i].id.value.clone())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected a list, found {v}"))
        .iter()
        .map(|s| s.as_str().expect("a string").to_owned())
        .collect()
}

/// The contract a vector was recorded from: corpus contracts are named relative to
/// `onex-corpus`, synthetic ones relative to `onex-vectors`.
fn contract_path(shared: &Path, contract: &str) -> PathBuf {
    let corpus = shared.join("onex-corpus").join(contract);
    if corpus.is_file() {
        corpus
    } else {
        shared.join("onex-vectors").join(contract)
    }
}

fn rendered_errors(loaded: &Loaded) -> Vec<String> {
    loaded.errors().map(|d| loaded.render(d)).collect()
}

#[test]
fn valid_graphs_match_the_python_order_and_waves() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("onex-vectors/workflow");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("workflow vectors")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n != "_summary.json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 8, "6 corpus graphs and 2 synthetic ones");
    let mut corpus = 0;
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let contract = v["contract"].as_str().expect("contract");
        corpus += usize::from(contract.starts_with("valid/"));
        let loaded = load_file(&contract_path(&shared, contract), contract);
        assert!(
            !loaded.has_errors(),
            "{name}: {:#?}",
            rendered_errors(&loaded)
        );
        let findings: Vec<String> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.code.starts_with("workflow-"))
            .map(|d| loaded.render(d))
            .collect();
        assert!(
            findings.is_empty(),
            "{name}: no workflow warnings either: {findings:#?}"
        );
        let wf = loaded
            .workflow
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: no workflow"));

        let order = strings(&v["executor"]["get_execution_order"]["order"]);
        assert_eq!(ids(wf, &wf.order()), order, "{name}: sequential order");
        let waves: Vec<Vec<String>> = v["executor"]["execute_parallel"]["waves"]
            .as_array()
            .expect("waves")
            .iter()
            .map(strings)
            .collect();
        let ours: Vec<Vec<String>> = wf.waves().iter().map(|w| ids(wf, w)).collect();
        assert_eq!(ours, waves, "{name}: parallel waves");

        assert_eq!(wf.name, v["workflow_name"].as_str().unwrap(), "{name}");
        let declared = &v["declared_execution_mode"];
        let mode = declared["workflow_metadata.execution_mode"]
            .as_str()
            .or(declared["coordination_rules.execution_mode"].as_str())
            .expect("every vector declares a mode");
        assert_eq!(wf.mode, ExecutionMode::from_name(mode).unwrap(), "{name}");
        let nodes = v["nodes"].as_array().unwrap();
        assert_eq!(wf.steps.len(), nodes.len(), "{name}");
        assert_eq!(
            wf.edges.len(),
            v["edges"].as_array().map_or(0, Vec::len),
            "{name}"
        );
    }
    assert_eq!(corpus, 6);
}

/// Loads `workflow_invalid/<name>.yaml`; returns its `workflow-*` findings as
/// `(code, line, col, message)`, sorted by location.
fn invalid(shared: &Path, name: &str) -> Vec<(&'static str, u32, u32, String)> {
    let path = shared.join(format!("onex-vectors/workflow_invalid/{name}.yaml"));
    let loaded = load_file(&path, name);
    assert!(loaded.workflow.is_some(), "{name}: no workflow");
    let others: Vec<String> = loaded
        .errors()
        .filter(|d| !d.code.starts_with("workflow-"))
        .map(|d| loaded.render(d))
        .collect();
    assert!(others.is_empty(), "{name}: {others:#?}");
    loaded
        .diagnostics
        .iter()
        .filter(|d| d.code.starts_with("workflow-"))
        .map(|d| (d.code, d.loc.line, d.loc.col, d.message.clone()))
        .collect()
}

#[test]
fn every_invalid_graph_is_covered() {
    let Some(shared) = shared() else { return };
    let names: Vec<String> = yaml_files(&shared.join("onex-vectors/workflow_invalid"))
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "wf_invalid_cycle",
            "wf_invalid_duplicate_node_id",
            "wf_invalid_edges_disagree",
            "wf_invalid_missing_dependency",
            "wf_invalid_self_dependency",
        ]
    );
}

#[test]
fn cycle_is_named_in_execution_order_where_it_closes() {
    let Some(shared) = shared() else { return };
    // Python: "Execution graph contains a cycle (must be a DAG)", no path (its graph
    // validator names one from a hash-ordered start). onex names the whole path from the
    // first-declared step, at the entry closing it: `fetch` (line 17) depends on `persist`.
    assert_eq!(
        invalid(&shared, "wf_invalid_cycle"),
        [(
            "workflow-cycle",
            17,
            68,
            "dependency cycle: fetch → transform → persist → fetch".to_owned()
        )]
    );
}

#[test]
fn self_dependency_is_a_one_step_cycle() {
    let Some(shared) = shared() else { return };
    assert_eq!(
        invalid(&shared, "wf_invalid_self_dependency"),
        [
            // The id `loop` would name the handler method `loop`, a Rust keyword: onex also
            // rejects it as a step id (Python has no such constraint).
            (
                "workflow-step-id",
                16,
                21,
                "step id `loop` becomes the handler method `loop`, which is a Rust keyword"
                    .to_owned()
            ),
            (
                "workflow-cycle",
                16,
                76,
                "dependency cycle: loop → loop".to_owned()
            ),
        ]
    );
}

#[test]
fn missing_dependency_is_reported_at_the_entry() {
    let Some(shared) = shared() else { return };
    // Python: "Execution graph node 'enrich' depends on undeclared node_id(s): ['ghost_node']".
    assert_eq!(
        invalid(&shared, "wf_invalid_missing_dependency"),
        [(
            "workflow-unknown-dependency",
            16,
            76,
            "step `enrich` depends on `ghost_node`, which is not a step".to_owned()
        )]
    );
}

#[test]
fn duplicate_node_id_is_reported_at_the_second() {
    let Some(shared) = shared() else { return };
    // Python's contract binding rejects it too ("duplicate node_id values: ['step_a']").
    assert_eq!(
        invalid(&shared, "wf_invalid_duplicate_node_id"),
        [(
            "workflow-duplicate-step",
            17,
            21,
            "step `step_a` is declared twice".to_owned()
        )]
    );
}

/// Python accepts this graph: its contract binding ignores `edges` completely and runs
/// `a, b, c` from `depends_on`. onex requires declared edges to agree with `depends_on`, so
/// it rejects every disagreement.
#[test]
fn edges_that_disagree_with_depends_on_are_rejected() {
    let Some(shared) = shared() else { return };
    let codes: Vec<(&str, u32)> = invalid(&shared, "wf_invalid_edges_disagree")
        .into_iter()
        .map(|(code, line, _, _)| (code, line))
        .collect();
    assert_eq!(
        codes,
        [
            // `b` depends on `a`, but no edge `a → b`.
            ("workflow-dependency-without-edge", 20),
            // `c → a`: `a` depends on nothing.
            ("workflow-edge-without-dependency", 23),
            // `a → c`: `c` depends on `b` only.
            ("workflow-edge-without-dependency", 24),
            // `phantom → b`: no step `phantom`.
            ("workflow-edge-unknown-step", 26),
        ]
    );
}
