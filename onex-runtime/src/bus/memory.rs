//! The in-memory event bus: one process, bounded queues, explicit settlement.
//!
//! The semantics are documented on [`InMemoryBus`].

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;
use uuid::Uuid;

use super::{
    Acker, BusHealth, BusMessage, Delivery, EventBus, Settlement, SubscribeOptions, Subscription,
    topic_matches, validate_pattern, validate_topic,
};
use crate::error::{ErrorCode, OnexError};

/// The prefix of the reply addresses [`EventBus::request`] creates.
const INBOX_PREFIX: &str = "_INBOX.";

/// How many topics' subscriber lists are cached before the cache is reset.
const ROUTE_CACHE_LIMIT: usize = 4096;

/// JetStream's default `ack_wait`, used for a zero `ack_wait`.
const DEFAULT_ACK_WAIT: Duration = Duration::from_secs(30);

/// JetStream's default `max_ack_pending`, used for a zero `max_in_flight`.
const DEFAULT_MAX_IN_FLIGHT: usize = 1000;

/// How far in the future "never" is, for durations too large to add to an instant.
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// Configuration of [`InMemoryBus`].
///
/// ```
/// use std::time::Duration;
/// use onex_runtime::bus::{InMemoryBus, InMemoryBusConfig};
///
/// let bus = InMemoryBus::with_config(InMemoryBusConfig {
///     capacity: 64,
///     duplicate_window: Duration::from_secs(10),
///     ..InMemoryBusConfig::default()
/// });
/// # drop(bus);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InMemoryBusConfig {
    /// How many not yet taken messages each durable group's or ephemeral subscription's
    /// queue holds; [`publish`](EventBus::publish) waits while a target queue is full.
    /// Zero is treated as 1. Default 1024.
    pub capacity: usize,
    /// How long a message id ([`MESSAGE_ID_HEADER`](super::MESSAGE_ID_HEADER)) is
    /// remembered: a second publish with the same id within the window is accepted and
    /// dropped. Zero disables de-duplication. Default 2 minutes (JetStream's default).
    pub duplicate_window: Duration,
    /// How many message ids are remembered at most; beyond that the oldest are forgotten
    /// even inside the window. Zero is treated as 1. Default 100 000.
    pub max_duplicate_ids: usize,
}

impl Default for InMemoryBusConfig {
    /// Capacity 1024, a 2 minute duplicate window, 100 000 remembered ids.
    fn default() -> Self {
        InMemoryBusConfig {
            capacity: 1024,
            duplicate_window: Duration::from_secs(120),
            max_duplicate_ids: 100_000,
        }
    }
}

