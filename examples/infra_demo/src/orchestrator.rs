//! [`InfraDemoOrchestrator`]: the ORCHESTRATOR node, its steps and what they report.
//!
//! Every node a step calls is reached through the bus by topic ([`BusEffectClient`],
//! [`BusReducerClient`]): the orchestrator keeps no adapter and no state machine of its own,
//! only what it has learnt about each service (the lifecycle state the reducer last
//! reported, the guard counters, whether an alert is raised).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use infra_reducer::{
    ModelServiceObservation, ServiceLifecycle, ServiceLifecycleIntent, ServiceLifecycleState,
    ServiceLifecycleTrigger, observation,
};
use onex_runtime::bus::EventBus;
use onex_runtime::fsm::ReducerInput;
use onex_runtime::{
    BusEffectClient, BusReducerClient, ErrorCode, JsonValue, OnexError, RemoteTransitionOf, Uuid,
    WorkflowContext, orchestrator_node,
};
use postgres_adapter::postgres_adapter::{
    ModelExecuteRequest, ModelHealthRequest, ModelHealthResult, ModelQueryRequest,
};
use postgres_adapter::{PostgresAdapter, PostgresAdapterInput, PostgresAdapterOutput};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::instance::{
    PRIMARY_ADAPTER_TOPIC, PRIMARY_LIFECYCLE_TOPIC, REPLICA_ADAPTER_TOPIC, REPLICA_LIFECYCLE_TOPIC,
};
use infra_demo_orchestrator::ModelDemoRound;

/// Restarts a service gets before the reducer refuses more (its `restart` and `retry_start`
/// guards are `retry_count less_than 3`).
pub const MAX_RESTARTS: i64 = 3;

/// How long a call to an adapter or a reducer waits for its reply (the adapter's `health`
/// gives up after 3 s; the host retries a transient failure once).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(12);

/// The heartbeat a healthy primary writes once per round (through `execute`).
pub const HEARTBEAT_SQL: &str = "INSERT INTO infra_demo.heartbeats (run_id, round, service, latency_ms) \
     VALUES ($1, $2, $3, $4)";

/// How the heartbeats are counted (through `query`).
pub const COUNT_SQL: &str = "SELECT count(*) FILTER (WHERE run_id = $1) AS this_run, \
     count(*) AS all_runs FROM infra_demo.heartbeats";

/// One round: check both adapters, fold the answers into their lifecycles, act on the
/// intents.
///
/// The attribute reads `infra_demo.yaml` and generates, beside this struct, the module
/// `infra_demo_orchestrator` (the input model [`ModelDemoRound`] and `CONTRACT`),
/// `InfraDemoOrchestratorStep`, the `InfraDemoOrchestratorSteps` trait implemented below,
/// the dependency views, `InfraDemoOrchestratorOutputs` and `impl OrchestratorNode`. `bind`
/// checks at compile time that each step is declared with the kind of node it calls.
#[orchestrator_node(
    contract = "infra_demo.yaml",
    bind(
        check_primary = PostgresAdapter,
        check_replica = PostgresAdapter,
        aggregate = ServiceLifecycle,
        act = PostgresAdapter,
    )
)]
#[derive(Debug)]
pub struct InfraDemoOrchestrator {
    /// The primary, then the replica.
    monitors: [Monitor; 2],
}

/// One of the two adapters the demo watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// The database the demo is pointed at (`ONEX_POSTGRES_URL`).
    Primary,
    /// A second adapter, by default pointed at a database that is not there.
    Replica,
}

impl Service {
    /// Both, in the order the timeline shows them.
    pub const ALL: [Service; 2] = [Service::Primary, Service::Replica];

    /// `primary` or `replica`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Service::Primary => "primary",
            Service::Replica => "replica",
        }
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// What a `check_*` step learnt from an adapter's `health`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    /// The adapter asked.
    pub service: Service,
    /// The adapter answered, and its database answered `SELECT 1`.
    pub healthy: bool,
    /// How long the check took, as the adapter measured it (0 when it did not answer).
    pub latency_ms: f64,
    /// False when the adapter itself did not answer (`error` says why: a timeout, nobody
    /// serving its topic); the database's state is then unknown, and counts as down.
    pub answered: bool,
    /// The database and host checked (no credentials).
    pub database: Option<String>,
    /// The server's version, when it answered.
    pub server_version: Option<String>,
    /// Open pooled connections, and the most the pool opens.
    pub pool: Option<(i64, i64)>,
    /// Why it is unhealthy.
    pub error: Option<String>,
}

