//! `onex graph`: Mermaid and DOT snapshots of reducers and orchestrators, and refusals.

mod common;
use common::{corpus, fixtures, onex, stderr, stdout};

fn graph(dir: &std::path::Path, file: &str, format: &str) -> String {
    let output = onex(dir)
        .args(["graph", file, "--format", format])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output)
}

#[test]
fn reducer_fixture() {
    let dir = fixtures().join("clean");
    let mermaid = graph(&dir, "reducer.yaml", "mermaid");
    // Initial and terminal states, guards and priorities, the wildcard and error states.
    assert!(mermaid.contains("    [*] --> cart\n"));
    assert!(mermaid.contains("    delivered --> [*]\n"));
    assert!(mermaid.contains(
        "    cart --> paid : checkout [items greater_than 0 && coupon exists _] (priority 10)\n"
    ));
    assert!(mermaid.contains("    cart --> paid : checkout [total #gt; 0]\n"));
    assert!(mermaid.contains("    any_state --> cancelled : cancel\n"));
    assert!(mermaid.contains("    class failed error\n"));
    insta::assert_snapshot!("reducer_fixture_mermaid", mermaid);
    insta::assert_snapshot!("reducer_fixture_dot", graph(&dir, "reducer.yaml", "dot"));
    // The default format is Mermaid, and output is deterministic.
    let output = onex(&dir).args(["graph", "reducer.yaml"]).output().unwrap();
    assert_eq!(stdout(&output), graph(&dir, "reducer.yaml", "mermaid"));
}

#[test]
fn orchestrator_fixture() {
    let dir = fixtures().join("clean");
    let mermaid = graph(&dir, "orchestrator.yaml", "mermaid");
    assert!(mermaid.contains("waves: [fetch] [validate, enrich] [store]"));
    insta::assert_snapshot!("orchestrator_fixture_mermaid", mermaid);
    insta::assert_snapshot!(
        "orchestrator_fixture_dot",
        graph(&dir, "orchestrator.yaml", "dot")
    );
}

#[test]
fn corpus_reducer_and_orchestrator() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("valid/nodes");
    let reducer = "omnibase_core__examples__contracts__reducer_metrics_aggregator.yaml";
    let orchestrator = "omnibase_core__examples__contracts__orchestrator_data_pipeline.yaml";
    insta::assert_snapshot!("corpus_reducer_mermaid", graph(&dir, reducer, "mermaid"));
    insta::assert_snapshot!("corpus_reducer_dot", graph(&dir, reducer, "dot"));
    insta::assert_snapshot!(
        "corpus_orchestrator_mermaid",
        graph(&dir, orchestrator, "mermaid")
    );
    insta::assert_snapshot!("corpus_orchestrator_dot", graph(&dir, orchestrator, "dot"));
    // The infra dialect (`state_machine`, two-token guards) draws too.
    let infra = graph(
        &dir,
        "omnibase_infra__src__omnibase_infra__nodes__node_registration_reducer__contract.yaml",
        "mermaid",
    );
    assert!(infra.contains(
        "idle --> pending : introspection_received [node_id is_present && node_type is_valid]"
    ));
}

#[test]
fn refusals() {
    let dir = fixtures();
    onex(&dir)
        .args(["graph", "clean/effect.yaml"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicates::str::contains(
            "error: clean/effect.yaml: nothing to draw: an effect node contract has neither a state machine",
        ));
    // A contract with errors: the errors, and no graph.
    onex(&dir)
        .args(["graph", "broken/fsm.yaml", "--color", "never"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicates::str::contains("fsm unknown state"))
        .stderr(predicates::str::contains(
            "error: the contract has errors; fix them to draw its graph",
        ));
    onex(&dir)
        .args(["graph", "no/such.yaml"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot read `no/such.yaml`"));
    onex(&dir)
        .args(["graph", "clean/reducer.yaml", "--format", "png"])
        .assert()
        .code(2);
}
