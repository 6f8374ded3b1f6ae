//! Checks the demo `cargo run -p infra_demo` prints, so it cannot silently rot: the nodes'
//! contracts, the in-process run with both databases unreachable (every transition and every
//! intent acted on), the binary itself (default run, redaction, NATS unreachable), and, with
//! services, a healthy primary writing one heartbeat per round and the `--bus nats` run.

use std::process::{Command, Output};
use std::sync::Arc;

use infra_demo::driver::{Driver, RoundOutcome, RoundReport};
use infra_demo::fleet::{self, Databases, Fleet, Role, UNREACHABLE_URL};
use infra_demo::instance::{
    PRIMARY_ADAPTER_TOPIC, PRIMARY_LIFECYCLE_TOPIC, REPLICA_ADAPTER_TOPIC, REPLICA_LIFECYCLE_TOPIC,
};
use infra_demo::{
    Action, Heartbeat, InfraDemoOrchestrator, LifecycleRound, Service, ServiceActions, timeline,
};
use infra_reducer::{ServiceLifecycleIntent as I, ServiceLifecycleState as S};
use onex_runtime::bus::{EventBus, InMemoryBus};
use onex_runtime::host::NodeStats;
use onex_runtime::postgres::PgSettings;
use onex_runtime::{ErrorCode, OrchestratorNode, Uuid};

fn unreachable() -> PgSettings {
    PgSettings::parse(UNREACHABLE_URL).unwrap()
}

/// Runs `rounds` rounds in-process against `databases`; returns the outcomes and the
/// host's final stats.
async fn run(databases: Databases, rounds: u32) -> (Vec<RoundOutcome>, Vec<NodeStats>, Uuid) {
    let fleet = Fleet::new(&databases).unwrap();
    fleet.setup().await;
    let bus: Arc<dyn EventBus> = Arc::new(InMemoryBus::new());
    let host = fleet::serve(Arc::clone(&bus), &Role::ALL, &fleet)
        .await
        .unwrap();
    let driver = Driver::new(bus, Uuid::new_v4());
    let mut outcomes = Vec::new();
    for n in 1..=rounds {
        outcomes.push(driver.round(n).await);
    }
    let stats = host.shutdown().await.stats;
    (outcomes, stats, driver.run_id())
}

fn report(outcome: &RoundOutcome) -> &RoundReport {
    match &outcome.result {
        Ok(report) => report,
        Err(e) => panic!("round {} failed: {e}", outcome.round),
    }
}

fn lifecycle(outcome: &RoundOutcome, service: Service) -> &LifecycleRound {
    report(outcome).outputs.lifecycle(service).unwrap()
}

fn acted(outcome: &RoundOutcome, service: Service) -> &ServiceActions {
    report(outcome).outputs.actions(service).unwrap()
}

/// `(from, trigger, to, intents)` of each transition, by contract names.
fn moves(round: &LifecycleRound) -> Vec<(S, &'static str, S, Vec<I>)> {
    round
        .transitions
        .iter()
        .map(|t| (t.from, t.trigger.as_str(), t.to, t.intents.clone()))
        .collect()
}

fn node<'a>(stats: &'a [NodeStats], node: &str) -> &'a NodeStats {
    stats.iter().find(|s| s.node == node).unwrap()
}

