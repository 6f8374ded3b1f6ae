//! The node host: serves ONEX nodes from an event bus (DESIGN.md §7).
//!
//! A [`NodeHost`] subscribes every node to its contract's `subscribe_topics`, hands each
//! delivered envelope to the node (`process_json` of its kind), publishes the reply
//! envelope to every `publish_topics` entry (and to the requester, for a
//! [`request`](crate::bus::EventBus::request)), and settles the delivery. Several nodes of
//! any kind share one host; each has its own subscriptions, concurrency limit and counters,
//! so a poison message for one never affects another. The host is written against
//! `Arc<dyn EventBus>`: the same nodes run on [`InMemoryBus`](crate::bus::InMemoryBus) or
//! `NatsBus` by changing the line that creates the bus.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use onex_runtime::bus::{BusMessage, EventBus, InMemoryBus};
//! use onex_runtime::host::NodeHost;
//! use onex_runtime::{EffectContext, Envelope, JsonValue, OnexError, effect_node};
//!
//! #[effect_node(contract = "tests/host/greeter.yaml", relative_to = manifest)]
//! pub struct Greeter;
//!
//! impl GreeterHandler for Greeter {
//!     async fn greet(&self, _ctx: &EffectContext, input: greeter::ModelGreeting)
//!         -> Result<greeter::ModelReply, OnexError> {
//!         Ok(greeter::ModelReply { text: format!("Hello, {}!", input.name) })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), OnexError> {
//! let bus: Arc<dyn EventBus> = Arc::new(InMemoryBus::new()); // or NatsBus::connect(…)
//! let host = NodeHost::builder(Arc::clone(&bus)).effect(Greeter).start().await?;
//! assert!(host.health().await.is_ready());
//!
//! let request = br#"{"payload": {"operation": "greet", "name": "Ada"},
//!                    "correlation_id": "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"}"#;
//! let reply = bus
//!     .request(BusMessage::new("onex.cmd.greeter.greet.v1", &request[..]), Duration::from_secs(5))
//!     .await?;
//! let reply = Envelope::from_json(&reply.payload)?;
//! assert_eq!(reply.payload["text"], "Hello, Ada!");
//! assert_eq!(reply.correlation_id.map(|id| id.to_string()).as_deref(),
//!            Some("6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"));
//!
//! let report = host.shutdown().await;
//! assert_eq!(report.stats[0].succeeded, 1);
//! # Ok(()) }
//! ```
//!
//! # Per delivery
//!
//! 1. An envelope larger than [`HostConfig::max_envelope_bytes`] is rejected unread
//!    ([`ErrorCode::InvalidInput`], the message says its
//!    size and the limit).
//! 2. The node processes it; a panic is caught and becomes an
//!    [`ErrorCode::HandlerExecution`] error naming the
//!    node (compute nodes already turn handler panics into such errors themselves).
//! 3. On success the reply (same `correlation_id`, causation recorded in
//!    `metadata.tags["causation_id"]`) goes to every publish topic, then to the requester's
//!    `reply_to`, and only then is the delivery acked. The reply's `envelope_id` is derived
//!    from the request's `envelope_id` and the node's name and serves as the bus message id,
//!    so a request processed twice (after a crash) yields a reply the bus de-duplicates.
//!    (With several publish topics the id is `<envelope_id>@<topic>`, so that topics sharing
//!    one JetStream stream do not de-duplicate each other.)
//! 4. On failure:
//!    - *permanent* errors, where the message itself is wrong (invalid input: malformed
//!      JSON, bad fields, oversized; validation; unsupported operation; contract or security
//!      violation) are dead-lettered at once and the delivery terminated;
//!    - *transient* errors (timeouts, handler errors and panics, failed operations, bus
//!      faults, open circuits, internal and any other codes) are nacked with a delay of
//!      [`HostConfig::nack_delay`] while the delivery's attempt is below
//!      [`HostConfig::max_deliver`], and dead-lettered on the last attempt.
//!
//!    A requester (`reply_to`) is answered with an error reply when its request is
//!    dead-lettered: an envelope whose payload is the [`OnexError`] JSON
//!    (ONEX `ModelOnexError`), `payload_type` [`ERROR_PAYLOAD_TYPE`], so it does not wait in
//!    vain. Outputs that cannot be published count as a transient failure: the delivery is
//!    nacked, never acked before its outputs are out.
//!
//! # Dead letters
//!
//! A node's DLQ topic is its contract's first `event_bus.dlq_topics` entry, else
//! `onex.dlq.<node-name-in-kebab-case>.failed.v1` ([`dlq_topic`]). A dead letter is the JSON
//! object
//!
//! ```json
//! { "node": "greeter", "topic": "onex.cmd.greeter.greet.v1", "attempts": 5,
//!   "error": { "error_code": "ONEX_CORE_095_HANDLER_EXECUTION_ERROR", "message": "…", … },
//!   "envelope": { …the original envelope… }, "dead_lettered_at": "2026-11-20T12:30:45.123456Z" }
//! ```
//!
//! where `envelope` is the original JSON when it parses, else its text (lossy UTF-8, cut to
//! 4 KiB for an oversized envelope). Its message id is `dlq-<node>-<envelope_id>` (a hash of
//! the bytes when there is no id), and its headers carry the error code
//! ([`ERROR_CODE_HEADER`]), the node ([`NODE_HEADER`]) and the source topic
//! ([`SOURCE_TOPIC_HEADER`]). A dead letter that cannot be published is not acked: the
//! delivery is nacked, so nothing is lost while the bus still redelivers it (a bus drops a
//! message nacked on its last allowed delivery).
//!
//! # Subscriptions and shutdown
//!
//! A node subscribes to each of its subscribe topics as the durable consumer
//! `<durable_prefix>-<node-name-in-kebab-case>` (both buses keep one consumer per durable
//! name and topic pattern), so a restarted host resumes where the last one stopped and
//! several host processes share the work. A node takes a delivery only when it has a free
//! concurrency permit ([`HostConfig::max_concurrency`]; reducers, being sequential folds,
//! take one at a time). A subscription that fails or ends is re-established with
//! [`HostConfig::resubscribe_backoff`]; meanwhile the node is reported degraded.
//!
//! [`NodeHost::shutdown`] stops taking deliveries, waits up to
//! [`HostConfig::drain_timeout`] for those in flight to finish and be settled, nacks any
//! still running, and returns a [`ShutdownReport`]. Dropping a host (or
//! [`NodeHost::abort`]) stops at once and leaves in-flight deliveries unsettled, as a crash
//! would: the bus redelivers them.
//!
//! # Observability
//!
//! Each delivery runs in a `tracing` span `onex.envelope` with the fields `node`,
//! `operation`, `correlation_id`, `attempt` and `topic`. `operation` (the payload's
//! `operation`, else the envelope's `payload_type`) and `correlation_id` are read from the
//! bytes with a borrowing scan only when a subscriber records the span; otherwise the
//! correlation id comes from the reply or the error. Metrics go through the `metrics`
//! facade, labelled by node: [`ENVELOPES_TOTAL`] (`outcome`: `ok`, `retry`, `dlq`),
//! [`ENVELOPE_DURATION_SECONDS`], [`DEAD_LETTERS_TOTAL`] and [`IN_FLIGHT`]. Their handles
//! are registered when a node is added to the builder: install the recorder first.
//! [`NodeHost::stats`] gives the same counts per node, [`NodeHost::health`] a
//! `/health`-style [`HostHealth`].