impl Probe {
    fn answer(service: Service, health: ModelHealthResult) -> Probe {
        Probe {
            service,
            healthy: health.healthy,
            latency_ms: health.latency_ms,
            answered: true,
            database: Some(health.database),
            server_version: health.server_version,
            pool: Some((health.pool.size, health.pool.max_size)),
            error: health.error,
        }
    }

    fn silence(service: Service, error: &OnexError) -> Probe {
        Probe {
            service,
            healthy: false,
            latency_ms: 0.0,
            answered: false,
            database: None,
            server_version: None,
            pool: None,
            error: Some(format!("the adapter did not answer: {error}")),
        }
    }
}

/// What the orchestrator counts per service: the lifecycle reducer's guard context.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Failed checks in a row.
    pub consecutive_failures: i64,
    /// Restarts asked for since the service was last healthy.
    pub retry_count: i64,
}

/// A transition one of the hosted lifecycle reducers took.
pub type LifecycleTransition = RemoteTransitionOf<ServiceLifecycle>;

/// A trigger a lifecycle reducer did not take (its host's validation error).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    /// The trigger.
    pub trigger: ServiceLifecycleTrigger,
    /// The guard conditions that were false (empty: the state has no transition for the
    /// trigger).
    pub failed_conditions: Vec<String>,
    /// The reducer's message.
    pub reason: String,
}

/// What `aggregate` did with one service's check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LifecycleRound {
    /// The service.
    pub service: Service,
    /// The trigger the check calls for: `health_failed`, `health_slow` or `health_ok`.
    pub trigger: ServiceLifecycleTrigger,
    /// True when the trigger was not fired because it brings no news: `health_ok` for a
    /// service already healthy, `health_failed` for one already failed.
    pub unchanged: bool,
    /// The transitions taken, in order: `start` for a service never seen, the check's
    /// trigger, and `restart` for a failed service.
    pub transitions: Vec<LifecycleTransition>,
    /// The triggers the reducer refused (the state stays).
    pub rejected: Vec<Rejection>,
    /// The state after the round.
    pub state: ServiceLifecycleState,
    /// The counters after the round.
    pub counters: Counters,
    /// True when the service is failed and the reducer refused to restart it: the
    /// restarts are spent, an operator is needed.
    pub escalated: bool,
}

impl LifecycleRound {
    /// Every intent emitted this round, in order.
    pub fn intents(&self) -> Vec<ServiceLifecycleIntent> {
        self.transitions
            .iter()
            .flat_map(|t| t.intents.iter().copied())
            .collect()
    }
}

/// One thing `act` did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// `restart_service`: asked the adapter for `health { reconnect: true }` (fresh
    /// connections).
    Reconnect {
        /// Which restart this is (1 for the first since the service was last healthy).
        attempt: i64,
        /// What the check with fresh connections found.
        probe: Probe,
    },
    /// `alert`: an alert raised.
    Alert {
        /// What it says.
        message: String,
    },
    /// `raise_warning`: a warning.
    Warning {
        /// What it says.
        message: String,
    },
    /// `clear_alert` while an alert was raised.
    AlertCleared,
    /// The service is failed and the reducer refused to restart it.
    Escalate {
        /// What it says.
        message: String,
    },
    /// An intent with nothing to do here.
    Noted {
        /// The intent.
        intent: ServiceLifecycleIntent,
        /// Why there is nothing to do.
        why: String,
    },
}

