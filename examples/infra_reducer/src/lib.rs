//! An infrastructure-state REDUCER declared from `contract.yaml`.
//!
//! The whole node is the contract: states, triggers, guards and actions. The reducer is
//! pure — it decides the next state and the intents to emit (`restart_service`, `alert`, …)
//! and never performs them; an orchestrator or the host acts on the intents.
//!
//! ```
//! use infra_reducer::{ServiceLifecycle, ServiceLifecycleState, ServiceLifecycleTrigger, observation};
//! use onex_runtime::FsmExecutor;
//!
//! let mut fsm = FsmExecutor::new(ServiceLifecycle);
//! let seen = observation("db");
//! let t = fsm.fire(ServiceLifecycleTrigger::Start, &seen).unwrap();
//! assert_eq!(t.to, ServiceLifecycleState::Starting);
//! assert_eq!(fsm.state(), ServiceLifecycleState::Starting);
//! ```

use onex_runtime::reducer_node;

/// The service lifecycle reducer (no fields: the FSM's state lives in the executor).
#[reducer_node(contract = "contract.yaml")]
#[derive(Clone, Copy, Debug, Default)]
pub struct ServiceLifecycle;

pub use service_lifecycle::ModelServiceObservation;

/// A fresh observation of `service`: no retries, no failures, no latency measured.
pub fn observation(service: &str) -> ModelServiceObservation {
    ModelServiceObservation {
        service: service.to_owned(),
        retry_count: 0,
        consecutive_failures: 0,
        latency_ms: None,
        region: None,
    }
}
