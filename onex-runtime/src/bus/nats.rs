//! The NATS JetStream event bus (DESIGN.md §7): [`NatsBus`] and [`NatsBusConfig`].

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use async_nats::jetstream::context::{CreateStreamErrorKind, PublishErrorKind};
use async_nats::jetstream::message::{Acker as JsAcker, PublishMessage};
use async_nats::jetstream::stream::{self, ConsumerErrorKind, RetentionPolicy, StorageType};
use async_nats::jetstream::{self, AckKind, ErrorCode as JsErrorCode};
use async_nats::{Client, ConnectOptions, Event, HeaderMap, HeaderName, HeaderValue, Subject};
use async_trait::async_trait;
use futures_util::StreamExt;
use tokio::sync::OnceCell;

use super::{
    Acker, BusHealth, BusMessage, Delivery, EventBus, Settlement, SubscribeOptions, Subscription,
    topic_matches, validate_pattern, validate_topic,
};
use crate::error::{ErrorCode, OnexError};

/// Idle heartbeat asked of the server for pull requests (a missed one is reported as an
/// error item on the subscription).
const PULL_HEARTBEAT: Duration = Duration::from_secs(15);

/// The largest pull batch a subscription asks for.
const MAX_PULL_BATCH: usize = 512;

/// The longest durable-name part kept in a consumer name.
const MAX_DURABLE_LEN: usize = 200;

/// Configuration of [`NatsBus`]: where the server is, how topic families map to streams,
/// and the streams' and consumers' settings.
///
/// Build it from [`Default`] (or [`NatsBusConfig::new`]) and the builder-style setters:
///
/// ```
/// use std::time::Duration;
/// use onex_runtime::bus::NatsBusConfig;
///
/// let config = NatsBusConfig::new("nats://10.0.0.5:4222")
///     .duplicate_window(Duration::from_secs(60))
///     .connect_timeout(Duration::from_secs(2))
///     .family_depth_for("acme", 3);
/// assert_eq!(config.family("onex.cmd.greeter.greet.v1").unwrap(), "onex.cmd");
/// assert_eq!(config.family("demo.x").unwrap(), "demo");
/// assert_eq!(config.family("acme.billing.invoice.created").unwrap(), "acme.billing.invoice");
/// assert_eq!(config.stream_name("onex.cmd"), "ONEX_CMD");
/// // A pattern whose family segments hold a wildcard spans several streams.
/// assert!(config.family("onex.*.greeter.greet.v1").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NatsBusConfig {
    /// The server URL (`nats://host:port`). Default `nats://127.0.0.1:4222`.
    pub url: String,
    /// The connection name shown by the server's monitoring. Default `onex`.
    pub client_name: String,
    /// Prepended to every stream name (`ACME_` → `ACME_ONEX_CMD`). Default empty.
    pub stream_prefix: String,
    /// How many leading segments of a topic form its family, unless
    /// [`family_depths`](NatsBusConfig::family_depths) says otherwise for its first segment.
    /// Default 1.
    pub family_depth: usize,
    /// Family depths by first segment. Default `{"onex": 2}`.
    pub family_depths: BTreeMap<String, usize>,
    /// The streams' duplicate window: a second message with the same
    /// [`MESSAGE_ID_HEADER`](super::MESSAGE_ID_HEADER) inside it is dropped. Default 2 minutes.
    pub duplicate_window: Duration,
    /// How long the streams keep messages; zero keeps them until deleted. Default 7 days.
    pub max_age: Duration,
    /// Keep the streams in memory instead of on disk. Default `false` (file storage).
    pub memory_storage: bool,
    /// The streams' replica count (clustered servers). Default 1.
    pub replicas: usize,
    /// How long [`NatsBus::connect`] waits for the server. Default 5 seconds.
    pub connect_timeout: Duration,
    /// How long a JetStream API request (stream and consumer management) or a publish
    /// acknowledgement may take. Default 10 seconds.
    pub api_timeout: Duration,
    /// The longest pause between two reconnection attempts (the client backs off
    /// exponentially up to it). Default 4 seconds.
    pub reconnect_delay_max: Duration,
    /// Whether a newly created durable consumer starts at the beginning of its stream
    /// (`true`: messages published before the first subscription are processed) or with
    /// the messages published after it was created (`false`). Default `true`. Ephemeral
    /// subscriptions always start with new messages.
    pub durable_from_start: bool,
    /// How long the server keeps an ephemeral consumer nobody pulls from (a dropped
    /// ephemeral subscription's consumer goes away after it). Default 30 seconds.
    pub ephemeral_inactive_threshold: Duration,
    /// Wait for the server to confirm acks and terms (`true`) instead of sending them and
    /// moving on (`false`, the default: cheaper; an ack lost with the connection only means
    /// a redelivery).
    pub confirm_acks: bool,
}

