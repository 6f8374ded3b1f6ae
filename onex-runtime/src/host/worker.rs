//! The per-subscription loop and the per-delivery pipeline.
//!
//! A subscription loop takes a concurrency permit of its node, then the next delivery, and
//! spawns its processing, which holds the permit until the delivery is settled (so taking
//! back every permit is how shutdown waits for the in-flight work). Processing is: size check →
//! the node's `process_json` (panics caught) → on success, publish the reply to every
//! publish topic (and to the requester) and ack; on failure, nack with a delay while a
//! transient failure has deliveries left, else dead-letter and terminate.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use super::config::HostConfig;
use super::dlq::{self, Original};
use super::health::SubscriptionCell;
use super::hosted::Hosted;
use super::metrics::{NodeRecorder, Outcome};
use crate::bus::{BusMessage, Delivery, EventBus, Settlement, SubscribeOptions, Subscription};
use crate::envelope::Envelope;
use crate::error::{ErrorCode, OnexError};

/// Everything one hosted node needs at run time.
pub(crate) struct NodeRuntime {
    pub(crate) name: &'static str,
    pub(crate) hosted: Box<dyn Hosted>,
    pub(crate) bus: Arc<dyn EventBus>,
    pub(crate) config: Arc<HostConfig>,
    pub(crate) dlq_topic: String,
    /// The durable consumer name of every subscription of the node.
    pub(crate) durable: String,
    /// The node's concurrency permits; an in-flight delivery holds one until settled.
    pub(crate) semaphore: Arc<Semaphore>,
    /// How many permits the semaphore has.
    pub(crate) permits: u32,
    pub(crate) recorder: NodeRecorder,
    pub(crate) subscriptions: Vec<Arc<SubscriptionCell>>,
}

/// What the host tells its tasks.
pub(crate) struct Control {
    /// Stop taking deliveries (shutdown began).
    pub(crate) stop: CancellationToken,
    /// Stop processing now: nack (graceful shutdown past its drain timeout) or, with
    /// `crash` set, drop the deliveries unsettled.
    pub(crate) halt: CancellationToken,
    pub(crate) crash: AtomicBool,
}

impl Control {
    pub(crate) fn new() -> Self {
        Control {
            stop: CancellationToken::new(),
            halt: CancellationToken::new(),
            crash: AtomicBool::new(false),
        }
    }
}

impl NodeRuntime {
    /// How often a delivery still being processed is reported in progress: half the ack
    /// wait (a zero ack wait means the buses' default of 30 s).
    fn heartbeat(&self) -> Duration {
        match self.config.ack_wait {
            Duration::ZERO => Duration::from_secs(15),
            wait => (wait / 2).max(Duration::from_millis(1)),
        }
    }

    /// The options of this node's subscriptions.
    pub(crate) fn subscribe_options(&self) -> SubscribeOptions {
        SubscribeOptions {
            durable: Some(self.durable.clone()),
            ack_wait: self.config.ack_wait,
            max_deliver: self.config.deliveries(),
            max_in_flight: self.hosted.concurrency(self.config.concurrency()),
        }
    }
}

/// Serves one subscription until the host stops: pumps `initial` (when the first subscribe
/// attempt succeeded), and resubscribes with backoff whenever the stream fails or ends.
pub(crate) async fn run_subscription(
    node: Arc<NodeRuntime>,
    cell: Arc<SubscriptionCell>,
    ctl: Arc<Control>,
    initial: Option<Subscription>,
) {
    let mut next = initial;
    loop {
        let stream = match next.take() {
            Some(stream) => stream,
            None => match resubscribe(&node, &cell, &ctl).await {
                Some(stream) => stream,
                None => break,
            },
        };
        cell.active();
        match pump(&node, &ctl, stream).await {
            Some(reason) => {
                tracing::warn!(
                    node = node.name,
                    topic = cell.topic,
                    %reason,
                    "subscription lost; resubscribing"
                );
                cell.lost(reason);
            }
            None => break,
        }
    }
    if ctl.stop.is_cancelled() {
        cell.stopped();
    }
}

/// Subscribes again under the resubscribe backoff; `None` when stopped or given up.
async fn resubscribe(
    node: &NodeRuntime,
    cell: &SubscriptionCell,
    ctl: &Control,
) -> Option<Subscription> {
    let options = node.subscribe_options();
    let attempts = node.config.resubscribe_backoff.run(
        |_| {
            let options = options.clone();
            async move {
                let result = node.bus.subscribe(cell.topic, options).await;
                if let Err(e) = &result {
                    cell.lost(e.to_string());
                }
                result
            }
        },
        |e: &OnexError| e.code() != ErrorCode::InvalidInput,
    );
    tokio::select! {
        _ = ctl.stop.cancelled() => None,
        retried = attempts => match retried.result {
            Ok(stream) => Some(stream),
            Err(e) => {
                tracing::error!(
                    node = node.name,
                    topic = cell.topic,
                    error = %e,
                    "giving up subscribing"
                );
                cell.failed(e.to_string());
                None
            }
        },
    }
}