/// The embedded event bus: one process, bounded queues with back-pressure, durable groups
/// of competing consumers, redelivery of nacked, dropped and expired deliveries,
/// de-duplication by message id and request–reply.
///
/// Cheap to clone: clones share one bus, so several hosts and clients in one process talk
/// through it. When the last clone is dropped the bus closes, as with
/// [`close`](InMemoryBus::close). Subscribing and requests need a tokio runtime with the
/// time driver.
///
/// ```
/// use futures_util::StreamExt;
/// use onex_runtime::bus::{BusMessage, EventBus, InMemoryBus, SubscribeOptions};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), onex_runtime::OnexError> {
/// let bus = InMemoryBus::new();
/// let mut orders = bus
///     .subscribe("shop.order.*", SubscribeOptions::durable("billing"))
///     .await?;
///
/// bus.publish(BusMessage::new("shop.order.created", "{\"id\": 7}").with_id("order-7"))
///     .await?;
/// // The same id again inside the duplicate window: accepted and dropped.
/// bus.publish(BusMessage::new("shop.order.created", "{\"id\": 7}").with_id("order-7"))
///     .await?;
///
/// let delivery = orders.next().await.expect("the stream is open")?;
/// assert_eq!(delivery.message().topic, "shop.order.created");
/// assert_eq!(delivery.attempt(), 1);
/// delivery.ack().await?;
/// assert_eq!(bus.unsettled("billing"), 0);
///
/// bus.close();
/// assert!(orders.next().await.is_none());
/// # Ok(()) }
/// ```
///
/// # Model
///
/// Every subscription reads from a *queue*:
///
/// - a **durable group** (all subscriptions with the same [`SubscribeOptions::durable`] name
///   *and* the same pattern) shares one queue: its subscribers are competing consumers, each
///   message is handed to one of them. The group outlives its subscribers: when the last one
///   goes away the queue, and every message in it or still unsettled, stays, and the next
///   subscriber with the same name and pattern resumes them.
///   [`delete_durable`](InMemoryBus::delete_durable) removes a group for good.
/// - an **ephemeral** subscription (`durable: None`) has a queue of its own, which vanishes
///   with the subscription.
///
/// [`publish`](EventBus::publish) puts a copy of the message in every queue whose pattern
/// matches the topic. **Nothing is retained**: a message published while no queue matches is
/// accepted and dropped, and a subscription only sees messages published after it started
/// (or, for a durable group, after the group was first created).
///
/// # Back-pressure
///
/// Each queue holds at most [`InMemoryBusConfig::capacity`] messages that no subscriber has
/// taken yet; `publish` waits while a target queue is full. A message is *taken* when a
/// subscriber's stream yields it; redeliveries do not count against the capacity (they were
/// accepted already). A durable group that nobody reads any more therefore ends up blocking
/// publishers to its topics once its queue is full: delete it with
/// [`delete_durable`](InMemoryBus::delete_durable). If a `publish` future is dropped while
/// it waits, the queues it already reached keep their copy and the others do not get one.
///
/// # Settlement and redelivery
///
/// A [`Delivery`] starts at attempt 1 and must be settled once:
///
/// - [`ack`](Delivery::ack) and [`term`](Delivery::term) remove the message;
/// - [`nack(delay)`](Delivery::nack) redelivers it after `delay` (at once for `None` or zero),
///   with the attempt increased;
/// - dropping the delivery (or its [`Acker`] after [`Delivery::into_parts`]) without
///   settling it redelivers it at once;
/// - a delivery left unsettled for [`SubscribeOptions::ack_wait`] is redelivered;
///   [`in_progress`](Delivery::in_progress) restarts that clock.
///
/// A message that has been delivered [`SubscribeOptions::max_deliver`] times and is nacked,
/// dropped or expires once more is **dropped** (with a `tracing` warning); the node host sends
/// it to the DLQ on its last attempt, before that happens. Redeliveries go to the front of the
/// queue, before messages that were never delivered. A subscriber holds at most
/// [`SubscribeOptions::max_in_flight`] unsettled deliveries; further messages wait in the
/// queue for it or for a competing subscriber.
///
/// Options are per subscription: in a durable group each subscriber's `ack_wait`,
/// `max_deliver` and `max_in_flight` apply to the deliveries it receives. Zero values mean
/// what they mean to JetStream: `ack_wait` zero is 30 s, `max_deliver` zero is unlimited,
/// `max_in_flight` zero is 1000.
///
/// Settling a delivery that is stale (it expired and was handed out again, or was settled
/// already) or whose queue is gone (ephemeral subscription dropped, bus closed) does nothing
/// and returns `Ok(())`.
///
/// # Request and reply
///
/// [`request`](EventBus::request) fails at once with [`ErrorCode::EventBus`] ("no subscriber
/// for topic") when no queue matches the topic, since the request would be dropped; a durable
/// group without live subscribers counts as a subscriber (its queue keeps the request).
/// Otherwise it publishes the message with `reply_to` set to a fresh `_INBOX.<uuid>` address
/// and waits for the first reply, up to the timeout ([`ErrorCode::Timeout`]).
/// [`respond`](EventBus::respond) hands the reply (its topic set to the reply address) to the
/// waiting requester; a reply to an `_INBOX.` address nobody waits on any more (timed out,
/// answered already) is dropped and `Ok(())`; any other address is treated as a topic and the
/// reply is published to it.
///
/// # De-duplication
///
/// A message carrying [`MESSAGE_ID_HEADER`](super::MESSAGE_ID_HEADER) whose id was
/// published within [`InMemoryBusConfig::duplicate_window`] is accepted and dropped. At most
/// [`InMemoryBusConfig::max_duplicate_ids`] ids are remembered (the oldest are forgotten
/// first) and expired ids are evicted as new ones arrive. A `publish` that fails or is
/// cancelled forgets its id, so that a retry goes through.
#[derive(Clone)]
pub struct InMemoryBus {
    inner: Arc<Inner>,
}

impl fmt::Debug for InMemoryBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let registry = read(&self.inner.registry);
        f.debug_struct("InMemoryBus")
            .field("config", &self.inner.config)
            .field("closed", &self.inner.is_closed())
            .field("durable_groups", &registry.groups.len())
            .field("ephemeral_subscriptions", &registry.ephemerals.len())
            .finish_non_exhaustive()
    }
}

impl Default for InMemoryBus {
    fn default() -> Self {
        InMemoryBus::new()
    }
}

impl InMemoryBus {
    /// A bus with the default configuration ([`InMemoryBusConfig::default`]).
    pub fn new() -> Self {
        InMemoryBus::with_config(InMemoryBusConfig::default())
    }