impl Default for NatsBusConfig {
    /// `nats://127.0.0.1:4222`, families of depth 1 except `onex.*` (depth 2), file
    /// storage, 2 minutes duplicate window, 7 days retention.
    fn default() -> Self {
        NatsBusConfig {
            url: "nats://127.0.0.1:4222".to_owned(),
            client_name: "onex".to_owned(),
            stream_prefix: String::new(),
            family_depth: 1,
            family_depths: BTreeMap::from([("onex".to_owned(), 2)]),
            duplicate_window: Duration::from_secs(120),
            max_age: Duration::from_secs(7 * 24 * 3600),
            memory_storage: false,
            replicas: 1,
            connect_timeout: Duration::from_secs(5),
            api_timeout: Duration::from_secs(10),
            reconnect_delay_max: Duration::from_secs(4),
            durable_from_start: true,
            ephemeral_inactive_threshold: Duration::from_secs(30),
            confirm_acks: false,
        }
    }
}

impl NatsBusConfig {
    /// The defaults with another server URL.
    pub fn new(url: impl Into<String>) -> Self {
        NatsBusConfig::default().url(url)
    }

    /// Sets the server URL.
    #[must_use]
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    /// Sets the connection name.
    #[must_use]
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.client_name = name.into();
        self
    }

    /// Sets the stream name prefix.
    #[must_use]
    pub fn stream_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.stream_prefix = prefix.into();
        self
    }

    /// Sets the default family depth (leading segments forming a topic's family; at least 1).
    #[must_use]
    pub fn family_depth(mut self, depth: usize) -> Self {
        self.family_depth = depth.max(1);
        self
    }

    /// Sets the family depth of the topics whose first segment is `first_segment`.
    #[must_use]
    pub fn family_depth_for(mut self, first_segment: impl Into<String>, depth: usize) -> Self {
        self.family_depths
            .insert(first_segment.into(), depth.max(1));
        self
    }

    /// Sets the streams' duplicate window.
    #[must_use]
    pub fn duplicate_window(mut self, window: Duration) -> Self {
        self.duplicate_window = window;
        self
    }

    /// Sets how long the streams keep messages (zero: no limit).
    #[must_use]
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Keeps the streams in memory (`true`) or on disk (`false`).
    #[must_use]
    pub fn memory_storage(mut self, memory: bool) -> Self {
        self.memory_storage = memory;
        self
    }

    /// Sets the streams' replica count (at least 1).
    #[must_use]
    pub fn replicas(mut self, replicas: usize) -> Self {
        self.replicas = replicas.max(1);
        self
    }

    /// Sets how long [`NatsBus::connect`] waits for the server.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the JetStream API and publish-acknowledgement timeout.
    #[must_use]
    pub fn api_timeout(mut self, timeout: Duration) -> Self {
        self.api_timeout = timeout;
        self
    }

    /// Sets the longest pause between reconnection attempts.
    #[must_use]
    pub fn reconnect_delay_max(mut self, delay: Duration) -> Self {
        self.reconnect_delay_max = delay;
        self
    }

    /// Sets where a new durable consumer starts (see
    /// [`durable_from_start`](NatsBusConfig::durable_from_start)).
    #[must_use]
    pub fn durable_from_start(mut self, from_start: bool) -> Self {
        self.durable_from_start = from_start;
        self
    }

    /// Sets how long an unused ephemeral consumer survives on the server.
    #[must_use]
    pub fn ephemeral_inactive_threshold(mut self, threshold: Duration) -> Self {
        self.ephemeral_inactive_threshold = threshold;
        self
    }

    /// Makes acks and terms wait for the server's confirmation.
    #[must_use]
    pub fn confirm_acks(mut self, confirm: bool) -> Self {
        self.confirm_acks = confirm;
        self
    }

    /// The family of a topic or pattern: its first `depth` segments, where `depth` is
    /// [`family_depths`](NatsBusConfig::family_depths)`[first segment]` or
    /// [`family_depth`](NatsBusConfig::family_depth). A topic with fewer segments is its own
    /// family.
    ///
    /// # Errors
    ///
    /// [`ErrorCode::InvalidInput`] when a family segment of a pattern is a wildcard (the
    /// pattern would span several streams).
    pub fn family<'a>(&self, topic: &'a str) -> Result<&'a str, OnexError> {
        let first = topic.split('.').next().unwrap_or_default();
        let depth = self
            .family_depths
            .get(first)
            .copied()
            .unwrap_or(self.family_depth)
            .max(1);
        let mut end = 0;
        for (i, segment) in topic.split('.').take(depth).enumerate() {
            if segment == "*" || segment == ">" {
                return Err(OnexError::invalid_input(format!(
                    "pattern `{topic}` spans several topic families (NATS streams): with \
                     the NATS bus, the first {depth} segment(s) of a `{first}` pattern must \
                     be literal"
                ))
                .with_context("topic", topic));
            }
            end += segment.len() + usize::from(i > 0);
        }
        Ok(&topic[..end])
    }

    /// The stream holding a family: [`stream_prefix`](NatsBusConfig::stream_prefix) plus
    /// the family in upper case, `.` and other characters not allowed in stream names turned
    /// into `_` (`onex.cmd` → `ONEX_CMD`).
    pub fn stream_name(&self, family: &str) -> String {
        self.stream_prefix
            .chars()
            .chain(family.chars())
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c.to_ascii_uppercase(),
                _ => '_',
            })
            .collect()
    }
}

