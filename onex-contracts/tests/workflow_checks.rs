//! Orchestrator workflows: one test per check code (exact message, help and line:col), the
//! defaults and mode resolution, and a large generated graph (DESIGN.md §4.5, §5).

use std::path::Path;
use std::time::{Duration, Instant};

use onex_contracts::workflow::{ExecutionMode, FailureStrategy, Rules, Workflow};
use onex_contracts::{Loaded, NodeKind, Severity, load_source};

/// Lines 1-5; a body starts on line 6, under `workflow_definition` (4 spaces).
const HEAD: &str = "name: demo
node_type: ORCHESTRATOR_GENERIC
contract_version: {major: 1, minor: 0, patch: 0}
workflow_coordination:
  workflow_definition:
";

/// Loads `HEAD` + `body` (one string per line, from line 6).
fn load(body: &[&str]) -> Loaded {
    let text = format!("{HEAD}{}\n", body.join("\n"));
    load_source(Path::new("wf.yaml"), "wf.yaml", text)
}

/// The `workflow-*` findings, rendered (`wf.yaml:LINE:COL: message\n  help: …`); no other
/// finding is allowed.
fn findings(body: &[&str]) -> Vec<String> {
    let loaded = load(body);
    let others: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| !d.code.starts_with("workflow-"))
        .map(|d| loaded.render(d))
        .collect();
    assert!(others.is_empty(), "unexpected findings: {others:#?}");
    loaded
        .diagnostics
        .iter()
        .map(|d| loaded.render(d))
        .collect()
}

/// The workflow of a contract that must have no findings at all.
fn workflow(body: &[&str]) -> Workflow {
    let loaded = load(body);
    let all: Vec<String> = loaded
        .diagnostics
        .iter()
        .map(|d| loaded.render(d))
        .collect();
    assert!(all.is_empty(), "{all:#?}");
    loaded.workflow.expect("a workflow")
}

fn ids(wf: &Workflow, steps: &[usize]) -> Vec<String> {
    steps
        .iter()
        .map(|&i| wf.steps[i].id.value.clone())
        .collect()
}

// ---------------------------------------------------------------------------------------
// The IR: defaults, mode resolution, plan.
// ---------------------------------------------------------------------------------------

#[test]
fn a_minimal_workflow_gets_the_defaults() {
    let wf = workflow(&[
        "    execution_graph:",
        "      nodes:",
        "        - node_id: fetch",
        "          node_type: EFFECT_GENERIC",
        "          description: Fetch the data",
        "        - {node_id: store, node_type: reducer, depends_on: [fetch]}",
    ]);
    assert_eq!(wf.name, "demo", "no workflow_name: the contract's name");
    assert_eq!((wf.loc.line, wf.loc.col), (6, 5));
    assert_eq!(wf.mode, ExecutionMode::Sequential);
    assert_eq!(wf.rules, Rules::default());
    assert_eq!(wf.rules.max_parallel_steps, None);
    assert_eq!(wf.rules.failure_strategy, FailureStrategy::FailFast);
    assert_eq!(wf.rules.max_retries, 0);
    assert_eq!(wf.rules.retry_backoff_ms, 1000);
    assert_eq!(wf.rules.retry_backoff_multiplier, 2.0);
    assert_eq!(wf.rules.step_timeout_ms, None);
    assert_eq!(wf.rules.timeout_ms, None);
    assert!(wf.edges.is_empty());
    let fetch = &wf.steps[0];
    assert_eq!(fetch.id.value, "fetch");
    assert_eq!((fetch.id.loc.line, fetch.id.loc.col), (8, 20));
    assert_eq!((fetch.loc.line, fetch.loc.col), (8, 11));
    assert_eq!(fetch.kind, Some(NodeKind::Effect));
    assert_eq!(fetch.description.as_deref(), Some("Fetch the data"));
    assert!(!fetch.compensable);
    let store = &wf.steps[1];
    assert_eq!(store.kind, Some(NodeKind::Reducer));
    assert_eq!(store.node_type.as_ref().unwrap().value, "reducer");
    assert_eq!(wf.dependencies(1), [0]);
    assert_eq!(ids(&wf, &wf.order()), ["fetch", "store"]);
    assert_eq!(FailureStrategy::Compensate.as_str(), "compensate");
    assert_eq!(ExecutionMode::Batch.as_str(), "batch");
}