#[test]
fn the_nodes_and_their_topics() {
    let nodes = fleet::nodes();
    let names: Vec<&str> = nodes.iter().map(|n| n.contract.name).collect();
    assert_eq!(
        names,
        [
            "postgres_adapter",
            "postgres_adapter_replica",
            "service_lifecycle_primary",
            "service_lifecycle_replica",
            "infra_demo",
        ]
    );
    let topics: Vec<&str> = nodes
        .iter()
        .map(|n| n.contract.subscribe_topics[0])
        .collect();
    assert_eq!(
        topics,
        [
            PRIMARY_ADAPTER_TOPIC,
            REPLICA_ADAPTER_TOPIC,
            PRIMARY_LIFECYCLE_TOPIC,
            REPLICA_LIFECYCLE_TOPIC,
            infra_demo::driver::ROUND_TOPIC,
        ]
    );
    // Each instance keeps its node's operations and fingerprint.
    assert_eq!(nodes[0].contract.operations, nodes[1].contract.operations);
    assert_eq!(nodes[0].contract.fingerprint, nodes[1].contract.fingerprint);
    assert_eq!(nodes[2].contract.fingerprint, nodes[3].contract.fingerprint);

    let contract = <InfraDemoOrchestrator as OrchestratorNode>::CONTRACT;
    assert!(!contract.fingerprint_drifted(), "{}", contract.fingerprint);
    assert_eq!(contract.declared_fingerprint, Some(contract.fingerprint));
    let plan = <InfraDemoOrchestrator as OrchestratorNode>::PLAN;
    assert_eq!(plan.name, "infra_demo_round");
    let waves: Vec<Vec<&str>> = plan
        .waves
        .iter()
        .map(|wave| wave.iter().map(|step| step.as_str()).collect())
        .collect();
    assert_eq!(
        waves,
        [
            vec!["check_primary", "check_replica"],
            vec!["aggregate"],
            vec!["act"]
        ]
    );
}

/// Both databases down (no service needed): the reducers and the orchestrator handle it,
/// round by round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_databases_unreachable() {
    let fleet = Fleet::new(&Databases::new(unreachable(), unreachable())).unwrap();
    let setup = fleet.setup().await;
    let refused = setup.refused_by_adapter.as_deref().unwrap();
    assert!(
        refused.starts_with(ErrorCode::SecurityViolation.as_str()),
        "{refused}"
    );
    assert!(setup.created.is_err());

    let (outcomes, stats, _) = run(Databases::new(unreachable(), unreachable()), 6).await;
    for outcome in &outcomes {
        let report = report(outcome);
        assert_eq!(report.status, "completed", "round {}", outcome.round);
        for step in ["check_primary", "check_replica", "aggregate", "act"] {
            assert_eq!(report.trace.step(step).unwrap().status, "completed");
        }
    }

    for service in Service::ALL {
        // Round 1: started, the first check fails, a restart is asked for and tried.
        let round = lifecycle(&outcomes[0], service);
        assert!(!report(&outcomes[0]).outputs.probe(service).unwrap().healthy);
        assert_eq!(
            moves(round),
            [
                (
                    S::Unknown,
                    "start",
                    S::Starting,
                    vec![I::LaunchService, I::StartProbe]
                ),
                (
                    S::Starting,
                    "health_failed",
                    S::Starting,
                    vec![I::RestartService, I::StartProbe]
                ),
            ],
            "{service}"
        );
        // Rounds 1-3: three restarts, each a reconnect that finds the database still down.
        for (n, outcome) in outcomes[..3].iter().enumerate() {
            let round = lifecycle(outcome, service);
            assert_eq!(round.state, S::Starting);
            assert_eq!(round.counters.retry_count, n as i64 + 1);
            assert_eq!(round.counters.consecutive_failures, n as i64 + 1);
            let reconnects: Vec<(i64, bool)> = acted(outcome, service)
                .actions
                .iter()
                .filter_map(|a| match a {
                    Action::Reconnect { attempt, probe } => Some((*attempt, probe.healthy)),
                    _ => None,
                })
                .collect();
            assert_eq!(
                reconnects,
                [(n as i64 + 1, false)],
                "{service} round {}",
                n + 1
            );
        }
        // Round 4: retries spent, so `give_up_start`: failed, alert; the restart it is
        // then asked for is refused by the guard: escalated.
        let round = lifecycle(&outcomes[3], service);
        assert_eq!(
            moves(round),
            [(S::Starting, "health_failed", S::Failed, vec![I::Alert])]
        );
        assert_eq!(round.rejected.len(), 1);
        assert_eq!(round.rejected[0].trigger.as_str(), "restart");
        assert_eq!(
            round.rejected[0].failed_conditions,
            ["retry_count less_than 3"]
        );
        assert!(round.escalated);
        let actions = &acted(&outcomes[3], service).actions;
        assert!(
            matches!(
                &actions[..],
                [Action::Alert { .. }, Action::Escalate { .. }]
            ),
            "{actions:?}"
        );
        // Rounds 5-6: still failed (no news), restart still refused, still escalated.
        for outcome in &outcomes[4..] {
            let round = lifecycle(outcome, service);
            assert!(round.unchanged && round.transitions.is_empty());
            assert_eq!(round.state, S::Failed);
            assert!(round.escalated);
            let actions = &acted(outcome, service).actions;
            assert!(
                matches!(&actions[..], [Action::Escalate { .. }]),
                "{actions:?}"
            );
        }
        // No heartbeat is ever attempted on a database that is down.
        assert!(
            outcomes
                .iter()
                .all(|o| acted(o, service).heartbeat.is_none())
        );
        let summary = timeline::summarize(&outcomes, service);
        assert_eq!(summary.state, Some(S::Failed));
        assert_eq!((summary.healthy_rounds, summary.reconnects), (0, 3));
        assert_eq!(summary.alerts, [4]);
        assert_eq!(summary.escalations, [4, 5, 6]);
    }

    // Every check and reconnect reached an adapter; every trigger a reducer. The refused
    // restarts (rounds 4-6) are the reducer host's dead letters.
    for adapter in ["postgres_adapter", "postgres_adapter_replica"] {
        let s = node(&stats, adapter);
        assert_eq!((s.received, s.succeeded), (9, 9), "{adapter}");
    }
    for reducer in ["service_lifecycle_primary", "service_lifecycle_replica"] {
        let s = node(&stats, reducer);
        assert_eq!(
            (s.received, s.succeeded, s.dead_lettered),
            (8, 5, 3),
            "{reducer}"
        );
    }
    assert_eq!(node(&stats, "infra_demo").succeeded, 6);

    let text = timeline::round(&outcomes[3]);
    assert!(text.starts_with("round 4 · "), "{text}");
    assert!(
        text.contains("starting --health_failed--> failed [alert]"),
        "{text}"
    );
    assert!(
        text.contains("restart refused (guard retry_count less_than 3 not met)"),
        "{text}"
    );
    assert!(
        text.contains("ALERT raised: primary is failed: Connection refused"),
        "{text}"
    );
    assert!(
        text.contains("ESCALATED: replica stays failed after 3 restarts"),
        "{text}"
    );
    let summary = timeline::summary(&outcomes, &unreachable().redacted());
    assert!(
        summary.contains(&format!(
            "The primary database was not reachable at {UNREACHABLE_URL}"
        )),
        "{summary}"
    );
    assert!(
        summary.contains(
            "ONEX_POSTGRES_URL=postgres://user:pass@host:5432/db cargo run -p infra_demo"
        ),
        "{summary}"
    );
}