/// The connection state's explanation, kept up to date by the client's event callback.
#[derive(Debug, Default)]
struct LastEvent(Mutex<Option<String>>);

impl LastEvent {
    fn set(&self, reason: Option<String>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = reason;
    }

    fn get(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The shared state of a [`NatsBus`] and its clones.
struct Inner {
    config: NatsBusConfig,
    client: Client,
    jetstream: jetstream::Context,
    /// Family → its stream's name, once the stream is known to exist.
    streams: Mutex<HashMap<String, Arc<OnceCell<Arc<str>>>>>,
    last_event: Arc<LastEvent>,
}

/// The NATS JetStream event bus. Cheap to clone: clones share one connection.
///
/// [`NatsBus`] maps the [`EventBus`] contract onto JetStream:
///
/// - **Streams, one per topic family.** A topic's *family* is its first segments: two for
///   ONEX topics (`onex.cmd.greeter.greet.v1` → `onex.cmd`), one for anything else
///   (`demo.x` → `demo`); see [`NatsBusConfig::family_depth_for`] to change the rule. The
///   family `onex.cmd` lives in the stream `ONEX_CMD` with the subjects `onex.cmd` and
///   `onex.cmd.>`. A family's stream is created (or found) on the first publish or
///   subscribe that needs it, and remembered.
/// - **Publish** is a JetStream publish that waits for the stream's acknowledgement: once
///   [`EventBus::publish`] returns `Ok`, the message is stored. Headers travel as NATS
///   headers; [`MESSAGE_ID_HEADER`](super::MESSAGE_ID_HEADER) (`Nats-Msg-Id`) makes the server drop a second copy
///   published inside the stream's duplicate window.
/// - **Subscribe** creates a pull consumer on the family's stream, filtered on the pattern,
///   with explicit acks, `ack_wait`, `max_deliver` and `max_ack_pending` = `max_in_flight`
///   from the [`SubscribeOptions`], and streams its messages in batches. A durable
///   subscription is a durable consumer (see [`NatsBus::consumer_name`]): subscribers with
///   the same durable name and pattern share its messages, and a new subscriber resumes
///   where the last one stopped. A pattern must keep its family literal (`onex.cmd.*.v1` is
///   fine, `onex.*.greeter` and `>` span several streams and are rejected as invalid input).
/// - **Request–reply**: the request is published durably like any message, carrying a fresh
///   core-NATS inbox in the [`NatsBus::REPLY_TO_HEADER`] header (a JetStream message's own
///   reply subject is its ack subject); the reply is a plain core-NATS message to that inbox.
/// - **Health** follows the client's connection state; the client reconnects on its own.
///
/// # When things go wrong
///
/// - While the server is unreachable, [`health`](EventBus::health) is
///   [`Disconnected`](BusHealth::Disconnected), publishes and subscribes fail with
///   [`ErrorCode::EventBus`] after [`api_timeout`](NatsBusConfig::api_timeout), and live
///   subscriptions may yield `Err` items (missed heartbeats) and go on once reconnected.
///   A publish that timed out may still have been stored: retry it with the same
///   message id and the server drops the copy.
/// - A delivery dropped without being settled is redelivered after `ack_wait`, as are the
///   unsettled deliveries of a dropped subscription or a dead process.
/// - If a family's stream is deleted behind the bus's back, the next publish or subscribe
///   recreates it. If another stream already holds the family's subjects, that stream is
///   used. A subscription whose consumer is deleted ends after an `Err` item.
/// - Dropping an ephemeral subscription leaves its consumer to the server, which removes it
///   after [`ephemeral_inactive_threshold`](NatsBusConfig::ephemeral_inactive_threshold).
/// - A durable consumer keeps the settings of its first subscription except those JetStream
///   can update (`ack_wait`, `max_deliver`, `max_ack_pending`); subscribing with changed
///   settings it cannot update is an [`ErrorCode::EventBus`] error.
///
/// ```no_run
/// use onex_runtime::bus::{BusMessage, EventBus, NatsBus, NatsBusConfig, SubscribeOptions};
/// use futures_util::StreamExt;
///
/// # async fn demo() -> Result<(), onex_runtime::OnexError> {
/// let bus = NatsBus::connect(NatsBusConfig::default()).await?;
/// let mut sub = bus
///     .subscribe("onex.cmd.greeter.greet.v1", SubscribeOptions::durable("greeter"))
///     .await?;
/// bus.publish(BusMessage::new("onex.cmd.greeter.greet.v1", "{}").with_id("id-1")).await?;
/// if let Some(delivery) = sub.next().await {
///     delivery?.ack().await?;
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct NatsBus {
    inner: Arc<Inner>,
}

impl fmt::Debug for NatsBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsBus")
            .field("url", &self.inner.config.url)
            .field("state", &self.inner.client.connection_state())
            .finish_non_exhaustive()
    }
}

