//! A primary that goes down and comes back, without a database: a scripted stand-in answers
//! on the primary adapter's topic with the adapter's own wire form (`PostgresAdapterInput` in,
//! `PostgresAdapterOutput` out), and the test switches it off and on between rounds. The
//! lifecycle reducers, the orchestrator and the replica adapter are the real ones.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use infra_demo::driver::{Driver, RoundOutcome};
use infra_demo::fleet::{Databases, Fleet, UNREACHABLE_URL, host_config};
use infra_demo::instance::{PrimaryLifecycleNode, ReplicaAdapterNode, ReplicaLifecycleNode};
use infra_demo::{Action, Heartbeat, InfraDemoOrchestrator, LifecycleRound, Service, timeline};
use infra_reducer::{ServiceLifecycle, ServiceLifecycleIntent as I, ServiceLifecycleState as S};
use onex_runtime::bus::{EventBus, InMemoryBus};
use onex_runtime::host::NodeHost;
use onex_runtime::postgres::PgSettings;
use onex_runtime::{
    ContractInfo, EffectContext, EffectNode, FsmExecutor, OnexError, Uuid, WorkflowExecutor,
};
use postgres_adapter::postgres_adapter::{
    ModelExecuteResult, ModelHealthResult, ModelPoolStatus, ModelQueryResult,
};
use postgres_adapter::{PostgresAdapter, PostgresAdapterInput, PostgresAdapterOutput};
use serde_json::json;

/// Stands in for the primary adapter: healthy while `up`, else "connection refused"; keeps
/// heartbeats by idempotency key.
#[derive(Default)]
struct ScriptedPrimary {
    down: AtomicBool,
    keys: Mutex<BTreeSet<String>>,
}

impl ScriptedPrimary {
    fn health(&self) -> ModelHealthResult {
        let down = self.down.load(Ordering::SeqCst);
        ModelHealthResult {
            healthy: !down,
            latency_ms: 0.5,
            server_version: (!down).then(|| "17.0".to_owned()),
            database: "database scripted at 127.0.0.1:5432".to_owned(),
            pool: ModelPoolStatus {
                max_size: 4,
                size: i64::from(!down),
                available: i64::from(!down),
                waiting: 0,
            },
            error: down.then(|| {
                "operation `health`: cannot connect to database scripted at 127.0.0.1:5432: \
                 Connection refused (os error 111)"
                    .to_owned()
            }),
        }
    }
}

impl EffectNode for ScriptedPrimary {
    type Input = PostgresAdapterInput;
    type Output = PostgresAdapterOutput;
    const CONTRACT: &'static ContractInfo = <PostgresAdapter as EffectNode>::CONTRACT;

    async fn dispatch(
        &self,
        _ctx: &EffectContext,
        input: PostgresAdapterInput,
    ) -> Result<PostgresAdapterOutput, OnexError> {
        match input {
            PostgresAdapterInput::Health(_) => Ok(PostgresAdapterOutput::Health(self.health())),
            PostgresAdapterInput::Execute(request) => {
                let key = request.idempotency_key.unwrap_or_default();
                let fresh = self.keys.lock().unwrap().insert(key);
                Ok(PostgresAdapterOutput::Execute(ModelExecuteResult {
                    rows_affected: 1,
                    rows: Vec::new(),
                    replayed: !fresh,
                }))
            }
            PostgresAdapterInput::Query(_) => {
                let n = self.keys.lock().unwrap().len() as i64;
                let row = BTreeMap::from([
                    ("this_run".to_owned(), json!(n)),
                    ("all_runs".to_owned(), json!(n)),
                ]);
                Ok(PostgresAdapterOutput::Query(ModelQueryResult {
                    rows: vec![row],
                    row_count: 1,
                    columns: Vec::new(),
                }))
            }
            PostgresAdapterInput::Transaction(_) => Err(OnexError::unsupported_operation(
                "transaction (not scripted)",
            )),
        }
    }
}

fn lifecycle(outcome: &RoundOutcome) -> &LifecycleRound {
    match &outcome.result {
        Ok(report) => report.outputs.lifecycle(Service::Primary).unwrap(),
        Err(e) => panic!("round {} failed: {e}", outcome.round),
    }
}

fn actions(outcome: &RoundOutcome) -> (&[Action], Option<&Heartbeat>) {
    let acted = outcome
        .result
        .as_ref()
        .unwrap()
        .outputs
        .actions(Service::Primary)
        .unwrap();
    (&acted.actions, acted.heartbeat.as_ref())
}

