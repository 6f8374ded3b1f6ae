//! `InfraHealthOrchestrator`: the ORCHESTRATOR node, its steps, and what the host does with
//! a decision.

use std::sync::{Mutex, MutexGuard, PoisonError};

use infra_reducer::{
    ModelServiceObservation, ServiceLifecycle, ServiceLifecycleIntent, ServiceLifecycleState,
    ServiceLifecycleTrigger, observation,
};
use onex_runtime::fsm::{ReducerInput, TransitionOf};
use onex_runtime::{
    ComputeClient, EffectClient, ErrorCode, NodeClient, OnexError, ReducerClient, WorkflowContext,
    orchestrator_node,
};
use serde::Serialize;

use crate::policy::failover_policy::{
    EnumFailoverAction, EnumLifecycleState, ModelFailoverDecision, ModelFleetStatus,
    ModelServiceStatus,
};
use crate::policy::{FailoverPolicy, FailoverPolicyInput, FailoverPolicyOutput};
use crate::probe::health_probe::{ModelProbeRequest, ModelProbeResult};
use crate::probe::{HealthProbe, HealthProbeInput, HealthProbeOutput};

use infra_health_orchestrator::{ModelEndpoint, ModelHealthRound, ModelServiceTarget};

/// The services the workflow checks, in the order of its `check_*` steps.
pub const SERVICES: [&str; 3] = ["postgres", "nats", "redis"];

/// Restarts a service may get before the policy escalates it (the reducer's `restart` guard
/// is `retry_count less_than 3`).
pub const MAX_RESTARTS: i64 = 3;

/// One round of health checks across PostgreSQL, NATS and Redis.
///
/// The attribute reads `infra_health_orchestrator.yaml` and generates, beside this struct:
/// the module `infra_health_orchestrator` (the input models and `CONTRACT`),
/// `InfraHealthOrchestratorStep`, the `InfraHealthOrchestratorSteps` trait implemented below,
/// one `InfraHealthOrchestrator{Step}Deps` view per step with dependencies,
/// `InfraHealthOrchestratorOutputs` and `impl OrchestratorNode` (whose `PLAN` was computed
/// from the contract at compile time). `bind(…)` checks at compile time that each step's
/// `node_type` matches the node it calls: the probes are EFFECT nodes, `aggregate` drives
/// REDUCERs, `decide_failover` calls a COMPUTE node.
///
/// The struct holds the nodes the steps call (through typed in-process clients) and one
/// lifecycle reducer per service, so the services' states carry over from round to round.
#[orchestrator_node(
    contract = "infra_health_orchestrator.yaml",
    bind(
        check_postgres = HealthProbe,
        check_nats = HealthProbe,
        check_redis = HealthProbe,
        aggregate = infra_reducer::ServiceLifecycle,
        decide_failover = FailoverPolicy,
    )
)]
#[derive(Debug)]
pub struct InfraHealthOrchestrator {
    /// The probe every `check_*` step calls.
    probe: EffectClient<HealthProbe>,
    /// The policy `decide_failover` calls.
    policy: ComputeClient<FailoverPolicy>,
    /// One lifecycle per service, in [`SERVICES`] order.
    monitors: [Monitor; 3],
}

/// A service's lifecycle reducer and what the orchestrator remembers about its checks.
#[derive(Debug)]
struct Monitor {
    service: &'static str,
    lifecycle: ReducerClient<ServiceLifecycle>,
    counters: Mutex<Counters>,
}

/// What the orchestrator counts per service, between rounds: the guard context of the
/// lifecycle reducer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Failed health checks in a row.
    pub consecutive_failures: i64,
    /// Restarts attempted since the service was last healthy.
    pub retry_count: i64,
}

/// What `aggregate` produced: one entry per service, in [`SERVICES`] order.
#[derive(Clone, Debug, Serialize)]
pub struct FleetReport {
    /// The services.
    pub services: Vec<ServiceReport>,
}