impl NatsBus {
    /// The header carrying a request's reply address through JetStream (the
    /// [`BusMessage::reply_to`] of a delivered request). Set by [`EventBus::request`] (and by
    /// [`EventBus::publish`] for a message with a `reply_to`); removed from the headers of
    /// delivered messages.
    pub const REPLY_TO_HEADER: &'static str = "Onex-Reply-To";

    /// The header carrying a reply's [`BusMessage::topic`] (a reply travels to the
    /// requester's inbox, not to its topic). Removed from the headers of received replies.
    pub const REPLY_TOPIC_HEADER: &'static str = "Onex-Topic";

    /// Connects to the server, waiting at most
    /// [`connect_timeout`](NatsBusConfig::connect_timeout). Once connected, the bus
    /// reconnects by itself whenever the connection is lost.
    ///
    /// # Errors
    ///
    /// [`ErrorCode::EventBus`] when the URL is invalid or the server cannot be reached in
    /// time.
    pub async fn connect(config: NatsBusConfig) -> Result<NatsBus, OnexError> {
        NatsBus::open(config, false).await
    }

    /// Creates the bus without waiting for the server: it connects in the background and
    /// keeps trying until the server is reachable. Meanwhile [`EventBus::health`] reports
    /// [`BusHealth::Disconnected`] and operations fail after
    /// [`api_timeout`](NatsBusConfig::api_timeout) (a publish sent meanwhile may still reach
    /// the server once connected: give messages ids so that a retry is de-duplicated).
    ///
    /// # Errors
    ///
    /// [`ErrorCode::EventBus`] when the URL is invalid.
    pub async fn connect_lazy(config: NatsBusConfig) -> Result<NatsBus, OnexError> {
        NatsBus::open(config, true).await
    }

    async fn open(config: NatsBusConfig, lazy: bool) -> Result<NatsBus, OnexError> {
        let last_event = Arc::new(LastEvent::default());
        let events = Arc::clone(&last_event);
        let delay_max = config.reconnect_delay_max;
        let mut options = ConnectOptions::new()
            .name(&config.client_name)
            .connection_timeout(config.connect_timeout)
            .request_timeout(Some(config.api_timeout))
            .max_reconnects(None)
            .reconnect_delay_callback(move |attempts| reconnect_delay(attempts, delay_max))
            .event_callback(move |event| {
                let events = Arc::clone(&events);
                async move { record_event(&events, event) }
            });
        if lazy {
            options = options.retry_on_initial_connect();
        }
        let url = config.url.as_str();
        let failed = |why: String| {
            OnexError::new(
                ErrorCode::EventBus,
                format!("cannot connect to NATS at {url}: {why}"),
            )
            .with_context("url", url)
        };
        let client = match tokio::time::timeout(config.connect_timeout, options.connect(url)).await
        {
            Ok(Ok(client)) => client,
            Ok(Err(err)) => return Err(failed(err.to_string())),
            Err(_) => {
                return Err(failed(format!(
                    "no connection after {:?}",
                    config.connect_timeout
                )));
            }
        };
        let jetstream = jetstream::ContextBuilder::new()
            .timeout(config.api_timeout)
            .build(client.clone());
        Ok(NatsBus {
            inner: Arc::new(Inner {
                config,
                client,
                jetstream,
                streams: Mutex::new(HashMap::new()),
                last_event,
            }),
        })
    }

    /// The configuration the bus was created with.
    pub fn config(&self) -> &NatsBusConfig {
        &self.inner.config
    }