    /// A bus with the given configuration.
    pub fn with_config(config: InMemoryBusConfig) -> Self {
        let config = InMemoryBusConfig {
            capacity: config.capacity.max(1),
            duplicate_window: config.duplicate_window,
            max_duplicate_ids: config.max_duplicate_ids.max(1),
        };
        InMemoryBus {
            inner: Arc::new(Inner {
                config,
                closed: AtomicBool::new(false),
                next_id: AtomicU64::new(1),
                registry: RwLock::new(Registry::default()),
                dedup: Mutex::new(Dedup::default()),
                inboxes: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The configuration in use (zero values already replaced).
    pub fn config(&self) -> &InMemoryBusConfig {
        &self.inner.config
    }

    /// Closes the bus: every subscription stream ends, waiting publishers and requesters
    /// fail, queued and unsettled messages are dropped, and later calls to `publish`,
    /// `subscribe`, `request` and `respond` fail with [`ErrorCode::EventBus`].
    /// [`health`](EventBus::health) reports `Disconnected("closed")`. Idempotent.
    pub fn close(&self) {
        if !self.inner.closed.swap(true, Ordering::SeqCst) {
            self.inner.shutdown();
        }
    }

    /// Whether [`close`](InMemoryBus::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// How many messages the durable group(s) named `durable` (any pattern) still hold:
    /// queued, delivered and unsettled, or waiting for a delayed redelivery. Zero when there
    /// is no such group.
    pub fn unsettled(&self, durable: &str) -> usize {
        self.inner
            .groups_named(durable)
            .iter()
            .map(|queue| lock(&queue.state).backlog())
            .sum()
    }

    /// Deletes the durable group(s) named `durable` (any pattern): their messages are
    /// dropped and their subscribers' streams end. Returns whether a group existed.
    pub fn delete_durable(&self, durable: &str) -> bool {
        let removed: Vec<Arc<Queue>> = {
            let mut registry = write(&self.inner.registry);
            let keys: Vec<GroupKey> = registry
                .groups
                .keys()
                .filter(|(name, _)| name == durable)
                .cloned()
                .collect();
            let removed: Vec<Arc<Queue>> = keys
                .iter()
                .filter_map(|key| registry.groups.remove(key))
                .collect();
            if !removed.is_empty() {
                registry.routes.clear();
            }
            removed
        };
        for queue in &removed {
            queue.close();
        }
        !removed.is_empty()
    }
}

#[async_trait]
impl EventBus for InMemoryBus {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn publish(&self, message: BusMessage) -> Result<(), OnexError> {
        self.inner.publish(message).await
    }

    async fn subscribe(
        &self,
        pattern: &str,
        options: SubscribeOptions,
    ) -> Result<Subscription, OnexError> {
        Inner::subscribe(&self.inner, pattern, options)
    }

    async fn request(
        &self,
        mut message: BusMessage,
        timeout: Duration,
    ) -> Result<BusMessage, OnexError> {
        let inner = &*self.inner;
        inner.ensure_open()?;
        // The timeout needs tokio's timer; fail instead of panicking without a runtime.
        tokio::runtime::Handle::try_current().map_err(|_| no_runtime_error())?;
        let topic = message.topic.clone();
        if inner.route(&message.topic)?.is_empty() {
            return Err(OnexError::new(
                ErrorCode::EventBus,
                format!("no subscriber for topic `{topic}`"),
            )
            .with_context("topic", topic));
        }
        let inbox = format!("{INBOX_PREFIX}{}", Uuid::new_v4().simple());
        let (sender, receiver) = oneshot::channel();
        lock(&inner.inboxes).insert(inbox.clone(), sender);
        let _inbox = InboxGuard {
            inner,
            inbox: &inbox,
        };
        message.reply_to = Some(inbox.clone());
        let exchange = async {
            inner.publish(message).await?;
            receiver.await.map_err(|_| closed_error())
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(OnexError::timeout(format!(
                "no reply to a request on `{topic}` within {timeout:?}"
            ))
            .with_context("topic", topic)
            .with_context(
                "timeout_ms",
                u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            )),
        }
    }

    async fn respond(&self, reply_to: &str, mut message: BusMessage) -> Result<(), OnexError> {
        let inner = &*self.inner;
        inner.ensure_open()?;
        reply_to.clone_into(&mut message.topic);
        let waiting = lock(&inner.inboxes).remove(reply_to);
        if let Some(sender) = waiting {
            // The requester may have given up since; its reply is dropped then.
            let _ = sender.send(message);
            return Ok(());
        }
        if reply_to.starts_with(INBOX_PREFIX) {
            tracing::debug!(reply_to, "reply to a requester that is gone; dropped");
            return Ok(());
        }
        inner.publish(message).await
    }

    async fn health(&self) -> BusHealth {
        if self.inner.is_closed() {
            BusHealth::Disconnected("closed".to_owned())
        } else {
            BusHealth::Connected
        }
    }
}

// ---------------------------------------------------------------------------------------
// The bus
// ---------------------------------------------------------------------------------------

/// A durable group's identity: its name and its pattern.
type GroupKey = (String, String);

/// The queues a topic's messages go to.
type Route = Arc<[Arc<Queue>]>;

struct Inner {
    config: InMemoryBusConfig,
    closed: AtomicBool,
    /// Queue and consumer ids.
    next_id: AtomicU64,
    registry: RwLock<Registry>,
    dedup: Mutex<Dedup>,
    /// Requesters waiting for a reply, by reply address.
    inboxes: Mutex<HashMap<String, oneshot::Sender<BusMessage>>>,
}

#[derive(Default)]
struct Registry {
    groups: HashMap<GroupKey, Arc<Queue>>,
    ephemerals: HashMap<u64, Arc<Queue>>,
    /// Topic → matching queues; reset whenever a queue is added or removed.
    routes: HashMap<String, Route>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone: end the streams and stop the timers.
        self.closed.store(true, Ordering::SeqCst);
        self.shutdown();
    }
}

impl Inner {
    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn ensure_open(&self) -> Result<(), OnexError> {
        if self.is_closed() {
            Err(closed_error())
        } else {
            Ok(())
        }
    }

    fn shutdown(&self) {
        let queues: Vec<Arc<Queue>> = {
            let mut registry = write(&self.registry);
            registry.routes.clear();
            let groups = std::mem::take(&mut registry.groups);
            let ephemerals = std::mem::take(&mut registry.ephemerals);
            groups
                .into_values()
                .chain(ephemerals.into_values())
                .collect()
        };
        for queue in &queues {
            queue.close();
        }
        // Dropping the senders wakes the requesters with an error.
        let inboxes = std::mem::take(&mut *lock(&self.inboxes));
        drop(inboxes);
        let dedup = std::mem::take(&mut *lock(&self.dedup));
        drop(dedup);
    }

    fn groups_named(&self, durable: &str) -> Vec<Arc<Queue>> {
        read(&self.registry)
            .groups
            .iter()
            .filter(|((name, _), _)| name == durable)
            .map(|(_, queue)| Arc::clone(queue))
            .collect()
    }

    /// The queues `topic` goes to (validating the topic the first time it is seen).
    fn route(&self, topic: &str) -> Result<Route, OnexError> {
        if let Some(route) = read(&self.registry).routes.get(topic) {
            return Ok(Arc::clone(route));
        }
        validate_topic(topic)?;
        let mut registry = write(&self.registry);
        if let Some(route) = registry.routes.get(topic) {
            return Ok(Arc::clone(route));
        }
        let route: Route = registry
            .groups
            .values()
            .chain(registry.ephemerals.values())
            .filter(|queue| topic_matches(&queue.pattern, topic))
            .cloned()
            .collect();
        if registry.routes.len() >= ROUTE_CACHE_LIMIT {
            registry.routes.clear();
        }
        registry.routes.insert(topic.to_owned(), Arc::clone(&route));
        Ok(route)
    }

    async fn publish(&self, message: BusMessage) -> Result<(), OnexError> {
        self.ensure_open()?;
        let route = self.route(&message.topic)?;
        let mut dedup = None;
        if let Some(id) = message.id()
            && !self.config.duplicate_window.is_zero()
        {
            match self.admit(id) {
                Some(admitted) => dedup = Some(admitted),
                None => {
                    tracing::trace!(topic = %message.topic, id, "duplicate message dropped");
                    return Ok(());
                }
            }
        }
        // Forgets the id unless the publish completes.
        let mut guard = DedupGuard {
            inner: self,
            admitted: dedup,
        };
        match route.split_last() {
            None => {
                tracing::trace!(topic = %message.topic, "no subscriber; message dropped");
            }
            Some((last, rest)) => {
                for queue in rest {
                    self.push(queue, message.clone()).await?;
                }
                self.push(last, message).await?;
            }
        }
        guard.admitted = None;
        Ok(())
    }

    /// Puts `message` in `queue`, waiting while the queue is full.
    async fn push(&self, queue: &Queue, message: BusMessage) -> Result<(), OnexError> {
        let mut message = message;
        loop {
            // Registered before the check, so a slot freed after it wakes us.
            let space = queue.space.notified();
            match queue.try_push(message) {
                Pushed::Done => return Ok(()),
                Pushed::Closed => {
                    // A subscription that went away drops its copy; a closed bus is an error.
                    return self.ensure_open();
                }
                Pushed::Full(back) => message = back,
            }
            space.await;
        }
    }

    /// Records a message id; `None` when it is a duplicate.
    fn admit(&self, id: &str) -> Option<(Arc<str>, u64)> {
        lock(&self.dedup).admit(
            id,
            Instant::now(),
            self.config.duplicate_window,
            self.config.max_duplicate_ids,
        )
    }

    fn subscribe(
        this: &Arc<Inner>,
        pattern: &str,
        options: SubscribeOptions,
    ) -> Result<Subscription, OnexError> {
        this.ensure_open()?;
        validate_pattern(pattern)?;
        if options.durable.as_deref().is_some_and(str::is_empty) {
            return Err(OnexError::invalid_input("a durable name cannot be empty")
                .with_context("pattern", pattern));
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| no_runtime_error())?;
        let limits = Limits::from(&options);
        let consumer = this.next_id.fetch_add(1, Ordering::Relaxed);
        let (queue, ephemeral) = {
            let mut registry = write(&this.registry);
            // Checked under the lock, so `close` cannot miss this subscription.
            this.ensure_open()?;
            match options.durable {
                Some(name) => {
                    let key = (name, pattern.to_owned());
                    let queue = match registry.groups.get(&key) {
                        Some(queue) => Arc::clone(queue),
                        None => {
                            let queue = Arc::new(Queue::new(
                                Some(key.0.clone()),
                                pattern,
                                this.config.capacity,
                            ));
                            runtime.spawn(run_timer(Arc::clone(&queue)));
                            registry.groups.insert(key, Arc::clone(&queue));
                            registry.routes.clear();
                            queue
                        }
                    };
                    (queue, false)
                }
                None => {
                    let queue = Arc::new(Queue::new(None, pattern, this.config.capacity));
                    runtime.spawn(run_timer(Arc::clone(&queue)));
                    registry.ephemerals.insert(consumer, Arc::clone(&queue));
                    registry.routes.clear();
                    (queue, true)
                }
            }
        };
        queue.add_consumer(consumer, limits.max_in_flight);
        let reader = Reader {
            queue,
            consumer,
            limits,
            ephemeral,
            bus: Arc::downgrade(this),
        };
        let stream = futures_util::stream::unfold(reader, |reader| async move {
            let delivery = reader.next().await?;
            Some((Ok(delivery), reader))
        });
        Ok(stream.boxed())
    }
}

/// Forgets an admitted message id when the publish does not complete.
struct DedupGuard<'a> {
    inner: &'a Inner,
    admitted: Option<(Arc<str>, u64)>,
}

impl Drop for DedupGuard<'_> {
    fn drop(&mut self) {
        if let Some((id, stamp)) = self.admitted.take() {
            lock(&self.inner.dedup).forget(&id, stamp);
        }
    }
}

/// Removes a request's reply address when the request ends (replied, timed out or
/// cancelled).
struct InboxGuard<'a> {
    inner: &'a Inner,
    inbox: &'a str,
}