fn moves(round: &LifecycleRound) -> Vec<(S, &'static str, S, Vec<I>)> {
    round
        .transitions
        .iter()
        .map(|t| (t.from, t.trigger.as_str(), t.to, t.intents.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_that_goes_down_and_comes_back() {
    let unreachable = PgSettings::parse(UNREACHABLE_URL).unwrap();
    let fleet = Fleet::new(&Databases::new(unreachable.clone(), unreachable)).unwrap();
    let primary = Arc::new(ScriptedPrimary::default());
    let bus: Arc<dyn EventBus> = Arc::new(InMemoryBus::new());
    let host = NodeHost::builder(Arc::clone(&bus))
        .config(host_config())
        .effect_arc(Arc::clone(&primary))
        .effect(ReplicaAdapterNode::new(fleet.replica.clone()))
        .reducer(FsmExecutor::new(PrimaryLifecycleNode::new(
            ServiceLifecycle,
        )))
        .reducer(FsmExecutor::new(ReplicaLifecycleNode::new(
            ServiceLifecycle,
        )))
        .orchestrator(WorkflowExecutor::new(
            InfraDemoOrchestrator::new(Arc::clone(&bus)).unwrap(),
        ))
        .start()
        .await
        .unwrap();
    let driver = Driver::new(bus, Uuid::new_v4());
    let mut outcomes = Vec::new();
    // Up, down three rounds, up again.
    for (n, down) in [(1, false), (2, true), (3, true), (4, true), (5, false)] {
        primary.down.store(down, Ordering::SeqCst);
        outcomes.push(driver.round(n).await);
    }
    host.shutdown().await;

    // Round 1: started and healthy; the heartbeat is written once.
    assert_eq!(
        moves(lifecycle(&outcomes[0])),
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
    let (_, heartbeat) = actions(&outcomes[0]);
    assert!(
        matches!(
            heartbeat,
            Some(Heartbeat::Written {
                first_replayed: false,
                resent_replayed: true,
                this_run: 1,
                ..
            })
        ),
        "{heartbeat:?}"
    );

    // Round 2: the first failure degrades it and raises a warning; no heartbeat.
    assert_eq!(
        moves(lifecycle(&outcomes[1])),
        [(
            S::Healthy,
            "health_failed",
            S::Degraded,
            vec![I::RaiseWarning]
        )]
    );
    let (acts, heartbeat) = actions(&outcomes[1]);
    assert!(
        matches!(acts, [Action::Warning { message }] if message == "primary is degraded: Connection refused (os error 111)"),
        "{acts:?}"
    );
    assert!(heartbeat.is_none());

    // Round 3: still degraded (two failures in a row: below the collapse guard).
    assert_eq!(
        moves(lifecycle(&outcomes[2])),
        [(
            S::Degraded,
            "health_failed",
            S::Degraded,
            vec![I::RecordFailure, I::RaiseWarning]
        )]
    );

    // Round 4: the third failure collapses it (alert); the restart it is then asked for is
    // allowed (no restart spent yet): the alert is cleared on the way out of `failed` and the
    // adapter reconnects, still down.
    let round = lifecycle(&outcomes[3]);
    assert_eq!(
        moves(round),
        [
            (S::Degraded, "health_failed", S::Failed, vec![I::Alert]),
            (
                S::Failed,
                "restart",
                S::Starting,
                vec![I::ClearAlert, I::RestartService, I::StartProbe]
            ),
        ]
    );
    assert_eq!(round.counters.consecutive_failures, 3);
    assert_eq!(round.counters.retry_count, 1);
    assert!(!round.escalated);
    let (acts, _) = actions(&outcomes[3]);
    let kinds: Vec<&str> = acts
        .iter()
        .map(|a| match a {
            Action::Alert { .. } => "alert",
            Action::AlertCleared => "cleared",
            Action::Reconnect { attempt: 1, probe } if !probe.healthy => "reconnect 1, down",
            Action::Noted { intent, .. } => intent.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        ["alert", "cleared", "reconnect 1, down", "start_probe"]
    );

    // Round 5: back. Healthy, the restart counter reset, a second heartbeat.
    let round = lifecycle(&outcomes[4]);
    assert_eq!(
        moves(round),
        [(S::Starting, "health_ok", S::Healthy, vec![I::ClearAlert])]
    );
    assert_eq!(round.counters, infra_demo::Counters::default());
    let (_, heartbeat) = actions(&outcomes[4]);
    assert!(
        matches!(heartbeat, Some(Heartbeat::Written { this_run: 2, .. })),
        "{heartbeat:?}"
    );

    let summary = timeline::summarize(&outcomes, Service::Primary);
    assert_eq!(summary.state, Some(S::Healthy));
    assert_eq!((summary.healthy_rounds, summary.reconnects), (2, 1));
    assert_eq!(summary.alerts, [4]);
    assert!(summary.escalations.is_empty());
    assert_eq!(summary.heartbeats_written, 2);
    let text = timeline::round(&outcomes[3]);
    assert!(text.contains("ALERT raised: primary is failed"), "{text}");
    assert!(text.contains("alert cleared"), "{text}");
}