/// What `aggregate` did with one probe result.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceReport {
    /// The logical service.
    pub service: String,
    /// The instance probed.
    pub instance: String,
    /// The trigger the probe result fired: `health_ok`, `health_slow` or `health_failed`.
    pub trigger: ServiceLifecycleTrigger,
    /// The transitions taken this round, in order: `start` first if the service had never
    /// been observed, then the one `trigger` fired (if the reducer accepted it).
    pub transitions: Vec<TransitionOf<ServiceLifecycle>>,
    /// Why the reducer did not move on `trigger` (no transition from the state, or a guard
    /// that rejected it); the state is unchanged then.
    pub rejected: Option<String>,
    /// The state after the round.
    pub state: ServiceLifecycleState,
    /// The counters after the round.
    pub counters: Counters,
}

impl ServiceReport {
    /// Every intent emitted this round, in order.
    pub fn intents(&self) -> Vec<ServiceLifecycleIntent> {
        self.transitions
            .iter()
            .flat_map(|t| t.intents.iter().copied())
            .collect()
    }
}

impl FleetReport {
    /// The entry of `service`.
    pub fn service(&self, service: &str) -> Option<&ServiceReport> {
        self.services.iter().find(|s| s.service == service)
    }
}

/// What the host did to carry out a decision (see [`InfraHealthOrchestrator::apply`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Remediation {
    /// The service acted on.
    pub service: String,
    /// The decision's summary (`restart nats`, `failover postgres to postgres-replica`).
    pub summary: String,
    /// After a failover, the instance now serving the service.
    pub promoted: Option<ModelEndpoint>,
    /// The `restart` transition fired on the service's lifecycle.
    pub transition: TransitionOf<ServiceLifecycle>,
}

impl Default for InfraHealthOrchestrator {
    fn default() -> Self {
        Self::new(HealthProbe::new())
    }
}

impl InfraHealthOrchestrator {
    /// An orchestrator probing through `probe`, every service's lifecycle in `unknown`.
    pub fn new(probe: HealthProbe) -> Self {
        let monitor = |service| Monitor {
            service,
            lifecycle: ReducerClient::new(ServiceLifecycle),
            counters: Mutex::new(Counters::default()),
        };
        InfraHealthOrchestrator {
            probe: EffectClient::new(probe),
            policy: ComputeClient::new(FailoverPolicy),
            monitors: SERVICES.map(monitor),
        }
    }

    /// The probe (to script faults between rounds).
    pub fn probe(&self) -> &HealthProbe {
        self.probe.node()
    }

    /// The lifecycle state of `service` (`None` for a service the workflow does not check).
    pub fn state(&self, service: &str) -> Option<ServiceLifecycleState> {
        Some(self.monitor(service).ok()?.lifecycle.state())
    }

    /// The counters of `service`.
    pub fn counters(&self, service: &str) -> Option<Counters> {
        Some(*self.monitor(service).ok()?.counters())
    }

    /// Carries out a decision of the policy, as the host would between rounds:
    ///
    /// - `restart s`: fires `restart` on `s`'s lifecycle (`failed` → `starting`) and counts
    ///   the restart;
    /// - `failover s to r`: makes the replica `s`'s active instance in `targets` (so the
    ///   next round probes it), resets `s`'s counters (a fresh instance) and fires `restart`;
    /// - `none`, `watch`, `escalate`: nothing to do here (`Ok(None)`).
    ///
    /// # Errors
    ///
    /// A decision naming a service that is not checked, a failover to a replica `targets`
    /// does not list, or a `restart` the lifecycle rejects.
    pub async fn apply(
        &self,
        decision: &ModelFailoverDecision,
        targets: &mut [ModelServiceTarget],
    ) -> Result<Option<Remediation>, OnexError> {
        let failover = match decision.action {
            EnumFailoverAction::Restart => false,
            EnumFailoverAction::Failover => true,
            EnumFailoverAction::None | EnumFailoverAction::Watch | EnumFailoverAction::Escalate => {
                return Ok(None);
            }
        };
        let service = decision.service.as_deref().unwrap_or_default();
        let monitor = self.monitor(service)?;
        let mut promoted = None;
        if failover {
            let target = targets
                .iter_mut()
                .find(|t| t.service == service)
                .ok_or_else(|| unknown_service(service))?;
            let replica = target.replica.take().ok_or_else(|| {
                OnexError::invalid_input(format!("`{service}` has no replica to fail over to"))
            })?;
            target.active = replica.clone();
            promoted = Some(replica);
            *monitor.counters() = Counters::default();
        }
        let context = monitor.observe(&monitor.counters(), None);
        let transition = monitor
            .lifecycle
            .call(ReducerInput {
                trigger: ServiceLifecycleTrigger::Restart,
                context,
            })
            .await?;
        monitor.counters().retry_count += 1;
        Ok(Some(Remediation {
            service: service.to_owned(),
            summary: decision.summary.clone(),
            promoted,
            transition,
        }))
    }