impl Drop for InboxGuard<'_> {
    fn drop(&mut self) {
        lock(&self.inner.inboxes).remove(self.inbox);
    }
}

fn no_runtime_error() -> OnexError {
    OnexError::new(
        ErrorCode::EventBus,
        "the in-memory bus needs a tokio runtime to subscribe and to send requests",
    )
}

fn closed_error() -> OnexError {
    OnexError::new(ErrorCode::EventBus, "the in-memory bus is closed")
}

// ---------------------------------------------------------------------------------------
// De-duplication
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Dedup {
    /// Remembered ids and the stamp of their entry in `order`.
    ids: HashMap<Arc<str>, u64>,
    /// Ids in the order they were published (some may have been forgotten since).
    order: VecDeque<(Instant, u64, Arc<str>)>,
    next_stamp: u64,
}

impl Dedup {
    fn admit(
        &mut self,
        id: &str,
        now: Instant,
        window: Duration,
        max: usize,
    ) -> Option<(Arc<str>, u64)> {
        while let Some((at, stamp, key)) = self.order.front() {
            let expired = now.saturating_duration_since(*at) >= window;
            if !expired && self.order.len() < max {
                break;
            }
            if self.ids.get(key) == Some(stamp) {
                self.ids.remove(key);
            }
            self.order.pop_front();
        }
        if self.ids.contains_key(id) {
            return None;
        }
        let stamp = self.next_stamp;
        self.next_stamp = self.next_stamp.wrapping_add(1);
        let key: Arc<str> = Arc::from(id);
        self.ids.insert(Arc::clone(&key), stamp);
        self.order.push_back((now, stamp, Arc::clone(&key)));
        Some((key, stamp))
    }