    /// The underlying NATS client (for what the bus does not cover).
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The underlying JetStream context (for stream and consumer management).
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.inner.jetstream
    }

    /// The name of the stream holding a topic (or a pattern's topics), whether it exists yet
    /// or not.
    ///
    /// # Errors
    ///
    /// [`ErrorCode::InvalidInput`] for an invalid topic or a pattern spanning several
    /// families.
    pub fn stream_for(&self, topic: &str) -> Result<String, OnexError> {
        validate_pattern(topic)?;
        let config = &self.inner.config;
        Ok(config.stream_name(config.family(topic)?))
    }

    /// The JetStream consumer name of a durable subscription: the durable name with the
    /// characters consumer names cannot hold (`.`, `*`, `>`, whitespace, anything outside
    /// `[A-Za-z0-9_-]`) turned into `_`, then `-` and a hash of the pattern, so that one
    /// durable name used for several patterns gives several consumers instead of one
    /// consumer whose filter flips between them.
    ///
    /// ```
    /// use onex_runtime::bus::NatsBus;
    ///
    /// let name = NatsBus::consumer_name("greeter.v1", "onex.cmd.greeter.*.v1");
    /// assert!(name.starts_with("greeter_v1-"));
    /// assert_eq!(name, NatsBus::consumer_name("greeter.v1", "onex.cmd.greeter.*.v1"));
    /// assert_ne!(name, NatsBus::consumer_name("greeter.v1", "onex.cmd.greeter.greet.v1"));
    /// ```
    pub fn consumer_name(durable: &str, pattern: &str) -> String {
        let mut name: String = durable
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c,
                _ => '_',
            })
            .take(MAX_DURABLE_LEN)
            .collect();
        if name.is_empty() {
            name.push_str("onex");
        }
        format!("{name}-{:016x}", fnv1a(pattern.as_bytes()))
    }

    /// Flushes the connection: acks and replies sent so far are written to the server.
    /// Call it before shutting down.
    ///
    /// # Errors
    ///
    /// [`ErrorCode::EventBus`] when the connection cannot be flushed.
    pub async fn flush(&self) -> Result<(), OnexError> {
        self.inner.client.flush().await.map_err(|err| {
            OnexError::new(ErrorCode::EventBus, format!("flushing NATS failed: {err}"))
        })
    }

    /// The stream of `family`, created if missing; remembered once known.
    async fn ensure_stream(&self, family: &str) -> Result<Arc<str>, OnexError> {
        let cell = {
            let mut streams = self
                .inner
                .streams
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match streams.get(family) {
                Some(cell) => Arc::clone(cell),
                None => {
                    let cell = Arc::new(OnceCell::new());
                    streams.insert(family.to_owned(), Arc::clone(&cell));
                    cell
                }
            }
        };
        if let Some(name) = cell.get() {
            return Ok(Arc::clone(name));
        }
        // Boxed: stream creation is rare, and its large future would otherwise be part of
        // (and be moved with) every publish's future.
        cell.get_or_try_init(|| Box::pin(self.create_stream(family)))
            .await
            .cloned()
    }

    /// Forgets that a family's stream exists (it was deleted behind the bus's back).
    fn forget_stream(&self, family: &str) {
        self.inner
            .streams
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(family);
    }

    async fn create_stream(&self, family: &str) -> Result<Arc<str>, OnexError> {
        let config = &self.inner.config;
        let name = config.stream_name(family);
        let stream_config = stream::Config {
            name: name.clone(),
            subjects: vec![family.to_owned(), format!("{family}.>")],
            description: Some(format!("onex topic family `{family}`")),
            retention: RetentionPolicy::Limits,
            storage: if config.memory_storage {
                StorageType::Memory
            } else {
                StorageType::File
            },
            num_replicas: config.replicas.max(1),
            max_age: config.max_age,
            duplicate_window: config.duplicate_window,
            ..stream::Config::default()
        };
        let probe = format!("{family}.probe");
        let failed = |why: String| {
            OnexError::new(
                ErrorCode::EventBus,
                format!("cannot create or find the stream `{name}` for `{family}`: {why}"),
            )
            .with_context("stream", name.as_str())
            .with_context("family", family)
        };
        match self
            .inner
            .jetstream
            .get_or_create_stream(stream_config)
            .await
        {
            Ok(stream) => {
                let subjects = &stream.cached_info().config.subjects;
                if subjects
                    .iter()
                    .any(|subject| topic_matches(subject, &probe))
                {
                    tracing::debug!(stream = %name, family, "NATS stream ready");
                    Ok(name.as_str().into())
                } else {
                    Err(failed(format!(
                        "the stream exists with subjects {subjects:?}, which do not hold the \
                         family's topics"
                    )))
                }
            }
            Err(create_error) => {
                let overlap = matches!(
                    create_error.kind(),
                    CreateStreamErrorKind::JetStream(err)
                        if err.error_code() == JsErrorCode::STREAM_SUBJECT_OVERLAP
                );
                if !overlap {
                    return Err(failed(create_error.to_string()));
                }
                // Another stream already captures the family's subjects: use it.
                match self.inner.jetstream.stream_by_subject(probe.as_str()).await {
                    Ok(existing) => {
                        tracing::debug!(stream = %existing, family, "using an existing stream");
                        Ok(existing.as_str().into())
                    }
                    Err(_) => Err(failed(create_error.to_string())),
                }
            }
        }
    }

    /// Publishes to JetStream and waits for the stream's acknowledgement, recreating the
    /// family's stream once if it disappeared.
    async fn publish_durably(&self, message: BusMessage) -> Result<(), OnexError> {
        let BusMessage {
            topic,
            payload,
            headers,
            reply_to,
        } = message;
        validate_topic(&topic)?;
        let family_len = self.inner.config.family(&topic)?.len();
        // The subject takes the topic's buffer over (no copy); clones of it are cheap.
        let subject = Subject::from(topic);
        let topic = subject.as_str();
        let family = &topic[..family_len];
        let mut retried = false;
        loop {
            self.ensure_stream(family).await?;
            let mut publish = PublishMessage::build().payload(payload.clone());
            if let Some(headers) = to_header_map(
                &headers,
                &[(NatsBus::REPLY_TO_HEADER, reply_to.as_deref())],
                topic,
            )? {
                publish = publish.headers(headers);
            }
            let result = match self
                .inner
                .jetstream
                .send_publish(subject.clone(), publish)
                .await
            {
                Ok(ack) => ack.await,
                Err(err) => Err(err),
            };
            match result {
                Ok(_) => return Ok(()),
                Err(err) if err.kind() == PublishErrorKind::StreamNotFound && !retried => {
                    retried = true;
                    self.forget_stream(family);
                }
                Err(err) => {
                    return Err(OnexError::new(
                        ErrorCode::EventBus,
                        format!("publishing to `{topic}` failed: {err}"),
                    )
                    .with_context("topic", topic));
                }
            }
        }
    }

    async fn create_consumer(
        &self,
        family: &str,
        config: pull::Config,
    ) -> Result<jetstream::consumer::PullConsumer, OnexError> {
        let mut retried = false;
        loop {
            let stream = self.ensure_stream(family).await?;
            match self
                .inner
                .jetstream
                .create_consumer_on_stream(config.clone(), &*stream)
                .await
            {
                Ok(consumer) => return Ok(consumer),
                Err(err) => {
                    let gone = matches!(
                        err.kind(),
                        ConsumerErrorKind::JetStream(err)
                            if err.error_code() == JsErrorCode::STREAM_NOT_FOUND
                    );
                    if gone && !retried {
                        retried = true;
                        self.forget_stream(family);
                        continue;
                    }
                    return Err(OnexError::new(
                        ErrorCode::EventBus,
                        format!(
                            "cannot create a consumer for `{}` on the stream `{stream}`: {err}",
                            config.filter_subject
                        ),
                    )
                    .with_context("topic", config.filter_subject.as_str())
                    .with_context("stream", &*stream));
                }
            }
        }
    }
}