    fn monitor(&self, service: &str) -> Result<&Monitor, OnexError> {
        self.monitors
            .iter()
            .find(|m| m.service == service)
            .ok_or_else(|| unknown_service(service))
    }

    /// One `check_*` step: probes the active instance of `service`.
    async fn check(
        &self,
        input: &ModelHealthRound,
        service: &str,
        cx: &WorkflowContext,
    ) -> Result<ModelProbeResult, OnexError> {
        let target = input
            .targets
            .iter()
            .find(|t| t.service == service)
            .ok_or_else(|| unknown_service(service))?;
        let request = ModelProbeRequest {
            service: target.active.instance.clone(),
            host: target.active.host.clone(),
            port: target.active.port,
            timeout_ms: input.probe_timeout_ms,
        };
        let HealthProbeOutput::Probe(result) = cx
            .call(&self.probe, HealthProbeInput::Probe(request))
            .await?;
        Ok(result)
    }
}

impl Monitor {
    fn counters(&self) -> MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The reducer's guard context.
    fn observe(&self, counters: &Counters, latency_ms: Option<f64>) -> ModelServiceObservation {
        let mut seen = observation(self.service);
        seen.retry_count = counters.retry_count;
        seen.consecutive_failures = counters.consecutive_failures;
        seen.latency_ms = latency_ms;
        seen
    }

    /// Fires the trigger `probe` calls for (after `start`, the first time), and updates the
    /// counters.
    async fn record(
        &self,
        probe: &ModelProbeResult,
        slow_ms: f64,
        cx: &WorkflowContext,
    ) -> Result<ServiceReport, OnexError> {
        let trigger = if !probe.healthy {
            ServiceLifecycleTrigger::HealthFailed
        } else if probe.latency_ms > slow_ms {
            ServiceLifecycleTrigger::HealthSlow
        } else {
            ServiceLifecycleTrigger::HealthOk
        };
        let context = {
            let mut counters = self.counters();
            if probe.healthy {
                counters.consecutive_failures = 0;
            } else {
                counters.consecutive_failures += 1;
            }
            self.observe(&counters, Some(probe.latency_ms).filter(|_| probe.healthy))
        };
        let mut transitions = Vec::new();
        if self.lifecycle.state() == ServiceLifecycleState::Unknown {
            let start = ReducerInput {
                trigger: ServiceLifecycleTrigger::Start,
                context: context.clone(),
            };
            transitions.push(cx.call(&self.lifecycle, start).await?);
        }
        let mut rejected = None;
        match cx
            .call(&self.lifecycle, ReducerInput { trigger, context })
            .await
        {
            Ok(t) => transitions.push(t),
            // A trigger the state has no transition for, or a guard that said no: the state
            // stays; anything else (a deadline, a cancellation) fails the step.
            Err(e) if *e.code() == ErrorCode::Validation => rejected = Some(e.message().to_owned()),
            Err(e) => return Err(e),
        }
        let state = self.lifecycle.state();
        let counters = {
            let mut counters = self.counters();
            if state == ServiceLifecycleState::Healthy {
                counters.retry_count = 0;
            } else if transitions.iter().any(|t| {
                t.trigger == trigger && t.intents.contains(&ServiceLifecycleIntent::RestartService)
            }) {
                counters.retry_count += 1;
            }
            *counters
        };
        Ok(ServiceReport {
            service: self.service.to_owned(),
            instance: probe.service.clone(),
            trigger,
            transitions,
            rejected,
            state,
            counters,
        })
    }
}

fn unknown_service(service: &str) -> OnexError {
    OnexError::invalid_input(format!(
        "no service `{service}`; the workflow checks {}",
        SERVICES.join(", ")
    ))
}