mod config;
mod dlq;
mod health;
mod hosted;
mod metrics;
mod worker;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use config::HostConfig;
pub use dlq::{ERROR_CODE_HEADER, ERROR_PAYLOAD_TYPE, NODE_HEADER, SOURCE_TOPIC_HEADER, dlq_topic};
pub use health::{HealthStatus, HostHealth, NodeHealth, SubscriptionHealth, SubscriptionState};
pub use metrics::{
    DEAD_LETTERS_TOTAL, ENVELOPE_DURATION_SECONDS, ENVELOPES_TOTAL, IN_FLIGHT, NodeStats,
};

use crate::bus::{BusHealth, EventBus, validate_pattern, validate_topic};
use crate::error::{ErrorCode, OnexError};
use crate::fsm::{FsmExecutor, ReducerNode};
use crate::node::{ComputeNode, EffectNode};
use crate::workflow::{OrchestratorNode, WorkflowExecutor};
use health::SubscriptionCell;
use hosted::{ComputeAdapter, EffectAdapter, Hosted, OrchestratorAdapter, ReducerAdapter};
use metrics::NodeRecorder;
use worker::{Control, NodeRuntime};

/// Collects the nodes and the configuration of a [`NodeHost`]; [`start`](Self::start)
/// subscribes them.
pub struct NodeHostBuilder {
    bus: Arc<dyn EventBus>,
    config: HostConfig,
    nodes: Vec<(Box<dyn Hosted>, NodeRecorder)>,
}