#[async_trait]
impl EventBus for NatsBus {
    fn name(&self) -> &'static str {
        "nats"
    }

    async fn publish(&self, message: BusMessage) -> Result<(), OnexError> {
        self.publish_durably(message).await
    }

    async fn subscribe(
        &self,
        pattern: &str,
        options: SubscribeOptions,
    ) -> Result<Subscription, OnexError> {
        validate_pattern(pattern)?;
        let config = &self.inner.config;
        let family = config.family(pattern)?;
        let max_in_flight = options.max_in_flight.max(1);
        let mut consumer_config = pull::Config {
            filter_subject: pattern.to_owned(),
            ack_policy: AckPolicy::Explicit,
            ack_wait: options.ack_wait,
            max_deliver: i64::from(options.max_deliver.max(1)),
            max_ack_pending: i64::try_from(max_in_flight).unwrap_or(i64::MAX),
            ..pull::Config::default()
        };
        match &options.durable {
            Some(durable) => {
                consumer_config.durable_name = Some(NatsBus::consumer_name(durable, pattern));
                consumer_config.description =
                    Some(format!("onex durable `{durable}` on `{pattern}`"));
                consumer_config.deliver_policy = if config.durable_from_start {
                    DeliverPolicy::All
                } else {
                    DeliverPolicy::New
                };
            }
            None => {
                consumer_config.deliver_policy = DeliverPolicy::New;
                consumer_config.inactive_threshold = config.ephemeral_inactive_threshold;
            }
        }
        let consumer = self.create_consumer(family, consumer_config).await?;
        let messages = consumer
            .stream()
            .max_messages_per_batch(max_in_flight.min(MAX_PULL_BATCH))
            .heartbeat(PULL_HEARTBEAT)
            .messages()
            .await
            .map_err(|err| {
                OnexError::new(
                    ErrorCode::EventBus,
                    format!("cannot consume `{pattern}`: {err}"),
                )
                .with_context("topic", pattern)
            })?;
        let pattern: Arc<str> = pattern.into();
        let confirm_acks = config.confirm_acks;
        Ok(messages
            .map(move |item| match item {
                Ok(message) => Ok(into_delivery(message, confirm_acks)),
                Err(err) => Err(OnexError::new(
                    ErrorCode::EventBus,
                    format!("consuming `{pattern}` failed: {err}"),
                )
                .with_context("topic", &*pattern)),
            })
            .boxed())
    }

    async fn request(
        &self,
        mut message: BusMessage,
        timeout: Duration,
    ) -> Result<BusMessage, OnexError> {
        validate_topic(&message.topic)?;
        let topic = message.topic.clone();
        let failed = |why: String| {
            OnexError::new(
                ErrorCode::EventBus,
                format!("request on `{topic}` failed: {why}"),
            )
            .with_context("topic", topic.as_str())
        };
        let client = &self.inner.client;
        let inbox = client.new_inbox();
        // Subscribed before publishing, on the same connection: the reply cannot be missed.
        let mut replies = client
            .subscribe(inbox.clone())
            .await
            .map_err(|err| failed(err.to_string()))?;
        message.reply_to = Some(inbox);
        let exchange = async {
            self.publish_durably(message).await?;
            match replies.next().await {
                Some(reply) => Ok(from_reply(reply)),
                None => Err(failed("the reply subscription closed".to_owned())),
            }
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(OnexError::timeout(format!(
                "no reply to the request on `{topic}` within {timeout:?}"
            ))
            .with_context("topic", topic.as_str())),
        }
    }

    async fn respond(&self, reply_to: &str, message: BusMessage) -> Result<(), OnexError> {
        validate_topic(reply_to)?;
        let failed = |why: String| {
            OnexError::new(
                ErrorCode::EventBus,
                format!("replying to `{reply_to}` failed: {why}"),
            )
            .with_context("reply_to", reply_to)
        };
        let topic = (!message.topic.is_empty()).then_some(message.topic.as_str());
        let headers = to_header_map(
            &message.headers,
            &[(NatsBus::REPLY_TOPIC_HEADER, topic)],
            reply_to,
        )?
        .unwrap_or_default();
        let client = &self.inner.client;
        client
            .publish_with_headers(Subject::from(reply_to), headers, message.payload)
            .await
            .map_err(|err| failed(err.to_string()))?;
        client.flush().await.map_err(|err| failed(err.to_string()))
    }

    async fn health(&self) -> BusHealth {
        let url = &self.inner.config.url;
        let reason = self
            .inner
            .last_event
            .get()
            .map(|reason| format!(" ({reason})"))
            .unwrap_or_default();
        match self.inner.client.connection_state() {
            State::Connected => BusHealth::Connected,
            State::Pending => {
                BusHealth::Disconnected(format!("not connected to NATS at {url} yet{reason}"))
            }
            State::Disconnected => {
                BusHealth::Disconnected(format!("connection to NATS at {url} lost{reason}"))
            }
        }
    }
}

