//! Event buses: how envelopes travel between nodes (DESIGN.md §7).
//!
//! An [`EventBus`] publishes messages to topics, hands subscribers [`Delivery`]s they must
//! settle explicitly ([`ack`](Delivery::ack), [`nack`](Delivery::nack) with a delay, or
//! [`term`](Delivery::term)), and carries request–reply exchanges. Two implementations:
//!
//! - [`InMemoryBus`]: the embedded default, one process, bounded queues with back-pressure,
//!   redelivery of nacked (or dropped) deliveries;
//! - `NatsBus` (feature `nats`): NATS JetStream, one stream per topic family, durable
//!   consumers, explicit acks, de-duplication by message id.
//!
//! Topics are dot-separated (`onex.cmd.greeter.greet.v1`). Subscriptions may use NATS-style
//! wildcards: `*` matches exactly one segment, `>` (last segment only) one or more.
//!
//! The node host ([`crate::host`]) is written against `Arc<dyn EventBus>`, so the same node
//! code runs on either bus.

mod memory;
#[cfg(feature = "nats")]
mod nats;
mod topic;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;

use crate::error::OnexError;

pub use memory::{InMemoryBus, InMemoryBusConfig};
#[cfg(feature = "nats")]
pub use nats::{NatsBus, NatsBusConfig};
pub use topic::{topic_matches, validate_pattern, validate_topic};

/// The header holding a message's de-duplication id (the envelope's `envelope_id`).
///
/// JetStream drops a second publish with the same id inside its duplicate window; the
/// in-memory bus does the same within [`InMemoryBusConfig::duplicate_window`].
pub const MESSAGE_ID_HEADER: &str = "Nats-Msg-Id";

/// One message on a bus: a topic, the payload bytes (a JSON envelope for ONEX traffic) and
/// headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusMessage {
    /// The topic it is published to (never a pattern).
    pub topic: String,
    /// The payload, usually a JSON-encoded [`Envelope`](crate::Envelope).
    pub payload: Bytes,
    /// Headers (string to string). [`MESSAGE_ID_HEADER`] de-duplicates.
    pub headers: BTreeMap<String, String>,
    /// Where a reply should go (set by [`EventBus::request`]); a responder answers with
    /// [`EventBus::respond`].
    pub reply_to: Option<String>,
}

impl BusMessage {
    /// A message with no headers and no reply address.
    pub fn new(topic: impl Into<String>, payload: impl Into<Bytes>) -> Self {
        BusMessage {
            topic: topic.into(),
            payload: payload.into(),
            headers: BTreeMap::new(),
            reply_to: None,
        }
    }

    /// Sets the de-duplication id ([`MESSAGE_ID_HEADER`]).
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.headers.insert(MESSAGE_ID_HEADER.to_owned(), id.into());
        self
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// The de-duplication id, if any.
    pub fn id(&self) -> Option<&str> {
        self.headers.get(MESSAGE_ID_HEADER).map(String::as_str)
    }
}

/// How a subscription consumes a topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscribeOptions {
    /// A durable consumer (queue group) name. Subscribers with the same name share the
    /// messages (each message goes to one of them) and, on JetStream, resume where the last
    /// one stopped. `None`: an ephemeral subscription that sees messages published after it
    /// started.
    pub durable: Option<String>,
    /// How long a delivery may stay unsettled before it is redelivered.
    pub ack_wait: Duration,
    /// How many times a message is delivered at most (the first delivery included). The
    /// node host sends a message that still fails on its last delivery to the DLQ.
    pub max_deliver: u32,
    /// How many unsettled deliveries the subscriber may hold at once (flow control).
    pub max_in_flight: usize,
}

impl Default for SubscribeOptions {
    /// Ephemeral, 30 s `ack_wait`, 5 deliveries, 256 in flight.
    fn default() -> Self {
        SubscribeOptions {
            durable: None,
            ack_wait: Duration::from_secs(30),
            max_deliver: 5,
            max_in_flight: 256,
        }
    }
}

impl SubscribeOptions {
    /// Durable options with the given consumer name and the defaults otherwise.
    pub fn durable(name: impl Into<String>) -> Self {
        SubscribeOptions {
            durable: Some(name.into()),
            ..SubscribeOptions::default()
        }
    }
}

/// How a delivery was settled (reported to the bus by [`Delivery`]'s methods).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// Processed: never deliver it again.
    Ack,
    /// Not processed: deliver it again after the delay (immediately for `None`).
    Nack(Option<Duration>),
    /// Give up: never deliver it again (the host has sent it to the DLQ).
    Term,
    /// Still working: restart the `ack_wait` clock.
    InProgress,
}

/// The bus side of a delivery: settles it. Implemented by each bus.
#[async_trait]
pub trait Acker: Send + Sync + 'static {
    /// Reports the settlement to the broker.
    async fn settle(&self, settlement: Settlement) -> Result<(), OnexError>;
}