impl std::fmt::Debug for NodeHostBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.nodes.iter().map(|(n, _)| n.contract().name).collect();
        f.debug_struct("NodeHostBuilder")
            .field("bus", &self.bus.name())
            .field("config", &self.config)
            .field("nodes", &names)
            .finish()
    }
}

impl NodeHostBuilder {
    /// Replaces the configuration (default [`HostConfig::default`]).
    #[must_use]
    pub fn config(mut self, config: HostConfig) -> Self {
        self.config = config;
        self
    }

    fn add(mut self, node: Box<dyn Hosted>) -> Self {
        let recorder = NodeRecorder::new(node.contract().name);
        self.nodes.push((node, recorder));
        self
    }

    /// Hosts an EFFECT node.
    #[must_use]
    pub fn effect<N: EffectNode>(self, node: N) -> Self {
        self.effect_arc(Arc::new(node))
    }

    /// Hosts an EFFECT node shared with the caller.
    #[must_use]
    pub fn effect_arc<N: EffectNode>(self, node: Arc<N>) -> Self {
        self.add(Box::new(EffectAdapter(node)))
    }

    /// Hosts a COMPUTE node. Its handlers run on the worker task: keep them short.
    #[must_use]
    pub fn compute<N: ComputeNode>(self, node: N) -> Self {
        self.compute_arc(Arc::new(node))
    }

    /// Hosts a COMPUTE node shared with the caller.
    #[must_use]
    pub fn compute_arc<N: ComputeNode>(self, node: Arc<N>) -> Self {
        self.add(Box::new(ComputeAdapter(node)))
    }

    /// Hosts a REDUCER through its executor (which holds the state): one envelope at a
    /// time, in delivery order. A redelivered trigger (after a crash) is applied again.
    #[must_use]
    pub fn reducer<R>(self, executor: FsmExecutor<R>) -> Self
    where
        R: ReducerNode,
        R::Context: DeserializeOwned,
    {
        self.add(Box::new(ReducerAdapter(std::sync::Mutex::new(executor))))
    }

    /// Hosts an ORCHESTRATOR through its executor: each envelope runs the workflow once.
    #[must_use]
    pub fn orchestrator<N>(self, executor: WorkflowExecutor<N>) -> Self
    where
        N: OrchestratorNode,
        N::Input: DeserializeOwned,
    {
        self.add(Box::new(OrchestratorAdapter(executor)))
    }

