//! The README's main command: the PostgreSQL adapter, the service-lifecycle reducer and an
//! orchestrator running together on an event bus.
//!
//! Five nodes, three kinds, one bus:
//!
//! | node | kind | topic | what it is |
//! |---|---|---|---|
//! | `postgres_adapter` | EFFECT | `onex.cmd.postgres-adapter.request.v1` | the primary database's adapter ([`PostgresAdapter`](postgres_adapter::PostgresAdapter)) |
//! | `postgres_adapter_replica` | EFFECT | `onex.cmd.postgres-adapter-replica.request.v1` | the same adapter for a second database, by default one that is not there |
//! | `service_lifecycle_primary` | REDUCER | `onex.cmd.service-lifecycle-primary.trigger.v1` | the primary's lifecycle ([`ServiceLifecycle`](infra_reducer::ServiceLifecycle)) |
//! | `service_lifecycle_replica` | REDUCER | `onex.cmd.service-lifecycle-replica.trigger.v1` | the replica's lifecycle |
//! | `infra_demo` | ORCHESTRATOR | `onex.cmd.infra-demo.round.v1` | [`InfraDemoOrchestrator`]: one round per request |
//!
//! Each round, the orchestrator asks both adapters for `health` (at once), fires the answer
//! into each adapter's own lifecycle reducer (`health_ok`, `health_slow`, `health_failed`,
//! and `restart` for a failed service), and carries out the intents the reducers emit:
//! `restart_service` reconnects the adapter (`health { reconnect: true }`), `alert` and
//! `raise_warning` are raised, `clear_alert` clears; a failed service the reducer refuses to
//! restart is escalated. On a healthy primary it writes a heartbeat through `execute` (with
//! the round's idempotency key), sends it again (replayed, not written twice), and counts
//! the heartbeats through `query`. Every call goes through the bus by topic
//! ([`BusEffectClient`](onex_runtime::BusEffectClient),
//! [`BusReducerClient`](onex_runtime::BusReducerClient)), so the nodes may live in this
//! process or in others: [`fleet::serve`] hosts any subset of them.
//!
//! ```no_run
//! use std::sync::Arc;
//! use infra_demo::driver::Driver;
//! use infra_demo::fleet::{self, Databases, Fleet, Role};
//! use onex_runtime::bus::{EventBus, InMemoryBus};
//! use onex_runtime::Uuid;
//!
//! # #[tokio::main] async fn main() -> Result<(), onex_runtime::OnexError> {
//! let fleet = Fleet::new(&Databases::from_env(None)?)?;
//! fleet.setup().await;
//! let bus: Arc<dyn EventBus> = Arc::new(InMemoryBus::new());
//! let host = fleet::serve(Arc::clone(&bus), &Role::ALL, &fleet).await?;
//! let driver = Driver::new(bus, Uuid::new_v4());
//! let outcome = driver.round(1).await;
//! print!("{}", infra_demo::timeline::round(&outcome));
//! host.shutdown().await;
//! # Ok(()) }
//! ```

pub mod driver;
pub mod fleet;
pub mod instance;
mod orchestrator;
pub mod timeline;

pub use orchestrator::infra_demo_orchestrator::{self, ModelDemoRound};
pub use orchestrator::{
    Action, CALL_TIMEOUT, COUNT_SQL, Counters, HEARTBEAT_SQL, Heartbeat, InfraDemoOrchestrator,
    InfraDemoOrchestratorActDeps, InfraDemoOrchestratorAggregateDeps, InfraDemoOrchestratorOutputs,
    InfraDemoOrchestratorStep, InfraDemoOrchestratorSteps, LifecycleRound, LifecycleTransition,
    MAX_RESTARTS, Probe, Rejection, Service, ServiceActions, cause, demo_round,
};