#[test]
fn every_rule_is_read() {
    let wf = workflow(&[
        "    workflow_metadata: {workflow_name: pipeline, execution_mode: batch}",
        "    coordination_rules:",
        "      max_parallel_steps: 4",
        "      failure_recovery_strategy: retry",
        "      max_retries: 3",
        "      retry_backoff_ms: 250",
        "      retry_backoff_multiplier: 1.5",
        "      step_timeout_ms: 60000",
        "      timeout_ms: 300000",
        "      detect_cycles: true",
        "    execution_graph:",
        "      nodes:",
        "        - {node_id: a, node_type: EFFECT_GENERIC}",
    ]);
    assert_eq!(wf.name, "pipeline");
    assert_eq!(wf.mode, ExecutionMode::Batch);
    assert_eq!(
        wf.rules,
        Rules {
            max_parallel_steps: Some(4),
            failure_strategy: FailureStrategy::Retry,
            failure_strategy_loc: wf.rules.failure_strategy_loc,
            max_retries: 3,
            retry_backoff_ms: 250,
            retry_backoff_multiplier: 1.5,
            step_timeout_ms: Some(60000),
            timeout_ms: Some(300000),
        }
    );
    let loc = wf.rules.failure_strategy_loc.unwrap();
    assert_eq!((loc.line, loc.col), (9, 34));
}

#[test]
fn execution_mode_resolution() {
    let graph = [
        "    execution_graph:",
        "      nodes:",
        "        - {node_id: a, node_type: EFFECT_GENERIC}",
    ];
    let with = |lines: &[&str]| workflow(&[lines, &graph[..]].concat()).mode;
    // The infra dialect writes the mode in `coordination_rules`.
    assert_eq!(
        with(&["    coordination_rules: {execution_mode: parallel}"]),
        ExecutionMode::Parallel
    );
    // No mode: `parallel_execution_allowed` decides.
    assert_eq!(
        with(&["    coordination_rules: {parallel_execution_allowed: true}"]),
        ExecutionMode::Parallel
    );
    assert_eq!(
        with(&["    coordination_rules: {parallel_execution_allowed: false}"]),
        ExecutionMode::Sequential
    );
    assert_eq!(with(&[]), ExecutionMode::Sequential);
    // A declared mode wins over `parallel_execution_allowed`.
    assert_eq!(
        with(&[
            "    workflow_metadata: {execution_mode: sequential}",
            "    coordination_rules: {parallel_execution_allowed: true}",
        ]),
        ExecutionMode::Sequential
    );
    // Both declarations, agreeing.
    assert_eq!(
        with(&[
            "    workflow_metadata: {execution_mode: batch}",
            "    coordination_rules: {execution_mode: batch}",
        ]),
        ExecutionMode::Batch
    );
}

#[test]
fn max_parallel_branches_is_an_alias() {
    let wf = workflow(&[
        "    coordination_rules: {max_parallel_branches: 2}",
        "    execution_graph:",
        "      nodes:",
        "        - {node_id: a, node_type: EFFECT_GENERIC}",
    ]);
    assert_eq!(wf.rules.max_parallel_steps, Some(2));
}

#[test]
fn compensable_steps_are_read() {
    let wf = workflow(&[
        "    coordination_rules: {failure_recovery_strategy: compensate}",
        "    execution_graph:",
        "      nodes:",
        "        - {node_id: reserve, node_type: EFFECT_GENERIC, compensable: true}",
        "        - {node_id: charge, node_type: EFFECT_GENERIC, depends_on: [reserve], compensable: false}",
    ]);
    assert_eq!(wf.rules.failure_strategy, FailureStrategy::Compensate);
    assert!(wf.steps[0].compensable);
    assert!(!wf.steps[1].compensable);
}

#[test]
fn dependencies_are_resolved_deduplicated_in_first_mention_order() {
    let loaded = load(&[
        "    execution_graph:",
        "      nodes:",
        "        - {node_id: a, node_type: EFFECT_GENERIC}",
        "        - {node_id: b, node_type: EFFECT_GENERIC}",
        "        - {node_id: c, node_type: EFFECT_GENERIC, depends_on: [b, ghost, a, b]}",
    ]);
    let wf = loaded.workflow.unwrap();
    assert_eq!(wf.dependencies(2), [1, 0]);
    assert_eq!(wf.dependencies(99), Vec::<usize>::new());
    assert_eq!(wf.index_of("b"), Some(1));
    assert_eq!(wf.index_of("ghost"), None);
    assert_eq!(ids(&wf, &wf.order()), ["a", "b", "c"]);
}