fn demo(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_infra_demo"));
    command
        .args(args)
        .env_remove("ONEX_POSTGRES_URL")
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG");
    for (name, value) in envs {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The binary without a database: it still runs, exits 0, says how to point it at one, and
/// never prints the password of the URL it was given.
#[test]
fn the_binary_without_a_database() {
    let url = "postgres://demo:s3cret@127.0.0.1:1/nowhere";
    let output = demo(
        &["--rounds", "2", "--interval-ms", "0"],
        &[("ONEX_POSTGRES_URL", url)],
    );
    let out = stdout(&output);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{out}\n{err}");
    assert!(
        !out.contains("s3cret") && !err.contains("s3cret"),
        "{out}\n{err}"
    );
    assert!(
        out.contains("primary  postgres://demo:***@127.0.0.1:1/nowhere  (from ONEX_POSTGRES_URL)"),
        "{out}"
    );
    assert!(out.contains("the adapter refuses DDL by design"), "{out}");
    for needle in [
        "round 1 · ",
        "round 2 · ",
        "primary  DOWN",
        "replica  DOWN",
        "unknown --start--> starting [launch_service, start_probe]",
        "restart_service: reconnect 2 of 3: still down",
        "summary: 2 rounds",
        "The primary database was not reachable at postgres://demo:***@127.0.0.1:1/nowhere",
        "ONEX_POSTGRES_URL=postgres://user:pass@host:5432/db cargo run -p infra_demo",
        "host shut down: ",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
}

#[test]
fn without_nats_the_nats_mode_says_so() {
    let output = demo(
        &[
            "--bus",
            "nats",
            "--nats-url",
            "nats://127.0.0.1:1",
            "--rounds",
            "1",
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("needs a NATS server with JetStream at nats://127.0.0.1:1"),
        "{err}"
    );
    assert!(err.contains("nats-server -js"), "{err}");
    assert!(!stdout(&output).contains("round 1"));
}

/// With PostgreSQL: the primary is healthy every round and writes exactly one heartbeat per
/// round (the resend with the same idempotency key is replayed), which `query` counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn a_healthy_primary_writes_one_heartbeat_per_round() {
    let primary = PgSettings::from_env()
        .unwrap()
        .unwrap_or_else(PgSettings::local_default);
    let (outcomes, stats, run_id) = run(Databases::new(primary.clone(), unreachable()), 3).await;
    for (n, outcome) in outcomes.iter().enumerate() {
        let outputs = &report(outcome).outputs;
        assert!(outputs.probe(Service::Primary).unwrap().healthy);
        assert_eq!(lifecycle(outcome, Service::Primary).state, S::Healthy);
        match &acted(outcome, Service::Primary).heartbeat {
            Some(Heartbeat::Written {
                key,
                rows_affected,
                first_replayed,
                resent_replayed,
                this_run,
                all_runs,
            }) => {
                assert_eq!(key, &format!("infra-demo:{run_id}:round-{}:primary", n + 1));
                assert_eq!(*rows_affected, 1);
                assert!(!first_replayed && *resent_replayed);
                assert_eq!(*this_run, n as i64 + 1);
                assert!(all_runs >= this_run);
            }
            other => panic!("round {}: {other:?}", n + 1),
        }
        // Meanwhile the replica goes through its failure handling.
        assert!(!outputs.probe(Service::Replica).unwrap().healthy);
    }
    let round = lifecycle(&outcomes[0], Service::Primary);
    assert_eq!(
        moves(round),
        [
            (
                S::Unknown,
                "start",
                S::Starting,
                vec![I::LaunchService, I::StartProbe]
            ),
            (S::Starting, "health_ok", S::Healthy, vec![I::ClearAlert]),
        ]
    );
    // Later healthy checks are no news: the primary's reducer saw two triggers in all.
    assert!(lifecycle(&outcomes[2], Service::Primary).unchanged);
    assert_eq!(node(&stats, "service_lifecycle_primary").received, 2);

    // The table holds exactly one row per round of this run.
    let pool = onex_runtime::postgres::PgPool::new(primary).unwrap();
    let rows = pool
        .query(
            "check",
            "SELECT count(*) AS n, count(DISTINCT round) AS rounds FROM infra_demo.heartbeats \
             WHERE run_id = $1",
            &[serde_json::json!(run_id)],
            None,
        )
        .await
        .unwrap()
        .rows;
    assert_eq!(rows[0]["n"], 3);
    assert_eq!(rows[0]["rounds"], 3);
}

/// `--bus nats`: three child processes, the same timeline, a clean stop.
#[test]
#[ignore = "needs NATS at 127.0.0.1:4222"]
fn the_binary_over_nats() {
    let output = demo(
        &["--bus", "nats", "--rounds", "2", "--interval-ms", "50"],
        &[("ONEX_POSTGRES_URL", UNREACHABLE_URL)],
    );
    let out = stdout(&output);
    assert!(
        output.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for needle in [
        "each role in a process of its own",
        "adapters     pid ",
        "reducers     pid ",
        "orchestrator pid ",
        "ready pid=",
        "nodes=postgres_adapter,postgres_adapter_replica",
        "nodes=service_lifecycle_primary,service_lifecycle_replica",
        "nodes=infra_demo",
        "round 1 · ",
        "round 2 · ",
        "unknown --start--> starting [launch_service, start_probe]",
        "restart_service: reconnect 2 of 3: still down",
        "summary: 2 rounds",
        "stopping: stdin closed",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    assert_eq!(out.matches("stopping: stdin closed").count(), 3, "{out}");
}
