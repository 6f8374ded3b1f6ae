//! Health of a host: per subscription, per node, and overall ([`HostHealth`]).

use std::sync::{Mutex, PoisonError};

use serde::Serialize;

use super::metrics::NodeStats;

/// Overall status, from best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Every subscription is active and the bus is connected.
    Ready,
    /// Serving, or about to serve again, with problems (see the reasons): the bus is
    /// disconnected, a subscription is being re-established, a node reports trouble.
    Degraded,
    /// Not serving: a subscription could not be established at all (or was given up), or
    /// the host has shut down.
    Failing,
}

impl HealthStatus {
    /// `ready`, `degraded` or `failing`.
    pub const fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Ready => "ready",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Failing => "failing",
        }
    }
}

/// The state of one subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionState {
    /// Not subscribed yet (the first attempts are under way or failed).
    Subscribing,
    /// Receiving deliveries.
    Active,
    /// Was active; lost its subscription and is subscribing again.
    Resubscribing,
    /// Given up: the topic was rejected or the resubscribe backoff ran out.
    Failed,
    /// Stopped by a shutdown.
    Stopped,
}

/// The health of one subscription of a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SubscriptionHealth {
    /// The topic (or pattern) subscribed to.
    pub topic: &'static str,
    /// Where it stands.
    pub state: SubscriptionState,
    /// The last problem, if any (kept while not active).
    pub reason: Option<String>,
}

/// The health of one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeHealth {
    /// The node's name.
    pub node: &'static str,
    /// The node kind, as ONEX names it (`EFFECT_GENERIC`, …).
    pub kind: &'static str,
    /// The durable consumer name of its subscriptions.
    pub durable: String,
    /// The node's status: the worst of its subscriptions and its own reasons.
    pub status: HealthStatus,
    /// Why it is not ready (empty when ready).
    pub reasons: Vec<String>,
    /// Its subscriptions, one per subscribe topic.
    pub subscriptions: Vec<SubscriptionHealth>,
    /// Its counters.
    pub stats: NodeStats,
}

/// A `/health`-style report of a [`NodeHost`](super::NodeHost).
///
/// `status` is [`Failing`](HealthStatus::Failing) when any node is failing,
/// [`Degraded`](HealthStatus::Degraded) when anything else is wrong (each problem is one
/// line of `reasons`, prefixed with the node's name), [`Ready`](HealthStatus::Ready)
/// otherwise. Serializes to JSON for a health endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostHealth {
    /// The overall status.
    pub status: HealthStatus,
    /// Every reason the host is not ready.
    pub reasons: Vec<String>,
    /// The bus's name (`memory`, `nats`).
    pub bus: &'static str,
    /// Whether the bus reports itself connected.
    pub bus_connected: bool,
    /// Each node's health, in the order they were added.
    pub nodes: Vec<NodeHealth>,
}

impl HostHealth {
    /// True when the status is [`Ready`](HealthStatus::Ready).
    pub fn is_ready(&self) -> bool {
        self.status == HealthStatus::Ready
    }
}

/// The shared, updatable state of one subscription.
pub(crate) struct SubscriptionCell {
    pub(crate) topic: &'static str,
    state: Mutex<(SubscriptionState, Option<String>)>,
}

impl SubscriptionCell {
    /// A subscription not yet established.
    pub(crate) fn new(topic: &'static str) -> Self {
        SubscriptionCell {
            topic,
            state: Mutex::new((SubscriptionState::Subscribing, None)),
        }
    }

    fn set(&self, state: SubscriptionState, reason: Option<String>) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = (state, reason);
    }

    fn get(&self) -> (SubscriptionState, Option<String>) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Subscribed and receiving.
    pub(crate) fn active(&self) {
        self.set(SubscriptionState::Active, None);
    }

    /// The subscription broke (or an attempt to renew it failed) for `reason`.
    pub(crate) fn lost(&self, reason: String) {
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let next = match guard.0 {
            SubscriptionState::Subscribing => SubscriptionState::Subscribing,
            _ => SubscriptionState::Resubscribing,
        };
        *guard = (next, Some(reason));
    }

    /// Given up for `reason`.
    pub(crate) fn failed(&self, reason: String) {
        self.set(SubscriptionState::Failed, Some(reason));
    }

    /// Stopped by a shutdown (a reason, if any, is kept).
    pub(crate) fn stopped(&self) {
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        guard.0 = SubscriptionState::Stopped;
    }

    /// The report of this subscription.
    pub(crate) fn health(&self) -> SubscriptionHealth {
        let (state, reason) = self.get();
        SubscriptionHealth {
            topic: self.topic,
            state,
            reason,
        }
    }
}

/// The status and reasons of a node from its subscriptions and its own degraded reason.
pub(crate) fn node_status(
    subscriptions: &[SubscriptionHealth],
    own: Option<String>,
) -> (HealthStatus, Vec<String>) {
    let mut status = HealthStatus::Ready;
    let mut reasons = Vec::new();
    for sub in subscriptions {
        let (level, what) = match sub.state {
            SubscriptionState::Active => continue,
            SubscriptionState::Resubscribing => (HealthStatus::Degraded, "resubscribing to"),
            SubscriptionState::Subscribing => (HealthStatus::Failing, "cannot subscribe to"),
            SubscriptionState::Failed => (HealthStatus::Failing, "gave up subscribing to"),
            SubscriptionState::Stopped => (HealthStatus::Failing, "stopped serving"),
        };
        status = status.max(level);
        reasons.push(match &sub.reason {
            Some(reason) => format!("{what} {}: {reason}", sub.topic),
            None => format!("{what} {}", sub.topic),
        });
    }
    if let Some(reason) = own {
        status = status.max(HealthStatus::Degraded);
        reasons.push(reason);
    }
    (status, reasons)
}