#[test]
fn a_cyclic_graph_plans_its_acyclic_part() {
    let loaded = load(&[
        "    execution_graph:",
        "      nodes:",
        "        - {node_id: start, node_type: EFFECT_GENERIC}",
        "        - {node_id: x, node_type: EFFECT_GENERIC, depends_on: [start, y]}",
        "        - {node_id: y, node_type: EFFECT_GENERIC, depends_on: [x]}",
        "        - {node_id: after, node_type: EFFECT_GENERIC, depends_on: [y]}",
        "        - {node_id: free, node_type: EFFECT_GENERIC, depends_on: [start]}",
    ]);
    let wf = loaded.workflow.unwrap();
    assert_eq!(ids(&wf, &wf.order()), ["start", "free"]);
    let waves: Vec<Vec<String>> = wf.waves().iter().map(|w| ids(&wf, w)).collect();
    assert_eq!(waves, [vec!["start"], vec!["free"]]);
}

#[test]
fn no_execution_graph_means_no_workflow_and_no_finding() {
    let loaded = load(&["    workflow_metadata: {workflow_name: empty}"]);
    assert!(loaded.workflow.is_none());
    assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
    // Other kinds never read the block.
    let text = HEAD.replace("ORCHESTRATOR_GENERIC", "COMPUTE_GENERIC")
        + "    execution_graph: {nodes: [{node_id: 1}]}\n";
    let loaded = load_source(Path::new("wf.yaml"), "wf.yaml", text);
    assert!(loaded.workflow.is_none());
    assert!(
        !loaded
            .diagnostics
            .iter()
            .any(|d| d.code.starts_with("workflow-"))
    );
}

#[test]
fn a_large_graph_loads_quickly_without_deep_recursion() {
    const N: usize = 2000;
    let mut lines = vec!["    execution_graph:".to_owned(), "      nodes:".to_owned()];
    // A chain s0 ← s1 ← … ← s1999, then 2000 steps fanning out of s0, then one join of all.
    lines.push("        - {node_id: s0, node_type: EFFECT_GENERIC}".to_owned());
    for i in 1..N {
        lines.push(format!(
            "        - {{node_id: s{i}, node_type: COMPUTE_GENERIC, depends_on: [s{}]}}",
            i - 1
        ));
    }
    for i in 0..N {
        lines.push(format!(
            "        - {{node_id: f{i}, node_type: EFFECT_GENERIC, depends_on: [s0]}}"
        ));
    }
    let all: Vec<String> = (0..N).map(|i| format!("f{i}")).collect();
    lines.push(format!(
        "        - {{node_id: join, node_type: REDUCER_GENERIC, depends_on: [{}, s{}]}}",
        all.join(", "),
        N - 1
    ));
    let body: Vec<&str> = lines.iter().map(String::as_str).collect();
    let started = Instant::now();
    let wf = workflow(&body);
    let order = wf.order();
    let waves = wf.waves();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(wf.steps.len(), 2 * N + 1);
    assert_eq!(order.len(), 2 * N + 1);
    // Heap order: s0, s1 (declared before every f), …, the chain, then the fan-out, then join.
    assert_eq!(order[..N], (0..N).collect::<Vec<_>>()[..]);
    assert_eq!(order[2 * N], 2 * N);
    assert_eq!(waves.len(), N + 1);
    assert_eq!(waves[1].len(), N + 1, "s1 and every f");
    assert_eq!(waves[N], [2 * N]);

    // A cycle through the whole chain is found (iteratively) and named once.
    let mut cyclic = lines.clone();
    cyclic[2] = format!(
        "        - {{node_id: s0, node_type: EFFECT_GENERIC, depends_on: [s{}]}}",
        N - 1
    );
    let body: Vec<&str> = cyclic.iter().map(String::as_str).collect();
    let loaded = load(&body);
    let cycles: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code == "workflow-cycle")
        .collect();
    assert_eq!(cycles.len(), 1);
    assert!(
        cycles[0]
            .message
            .starts_with("dependency cycle: s0 → s1 → s2 → ")
    );
    assert!(cycles[0].message.ends_with(" → s1999 → s0"));
    assert_eq!(cycles[0].loc.line, 8);
}