    /// Checks the nodes, subscribes each to its subscribe topics and starts serving.
    ///
    /// # Errors
    ///
    /// [`ErrorCode::InvalidInput`] when there is no node, two nodes share a name, a node's
    /// contract has no `subscribe_topics`, or a topic (subscribe, publish, DLQ) is invalid.
    /// A bus that cannot be reached is not an error: the host starts, reports
    /// [`HealthStatus::Failing`] and keeps trying to subscribe with
    /// [`HostConfig::resubscribe_backoff`].
    pub async fn start(self) -> Result<NodeHost, OnexError> {
        let NodeHostBuilder { bus, config, nodes } = self;
        if nodes.is_empty() {
            return Err(OnexError::invalid_input(
                "a node host needs at least one node",
            ));
        }
        let config = Arc::new(config);
        let mut names = BTreeSet::new();
        let mut runtimes = Vec::with_capacity(nodes.len());
        for (hosted, recorder) in nodes {
            let contract = hosted.contract();
            let name = contract.name;
            let invalid =
                |message: String| Err(OnexError::invalid_input(message).with_context("node", name));
            if !names.insert(name) {
                return invalid(format!("two nodes named '{name}' in one host"));
            }
            if contract.subscribe_topics.is_empty() {
                return invalid(format!(
                    "node '{name}' has no event_bus.subscribe_topics in its contract: \
                     nothing to serve"
                ));
            }
            for topic in contract.subscribe_topics {
                validate_pattern(topic).map_err(|e| e.with_context("node", name))?;
            }
            for topic in contract.publish_topics {
                validate_topic(topic).map_err(|e| e.with_context("node", name))?;
            }
            let dlq_topic = dlq_topic(contract).into_owned();
            validate_topic(&dlq_topic).map_err(|e| e.with_context("node", name))?;
            let subscriptions = contract
                .subscribe_topics
                .iter()
                .map(|topic| Arc::new(SubscriptionCell::new(topic)))
                .collect();
            let permits = hosted.concurrency(config.concurrency()).max(1);
            runtimes.push(Arc::new(NodeRuntime {
                name,
                hosted,
                bus: Arc::clone(&bus),
                config: Arc::clone(&config),
                dlq_topic,
                durable: durable_name(&config.durable_prefix, name),
                semaphore: Arc::new(Semaphore::new(permits)),
                permits: u32::try_from(permits).unwrap_or(u32::MAX),
                recorder,
                subscriptions,
            }));
        }
        let mut host = NodeHost {
            bus,
            config,
            nodes: runtimes,
            ctl: Arc::new(Control::new()),
            loops: Vec::new(),
            finished: false,
        };
        for node in host.nodes.clone() {
            for cell in &node.subscriptions {
                let options = node.subscribe_options();
                let initial = match host.bus.subscribe(cell.topic, options).await {
                    Ok(stream) => {
                        cell.active();
                        Some(stream)
                    }
                    Err(e) if e.code() == ErrorCode::InvalidInput => {
                        // `host` is dropped: the subscriptions made so far stop.
                        return Err(e.with_context("node", node.name));
                    }
                    Err(e) => {
                        tracing::warn!(
                            node = node.name,
                            topic = cell.topic,
                            error = %e,
                            "cannot subscribe yet; retrying"
                        );
                        cell.lost(e.to_string());
                        None
                    }
                };
                host.loops.push(tokio::spawn(worker::run_subscription(
                    Arc::clone(&node),
                    Arc::clone(cell),
                    Arc::clone(&host.ctl),
                    initial,
                )));
            }
        }
        Ok(host)
    }
}

/// The durable consumer name of `node`'s subscriptions.
fn durable_name(prefix: &str, node: &str) -> String {
    format!("{prefix}-{}", dlq::kebab(node, '-'))
}

/// What [`NodeHost::shutdown`] did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShutdownReport {
    /// Envelopes in flight when the host stopped taking new ones.
    pub in_flight_at_stop: u64,
    /// Of those, how many finished (and were settled) within the drain timeout.
    pub drained: u64,
    /// Of those, how many were still running at the drain timeout and were nacked for
    /// redelivery.
    pub abandoned: u64,
    /// True when the drain timeout passed before everything finished.
    pub timed_out: bool,
    /// How long the shutdown took.
    pub elapsed: Duration,
    /// The final counters of every node.
    pub stats: Vec<NodeStats>,
}

/// A running node host (see the [module documentation](self)).
///
/// Stop it with [`shutdown`](Self::shutdown); dropping it stops it abruptly (in-flight
/// deliveries are left unsettled for the bus to redeliver).
pub struct NodeHost {
    bus: Arc<dyn EventBus>,
    config: Arc<HostConfig>,
    nodes: Vec<Arc<NodeRuntime>>,
    ctl: Arc<Control>,
    loops: Vec<JoinHandle<()>>,
    finished: bool,
}

impl std::fmt::Debug for NodeHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeHost")
            .field("bus", &self.bus.name())
            .field("nodes", &self.stats())
            .finish_non_exhaustive()
    }
}

impl NodeHost {
    /// A builder of a host serving from `bus`.
    pub fn builder(bus: Arc<dyn EventBus>) -> NodeHostBuilder {
        NodeHostBuilder {
            bus,
            config: HostConfig::default(),
            nodes: Vec::new(),
        }
    }

    /// The bus the host serves from.
    pub fn bus(&self) -> &Arc<dyn EventBus> {
        &self.bus
    }

    /// The configuration in force.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// The names of the hosted nodes, in the order they were added.
    pub fn nodes(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.nodes.iter().map(|node| node.name)
    }

    /// The DLQ topic of the named node.
    pub fn dlq_topic(&self, node: &str) -> Option<&str> {
        self.node(node).map(|n| n.dlq_topic.as_str())
    }

    /// The durable consumer name the named node subscribes with.
    pub fn durable_name(&self, node: &str) -> Option<&str> {
        self.node(node).map(|n| n.durable.as_str())
    }