/// Keeps the latest connection event's explanation for [`EventBus::health`].
fn record_event(last_event: &LastEvent, event: Event) {
    match event {
        Event::Connected => {
            tracing::info!("NATS connected");
            last_event.set(None);
        }
        Event::Disconnected => {
            tracing::warn!("NATS connection lost");
            last_event.set(Some("disconnected".to_owned()));
        }
        Event::Closed => last_event.set(Some("client closed".to_owned())),
        Event::ClientError(err) => {
            tracing::debug!(%err, "NATS client error");
            last_event.set(Some(err.to_string()));
        }
        Event::ServerError(err) => {
            tracing::warn!(%err, "NATS server error");
            last_event.set(Some(format!("server error: {err}")));
        }
        Event::LameDuckMode | Event::Draining | Event::SlowConsumer(_) => {
            tracing::debug!(%event, "NATS event");
        }
    }
}

/// Exponential backoff between reconnection attempts: 0, 2, 4, 8 … ms, up to `max`.
fn reconnect_delay(attempts: usize, max: Duration) -> Duration {
    if attempts <= 1 {
        return Duration::ZERO;
    }
    let exponent = u32::try_from(attempts - 1).unwrap_or(u32::MAX).min(32);
    Duration::from_millis(2_u64.saturating_pow(exponent)).min(max)
}

/// 64-bit FNV-1a: a stable hash (the same in every process and version) for consumer names.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// NATS headers from a message's headers plus extra `(name, value)` pairs (set when the
/// value is `Some`); `None` when there are none. `topic` is for error context.
fn to_header_map(
    headers: &BTreeMap<String, String>,
    extra: &[(&str, Option<&str>)],
    topic: &str,
) -> Result<Option<HeaderMap>, OnexError> {
    let extra = extra
        .iter()
        .filter_map(|(name, value)| Some((*name, (*value)?)));
    if headers.is_empty() && extra.clone().next().is_none() {
        return Ok(None);
    }
    let invalid = |what: &str, name: &str| {
        OnexError::invalid_input(format!(
            "invalid header {what} for `{name}` on `{topic}`: NATS header names are non-empty \
             printable ASCII without `:`, values hold no CR or LF"
        ))
        .with_context("topic", topic)
        .with_context("header", name)
    };
    let mut map = HeaderMap::new();
    for (name, value) in headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .chain(extra)
    {
        if name.is_empty() {
            return Err(invalid("name", name));
        }
        let header_name = HeaderName::from_str(name).map_err(|_| invalid("name", name))?;
        let header_value = HeaderValue::from_str(value).map_err(|_| invalid("value", name))?;
        map.insert(header_name, header_value);
    }
    Ok(Some(map))
}

/// A message's headers as a map (the last value of a repeated header wins).
fn from_header_map(headers: Option<HeaderMap>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    if let Some(headers) = headers {
        for (name, values) in headers.iter() {
            if let Some(value) = values.last() {
                map.insert(name.to_string(), value.as_str().to_owned());
            }
        }
    }
    map
}

/// A delivery of a JetStream message; its attempt is the server's delivery count.
fn into_delivery(message: jetstream::Message, confirm_acks: bool) -> Delivery {
    let attempt = message
        .info()
        .map(|info| u32::try_from(info.delivered.max(1)).unwrap_or(u32::MAX))
        .unwrap_or(1);
    let (message, acker) = message.split();
    let mut headers = from_header_map(message.headers);
    let reply_to = headers.remove(NatsBus::REPLY_TO_HEADER);
    let message = BusMessage {
        topic: message.subject.into_string(),
        payload: message.payload,
        headers,
        reply_to,
    };
    Delivery::new(
        message,
        attempt,
        Box::new(NatsAcker {
            acker,
            confirm: confirm_acks,
        }),
    )
}