/// Takes deliveries while permits allow; `None` when the host stops, else why the stream
/// broke.
async fn pump(node: &Arc<NodeRuntime>, ctl: &Arc<Control>, stream: Subscription) -> Option<String> {
    let mut stream = std::pin::pin!(stream.take_until(ctl.stop.clone().cancelled_owned()));
    loop {
        let permit = tokio::select! {
            biased;
            permit = node.semaphore.clone().acquire_owned() => permit.ok()?,
            _ = ctl.stop.cancelled() => return None,
        };
        match stream.next().await {
            Some(Ok(delivery)) => {
                tokio::spawn(handle(Arc::clone(node), delivery, permit, Arc::clone(ctl)));
            }
            Some(Err(e)) => return Some(format!("subscription error: {e}")),
            None if ctl.stop.is_cancelled() => return None,
            None => return Some("the subscription ended".to_owned()),
        }
    }
}

/// Processes and settles one delivery, holding one permit of the node.
async fn handle(
    node: Arc<NodeRuntime>,
    delivery: Delivery,
    permit: OwnedSemaphorePermit,
    ctl: Arc<Control>,
) {
    let started = Instant::now();
    let (message, attempt, acker) = delivery.into_parts();
    let Some(acker) = acker else {
        return;
    };
    node.recorder.started(attempt);
    let span = tracing::info_span!(
        "onex.envelope",
        node = node.name,
        operation = tracing::field::Empty,
        correlation_id = tracing::field::Empty,
        attempt,
        topic = message.topic.as_str(),
    );
    let mut work =
        std::pin::pin!(process(&node, &message, attempt, &span).instrument(span.clone()));
    let decided = loop {
        // The timer is only armed when the work does not finish at once.
        tokio::select! {
            biased;
            decided = &mut work => break Some(decided),
            _ = ctl.halt.cancelled() => break (!ctl.crash.load(Ordering::Relaxed))
                .then_some((Outcome::Abandoned, Settlement::Nack(None))),
            () = tokio::time::sleep(node.heartbeat()) => {
                // Still working: keep the bus from redelivering it meanwhile.
                if let Err(e) = acker.settle(Settlement::InProgress).await {
                    span.in_scope(|| tracing::debug!(error = %e, "cannot extend the ack wait"));
                }
            }
        }
    };
    let outcome = match decided {
        Some((outcome, settlement)) => {
            if let Err(e) = acker.settle(settlement).await {
                span.in_scope(|| {
                    tracing::warn!(
                        error = %e,
                        ?settlement,
                        "cannot settle a delivery; the bus will redeliver it"
                    );
                });
            }
            outcome
        }
        // A crash: the acker is dropped unsettled and the bus redelivers.
        None => Outcome::Abandoned,
    };
    node.recorder.finished(outcome, started.elapsed());
    drop(permit);
}

/// Decides what happens to one delivery (publishing outputs or the dead letter on the way).
async fn process(
    node: &NodeRuntime,
    message: &BusMessage,
    attempt: u32,
    span: &tracing::Span,
) -> (Outcome, Settlement) {
    let raw = &message.payload[..];
    let limit = node.config.max_envelope_bytes;
    if raw.len() > limit {
        let err = dlq::oversized(node.name, raw.len(), limit);
        return fail(node, message, attempt, err).await;
    }
    if !span.is_disabled() {
        peek(span, raw);
    }
    let result = AssertUnwindSafe(node.hosted.process(raw))
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| Err(dlq::panicked(node.name, &*panic)));
    match result {
        Ok(reply) => {
            if let Some(id) = reply.correlation_id {
                span.record("correlation_id", tracing::field::display(id));
            }
            match publish_reply(node, message, reply).await {
                Ok(()) => (Outcome::Ok, Settlement::Ack),
                Err(e) => fail(node, message, attempt, e).await,
            }
        }
        Err(e) => {
            if let Some(id) = e.correlation_id() {
                span.record("correlation_id", tracing::field::display(id));
            }
            fail(node, message, attempt, e).await
        }
    }
}