/// What the round's heartbeat did: a write through `execute` (with an idempotency key), the
/// same write sent again, and a count through `query`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Heartbeat {
    /// All three answered.
    Written {
        /// The write's idempotency key.
        key: String,
        /// Rows the first request inserted (or, if it was a replay, had inserted).
        rows_affected: i64,
        /// True when even the first request was a replay (the round ran before: a
        /// redelivered request).
        first_replayed: bool,
        /// True when the second request was replayed rather than run.
        resent_replayed: bool,
        /// Heartbeat rows of this run.
        this_run: i64,
        /// Heartbeat rows of every run.
        all_runs: i64,
    },
    /// A call failed.
    Failed {
        /// Which call (`execute`, `query`).
        operation: String,
        /// The adapter's error.
        error: String,
    },
}

/// What `act` did for one service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceActions {
    /// The service.
    pub service: Service,
    /// What was done, in the order of the intents.
    pub actions: Vec<Action>,
    /// The heartbeat (the primary only, when healthy).
    pub heartbeat: Option<Heartbeat>,
}

/// What the orchestrator remembers about a service between rounds.
#[derive(Clone, Debug, Default)]
struct Memory {
    /// The state the reducer last reported.
    state: Option<ServiceLifecycleState>,
    counters: Counters,
    /// An alert is raised.
    alert: bool,
    /// The last check's error.
    last_error: Option<String>,
    /// The last check's latency.
    last_latency_ms: f64,
}

/// One watched adapter: its client, its lifecycle reducer's client, and what is remembered.
#[derive(Debug)]
struct Monitor {
    service: Service,
    adapter: BusEffectClient<PostgresAdapter>,
    lifecycle: BusReducerClient<ServiceLifecycle>,
    memory: Mutex<Memory>,
}

impl InfraDemoOrchestrator {
    /// An orchestrator calling the adapters and the reducers through `bus`, on their
    /// topics (see [`crate::instance`]).
    ///
    /// # Errors
    ///
    /// None in practice: the topics are valid (an invalid one would be
    /// [`ErrorCode::InvalidInput`]).
    pub fn new(bus: Arc<dyn EventBus>) -> Result<Self, OnexError> {
        let monitor = |service, adapter: &str, lifecycle: &str| -> Result<Monitor, OnexError> {
            Ok(Monitor {
                service,
                adapter: BusEffectClient::with_topic(Arc::clone(&bus), adapter)?
                    .timeout(CALL_TIMEOUT),
                lifecycle: BusReducerClient::with_topic(Arc::clone(&bus), lifecycle)?
                    .timeout(CALL_TIMEOUT),
                memory: Mutex::new(Memory::default()),
            })
        };
        Ok(InfraDemoOrchestrator {
            monitors: [
                monitor(
                    Service::Primary,
                    PRIMARY_ADAPTER_TOPIC,
                    PRIMARY_LIFECYCLE_TOPIC,
                )?,
                monitor(
                    Service::Replica,
                    REPLICA_ADAPTER_TOPIC,
                    REPLICA_LIFECYCLE_TOPIC,
                )?,
            ],
        })
    }

    fn monitor(&self, service: Service) -> &Monitor {
        match service {
            Service::Primary => &self.monitors[0],
            Service::Replica => &self.monitors[1],
        }
    }
}

/// The cause at the end of an error chain (`… at 127.0.0.1:1: Connection refused` →
/// `Connection refused`): the text after the last `": "`.
pub fn cause(message: &str) -> &str {
    message
        .rsplit(": ")
        .find(|part| !part.trim().is_empty())
        .unwrap_or(message)
}

/// A cancelled step: the one error a step passes on rather than reports.
fn is_cancellation(error: &OnexError) -> bool {
    *error.code() == ErrorCode::WorkflowFailed
}

impl Monitor {
    fn memory(&self) -> MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks the adapter for its health. An adapter that does not answer is an observation
    /// (down), not a failure of the step.
    async fn check(&self, reconnect: bool, cx: &WorkflowContext) -> Result<Probe, OnexError> {
        let request = PostgresAdapterInput::Health(ModelHealthRequest { reconnect });
        match cx.call(&self.adapter, request).await {
            Ok(PostgresAdapterOutput::Health(health)) => Ok(Probe::answer(self.service, health)),
            Ok(other) => Err(OnexError::internal(format!(
                "`health` answered with the output of `{}`",
                onex_runtime::NodeOutput::operation(&other)
            ))),
            Err(e) if is_cancellation(&e) => Err(e),
            Err(e) => Ok(Probe::silence(self.service, &e)),
        }
    }