    fn node(&self, name: &str) -> Option<&NodeRuntime> {
        self.nodes
            .iter()
            .find(|node| node.name == name)
            .map(|node| &**node)
    }

    /// The counters of every node, in the order they were added.
    pub fn stats(&self) -> Vec<NodeStats> {
        self.nodes
            .iter()
            .map(|node| node.recorder.snapshot(node.name))
            .collect()
    }

    /// The counters of the named node.
    pub fn node_stats(&self, node: &str) -> Option<NodeStats> {
        self.node(node).map(|n| n.recorder.snapshot(n.name))
    }

    /// The host's health: the bus's connection, every subscription, and the nodes' own
    /// reasons (see [`HostHealth`]).
    pub async fn health(&self) -> HostHealth {
        let bus = self.bus.health().await;
        let mut status = HealthStatus::Ready;
        let mut reasons = Vec::new();
        if let BusHealth::Disconnected(why) = &bus {
            status = HealthStatus::Degraded;
            reasons.push(format!("bus '{}' disconnected: {why}", self.bus.name()));
        }
        if self.ctl.stop.is_cancelled() {
            status = HealthStatus::Failing;
            reasons.push("the host is shutting down".to_owned());
        }
        let nodes = self
            .nodes
            .iter()
            .map(|node| {
                let subscriptions: Vec<SubscriptionHealth> =
                    node.subscriptions.iter().map(|s| s.health()).collect();
                let (node_status, node_reasons) =
                    health::node_status(&subscriptions, node.hosted.degraded_reason());
                status = status.max(node_status);
                reasons.extend(node_reasons.iter().map(|r| format!("{}: {r}", node.name)));
                NodeHealth {
                    node: node.name,
                    durable: node.durable.clone(),
                    kind: node.hosted.contract().kind.onex_name(),
                    status: node_status,
                    reasons: node_reasons,
                    subscriptions,
                    stats: node.recorder.snapshot(node.name),
                }
            })
            .collect();
        HostHealth {
            status,
            reasons,
            bus: self.bus.name(),
            bus_connected: bus.is_connected(),
            nodes,
        }
    }

    fn in_flight(&self) -> u64 {
        self.nodes
            .iter()
            .map(|node| node.recorder.in_flight())
            .sum()
    }

    /// Waits until every node has all its permits back: nothing is in flight any more.
    async fn drained(&self) {
        for node in &self.nodes {
            // Closed only by nobody: an error would mean nothing can be in flight.
            let _all = node.semaphore.acquire_many(node.permits).await;
        }
    }

    /// Shuts down gracefully: stops taking deliveries, lets those in flight finish (their
    /// outputs published, settled) for up to [`HostConfig::drain_timeout`], nacks those still
    /// running then (the bus redelivers them, to this host's successor or a peer), and
    /// reports.
    pub async fn shutdown(mut self) -> ShutdownReport {
        let started = Instant::now();
        self.ctl.stop.cancel();
        for subscription in std::mem::take(&mut self.loops) {
            if let Err(e) = subscription.await {
                tracing::error!(error = %e, "a subscription loop failed");
            }
        }
        let in_flight_at_stop = self.in_flight();
        let deadline = started + self.config.drain_timeout;
        let timed_out = tokio::time::timeout_at(deadline, self.drained())
            .await
            .is_err();
        let mut abandoned = 0;
        if timed_out {
            abandoned = self.in_flight();
            tracing::warn!(
                abandoned,
                "drain timeout passed; nacking the envelopes still in flight"
            );
            self.ctl.halt.cancel();
            self.drained().await;
        }
        self.finished = true;
        ShutdownReport {
            in_flight_at_stop,
            drained: in_flight_at_stop.saturating_sub(abandoned),
            abandoned,
            timed_out,
            elapsed: started.elapsed(),
            stats: self.stats(),
        }
    }

    /// Stops at once, as a crash would: nothing more is processed or published, and
    /// in-flight deliveries are dropped unsettled, for the bus to redeliver (the in-memory
    /// bus at once, JetStream after `ack_wait`). Same as dropping the host.
    pub fn abort(self) {
        drop(self);
    }
}

impl Drop for NodeHost {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Stop taking deliveries first: a delivery dropped by a halted task is redelivered
        // at once, and must not come back to this host.
        self.ctl.stop.cancel();
        self.ctl.crash.store(true, Ordering::SeqCst);
        self.ctl.halt.cancel();
    }
}