// ---------------------------------------------------------------------------------------
// One test per check.
// ---------------------------------------------------------------------------------------

#[test]
fn duplicate_step() {
    assert_eq!(
        findings(&[
            "    execution_graph:",
            "      nodes:",
            "        - {node_id: fetch, node_type: EFFECT_GENERIC}",
            "        - {node_id: fetch, node_type: COMPUTE_GENERIC}",
        ]),
        [
            "wf.yaml:9:21: step `fetch` is declared twice\n  help: node ids must be unique: rename or remove one of the two (the first is on line 8)"
        ]
    );
}

#[test]
fn unknown_dependency() {
    assert_eq!(
        findings(&[
            "    execution_graph:",
            "      nodes:",
            "        - {node_id: fetch_data, node_type: EFFECT_GENERIC}",
            "        - {node_id: store, node_type: EFFECT_GENERIC, depends_on: [fetch_dta]}",
            "        - {node_id: other, node_type: EFFECT_GENERIC, depends_on: [zzz]}",
        ]),
        [
            "wf.yaml:9:68: step `store` depends on `fetch_dta`, which is not a step\n  help: did you mean `fetch_data`?",
            "wf.yaml:10:68: step `other` depends on `zzz`, which is not a step\n  help: the steps are: fetch_data, store, other",
        ]
    );
}

#[test]
fn cycle_names_the_whole_path_in_execution_order() {
    assert_eq!(
        findings(&[
            "    execution_graph:",
            "      nodes:",
            "        - {node_id: fetch, node_type: EFFECT_GENERIC, depends_on: [persist]}",
            "        - {node_id: transform, node_type: COMPUTE_GENERIC, depends_on: [fetch]}",
            "        - {node_id: persist, node_type: EFFECT_GENERIC, depends_on: [transform]}",
        ]),
        [
            "wf.yaml:8:68: dependency cycle: fetch → transform → persist → fetch\n  help: `fetch` depends on `persist` here, which closes the cycle: remove one of the dependencies along it so the steps can be ordered"
        ]
    );
}

#[test]
fn self_dependency() {
    assert_eq!(
        findings(&[
            "    execution_graph:",
            "      nodes:",
            "        - {node_id: spin, node_type: EFFECT_GENERIC, depends_on: [spin, spin]}",
        ]),
        [
            "wf.yaml:8:67: dependency cycle: spin → spin\n  help: a step cannot depend on itself: remove `spin` from its `depends_on`"
        ]
    );
}

#[test]
fn each_distinct_cycle_is_reported_once() {
    let loaded = load(&[
        "    execution_graph:",
        "      nodes:",
        "        - {node_id: a, node_type: EFFECT_GENERIC, depends_on: [b, c]}",
        "        - {node_id: b, node_type: EFFECT_GENERIC, depends_on: [a]}",
        "        - {node_id: c, node_type: EFFECT_GENERIC, depends_on: [a]}",
        "        - {node_id: d, node_type: EFFECT_GENERIC, depends_on: [d, a]}",
    ]);
    let cycles: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code == "workflow-cycle")
        .map(|d| format!("{}: {}", d.loc, d.message))
        .collect();
    assert_eq!(
        cycles,
        [
            "8:64: dependency cycle: a → b → a",
            "8:67: dependency cycle: a → c → a",
            "11:64: dependency cycle: d → d",
        ]
    );
}

#[test]
fn edge_unknown_step() {
    assert_eq!(
        findings(&[
            "    execution_graph:",
            "      nodes:",
            "        - {node_id: fetch, node_type: EFFECT_GENERIC}",
            "        - {node_id: store, node_type: EFFECT_GENERIC, depends_on: [fetch]}",
            "      edges:",
            "        - {from_node: fetch, to_node: store}",
            "        - {from_node: fetchh, to_node: store}",
        ]),
        [
            "wf.yaml:12:23: edge `fetchh → store`: `from_node` `fetchh` is not a step\n  help: did you mean `fetch`?"
        ]
    );
}

