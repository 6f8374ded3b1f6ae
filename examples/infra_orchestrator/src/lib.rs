//! Infrastructure health checks as an ONEX ORCHESTRATOR, run in-process.
//!
//! Three nodes, three contracts, one workflow:
//!
//! - [`HealthProbe`] (EFFECT, `health_probe.yaml`) opens a TCP connection to a service
//!   within a timeout. It can be told to simulate a [`Fault`] for an instance, so a demo or
//!   a test scripts an outage without touching the real service.
//! - [`FailoverPolicy`] (COMPUTE, `failover_policy.yaml`, pure) decides the round's one
//!   action (`none`, `watch`, `restart`, `failover`, `escalate`) from the services'
//!   lifecycle states and intents.
//! - [`InfraHealthOrchestrator`] (ORCHESTRATOR, `infra_health_orchestrator.yaml`) runs the
//!   workflow `infra_health_check`, in parallel, two steps at a time:
//!
//! ```text
//! check_postgres ─┐
//! check_nats ─────┼─> aggregate ─> decide_failover
//! check_redis ────┘
//! ```
//!
//! `aggregate` feeds each probe result into the service's own
//! [`ServiceLifecycle`](infra_reducer::ServiceLifecycle) reducer (from the `infra_reducer`
//! example): `health_failed` when the probe could not connect, `health_slow` when it
//! answered after `slow_ms`, `health_ok` otherwise (`start` first, for a service never seen).
//! The reducers live in the orchestrator, so a service's state carries over from one round
//! to the next; [`InfraHealthOrchestrator::apply`] carries out a `restart` or `failover`
//! between rounds, as a host would.
//!
//! An unreachable service is an observation, not a step failure. A probe *step* fails only
//! when the probe itself does (here: a [`Fault::Wedged`] probe, ended by the contract's
//! `step_timeout_ms`); under `failure_recovery_strategy: continue` the other probes still
//! complete, and `aggregate` and `decide_failover`, which depend on every probe, are
//! skipped for that round.
//!
//! ```
//! use infra_orchestrator::{
//!     EnumFailoverAction, Fault, InfraHealthOrchestrator, ServiceLifecycleState, endpoint, round,
//!     target,
//! };
//! use onex_runtime::WorkflowExecutor;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // Every service "listens" on one local socket; postgres is scripted down.
//! let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
//! let port = listener.local_addr().unwrap().port();
//! let targets: Vec<_> = ["postgres", "nats", "redis"]
//!     .into_iter()
//!     .map(|s| target(s, endpoint(s, "127.0.0.1", port)))
//!     .collect();
//! let executor = WorkflowExecutor::new(InfraHealthOrchestrator::default());
//! executor.node().probe().set_fault("postgres", Fault::Down);
//!
//! let run = executor.run(round(1, &targets)).await.unwrap();
//! assert!(!run.outputs.check_postgres().unwrap().healthy);
//! assert!(run.outputs.check_nats().unwrap().healthy);
//! assert_eq!(executor.node().state("nats"), Some(ServiceLifecycleState::Healthy));
//! // postgres was started, failed its first check and is restarting in place.
//! assert_eq!(executor.node().state("postgres"), Some(ServiceLifecycleState::Starting));
//! let decision = run.outputs.decide_failover().unwrap();
//! assert_eq!(decision.action, EnumFailoverAction::Watch);
//! assert_eq!(decision.summary, "watch postgres");
//! println!("{}", run.trace); // the timeline of the five steps
//! # }
//! ```

mod orchestrator;
mod policy;
mod probe;
pub mod script;

pub use infra_reducer::{ServiceLifecycleIntent, ServiceLifecycleState, ServiceLifecycleTrigger};
pub use orchestrator::infra_health_orchestrator::{
    self, ModelEndpoint, ModelHealthRound, ModelServiceTarget,
};
pub use orchestrator::{
    Counters, FleetReport, InfraHealthOrchestrator, InfraHealthOrchestratorAggregateDeps,
    InfraHealthOrchestratorDecideFailoverDeps, InfraHealthOrchestratorOutputs,
    InfraHealthOrchestratorStep, InfraHealthOrchestratorSteps, MAX_RESTARTS, Remediation, SERVICES,
    ServiceReport, endpoint, round, target,
};
pub use policy::failover_policy::{
    self, EnumFailoverAction, EnumLifecycleState, ModelFailoverDecision, ModelFleetStatus,
    ModelServiceStatus,
};
pub use policy::{
    FailoverPolicy, FailoverPolicyHandler, FailoverPolicyInput, FailoverPolicyOperation,
    FailoverPolicyOutput,
};
pub use probe::health_probe::{self, ModelProbeRequest, ModelProbeResult};
pub use probe::{
    Fault, HealthProbe, HealthProbeHandler, HealthProbeInput, HealthProbeOperation,
    HealthProbeOutput,
};
