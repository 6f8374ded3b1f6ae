//! **onex**: ONEX nodes declared from their YAML contracts at compile time.
//!
//! An ONEX node is described by a YAML contract. `#[effect_node(contract = "…")]` reads it
//! while your crate compiles and generates, next to your struct, the typed models, an
//! operation enum, input/output enums in the ONEX wire form, a handler trait with one method
//! per operation, and the dispatch code. A contract mistake is a compile error naming the
//! YAML file, line and column; a forgotten operation is rustc's own "missing trait item".
//!
//! ```
//! use onex_runtime::{effect_node, EffectContext, EffectNode, OnexError};
//!
//! #[effect_node(contract = "contracts/greeter.yaml", relative_to = manifest)]
//! pub struct Greeter;
//!
//! impl GreeterHandler for Greeter {
//!     async fn greet(&self, _ctx: &EffectContext, input: greeter::ModelGreeting)
//!         -> Result<greeter::ModelReply, OnexError> {
//!         Ok(greeter::ModelReply { text: format!("Hello, {}!", input.name) })
//!     }
//!     async fn farewell(&self, _ctx: &EffectContext, input: greeter::ModelGreeting)
//!         -> Result<greeter::ModelReply, OnexError> {
//!         Ok(greeter::ModelReply { text: format!("Goodbye, {}!", input.name) })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let request = br#"{"payload": {"operation": "greet", "name": "Ada"},
//!                    "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
//!                    "envelope_timestamp": "2026-11-20T12:30:45Z"}"#;
//! let reply = Greeter.process_json(request).await.unwrap();
//! assert_eq!(reply.payload["text"], "Hello, Ada!");
//! assert_eq!(GreeterOperation::ALL.len(), 2);
//! assert_eq!(<Greeter as EffectNode>::CONTRACT.name, "greeter");
//!
//! // Bad input is a typed error, never a panic.
//! let empty = br#"{"payload": {"operation": "greet", "name": ""},
//!                  "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
//!                  "envelope_timestamp": "2026-11-20T12:30:45Z"}"#;
//! let err = Greeter.process_json(empty).await.unwrap_err();
//! assert_eq!(err.code().as_str(), "ONEX_CORE_006_VALIDATION_ERROR");
//! # }
//! ```
//!
//! # Generated names
//!
//! For `#[effect_node] pub struct PostgresAdapter` (names from your struct's identifier):
//!
//! | item | what it is |
//! |---|---|
//! | `postgres_adapter` (module) | models from `definitions`, `CONTRACT`, topic constants |
//! | `PostgresAdapterOperation` | `Copy` enum of operations: `as_str()`, `FromStr`, `ALL` |
//! | `PostgresAdapterInput` / `PostgresAdapterOutput` | one variant per operation, ONEX wire form |
//! | `PostgresAdapterHandler` | the trait you implement: one `async fn` per operation |
//! | `impl EffectNode for PostgresAdapter` | `dispatch`, `process`, `process_json`, `CONTRACT` |
//!
//! `#[compute_node]` generates the same items with synchronous, pure handler methods
//! (`fn op(&self, input) -> Result<Output, OnexError>`) and `impl ComputeNode`.
//! `#[reducer_node]` generates `{Node}State`, `{Node}Trigger`, `{Node}Intent` and
//! `impl ReducerNode` (a generated `match` on state and trigger); see [`fsm`] and
//! [`FsmExecutor`].
//!
//! `#[orchestrator_node]` generates, from `workflow_coordination.workflow_definition`,
//! `{Node}Step` (one variant per `execution_graph` node), the `{Node}Steps` trait (an output
//! type and an `async fn` per step, which receives the workflow input, a typed
//! `{Node}{Step}Deps` view of the outputs of the steps it depends on, and a
//! [`WorkflowContext`]), `{Node}Outputs` and `impl OrchestratorNode`, whose `PLAN` (order,
//! waves, coordination rules) is computed at compile time; see [`workflow`]. Steps call
//! other nodes through typed clients ([`EffectClient`], [`ComputeClient`],
//! [`ReducerClient`]).
//!
//! `#[compute_node]` generates the same items for a pure node (a contract with
//! `node_type: COMPUTE_GENERIC`; a side-effecting `descriptor.purity` is a compile error),
//! except that the handler's methods are plain synchronous `fn(&self, input)` and the node
//! implements [`ComputeNode`], whose `process` and `process_json` are synchronous too and
//! turn a panicking handler into a typed error.
//!
//! # Paths
//!
//! `contract = "x.yaml"` is relative to the source file holding the attribute (like
//! `include_str!`); `relative_to = manifest` makes it relative to `CARGO_MANIFEST_DIR`.
//! Absolute paths are rejected. Every file read is tracked, so editing the YAML rebuilds.
//! `crate = path` points generated code at a re-export of this crate.

pub mod bus;
mod client;
mod context;
pub mod db;
mod envelope;
mod error;
pub mod fsm;
pub mod host;
mod node;
pub mod policy;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod retry;
pub mod workflow;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// `#[async_trait]`, for implementing [`db::SqlExecutor`] and [`bus::EventBus`].
pub use async_trait::async_trait;
pub use client::{
    BusComputeClient, BusEffectClient, BusReducerClient, ComputeClient, EffectClient, NodeClient,
    ReducerClient, RemoteTransition, RemoteTransitionOf,
};
pub use context::EffectContext;
pub use envelope::{Envelope, EnvelopeMetadata, SemVer};
pub use error::{ErrorCode, OnexError};
pub use fsm::{FsmError, FsmExecutor, FsmInfo, FsmName, FsmState, ReducerNode, Transition};
pub use node::{
    ComputeNode, ContractInfo, EffectNode, NodeInput, NodeKind, NodeOutput, OperationInfo,
    RoutingStrategy, Version,
};
#[cfg(feature = "macros")]
pub use onex_macros::{compute_node, effect_node, orchestrator_node, reducer_node};
/// Untyped JSON, the payload type of operations whose contract names no model.
pub use serde_json::Value as JsonValue;
/// UUIDs (envelope and correlation ids, `type: uuid` fields).
pub use uuid::Uuid;
pub use workflow::{
    OrchestratorNode, StepOutputs, WorkflowContext, WorkflowExecutor, WorkflowFailure,
    WorkflowPlan, WorkflowReport, WorkflowRun, WorkflowStep, WorkflowTrace,
};