#[test]
fn edge_without_dependency() {
    assert_eq!(
        findings(&[
            "    execution_graph:",
            "      nodes:",
            "        - {node_id: fetch, node_type: EFFECT_GENERIC}",
            "        - {node_id: store, node_type: EFFECT_GENERIC, depends_on: [fetch]}",
            "        - {node_id: audit, node_type: EFFECT_GENERIC}",
            "      edges:",
            "        - {from_node: fetch, to_node: store}",
            "        - {from_node: store, to_node: audit}",
        ]),
        [
            "wf.yaml:13:11: edge `store → audit` has no matching dependency: step `audit` does not list `store` in `depends_on`\n  help: add `store` to the `depends_on` of `audit`, or remove the edge (`edges` must agree with `depends_on`)"
        ]
    );
}

#[test]
fn dependency_without_edge() {
    assert_eq!(
        findings(&[
            "    execution_graph:",
            "      nodes:",
            "        - {node_id: fetch, node_type: EFFECT_GENERIC}",
            "        - {node_id: check, node_type: EFFECT_GENERIC}",
            "        - {node_id: store, node_type: EFFECT_GENERIC, depends_on: [fetch, check, check]}",
            "      edges:",
            "        - {from_node: fetch, to_node: store}",
        ]),
        [
            "wf.yaml:10:75: step `store` depends on `check`, but no edge `check → store` is declared\n  help: add `- {from_node: check, to_node: store}` to `execution_graph.edges`, or remove the dependency (when `edges` is declared it must agree with `depends_on`)"
        ]
    );
}

#[test]
fn execution_mode() {
    let graph = [
        "    execution_graph:",
        "      nodes:",
        "        - {node_id: a, node_type: EFFECT_GENERIC}",
    ];
    let check = |lines: &[&str]| findings(&[lines, &graph[..]].concat());
    assert_eq!(
        check(&["    workflow_metadata: {execution_mode: paralel}"]),
        [
            "wf.yaml:6:41: unknown execution mode `paralel` in `workflow_metadata.execution_mode`\n  help: did you mean `parallel`?"
        ]
    );
    assert_eq!(
        check(&["    workflow_metadata: {execution_mode: streaming}"]),
        [
            "wf.yaml:6:41: unknown execution mode `streaming` in `workflow_metadata.execution_mode`\n  help: the execution modes are: sequential, parallel, batch"
        ]
    );
    assert_eq!(
        check(&[
            "    workflow_metadata: {execution_mode: sequential}",
            "    coordination_rules: {execution_mode: parallel}",
        ]),
        [
            "wf.yaml:7:42: `coordination_rules.execution_mode` is `parallel` but `workflow_metadata.execution_mode` (at 6:41) is `sequential`\n  help: declare the execution mode once, or make both declarations agree"
        ]
    );
}

#[test]
fn failure_strategy() {
    assert_eq!(
        findings(&[
            "    coordination_rules: {failure_recovery_strategy: failfast}",
            "    execution_graph:",
            "      nodes:",
            "        - {node_id: a, node_type: EFFECT_GENERIC}",
        ]),
        [
            "wf.yaml:6:53: unknown failure recovery strategy `failfast` in `coordination_rules.failure_recovery_strategy`\n  help: did you mean `fail_fast`?"
        ]
    );
}

#[test]
fn rules_of_the_wrong_type_or_out_of_range() {
    assert_eq!(
        findings(&[
            "    coordination_rules:",
            "      max_parallel_steps: 0",
            "      max_retries: -1",
            "      retry_backoff_ms: fast",
            "      retry_backoff_multiplier: 0.5",
            "      step_timeout_ms: 0",
            "      timeout_ms: 1.5",
            "      parallel_execution_allowed: sometimes",
            "    execution_graph:",
            "      nodes:",
            "        - {node_id: a, node_type: EFFECT_GENERIC}",
        ]),
        [
            "wf.yaml:7:27: `coordination_rules.max_parallel_steps` is 0; it must be at least 1\n  help: use `max_parallel_steps: 1` to run one step at a time, or remove it for no limit",
            "wf.yaml:8:20: `coordination_rules.max_retries` is -1; it must be at least 0\n  help: write `max_retries` as a whole number, at least 0",
            "wf.yaml:9:25: `coordination_rules.retry_backoff_ms` must be an integer, found a string\n  help: write `retry_backoff_ms` as an integer",
            "wf.yaml:10:33: `coordination_rules.retry_backoff_multiplier` is 0.5; it must be a finite number of at least 1.0\n  help: each retry waits the previous delay times the multiplier: use 1.0 for a constant delay, 2.0 to double it",
            "wf.yaml:11:24: `coordination_rules.step_timeout_ms` is 0; it must be at least 1\n  help: a timeout is a positive number of milliseconds; remove `step_timeout_ms` for no timeout",
            "wf.yaml:12:19: `coordination_rules.timeout_ms` must be an integer, found a float\n  help: write `timeout_ms` as an integer",
            "wf.yaml:13:35: `coordination_rules.parallel_execution_allowed` must be a boolean, found a string\n  help: write `parallel_execution_allowed` as a boolean",
        ]
    );
}