/// A reply received on a request's inbox.
fn from_reply(reply: async_nats::Message) -> BusMessage {
    let mut headers = from_header_map(reply.headers);
    let topic = headers
        .remove(NatsBus::REPLY_TOPIC_HEADER)
        .unwrap_or_else(|| reply.subject.into_string());
    BusMessage {
        topic,
        payload: reply.payload,
        headers,
        reply_to: None,
    }
}

/// Settles a JetStream delivery.
struct NatsAcker {
    acker: JsAcker,
    confirm: bool,
}

#[async_trait]
impl Acker for NatsAcker {
    async fn settle(&self, settlement: Settlement) -> Result<(), OnexError> {
        let kind = match settlement {
            Settlement::Ack => AckKind::Ack,
            Settlement::Nack(delay) => AckKind::Nak(delay),
            Settlement::Term => AckKind::Term,
            Settlement::InProgress => AckKind::Progress,
        };
        let result = if self.confirm && matches!(kind, AckKind::Ack | AckKind::Term) {
            self.acker.double_ack_with(kind).await
        } else {
            self.acker.ack_with(kind).await
        };
        result.map_err(|err| {
            OnexError::new(
                ErrorCode::EventBus,
                format!("settling a NATS delivery ({settlement:?}) failed: {err}"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        let config = NatsBusConfig::default();
        assert_eq!(
            config.family("onex.cmd.greeter.greet.v1").unwrap(),
            "onex.cmd"
        );
        assert_eq!(config.family("onex.evt.>").unwrap(), "onex.evt");
        assert_eq!(config.family("onex.cmd.*.greet.v1").unwrap(), "onex.cmd");
        assert_eq!(config.family("onex.cmd").unwrap(), "onex.cmd");
        assert_eq!(config.family("onex").unwrap(), "onex");
        assert_eq!(config.family("demo.x").unwrap(), "demo");
        assert_eq!(config.family("demo").unwrap(), "demo");
        assert_eq!(config.family("demo.>").unwrap(), "demo");
        for spanning in [">", "*", "*.x", "onex.*.greeter", "onex.>"] {
            let err = config.family(spanning).unwrap_err();
            assert_eq!(err.code(), &ErrorCode::InvalidInput, "{spanning}");
        }
        let config = config.family_depth(2).family_depth_for("onex", 3);
        assert_eq!(config.family("a.b.c").unwrap(), "a.b");
        assert_eq!(
            config.family("onex.cmd.greeter.greet.v1").unwrap(),
            "onex.cmd.greeter"
        );
    }

    #[test]
    fn stream_names() {
        let config = NatsBusConfig::default();
        assert_eq!(config.stream_name("onex.cmd"), "ONEX_CMD");
        assert_eq!(config.stream_name("demo"), "DEMO");
        assert_eq!(config.stream_name("my-app.x y/z"), "MY-APP_X_Y_Z");
        assert_eq!(
            config.stream_prefix("acme.").stream_name("onex.evt"),
            "ACME_ONEX_EVT"
        );
    }

    #[test]
    fn consumer_names() {
        let name = NatsBus::consumer_name("my node.v1 *>", "onex.cmd.>");
        let (durable, hash) = name.rsplit_once('-').unwrap();
        assert_eq!(durable, "my_node_v1___");
        assert_eq!(hash.len(), 16);
        assert!(NatsBus::consumer_name("", "a").starts_with("onex-"));
        let long = "x".repeat(1000);
        assert!(NatsBus::consumer_name(&long, "a").len() <= MAX_DURABLE_LEN + 17);
        // Stable across runs and versions.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn headers_convert_both_ways() {
        let headers = BTreeMap::from([
            ("Nats-Msg-Id".to_owned(), "id-1".to_owned()),
            ("x-trace".to_owned(), "abc def".to_owned()),
        ]);
        let map = to_header_map(&headers, &[("Onex-Reply-To", Some("_INBOX.1"))], "t")
            .unwrap()
            .unwrap();
        let mut back = from_header_map(Some(map));
        assert_eq!(back.remove("Onex-Reply-To").as_deref(), Some("_INBOX.1"));
        assert_eq!(back, headers);
        assert!(
            to_header_map(&BTreeMap::new(), &[("x", None)], "t")
                .unwrap()
                .is_none()
        );
        for (name, value) in [("", "v"), ("a:b", "v"), ("a b", "v"), ("a", "v\r\n")] {
            let bad = BTreeMap::from([(name.to_owned(), value.to_owned())]);
            let err = to_header_map(&bad, &[], "t").unwrap_err();
            assert_eq!(err.code(), &ErrorCode::InvalidInput, "{name:?}");
        }
    }

    #[test]
    fn backoff() {
        let max = Duration::from_millis(300);
        assert_eq!(reconnect_delay(0, max), Duration::ZERO);
        assert_eq!(reconnect_delay(1, max), Duration::ZERO);
        assert_eq!(reconnect_delay(2, max), Duration::from_millis(2));
        assert_eq!(reconnect_delay(5, max), Duration::from_millis(16));
        assert_eq!(reconnect_delay(50, max), max);
        assert_eq!(reconnect_delay(usize::MAX, max), max);
    }
}