/// A message handed to a subscriber, which must settle it exactly once.
///
/// Dropping a delivery without settling it leaves it to the bus: the in-memory bus
/// redelivers it at once, JetStream after `ack_wait`.
pub struct Delivery {
    message: BusMessage,
    attempt: u32,
    acker: Option<Box<dyn Acker>>,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("message", &self.message)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    /// A delivery of `message`, delivered for the `attempt`-th time (1 for the first), settled
    /// through `acker`. For bus implementations.
    pub fn new(message: BusMessage, attempt: u32, acker: Box<dyn Acker>) -> Self {
        Delivery {
            message,
            attempt,
            acker: Some(acker),
        }
    }

    /// The message.
    pub fn message(&self) -> &BusMessage {
        &self.message
    }

    /// Which delivery this is: 1 for the first, 2 for the first redelivery, ….
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Marks the message processed.
    pub async fn ack(mut self) -> Result<(), OnexError> {
        self.settle(Settlement::Ack).await
    }

    /// Asks for a redelivery after `delay` (at once for `None`).
    pub async fn nack(mut self, delay: Option<Duration>) -> Result<(), OnexError> {
        self.settle(Settlement::Nack(delay)).await
    }

    /// Gives the message up: it is never delivered again.
    pub async fn term(mut self) -> Result<(), OnexError> {
        self.settle(Settlement::Term).await
    }

    /// Tells the bus the message is still being worked on (restarts `ack_wait`).
    pub async fn in_progress(&self) -> Result<(), OnexError> {
        match &self.acker {
            Some(acker) => acker.settle(Settlement::InProgress).await,
            None => Ok(()),
        }
    }

    /// Takes the acker out and settles; the delivery is then spent.
    async fn settle(&mut self, settlement: Settlement) -> Result<(), OnexError> {
        match self.acker.take() {
            Some(acker) => acker.settle(settlement).await,
            None => Ok(()),
        }
    }

    /// Splits the delivery into its message and its acker (for hosts that keep the acker
    /// while the message is processed elsewhere).
    pub fn into_parts(mut self) -> (BusMessage, u32, Option<Box<dyn Acker>>) {
        let acker = self.acker.take();
        (std::mem::take(&mut self.message), self.attempt, acker)
    }
}

impl Default for BusMessage {
    fn default() -> Self {
        BusMessage::new(String::new(), Bytes::new())
    }
}

/// A stream of deliveries for one subscription. Ends when the bus closes or the
/// subscription is dropped; an `Err` item reports a broker fault (the stream may go on).
pub type Subscription = BoxStream<'static, Result<Delivery, OnexError>>;

/// Whether a bus can currently reach its broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BusHealth {
    /// Connected and working.
    Connected,
    /// Not connected (yet, or any more); the bus keeps trying. The reason says why.
    Disconnected(String),
}

impl BusHealth {
    /// True when connected.
    pub fn is_connected(&self) -> bool {
        matches!(self, BusHealth::Connected)
    }
}

/// A message bus ONEX nodes talk through. Object safe: hosts hold an `Arc<dyn EventBus>`.
///
/// Errors are [`OnexError`]s with [`ErrorCode::EventBus`](crate::ErrorCode::EventBus)
/// (broker faults, closed bus) or [`ErrorCode::Timeout`](crate::ErrorCode::Timeout) (a
/// request that got no reply in time); a topic that is not a valid topic is
/// [`ErrorCode::InvalidInput`](crate::ErrorCode::InvalidInput).
#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// A short name for logs and metrics (`memory`, `nats`).
    fn name(&self) -> &'static str;

    /// Publishes a message and returns once the bus has accepted it (for JetStream: once
    /// the stream acknowledged it). Waits while the bus applies back-pressure. A message
    /// whose id ([`MESSAGE_ID_HEADER`]) was already published inside the duplicate window
    /// is accepted and dropped.
    async fn publish(&self, message: BusMessage) -> Result<(), OnexError>;

    /// Subscribes to a topic or pattern (`*`, `>`).
    async fn subscribe(
        &self,
        pattern: &str,
        options: SubscribeOptions,
    ) -> Result<Subscription, OnexError>;

    /// Publishes `message` with a fresh reply address and waits up to `timeout` for the
    /// first reply sent to it with [`respond`](EventBus::respond).
    async fn request(
        &self,
        message: BusMessage,
        timeout: Duration,
    ) -> Result<BusMessage, OnexError>;

    /// Sends `message` to a requester's reply address (`reply_to` of the request). Replies
    /// are not persisted: a requester that has gone away loses them.
    async fn respond(&self, reply_to: &str, message: BusMessage) -> Result<(), OnexError>;

    /// Whether the broker is reachable now.
    async fn health(&self) -> BusHealth;
}