#[test]
fn step_node_type() {
    assert_eq!(
        findings(&[
            "    execution_graph:",
            "      nodes:",
            "        - {node_id: a}",
            "        - {node_id: b, node_type: EFECT_GENERIC}",
            "        - {node_id: c, node_type: banana}",
            "        - {node_id: d, node_type: 7}",
        ]),
        [
            "wf.yaml:8:11: step `a` has no `node_type`\n  help: add `node_type: …`, one of EFFECT_GENERIC, COMPUTE_GENERIC, REDUCER_GENERIC or ORCHESTRATOR_GENERIC",
            "wf.yaml:9:35: step `b` has unknown `node_type` `EFECT_GENERIC`\n  help: did you mean `EFFECT_GENERIC`?",
            "wf.yaml:10:35: step `c` has unknown `node_type` `banana`\n  help: use EFFECT_GENERIC, COMPUTE_GENERIC, REDUCER_GENERIC or ORCHESTRATOR_GENERIC",
            "wf.yaml:11:35: `node_type` of step `d` must be a string, found an integer\n  help: write one of EFFECT_GENERIC, COMPUTE_GENERIC, REDUCER_GENERIC or ORCHESTRATOR_GENERIC",
        ]
    );
}

#[test]
fn step_id_missing_empty_or_not_a_string() {
    let help = "give each step a `node_id`: a unique name such as `fetch_data` (it names the step's handler method)";
    assert_eq!(
        findings(&[
            "    execution_graph:",
            "      nodes:",
            "        - {node_type: EFFECT_GENERIC}",
            "        - {node_id: '', node_type: EFFECT_GENERIC}",
            "        - {node_id: 42, node_type: EFFECT_GENERIC}",
        ]),
        [
            // Every step was dropped, so the graph is empty too.
            "wf.yaml:6:5: workflow `demo` declares no steps\n  help: add `execution_graph.nodes` with at least one `- {node_id: …, node_type: …}` step".to_owned(),
            format!("wf.yaml:8:11: `execution_graph.nodes[0]` has no `node_id`\n  help: {help}"),
            format!("wf.yaml:9:21: `execution_graph.nodes[1]` has an empty `node_id`\n  help: {help}"),
            format!("wf.yaml:10:21: `node_id` of `execution_graph.nodes[2]` must be a string, found an integer\n  help: {help}"),
        ]
    );
}

#[test]
fn step_ids_must_become_distinct_rust_names() {
    let help = "step ids name Rust items: use letters, digits and `_`, starting with a letter";
    assert_eq!(
        findings(&[
            "    execution_graph:",
            "      nodes:",
            "        - {node_id: fetch_data, node_type: EFFECT_GENERIC}",
            "        - {node_id: fetch-data, node_type: EFFECT_GENERIC}",
            "        - {node_id: 1st, node_type: EFFECT_GENERIC}",
            "        - {node_id: type, node_type: EFFECT_GENERIC}",
            "        - {node_id: FetchData, node_type: EFFECT_GENERIC}",
        ]),
        [
            "wf.yaml:9:21: steps `fetch_data` and `fetch-data` both become the enum variant `FetchData`\n  help: rename one of them (`fetch_data` is at 8:21)".to_owned(),
            format!("wf.yaml:10:21: step id `1st` cannot become a Rust enum variant: `1st` starts with `1`\n  help: {help}"),
            format!("wf.yaml:11:21: step id `type` becomes the handler method `type`, which is a Rust keyword\n  help: {help}"),
            "wf.yaml:12:21: steps `fetch_data` and `FetchData` both become the enum variant `FetchData`\n  help: rename one of them (`fetch_data` is at 8:21)".to_owned(),
        ]
    );
}