/// The policy's view of a service's state.
fn lifecycle_state(state: ServiceLifecycleState) -> EnumLifecycleState {
    match state {
        ServiceLifecycleState::Unknown => EnumLifecycleState::Unknown,
        ServiceLifecycleState::Starting => EnumLifecycleState::Starting,
        ServiceLifecycleState::Healthy => EnumLifecycleState::Healthy,
        ServiceLifecycleState::Degraded => EnumLifecycleState::Degraded,
        ServiceLifecycleState::Failed => EnumLifecycleState::Failed,
        ServiceLifecycleState::Stopped => EnumLifecycleState::Stopped,
    }
}

impl InfraHealthOrchestratorSteps for InfraHealthOrchestrator {
    type CheckPostgres = ModelProbeResult;
    type CheckNats = ModelProbeResult;
    type CheckRedis = ModelProbeResult;
    type Aggregate = FleetReport;
    type DecideFailover = ModelFailoverDecision;

    async fn check_postgres(
        &self,
        input: &ModelHealthRound,
        cx: &WorkflowContext,
    ) -> Result<ModelProbeResult, OnexError> {
        self.check(input, "postgres", cx).await
    }

    async fn check_nats(
        &self,
        input: &ModelHealthRound,
        cx: &WorkflowContext,
    ) -> Result<ModelProbeResult, OnexError> {
        self.check(input, "nats", cx).await
    }

    async fn check_redis(
        &self,
        input: &ModelHealthRound,
        cx: &WorkflowContext,
    ) -> Result<ModelProbeResult, OnexError> {
        self.check(input, "redis", cx).await
    }

    async fn aggregate(
        &self,
        input: &ModelHealthRound,
        deps: InfraHealthOrchestratorAggregateDeps<'_>,
        cx: &WorkflowContext,
    ) -> Result<FleetReport, OnexError> {
        let probes = [deps.check_postgres, deps.check_nats, deps.check_redis];
        let mut services = Vec::with_capacity(probes.len());
        for (monitor, probe) in self.monitors.iter().zip(probes) {
            services.push(monitor.record(probe, input.slow_ms, cx).await?);
        }
        Ok(FleetReport { services })
    }

    async fn decide_failover(
        &self,
        input: &ModelHealthRound,
        deps: InfraHealthOrchestratorDecideFailoverDeps<'_>,
        cx: &WorkflowContext,
    ) -> Result<ModelFailoverDecision, OnexError> {
        let fleet = fleet_status(input, deps.aggregate);
        let FailoverPolicyOutput::Decide(decision) = cx
            .call(&self.policy, FailoverPolicyInput::Decide(fleet))
            .await?;
        Ok(decision)
    }
}

/// An instance listening at `host:port`.
pub fn endpoint(instance: &str, host: &str, port: u16) -> ModelEndpoint {
    ModelEndpoint {
        instance: instance.to_owned(),
        host: host.to_owned(),
        port: i64::from(port),
    }
}

/// A service served by `active`, without a replica.
pub fn target(service: &str, active: ModelEndpoint) -> ModelServiceTarget {
    ModelServiceTarget {
        service: service.to_owned(),
        active,
        replica: None,
    }
}

/// The input of round `round`: the contract's defaults (400 ms probe timeout, `health_slow`
/// above 250 ms).
pub fn round(round: u32, targets: &[ModelServiceTarget]) -> ModelHealthRound {
    ModelHealthRound {
        round: i64::from(round),
        targets: targets.to_vec(),
        probe_timeout_ms: 400,
        slow_ms: 250.0,
    }
}

/// What the failover policy reads: each service's lifecycle state, counters, intents and
/// replica, from this round's report.
fn fleet_status(input: &ModelHealthRound, report: &FleetReport) -> ModelFleetStatus {
    let services = report
        .services
        .iter()
        .map(|s| ModelServiceStatus {
            service: s.service.clone(),
            instance: s.instance.clone(),
            state: lifecycle_state(s.state),
            retry_count: s.counters.retry_count,
            consecutive_failures: s.counters.consecutive_failures,
            intents: s.intents().iter().map(|i| i.as_str().to_owned()).collect(),
            replica: input
                .targets
                .iter()
                .find(|t| t.service == s.service)
                .and_then(|t| t.replica.as_ref())
                .map(|r| r.instance.clone()),
        })
        .collect();
    ModelFleetStatus {
        services,
        max_restarts: MAX_RESTARTS,
    }
}