    /// The reducer's guard context.
    fn observation(&self, counters: Counters, latency_ms: Option<f64>) -> ModelServiceObservation {
        let mut seen = observation(self.service.as_str());
        seen.retry_count = counters.retry_count;
        seen.consecutive_failures = counters.consecutive_failures;
        seen.latency_ms = latency_ms;
        seen
    }

    /// Folds one check into the service's lifecycle.
    async fn record(
        &self,
        probe: &Probe,
        slow_ms: f64,
        cx: &WorkflowContext,
    ) -> Result<LifecycleRound, OnexError> {
        let trigger = if !probe.healthy {
            ServiceLifecycleTrigger::HealthFailed
        } else if probe.latency_ms > slow_ms {
            ServiceLifecycleTrigger::HealthSlow
        } else {
            ServiceLifecycleTrigger::HealthOk
        };
        let (state, counters) = {
            let mut memory = self.memory();
            if probe.healthy {
                memory.counters.consecutive_failures = 0;
            } else {
                memory.counters.consecutive_failures += 1;
            }
            memory.last_error.clone_from(&probe.error);
            memory.last_latency_ms = probe.latency_ms;
            (
                memory.state.unwrap_or(ServiceLifecycleState::Unknown),
                memory.counters,
            )
        };
        let latency = probe.healthy.then_some(probe.latency_ms);
        let mut round = LifecycleRound {
            service: self.service,
            trigger,
            unchanged: false,
            transitions: Vec::new(),
            rejected: Vec::new(),
            state,
            counters,
            escalated: false,
        };
        if round.state == ServiceLifecycleState::Unknown {
            self.fire(ServiceLifecycleTrigger::Start, latency, &mut round, cx)
                .await?;
        }
        // Repeated news is not an event: a healthy service answering again, a failed one
        // still failing.
        let news = !matches!(
            (round.state, trigger),
            (
                ServiceLifecycleState::Healthy,
                ServiceLifecycleTrigger::HealthOk
            ) | (
                ServiceLifecycleState::Failed,
                ServiceLifecycleTrigger::HealthFailed
            )
        );
        if news {
            self.fire(trigger, latency, &mut round, cx).await?;
        } else {
            round.unchanged = true;
        }
        // A failed service is asked to restart; the reducer's guard decides whether
        // restarts are left.
        if round.state == ServiceLifecycleState::Failed {
            let restarted = self
                .fire(ServiceLifecycleTrigger::Restart, latency, &mut round, cx)
                .await?;
            round.escalated = !restarted;
        }
        if round.state == ServiceLifecycleState::Healthy {
            round.counters.retry_count = 0;
        }
        let mut memory = self.memory();
        memory.state = Some(round.state);
        memory.counters = round.counters;
        Ok(round)
    }