#[test]
fn compensate_with_nothing_to_compensate_is_a_warning() {
    let loaded = load(&[
        "    coordination_rules: {failure_recovery_strategy: compensate}",
        "    execution_graph:",
        "      nodes:",
        "        - {node_id: a, node_type: EFFECT_GENERIC}",
    ]);
    assert!(!loaded.has_errors());
    let d = &loaded.diagnostics[..];
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, Severity::Warning);
    assert_eq!(d[0].code, "workflow-compensate-nothing");
    assert_eq!(
        loaded.render(&d[0]),
        "wf.yaml:6:53: workflow `demo` uses `failure_recovery_strategy: compensate`, but no step is `compensable`\n  help: mark the steps that have a compensation handler with `compensable: true`, or choose another strategy (fail_fast, retry, continue)"
    );
}

#[test]
fn shapes() {
    assert_eq!(
        findings(&[
            "    execution_graph:",
            "      nodes:",
            "        - just_a_name",
            "        - {node_id: a, node_type: EFFECT_GENERIC, depends_on: b, compensable: yes}",
            "        - {node_id: b, node_type: EFFECT_GENERIC, depends_on: [a, 3]}",
            "      edges: {from_node: a, to_node: b}",
        ]),
        [
            "wf.yaml:8:11: `execution_graph.nodes[0]` must be a mapping, found a string\n  help: write each step as a mapping: `- {node_id: fetch, node_type: EFFECT_GENERIC}`",
            "wf.yaml:9:63: `depends_on` of step `a` must be a list of step ids, found a string\n  help: write `depends_on: [b]`",
            "wf.yaml:9:79: `compensable` of step `a` must be a boolean, found a string\n  help: write `compensable: true` for a step with a compensation handler",
            "wf.yaml:10:67: entries of `depends_on` of step `b` must be step ids (strings), found an integer\n  help: list the `node_id`s of the steps this one runs after",
            "wf.yaml:11:14: `execution_graph.edges` must be a list, found a mapping\n  help: write `execution_graph.edges` as a list (`- …` entries or `[…]`)",
        ]
    );
    assert_eq!(
        findings(&[
            "    execution_graph:",
            "      nodes: {node_id: a}",
            "      edges:",
            "        - [a, b]",
            "        - {from_node: a}",
        ]),
        [
            "wf.yaml:6:5: workflow `demo` declares no steps\n  help: add `execution_graph.nodes` with at least one `- {node_id: …, node_type: …}` step",
            "wf.yaml:7:14: `execution_graph.nodes` must be a list, found a mapping\n  help: write `execution_graph.nodes` as a list (`- …` entries or `[…]`)",
            "wf.yaml:9:11: `execution_graph.edges[0]` must be a mapping, found a sequence\n  help: write each edge as `- {from_node: fetch, to_node: transform}`",
            "wf.yaml:10:11: `execution_graph.edges[1]` has no `to_node`\n  help: an edge names two steps: `{from_node: fetch, to_node: transform}`",
        ]
    );
    let text = HEAD.replace(
        "  workflow_definition:\n",
        "  workflow_definition: [execution_graph]\n",
    );
    let loaded = load_source(Path::new("wf.yaml"), "wf.yaml", text);
    let rendered: Vec<String> = loaded
        .diagnostics
        .iter()
        .map(|d| loaded.render(d))
        .collect();
    assert_eq!(
        rendered,
        [
            "wf.yaml:5:24: `workflow_definition` must be a mapping, found a sequence\n  help: write `workflow_definition` as a mapping of keys to values"
        ]
    );
}

#[test]
fn a_misspelt_key_is_a_warning() {
    let loaded = load(&[
        "    coordination_rules: {max_paralel_steps: 2, emit_step_metrics: true, anything_else: 1}",
        "    execution_graph:",
        "      nodes:",
        "        - {node_id: a, node_type: EFFECT_GENERIC, depend_on: [b]}",
    ]);
    let rendered: Vec<String> = loaded
        .diagnostics
        .iter()
        .map(|d| loaded.render(d))
        .collect();
    assert_eq!(
        rendered,
        [
            "wf.yaml:6:26: unknown key `max_paralel_steps` in `coordination_rules` (ignored)\n  help: did you mean `max_parallel_steps`?",
            "wf.yaml:9:51: unknown key `depend_on` in `execution_graph.nodes[0]` (ignored)\n  help: did you mean `depends_on`?",
        ]
    );
    assert!(!loaded.has_errors());
}

