//! Per-node counters ([`NodeStats`]) and the `metrics` facade handles the host records to.
//!
//! Handles are registered once per node, when the node is added to the
//! [`NodeHostBuilder`](super::NodeHostBuilder), so the hot path only bumps atomics: install
//! your recorder (Prometheus exporter, …) before building the host.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram};
use serde::Serialize;

/// Counter of processed envelopes, labelled `node` and `outcome` (`ok`, `retry`, `dlq`).
pub const ENVELOPES_TOTAL: &str = "onex_envelopes_total";
/// Histogram of the time from delivery to settlement, in seconds, labelled `node`.
pub const ENVELOPE_DURATION_SECONDS: &str = "onex_envelope_duration_seconds";
/// Counter of envelopes sent to the dead-letter topic, labelled `node`.
pub const DEAD_LETTERS_TOTAL: &str = "onex_dead_letters_total";
/// Gauge of envelopes being processed right now, labelled `node`.
pub const IN_FLIGHT: &str = "onex_in_flight";

/// How one delivery ended, for counters and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Processed, outputs published, acked.
    Ok,
    /// Failed (or could not publish), nacked for redelivery.
    Retry,
    /// Sent to the DLQ and terminated.
    DeadLettered,
    /// Dropped or nacked at shutdown before it finished.
    Abandoned,
}

/// The `metrics` handles of one node.
pub(crate) struct NodeMetrics {
    ok: Counter,
    retry: Counter,
    dlq: Counter,
    dead_letters: Counter,
    duration: Histogram,
    in_flight: Gauge,
}

impl NodeMetrics {
    /// Registers the node's handles with the current recorder.
    pub(crate) fn register(node: &'static str) -> Self {
        metrics::describe_counter!(
            ENVELOPES_TOTAL,
            "Envelopes processed by an ONEX node host, by node and outcome"
        );
        metrics::describe_histogram!(
            ENVELOPE_DURATION_SECONDS,
            metrics::Unit::Seconds,
            "Time from delivery to settlement of an envelope"
        );
        metrics::describe_counter!(DEAD_LETTERS_TOTAL, "Envelopes sent to a dead-letter topic");
        metrics::describe_gauge!(IN_FLIGHT, "Envelopes being processed");
        NodeMetrics {
            ok: metrics::counter!(ENVELOPES_TOTAL, "node" => node, "outcome" => "ok"),
            retry: metrics::counter!(ENVELOPES_TOTAL, "node" => node, "outcome" => "retry"),
            dlq: metrics::counter!(ENVELOPES_TOTAL, "node" => node, "outcome" => "dlq"),
            dead_letters: metrics::counter!(DEAD_LETTERS_TOTAL, "node" => node),
            duration: metrics::histogram!(ENVELOPE_DURATION_SECONDS, "node" => node),
            in_flight: metrics::gauge!(IN_FLIGHT, "node" => node),
        }
    }
}

/// The live counters of one node (atomics; read with [`NodeCounters::snapshot`]).
#[derive(Default)]
pub(crate) struct NodeCounters {
    received: AtomicU64,
    succeeded: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    dead_lettered: AtomicU64,
    redelivered: AtomicU64,
    in_flight: AtomicU64,
}

/// What one node of a host has done so far.
///
/// `received` counts deliveries (a redelivered message counts again, and in
/// `redelivered` too); each delivery ends as exactly one of `succeeded`, `retried`,
/// `dead_lettered`, or is still `in_flight` (or was abandoned at shutdown). `failed`
/// counts deliveries whose processing failed, whatever happened next.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeStats {
    /// The node's name.
    pub node: &'static str,
    /// Deliveries taken from the bus.
    pub received: u64,
    /// Processed, outputs published and acked.
    pub succeeded: u64,
    /// Processing failed (an error, a panic, a rejected envelope, or outputs that could
    /// not be published).
    pub failed: u64,
    /// Nacked for redelivery after a transient failure.
    pub retried: u64,
    /// Sent to the DLQ.
    pub dead_lettered: u64,
    /// Deliveries that were redeliveries (attempt 2 or later).
    pub redelivered: u64,
    /// Being processed now.
    pub in_flight: u64,
}

/// Both sinks of one node: its counters and its metric handles.
pub(crate) struct NodeRecorder {
    pub(crate) counters: NodeCounters,
    metrics: NodeMetrics,
}

impl NodeRecorder {
    /// Counters at zero and handles registered for `node`.
    pub(crate) fn new(node: &'static str) -> Self {
        NodeRecorder {
            counters: NodeCounters::default(),
            metrics: NodeMetrics::register(node),
        }
    }

    /// A delivery arrived (its `attempt`-th).
    pub(crate) fn started(&self, attempt: u32) {
        let c = &self.counters;
        c.received.fetch_add(1, Ordering::Relaxed);
        if attempt > 1 {
            c.redelivered.fetch_add(1, Ordering::Relaxed);
        }
        c.in_flight.fetch_add(1, Ordering::Relaxed);
        self.metrics.in_flight.increment(1.0);
    }

    /// Processing failed (whatever happens next).
    pub(crate) fn failed(&self) {
        self.counters.failed.fetch_add(1, Ordering::Relaxed);
    }

    /// A delivery was settled (or abandoned) after `elapsed`.
    pub(crate) fn finished(&self, outcome: Outcome, elapsed: Duration) {
        let c = &self.counters;
        match outcome {
            Outcome::Ok => {
                c.succeeded.fetch_add(1, Ordering::Relaxed);
                self.metrics.ok.increment(1);
            }
            Outcome::Retry => {
                c.retried.fetch_add(1, Ordering::Relaxed);
                self.metrics.retry.increment(1);
            }
            Outcome::DeadLettered => {
                c.dead_lettered.fetch_add(1, Ordering::Relaxed);
                self.metrics.dlq.increment(1);
                self.metrics.dead_letters.increment(1);
            }
            Outcome::Abandoned => {}
        }
        c.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.metrics.in_flight.decrement(1.0);
        self.metrics.duration.record(elapsed.as_secs_f64());
    }

    /// Envelopes being processed now.
    pub(crate) fn in_flight(&self) -> u64 {
        self.counters.in_flight.load(Ordering::Relaxed)
    }

    /// The counters now.
    pub(crate) fn snapshot(&self, node: &'static str) -> NodeStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        NodeStats {
            node,
            received: get(&c.received),
            succeeded: get(&c.succeeded),
            failed: get(&c.failed),
            retried: get(&c.retried),
            dead_lettered: get(&c.dead_lettered),
            redelivered: get(&c.redelivered),
            in_flight: get(&c.in_flight),
        }
    }
}