    fn forget(&mut self, id: &str, stamp: u64) {
        if self.ids.get(id) == Some(&stamp) {
            self.ids.remove(id);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Queues
// ---------------------------------------------------------------------------------------

/// One durable group's or ephemeral subscription's queue.
struct Queue {
    durable: Option<String>,
    pattern: String,
    capacity: usize,
    state: Mutex<QueueState>,
    /// Wakes readers: a message arrived, a slot freed, or the queue closed.
    readable: Notify,
    /// Wakes publishers: a message was taken from a full queue, or the queue closed.
    space: Notify,
    /// Wakes the timer: an earlier deadline, or the queue closed.
    timer: Notify,
}

#[derive(Default)]
struct QueueState {
    closed: bool,
    /// Published, never delivered (bounded by the capacity).
    fresh: VecDeque<Pending>,
    /// Due for redelivery (taken before `fresh`).
    redeliver: VecDeque<Pending>,
    /// Delivered and unsettled, or waiting for a delayed redelivery, by sequence number.
    unsettled: HashMap<u64, Unsettled>,
    /// Deadlines of `unsettled` entries (ack wait or redelivery delay).
    deadlines: BTreeSet<(Instant, u64)>,
    /// When the timer will next look at `deadlines` (never later than the first one).
    armed: Option<Instant>,
    consumers: Vec<ConsumerSlot>,
    next_seq: u64,
}

struct Pending {
    seq: u64,
    message: BusMessage,
    /// How many times it was delivered already.
    deliveries: u32,
}

struct Unsettled {
    message: BusMessage,
    deliveries: u32,
    deadline: Instant,
    phase: Phase,
}

enum Phase {
    /// Held by a consumer.
    Delivered {
        consumer: u64,
        ack_wait: Duration,
        max_deliver: u32,
    },
    /// Nacked with a delay; redelivered at the deadline.
    Delayed,
}

struct ConsumerSlot {
    id: u64,
    in_flight: usize,
    max_in_flight: usize,
}

/// A subscriber's limits, with zero values replaced.
#[derive(Clone, Copy)]
struct Limits {
    ack_wait: Duration,
    max_deliver: u32,
    max_in_flight: usize,
}

impl From<&SubscribeOptions> for Limits {
    fn from(options: &SubscribeOptions) -> Self {
        Limits {
            ack_wait: if options.ack_wait.is_zero() {
                DEFAULT_ACK_WAIT
            } else {
                options.ack_wait
            },
            max_deliver: if options.max_deliver == 0 {
                u32::MAX
            } else {
                options.max_deliver
            },
            max_in_flight: if options.max_in_flight == 0 {
                DEFAULT_MAX_IN_FLIGHT
            } else {
                options.max_in_flight
            },
        }
    }
}

/// Which notifications to send once the queue lock is released.
#[derive(Default)]
struct Wake {
    readers: bool,
    publishers: bool,
    timer: bool,
}

enum Pushed {
    Done,
    Full(BusMessage),
    Closed,
}

enum Take {
    Got(Delivery),
    Wait,
    Closed,
}

impl Queue {
    fn new(durable: Option<String>, pattern: &str, capacity: usize) -> Self {
        Queue {
            durable,
            pattern: pattern.to_owned(),
            capacity,
            state: Mutex::new(QueueState::default()),
            readable: Notify::new(),
            space: Notify::new(),
            timer: Notify::new(),
        }
    }

    fn notify(&self, wake: Wake) {
        if wake.readers {
            self.readable.notify_waiters();
        }
        if wake.publishers {
            self.space.notify_waiters();
        }
        if wake.timer {
            self.timer.notify_waiters();
        }
    }

    fn close(&self) {
        let dropped = {
            let mut state = lock(&self.state);
            state.closed = true;
            state.consumers.clear();
            state.deadlines.clear();
            (
                std::mem::take(&mut state.fresh),
                std::mem::take(&mut state.redeliver),
                std::mem::take(&mut state.unsettled),
            )
        };
        drop(dropped);
        self.notify(Wake {
            readers: true,
            publishers: true,
            timer: true,
        });
    }

    fn try_push(&self, message: BusMessage) -> Pushed {
        {
            let mut state = lock(&self.state);
            if state.closed {
                return Pushed::Closed;
            }
            if state.fresh.len() >= self.capacity {
                return Pushed::Full(message);
            }
            let seq = state.next_seq;
            state.next_seq = state.next_seq.wrapping_add(1);
            state.fresh.push_back(Pending {
                seq,
                message,
                deliveries: 0,
            });
        }
        self.readable.notify_waiters();
        Pushed::Done
    }

    fn add_consumer(&self, id: u64, max_in_flight: usize) {
        let mut state = lock(&self.state);
        if !state.closed {
            state.consumers.push(ConsumerSlot {
                id,
                in_flight: 0,
                max_in_flight,
            });
        }
    }

    fn remove_consumer(&self, id: u64) {
        lock(&self.state).consumers.retain(|slot| slot.id != id);
    }

    /// Hands the next message to `consumer`, if it may hold one more.
    fn try_take(self: &Arc<Self>, consumer: u64, limits: Limits) -> Take {
        let mut wake = Wake::default();
        let (message, seq, attempt) = {
            let mut guard = lock(&self.state);
            let state = &mut *guard;
            if state.closed {
                return Take::Closed;
            }
            let Some(slot) = state.consumers.iter_mut().find(|slot| slot.id == consumer) else {
                return Take::Closed;
            };
            if slot.in_flight >= slot.max_in_flight {
                return Take::Wait;
            }
            let pending = match state.redeliver.pop_front() {
                Some(pending) => pending,
                None => {
                    let was_full = state.fresh.len() >= self.capacity;
                    match state.fresh.pop_front() {
                        Some(pending) => {
                            wake.publishers = was_full;
                            pending
                        }
                        None => return Take::Wait,
                    }
                }
            };
            slot.in_flight += 1;
            let attempt = pending.deliveries.saturating_add(1);
            let deadline = deadline_after(Instant::now(), limits.ack_wait);
            wake.timer = state.add_deadline(deadline, pending.seq);
            let message = pending.message.clone();
            state.unsettled.insert(
                pending.seq,
                Unsettled {
                    message: pending.message,
                    deliveries: attempt,
                    deadline,
                    phase: Phase::Delivered {
                        consumer,
                        ack_wait: limits.ack_wait,
                        max_deliver: limits.max_deliver,
                    },
                },
            );
            (message, pending.seq, attempt)
        };
        self.notify(wake);
        let acker = MemoryAcker {
            queue: Arc::clone(self),
            seq,
            attempt,
            done: AtomicBool::new(false),
        };
        Take::Got(Delivery::new(message, attempt, Box::new(acker)))
    }

    fn settle(&self, seq: u64, attempt: u32, settlement: Settlement) {
        let wake = {
            let mut state = lock(&self.state);
            if state.closed {
                return;
            }
            state.settle(seq, attempt, settlement, Instant::now())
        };
        self.notify(wake);
    }
}

impl QueueState {
    /// Messages still held: queued, unsettled or delayed.
    fn backlog(&self) -> usize {
        self.fresh.len() + self.redeliver.len() + self.unsettled.len()
    }

    /// Adds a deadline; true when the timer must be woken to look at it.
    fn add_deadline(&mut self, at: Instant, seq: u64) -> bool {
        self.deadlines.insert((at, seq));
        if self.armed.is_none_or(|armed| at < armed) {
            self.armed = Some(at);
            true
        } else {
            false
        }
    }

    /// Frees a slot of `consumer`; true when it was full (its reader may be waiting).
    fn release(&mut self, consumer: u64) -> bool {
        match self.consumers.iter_mut().find(|slot| slot.id == consumer) {
            Some(slot) => {
                let was_full = slot.in_flight >= slot.max_in_flight;
                slot.in_flight = slot.in_flight.saturating_sub(1);
                was_full
            }
            None => false,
        }
    }

    fn settle(&mut self, seq: u64, attempt: u32, settlement: Settlement, now: Instant) -> Wake {
        let mut wake = Wake::default();
        let Some(entry) = self.unsettled.get_mut(&seq) else {
            return wake;
        };
        let Phase::Delivered {
            consumer,
            ack_wait,
            max_deliver,
        } = entry.phase
        else {
            return wake;
        };
        if entry.deliveries != attempt {
            return wake;
        }
        if settlement == Settlement::InProgress {
            let old = entry.deadline;
            let new = deadline_after(now, ack_wait);
            entry.deadline = new;
            self.deadlines.remove(&(old, seq));
            // Later than the old deadline: the timer, armed no later than that, will see it.
            wake.timer = self.add_deadline(new, seq);
            return wake;
        }
        let old = entry.deadline;
        self.deadlines.remove(&(old, seq));
        wake.readers = self.release(consumer);
        match settlement {
            Settlement::Ack | Settlement::Term | Settlement::InProgress => {
                self.unsettled.remove(&seq);
            }
            Settlement::Nack(delay) => {
                let delay = delay.unwrap_or(Duration::ZERO);
                if attempt >= max_deliver {
                    if let Some(entry) = self.unsettled.remove(&seq) {
                        exhausted(&entry.message, attempt);
                    }
                } else if delay.is_zero() {
                    if let Some(entry) = self.unsettled.remove(&seq) {
                        self.redeliver.push_back(Pending {
                            seq,
                            message: entry.message,
                            deliveries: entry.deliveries,
                        });
                        wake.readers = true;
                    }
                } else {
                    let due = deadline_after(now, delay);
                    if let Some(entry) = self.unsettled.get_mut(&seq) {
                        entry.phase = Phase::Delayed;
                        entry.deadline = due;
                    }
                    wake.timer = self.add_deadline(due, seq);
                }
            }
        }
        wake
    }

    /// Handles every deadline up to `now`: expired deliveries and due delayed redeliveries.
    fn expire(&mut self, now: Instant) -> Wake {
        let mut wake = Wake::default();
        while let Some(&(at, seq)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            let Some(entry) = self.unsettled.remove(&seq) else {
                continue;
            };
            let pending = Pending {
                seq,
                message: entry.message,
                deliveries: entry.deliveries,
            };
            match entry.phase {
                Phase::Delivered {
                    consumer,
                    max_deliver,
                    ..
                } => {
                    // A reader at its in-flight limit may take another message now.
                    wake.readers |= self.release(consumer);
                    if entry.deliveries >= max_deliver {
                        exhausted(&pending.message, entry.deliveries);
                        continue;
                    }
                    tracing::debug!(
                        topic = %pending.message.topic,
                        attempt = entry.deliveries,
                        "ack wait expired; redelivering"
                    );
                    self.redeliver.push_back(pending);
                }
                Phase::Delayed => self.redeliver.push_back(pending),
            }
            wake.readers = true;
        }
        wake
    }
}

fn exhausted(message: &BusMessage, deliveries: u32) {
    tracing::warn!(
        topic = %message.topic,
        id = message.id().unwrap_or(""),
        deliveries,
        "message dropped: delivered max_deliver times without success"
    );
}

fn deadline_after(now: Instant, wait: Duration) -> Instant {
    now.checked_add(wait)
        .or_else(|| now.checked_add(FAR_FUTURE))
        .unwrap_or(now)
}

/// A queue's timer: redelivers expired and delayed messages at their deadlines. Ends when
/// the queue closes.
async fn run_timer(queue: Arc<Queue>) {
    loop {
        // Registered before the state is read, so a later notification is not missed.
        let notified = queue.timer.notified();
        let (wake, next) = {
            let mut state = lock(&queue.state);
            if state.closed {
                return;
            }
            let wake = state.expire(Instant::now());
            let next = state.deadlines.first().map(|&(at, _)| at);
            state.armed = next;
            (wake, next)
        };
        queue.notify(wake);
        match next {
            Some(at) => {
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = notified => {}
                }
            }
            None => notified.await,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Subscribers and settlement
// ---------------------------------------------------------------------------------------

/// The state behind a [`Subscription`] stream.
struct Reader {
    queue: Arc<Queue>,
    consumer: u64,
    limits: Limits,
    ephemeral: bool,
    bus: std::sync::Weak<Inner>,
}

impl Reader {
    async fn next(&self) -> Option<Delivery> {
        loop {
            // Registered before the check, so a message pushed after it wakes us.
            let readable = self.queue.readable.notified();
            match self.queue.try_take(self.consumer, self.limits) {
                Take::Got(delivery) => return Some(delivery),
                Take::Closed => return None,
                Take::Wait => readable.await,
            }
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if self.ephemeral {
            if let Some(bus) = self.bus.upgrade() {
                let mut registry = write(&bus.registry);
                if registry.ephemerals.remove(&self.consumer).is_some() {
                    registry.routes.clear();
                }
            }
            self.queue.close();
        } else {
            // The group and its messages stay for the next subscriber.
            self.queue.remove_consumer(self.consumer);
            tracing::trace!(
                durable = self.queue.durable.as_deref().unwrap_or(""),
                pattern = %self.queue.pattern,
                "durable subscriber left"
            );
        }
    }
}

/// Settles one delivery of one queue; settles it as an immediate nack when dropped
/// unsettled.
struct MemoryAcker {
    queue: Arc<Queue>,
    seq: u64,
    attempt: u32,
    done: AtomicBool,
}

impl MemoryAcker {
    fn settle_now(&self, settlement: Settlement) {
        let finished = if settlement == Settlement::InProgress {
            self.done.load(Ordering::Acquire)
        } else {
            self.done.swap(true, Ordering::AcqRel)
        };
        if !finished {
            self.queue.settle(self.seq, self.attempt, settlement);
        }
    }
}

#[async_trait]
impl Acker for MemoryAcker {
    async fn settle(&self, settlement: Settlement) -> Result<(), OnexError> {
        self.settle_now(settlement);
        Ok(())
    }
}

impl Drop for MemoryAcker {
    fn drop(&mut self) {
        if !*self.done.get_mut() {
            *self.done.get_mut() = true;
            self.queue
                .settle(self.seq, self.attempt, Settlement::Nack(None));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Locks that shrug off poisoning (no code here panics while holding one)
// ---------------------------------------------------------------------------------------

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_window_and_bound() {
        let mut dedup = Dedup::default();
        let t0 = Instant::now();
        let window = Duration::from_secs(10);
        assert!(dedup.admit("a", t0, window, 2).is_some());
        assert!(dedup.admit("a", t0, window, 2).is_none());
        assert!(dedup.admit("b", t0, window, 2).is_some());
        // A third id pushes the oldest out of the bounded memory.
        assert!(dedup.admit("c", t0, window, 2).is_some());
        assert!(dedup.admit("a", t0, window, 2).is_some());
        // Expired ids are evicted.
        let later = t0 + Duration::from_secs(11);
        assert!(dedup.admit("z", later, window, 100).is_some());
        assert_eq!(dedup.ids.len(), 1);
        // A forgotten id is admitted again.
        let (id, stamp) = dedup.admit("y", later, window, 100).unwrap();
        dedup.forget(&id, stamp);
        assert!(dedup.admit("y", later, window, 100).is_some());
    }

    #[test]
    fn zero_limits_follow_jetstream() {
        let limits = Limits::from(&SubscribeOptions {
            durable: None,
            ack_wait: Duration::ZERO,
            max_deliver: 0,
            max_in_flight: 0,
        });
        assert_eq!(limits.ack_wait, DEFAULT_ACK_WAIT);
        assert_eq!(limits.max_deliver, u32::MAX);
        assert_eq!(limits.max_in_flight, DEFAULT_MAX_IN_FLIGHT);
    }

    #[test]
    fn subscribing_outside_a_runtime_is_an_error() {
        let bus = InMemoryBus::new();
        let subscribe = bus.subscribe("a.b", SubscribeOptions::default());
        let result = futures_util::FutureExt::now_or_never(subscribe);
        let error = result.map(|r| r.map(|_| ())).unwrap().unwrap_err();
        assert_eq!(error.code(), &ErrorCode::EventBus);
        let request = bus.request(BusMessage::new("a.b", "x"), Duration::from_secs(1));
        let result = futures_util::FutureExt::now_or_never(request).unwrap();
        assert_eq!(result.unwrap_err().code(), &ErrorCode::EventBus);
        // Publishing needs no runtime.
        let publish = bus.publish(BusMessage::new("a.b", "x"));
        assert!(
            futures_util::FutureExt::now_or_never(publish)
                .unwrap()
                .is_ok()
        );
    }

    #[test]
    fn huge_durations_do_not_overflow() {
        let now = Instant::now();
        assert!(deadline_after(now, Duration::MAX) > now);
    }
}