#[test]
fn every_problem_is_collected() {
    let loaded = load(&[
        "    workflow_metadata: {execution_mode: paralel}",
        "    coordination_rules: {failure_recovery_strategy: undo, max_retries: many}",
        "    execution_graph:",
        "      nodes:",
        "        - {node_id: fetch, node_type: EFFECT_GENERIC, depends_on: [store]}",
        "        - {node_id: fetch, node_type: EFECT}",
        "        - {node_id: store, node_type: EFFECT_GENERIC, depends_on: [fetch, ghost]}",
        "      edges:",
        "        - {from_node: fetch, to_node: nowhere}",
    ]);
    let found: Vec<(&str, u32)> = loaded
        .diagnostics
        .iter()
        .map(|d| (d.code, d.loc.line))
        .collect();
    assert_eq!(
        found,
        [
            ("workflow-execution-mode", 6),
            ("workflow-failure-strategy", 7),
            ("workflow-rule", 7),
            ("workflow-cycle", 10),
            ("workflow-dependency-without-edge", 10),
            ("workflow-duplicate-step", 11),
            ("workflow-step-node-type", 11),
            ("workflow-dependency-without-edge", 12),
            ("workflow-unknown-dependency", 12),
            ("workflow-edge-unknown-step", 14),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Random graphs: the plan is always consistent, and never panics.
// ---------------------------------------------------------------------------------------

/// Random graphs (ids from a small pool, so duplicates happen; dependencies on any id,
/// unknown ones included, so cycles and dangling entries happen): the order is a
/// topological order of what it holds, the waves hold the same steps at their earliest
/// level, and a step is left out only when a cycle was reported.
#[test]
fn random_graphs_plan_consistently() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let config = Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    };
    let graph = prop::collection::vec((0..24usize, prop::collection::vec(0..28usize, 0..4)), 0..20);
    TestRunner::new(config)
        .run(&graph, |steps| {
            let mut body = vec!["    execution_graph:".to_owned(), "      nodes:".to_owned()];
            for (id, deps) in &steps {
                let deps: Vec<String> = deps.iter().map(|d| format!("s{d}")).collect();
                body.push(format!(
                    "        - {{node_id: s{id}, node_type: EFFECT_GENERIC, depends_on: [{}]}}",
                    deps.join(", ")
                ));
            }
            let lines: Vec<&str> = body.iter().map(String::as_str).collect();
            let loaded = load(&lines);
            let wf = loaded.workflow.as_ref().expect("a workflow");
            let n = wf.steps.len();
            let order = wf.order();
            let mut position = vec![None; n];
            for (at, &i) in order.iter().enumerate() {
                prop_assert!(position[i].is_none(), "{i} twice");
                position[i] = Some(at);
            }
            for &i in &order {
                for dep in wf.dependencies(i) {
                    prop_assert!(position[dep] < position[i] && position[dep].is_some());
                }
            }
            let mut level = vec![None; n];
            for (w, wave) in wf.waves().iter().enumerate() {
                prop_assert!(wave.windows(2).all(|p| p[0] < p[1]), "declaration order");
                for &i in wave {
                    level[i] = Some(w);
                }
            }
            for i in 0..n {
                prop_assert_eq!(level[i].is_some(), position[i].is_some());
                if let Some(l) = level[i] {
                    let deps: Vec<usize> = wf
                        .dependencies(i)
                        .iter()
                        .filter_map(|&d| level[d])
                        .collect();
                    prop_assert_eq!(deps.len(), wf.dependencies(i).len());
                    prop_assert_eq!(l, deps.iter().max().map_or(0, |m| m + 1), "earliest wave");
                }
            }
            let cyclic = loaded
                .diagnostics
                .iter()
                .any(|d| d.code == "workflow-cycle");
            prop_assert_eq!(order.len() < n, cyclic);
            Ok(())
        })
        .unwrap();
}