    /// Fires `trigger` on the service's reducer with the round's counters as context;
    /// records the transition (and counts a restart it asks for) or the rejection. `true`
    /// when the reducer took a transition.
    async fn fire(
        &self,
        trigger: ServiceLifecycleTrigger,
        latency_ms: Option<f64>,
        round: &mut LifecycleRound,
        cx: &WorkflowContext,
    ) -> Result<bool, OnexError> {
        let input = ReducerInput {
            trigger,
            context: self.observation(round.counters, latency_ms),
        };
        match cx.call(&self.lifecycle, input).await {
            Ok(t) => {
                if t.intents.contains(&ServiceLifecycleIntent::RestartService) {
                    round.counters.retry_count += 1;
                }
                round.state = t.to;
                round.transitions.push(t);
                Ok(true)
            }
            // No transition, or a guard that said no: the state stays.
            Err(e) if *e.code() == ErrorCode::Validation => {
                let failed_conditions = e
                    .context()
                    .get("failed_conditions")
                    .and_then(JsonValue::as_array)
                    .map(|conditions| {
                        conditions
                            .iter()
                            .filter_map(JsonValue::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                round.rejected.push(Rejection {
                    trigger,
                    failed_conditions,
                    reason: e.message().to_owned(),
                });
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Carries out the intents of one service's round.
    async fn act(
        &self,
        round: &LifecycleRound,
        input: &ModelDemoRound,
        cx: &WorkflowContext,
    ) -> Result<ServiceActions, OnexError> {
        let mut actions = Vec::new();
        let why_down = || {
            self.memory()
                .last_error
                .clone()
                .unwrap_or_else(|| "no reason given".to_owned())
        };
        // The restarts asked for before this round's (the counter already counts them).
        let asked = round
            .intents()
            .iter()
            .filter(|i| **i == ServiceLifecycleIntent::RestartService)
            .count();
        let mut restarts = (round.counters.retry_count - asked as i64).max(0);
        for intent in round.intents() {
            let action = match intent {
                ServiceLifecycleIntent::RestartService => {
                    restarts += 1;
                    Action::Reconnect {
                        attempt: restarts,
                        probe: self.check(true, cx).await?,
                    }
                }
                ServiceLifecycleIntent::Alert => {
                    self.memory().alert = true;
                    Action::Alert {
                        message: format!("{} is failed: {}", self.service, cause(&why_down())),
                    }
                }
                ServiceLifecycleIntent::RaiseWarning => Action::Warning {
                    message: match round.trigger {
                        ServiceLifecycleTrigger::HealthSlow => {
                            format!("{} is degraded: answering slowly", self.service)
                        }
                        _ => format!("{} is degraded: {}", self.service, cause(&why_down())),
                    },
                },
                ServiceLifecycleIntent::ClearAlert => {
                    let mut memory = self.memory();
                    if memory.alert {
                        memory.alert = false;
                        Action::AlertCleared
                    } else {
                        Action::Noted {
                            intent,
                            why: "no alert is raised".to_owned(),
                        }
                    }
                }
                ServiceLifecycleIntent::LaunchService => Action::Noted {
                    intent,
                    why: "the database runs outside the demo: nothing to launch".to_owned(),
                },
                ServiceLifecycleIntent::StartProbe => Action::Noted {
                    intent,
                    why: "the service is checked every round".to_owned(),
                },
                ServiceLifecycleIntent::RecordFailure => Action::Noted {
                    intent,
                    why: format!(
                        "{} failed checks in a row",
                        round.counters.consecutive_failures
                    ),
                },
                ServiceLifecycleIntent::NotifyStopped
                | ServiceLifecycleIntent::DrainConnections => Action::Noted {
                    intent,
                    why: "the demo never stops a service".to_owned(),
                },
            };
            actions.push(action);
        }
        if round.escalated {
            actions.push(Action::Escalate {
                message: format!(
                    "{} stays failed after {} restarts: an operator is needed",
                    self.service, round.counters.retry_count
                ),
            });
        }
        let heartbeat =
            if self.service == Service::Primary && round.state == ServiceLifecycleState::Healthy {
                Some(self.heartbeat(input, cx).await?)
            } else {
                None
            };
        Ok(ServiceActions {
            service: self.service,
            actions,
            heartbeat,
        })
    }

    /// Writes the round's heartbeat through `execute` (with the round's idempotency key),
    /// sends the same write again (it is replayed, not run), and counts the heartbeats through
    /// `query`.
    async fn heartbeat(
        &self,
        input: &ModelDemoRound,
        cx: &WorkflowContext,
    ) -> Result<Heartbeat, OnexError> {
        let key = format!("infra-demo:{}:round-{}:primary", input.run_id, input.round);
        let latency_ms = self.memory().last_latency_ms;
        let write = ModelExecuteRequest {
            sql: HEARTBEAT_SQL.to_owned(),
            params: vec![
                json!(input.run_id),
                json!(input.round),
                json!(self.service.as_str()),
                json!(latency_ms),
            ],
            idempotency_key: Some(key.clone()),
        };
        let failed = |operation: &str, e: OnexError| Heartbeat::Failed {
            operation: operation.to_owned(),
            error: e.to_string(),
        };
        let first = match self.execute(write.clone(), cx).await {
            Ok(done) => done,
            Err(e) if is_cancellation(&e) => return Err(e),
            Err(e) => return Ok(failed("execute", e)),
        };
        let again = match self.execute(write, cx).await {
            Ok(done) => done,
            Err(e) if is_cancellation(&e) => return Err(e),
            Err(e) => return Ok(failed("execute", e)),
        };
        let count = ModelQueryRequest {
            sql: COUNT_SQL.to_owned(),
            params: vec![json!(input.run_id)],
            max_rows: 1,
        };
        let rows = match cx
            .call(&self.adapter, PostgresAdapterInput::Query(count))
            .await
        {
            Ok(PostgresAdapterOutput::Query(result)) => result.rows,
            Ok(other) => {
                return Err(OnexError::internal(format!(
                    "`query` answered with the output of `{}`",
                    onex_runtime::NodeOutput::operation(&other)
                )));
            }
            Err(e) if is_cancellation(&e) => return Err(e),
            Err(e) => return Ok(failed("query", e)),
        };
        let column = |name: &str| {
            rows.first()
                .and_then(|row| row.get(name))
                .and_then(JsonValue::as_i64)
                .unwrap_or(0)
        };
        Ok(Heartbeat::Written {
            key,
            rows_affected: first.0,
            first_replayed: first.1,
            resent_replayed: again.1,
            this_run: column("this_run"),
            all_runs: column("all_runs"),
        })
    }

    /// One `execute`: rows affected, and whether it was replayed.
    async fn execute(
        &self,
        request: ModelExecuteRequest,
        cx: &WorkflowContext,
    ) -> Result<(i64, bool), OnexError> {
        match cx
            .call(&self.adapter, PostgresAdapterInput::Execute(request))
            .await?
        {
            PostgresAdapterOutput::Execute(result) => Ok((result.rows_affected, result.replayed)),
            other => Err(OnexError::internal(format!(
                "`execute` answered with the output of `{}`",
                onex_runtime::NodeOutput::operation(&other)
            ))),
        }
    }
}

impl InfraDemoOrchestratorSteps for InfraDemoOrchestrator {
    type CheckPrimary = Probe;
    type CheckReplica = Probe;
    type Aggregate = Vec<LifecycleRound>;
    type Act = Vec<ServiceActions>;

    async fn check_primary(
        &self,
        _input: &ModelDemoRound,
        cx: &WorkflowContext,
    ) -> Result<Probe, OnexError> {
        self.monitor(Service::Primary).check(false, cx).await
    }

    async fn check_replica(
        &self,
        _input: &ModelDemoRound,
        cx: &WorkflowContext,
    ) -> Result<Probe, OnexError> {
        self.monitor(Service::Replica).check(false, cx).await
    }

    async fn aggregate(
        &self,
        input: &ModelDemoRound,
        deps: InfraDemoOrchestratorAggregateDeps<'_>,
        cx: &WorkflowContext,
    ) -> Result<Vec<LifecycleRound>, OnexError> {
        // The two reducers are separate nodes: fed at the same time.
        let (primary, replica) = tokio::join!(
            self.monitor(Service::Primary)
                .record(deps.check_primary, input.slow_ms, cx),
            self.monitor(Service::Replica)
                .record(deps.check_replica, input.slow_ms, cx),
        );
        Ok(vec![primary?, replica?])
    }

    async fn act(
        &self,
        input: &ModelDemoRound,
        deps: InfraDemoOrchestratorActDeps<'_>,
        cx: &WorkflowContext,
    ) -> Result<Vec<ServiceActions>, OnexError> {
        let round = |service| {
            deps.aggregate
                .iter()
                .find(|r| r.service == service)
                .ok_or_else(|| OnexError::internal(format!("`aggregate` left out {service}")))
        };
        let (primary, replica) = (round(Service::Primary)?, round(Service::Replica)?);
        let (primary, replica) = tokio::join!(
            self.monitor(Service::Primary).act(primary, input, cx),
            self.monitor(Service::Replica).act(replica, input, cx),
        );
        Ok(vec![primary?, replica?])
    }
}

/// The input of round `round` of the run `run_id` (`health_slow` above 250 ms).
pub fn demo_round(round: u32, run_id: Uuid) -> ModelDemoRound {
    ModelDemoRound {
        round: i64::from(round),
        run_id,
        slow_ms: 250.0,
    }
}
