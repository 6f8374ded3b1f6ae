//! Serving one node type twice on one bus: [`Instance`] gives a node a name and topics of its
//! own.
//!
//! A [`NodeHost`](onex_runtime::host::NodeHost) serves a node under its contract's `name` and
//! `event_bus` topics, which are compiled into the node type (`EffectNode::CONTRACT`). Two
//! PostgreSQL adapters on one bus would both answer on
//! `onex.cmd.postgres-adapter.request.v1`, and a host refuses two nodes with one name; the
//! `service_lifecycle` contract names no topic at all, so it cannot be hosted as it is.
//!
//! `Instance<N, I>` is `N` (same input, output, handlers, policies and state machine) under
//! the contract [`Identity::CONTRACT`] of `I`: the node's own contract with another name and
//! other topics. The wrapper is a plain delegation; nothing about the node changes.
//!
//! ```
//! use infra_demo::instance::{Instance, ReplicaAdapter};
//! use onex_runtime::EffectNode;
//! use postgres_adapter::PostgresAdapter;
//!
//! let replica = <Instance<PostgresAdapter, ReplicaAdapter> as EffectNode>::CONTRACT;
//! let primary = <PostgresAdapter as EffectNode>::CONTRACT;
//! assert_eq!(replica.name, "postgres_adapter_replica");
//! assert_eq!(replica.subscribe_topics, ["onex.cmd.postgres-adapter-replica.request.v1"]);
//! assert_eq!(replica.operations, primary.operations);
//! assert_eq!(replica.fingerprint, primary.fingerprint);
//! ```

use std::fmt;
use std::marker::PhantomData;

use infra_reducer::ServiceLifecycle;
use onex_runtime::fsm::{FsmInfo, TransitionOf};
use onex_runtime::policy::PolicyState;
use onex_runtime::{ContractInfo, EffectContext, EffectNode, FsmError, OnexError, ReducerNode};
use postgres_adapter::PostgresAdapter;

/// Who an [`Instance`] is: its contract (the node's own, with its name and topics replaced).
pub trait Identity: Send + Sync + 'static {
    /// The instance's contract.
    const CONTRACT: &'static ContractInfo;
}

/// The node `N` served as the instance `I` (see the [module documentation](self)).
pub struct Instance<N, I> {
    node: N,
    identity: PhantomData<fn() -> I>,
}

impl<N, I: Identity> Instance<N, I> {
    /// `node`, served as `I`.
    pub fn new(node: N) -> Self {
        Instance {
            node,
            identity: PhantomData,
        }
    }

    /// The node.
    pub fn node(&self) -> &N {
        &self.node
    }
}

impl<N: fmt::Debug, I: Identity> fmt::Debug for Instance<N, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instance")
            .field("name", &I::CONTRACT.name)
            .field("node", &self.node)
            .finish()
    }
}

impl<N: EffectNode, I: Identity> EffectNode for Instance<N, I> {
    type Input = N::Input;
    type Output = N::Output;
    const CONTRACT: &'static ContractInfo = I::CONTRACT;

    /// The node type's breakers: every instance of a type shares them (see
    /// [`EffectNode::policy_state`]).
    fn policy_state() -> Option<&'static PolicyState> {
        N::policy_state()
    }

    fn dispatch(
        &self,
        ctx: &EffectContext,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, OnexError>> + Send {
        self.node.dispatch(ctx, input)
    }
}

impl<R: ReducerNode, I: Identity> ReducerNode for Instance<R, I> {
    type State = R::State;
    type Trigger = R::Trigger;
    type Intent = R::Intent;
    type Context = R::Context;
    const CONTRACT: &'static ContractInfo = I::CONTRACT;
    const FSM: &'static FsmInfo = R::FSM;

    fn reduce(
        &self,
        state: Self::State,
        trigger: Self::Trigger,
        context: &Self::Context,
    ) -> Result<TransitionOf<Self>, FsmError> {
        self.node.reduce(state, trigger, context)
    }
}

/// The second PostgreSQL adapter: `postgres_adapter_replica` on
/// `onex.cmd.postgres-adapter-replica.request.v1`.
#[derive(Debug)]
pub struct ReplicaAdapter;

impl Identity for ReplicaAdapter {
    const CONTRACT: &'static ContractInfo = &ContractInfo {
        name: "postgres_adapter_replica",
        subscribe_topics: &[REPLICA_ADAPTER_TOPIC],
        publish_topics: &["onex.evt.postgres-adapter-replica.completed.v1"],
        dlq_topics: &["onex.dlq.postgres-adapter-replica.failed.v1"],
        ..*<PostgresAdapter as EffectNode>::CONTRACT
    };
}

/// The topic of the primary adapter: the `postgres_adapter` contract's own.
pub const PRIMARY_ADAPTER_TOPIC: &str = "onex.cmd.postgres-adapter.request.v1";

/// The topic of the replica adapter.
pub const REPLICA_ADAPTER_TOPIC: &str = "onex.cmd.postgres-adapter-replica.request.v1";

/// The topic of the primary's lifecycle reducer.
pub const PRIMARY_LIFECYCLE_TOPIC: &str = "onex.cmd.service-lifecycle-primary.trigger.v1";

/// The topic of the replica's lifecycle reducer.
pub const REPLICA_LIFECYCLE_TOPIC: &str = "onex.cmd.service-lifecycle-replica.trigger.v1";

/// The primary's lifecycle: `service_lifecycle_primary`.
#[derive(Debug)]
pub struct PrimaryLifecycle;

impl Identity for PrimaryLifecycle {
    const CONTRACT: &'static ContractInfo = &ContractInfo {
        name: "service_lifecycle_primary",
        subscribe_topics: &[PRIMARY_LIFECYCLE_TOPIC],
        publish_topics: &[],
        dlq_topics: &["onex.dlq.service-lifecycle-primary.rejected.v1"],
        ..*<ServiceLifecycle as ReducerNode>::CONTRACT
    };
}

/// The replica's lifecycle: `service_lifecycle_replica`.
#[derive(Debug)]
pub struct ReplicaLifecycle;

impl Identity for ReplicaLifecycle {
    const CONTRACT: &'static ContractInfo = &ContractInfo {
        name: "service_lifecycle_replica",
        subscribe_topics: &[REPLICA_LIFECYCLE_TOPIC],
        publish_topics: &[],
        dlq_topics: &["onex.dlq.service-lifecycle-replica.rejected.v1"],
        ..*<ServiceLifecycle as ReducerNode>::CONTRACT
    };
}

/// The replica adapter's node type.
pub type ReplicaAdapterNode = Instance<PostgresAdapter, ReplicaAdapter>;

/// The primary lifecycle's node type.
pub type PrimaryLifecycleNode = Instance<ServiceLifecycle, PrimaryLifecycle>;

/// The replica lifecycle's node type.
pub type ReplicaLifecycleNode = Instance<ServiceLifecycle, ReplicaLifecycle>;