/// Records the operation and correlation id of a delivery in its span, from a borrowing
/// scan of the bytes (only done when the span is recorded by a subscriber).
fn peek(span: &tracing::Span, raw: &[u8]) {
    #[derive(Deserialize)]
    struct Payload<'a> {
        #[serde(borrow)]
        operation: Option<std::borrow::Cow<'a, str>>,
    }
    #[derive(Deserialize)]
    struct Head<'a> {
        #[serde(borrow)]
        correlation_id: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow)]
        payload_type: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow)]
        payload: Option<Payload<'a>>,
    }
    if let Ok(head) = serde_json::from_slice::<Head<'_>>(raw) {
        let operation = head.payload.and_then(|p| p.operation).or(head.payload_type);
        if let Some(operation) = operation {
            span.record("operation", &*operation);
        }
        if let Some(id) = head.correlation_id {
            span.record("correlation_id", &*id);
        }
    }
}

/// A reply envelope id that is the same every time `node` processes the request with
/// `request_id`, so a reprocessed request publishes a reply the bus de-duplicates: the
/// name-based (v5) UUID of the node's name in the request id's namespace.
fn reply_id(request_id: Uuid, node: &str) -> Uuid {
    Uuid::new_v5(&request_id, node.as_bytes())
}

/// Publishes a reply to every publish topic and to the requester; an error means not all
/// outputs went out (the caller nacks).
async fn publish_reply(
    node: &NodeRuntime,
    request: &BusMessage,
    mut reply: Envelope<serde_json::Value>,
) -> Result<(), OnexError> {
    if let Some(cause) = reply.causation_id() {
        reply.envelope_id = reply_id(cause, node.name);
    }
    let topics = node.hosted.contract().publish_topics;
    if topics.is_empty() && request.reply_to.is_none() {
        return Ok(());
    }
    let bytes = Bytes::from(reply.to_json()?);
    let id = reply.envelope_id.to_string();
    for topic in topics {
        // One stream may hold several publish topics: only a single topic may use the bare
        // envelope id as its de-duplication id.
        let message_id = if topics.len() == 1 {
            id.clone()
        } else {
            format!("{id}@{topic}")
        };
        let message = BusMessage::new(*topic, bytes.clone()).with_id(message_id);
        node.bus.publish(message).await.map_err(|e| {
            e.with_context("publish_topic", *topic)
                .with_context("node", node.name)
        })?;
    }
    if let Some(reply_to) = &request.reply_to {
        respond(node, reply_to, bytes).await;
    }
    Ok(())
}

/// Answers a requester; a requester that has gone away is not an error of the node.
async fn respond(node: &NodeRuntime, reply_to: &str, payload: Bytes) {
    let message = BusMessage::new(reply_to, payload);
    if let Err(e) = node.bus.respond(reply_to, message).await {
        tracing::debug!(node = node.name, error = %e, "cannot answer the requester");
    }
}

/// Handles a failed delivery: nack for redelivery while a transient failure has deliveries
/// left; otherwise dead-letter it (and tell the requester) and terminate it. A dead letter
/// that cannot be published is nacked, so the message is not lost.
async fn fail(
    node: &NodeRuntime,
    message: &BusMessage,
    attempt: u32,
    error: OnexError,
) -> (Outcome, Settlement) {
    node.recorder.failed();
    let permanent = dlq::is_permanent(error.code());
    let max = node.config.deliveries();
    let retry = || {
        (
            Outcome::Retry,
            Settlement::Nack(Some(node.config.nack_delay(attempt))),
        )
    };
    if !permanent && attempt < max {
        tracing::warn!(
            error = %error,
            attempt,
            max_deliver = max,
            "processing failed; will retry"
        );
        return retry();
    }
    let original = Original::read(&message.payload, node.config.max_envelope_bytes);
    let letter = dlq::dead_letter(
        &node.dlq_topic,
        node.name,
        &message.topic,
        attempt,
        &message.payload,
        &original,
        &error,
    );
    let published = match letter {
        Ok(letter) => node.bus.publish(letter).await,
        Err(e) => Err(e),
    };
    if let Err(e) = published {
        tracing::error!(
            error = %error,
            dlq_error = %e,
            dlq = node.dlq_topic.as_str(),
            "cannot dead-letter; will retry"
        );
        return retry();
    }
    tracing::warn!(
        error = %error,
        attempt,
        dlq = node.dlq_topic.as_str(),
        permanent,
        "dead-lettered"
    );
    if let Some(reply_to) = &message.reply_to {
        match dlq::error_reply(&original, &error) {
            Ok(bytes) => respond(node, reply_to, bytes).await,
            Err(e) => tracing::debug!(error = %e, "cannot encode the error reply"),
        }
    }
    (Outcome::DeadLettered, Settlement::Term)
}
