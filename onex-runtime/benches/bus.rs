//! Event bus and node host throughput on NATS JetStream, each next to raw async-nats doing
//! the same work (DESIGN.md §10: the NATS host at ≥ 50 % of raw async-nats JetStream
//! throughput), and the latency of a request through the host. Results in
//! docs/PERFORMANCE.md §7.
//!
//! ```sh
//! cargo bench -p onex-runtime --features nats --bench bus -- --warm-up-time 1 --measurement-time 5
//! ```
//!
//! Needs NATS with JetStream at 127.0.0.1:4222; without it the bench prints a note and does
//! nothing. Services and hosts run on a two-worker tokio runtime, publishers and consumers
//! of the load in `block_on` on the main thread. Each iteration drives a
//! [`Pipeline`]; throughput is reported in messages per second (`Throughput::Elements`).
//! After each criterion group, an interleaved comparison (alternating rounds of each
//! pipeline) prints both medians and their ratio, which load drift on a shared machine skews
//! less, and the CPU time this process (not the NATS server) spent per message with each
//! (Linux only, from `/proc/self/task/*/schedstat`).
//!
//! # `jetstream_publish_consume_1000`: the bus
//!
//! [`N`] messages of [`PAYLOAD_BYTES`] bytes, published with up to [`WINDOW`] publish
//! acknowledgements awaited concurrently, while a long-lived pull consumer (at most
//! [`WINDOW`] unacked) consumes and acks each one; the iteration ends when all are published
//! and acked.
//!
//! - `raw_async_nats`: `jetstream::Context::publish` + a pull consumer's `messages()` stream;
//! - `natsbus`: the same through `NatsBus` as `Arc<dyn EventBus>` (`publish`, `subscribe`,
//!   `Delivery::ack`).
//!
//! Both use a file-backed stream of their own on the same server (deleted at the end).
//!
//! # `jetstream_request_reply_1000`: the node host
//!
//! [`N`] request envelopes of [`PAYLOAD_BYTES`] bytes (fresh `envelope_id` and
//! `correlation_id` each) published with raw async-nats (up to [`WINDOW`] publish
//! acknowledgements awaited at once) to a service's request subject; the service answers each
//! with a reply envelope on its reply subject; the iteration ends when a core-NATS
//! subscription on the reply subject has seen all [`N`] replies. The publisher and the
//! reply counter are the same code for both services, on a connection of their own:
//!
//! - `raw_async_nats`: a hand-written consumer on its own connection: a durable pull
//!   consumer (explicit ack, at most [`CONCURRENCY`] unacked, batches of [`CONCURRENCY`]),
//!   and for each message, in a task of its own holding one of [`CONCURRENCY`] permits:
//!   decode the JSON into a `serde_json::Value`, build and encode a reply envelope (a fresh
//!   `envelope_id`, the `correlation_id`, the text; padded to the host's reply size), publish it with a `Nats-Msg-Id` and await its PubAck, then ack;
//! - `node_host`: the `BenchEcho` EFFECT node (`benches/bench_echo.yaml`, a handler that
//!   returns its input) in a `NodeHost` on a `NatsBus` of its own (`max_concurrency`
//!   [`CONCURRENCY`], the host's default): the same messages, through the host's envelope
//!   decoding, dispatch, reply envelope, publish (PubAck awaited) and ack.
//!
//! Both services use the same streams, the `onex.cmd` and `onex.evt` families' (`ONEX_CMD`,
//! `ONEX_EVT`), which the bench creates like any `NatsBus` would if they are missing and never
//! deletes (other users of the server share them). The host serves the contract's fixed
//! topics `onex.cmd.bench-echo.run.v1` → `onex.evt.bench-echo.done.v1`; the raw service
//! subjects of this run's own (`onex.cmd.bench-raw-<run>.run.v1` →
//! `onex.evt.bench-raw-<run>.done.v1`). Durable consumer names hold the run id; at the end
//! the bench deletes them and purges its subjects from the streams. At the start it purges
//! the host's subjects and deletes `bench-…` consumers, in case a killed run left them.
//!
//! # Latency
//!
//! Then [`SAMPLES`] sequential request → reply round trips (`EventBus::request` on the load's
//! `NatsBus` connection, after [`WARM_UP`] untimed ones) to each service, alternating between
//! them, are each timed with [`Instant`] and printed as percentiles (criterion gives none).
//! A request is published to the stream with its reply inbox in a header; the service
//! answers on the reply subject (stored, PubAck awaited), then on the inbox.

use std::hint::black_box;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, consumer::pull, stream};
use bytes::Bytes;
use criterion::{Criterion, Throughput};
use futures_util::{StreamExt, TryStreamExt, stream as futures_stream};
use onex_runtime::Uuid;
use onex_runtime::bus::{
    BusMessage, EventBus, NatsBus, NatsBusConfig, SubscribeOptions, Subscription,
};
use onex_runtime::host::{HostConfig, NodeHost};
use tokio::runtime::Runtime;
use tokio::sync::Semaphore;

mod support;
use support::bench_echo::{
    TOPIC_ONEX_CMD_BENCH_ECHO_RUN_V1 as HOST_CMD, TOPIC_ONEX_EVT_BENCH_ECHO_DONE_V1 as HOST_EVT,
};
use support::{
    BenchEcho, PATIENCE, PAYLOAD_BYTES, Pipeline, Requests, SAMPLES, WARM_UP, WINDOW,
    bench_pipeline, compare, print_latency,
};

/// Messages per iteration.
const N: usize = 1000;
/// The server.
const NATS: &str = "127.0.0.1:4222";

/// Raw async-nats JetStream.
struct RawJetStream {
    jetstream: jetstream::Context,
    stream: String,
    subject: String,
    payload: Bytes,
    messages: pull::Stream,
}

impl RawJetStream {
    async fn new(client: async_nats::Client, payload: Bytes) -> RawJetStream {
        let id = Uuid::new_v4().simple().to_string();
        let jetstream = jetstream::new(client);
        let stream_name = format!("BENCH_RAW_{}", id.to_uppercase());
        let stream = jetstream
            .create_stream(stream::Config {
                name: stream_name.clone(),
                subjects: vec![format!("benchraw.{id}.>")],
                storage: stream::StorageType::File,
                ..stream::Config::default()
            })
            .await
            .expect("raw stream");
        let consumer = stream
            .create_consumer(pull::Config {
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                deliver_policy: jetstream::consumer::DeliverPolicy::New,
                max_ack_pending: WINDOW as i64,
                inactive_threshold: Duration::from_secs(60),
                ..pull::Config::default()
            })
            .await
            .expect("raw consumer");
        let messages = consumer
            .stream()
            .max_messages_per_batch(WINDOW)
            .heartbeat(Duration::from_secs(15))
            .messages()
            .await
            .expect("raw messages");
        RawJetStream {
            jetstream,
            stream: stream_name,
            subject: format!("benchraw.{id}.x"),
            payload,
            messages,
        }
    }
}

impl Pipeline for RawJetStream {
    async fn drive(&mut self, n: usize) {
        let RawJetStream {
            jetstream,
            subject,
            payload,
            messages,
            ..
        } = self;
        let publish = futures_stream::iter(0..n)
            .map(|_| async {
                jetstream
                    .publish(subject.clone(), payload.clone())
                    .await?
                    .await
            })
            .buffer_unordered(WINDOW)
            .try_for_each(|ack| async move {
                black_box(ack);
                Ok(())
            });
        let consume = async {
            for _ in 0..n {
                let message = messages
                    .next()
                    .await
                    .expect("raw stream open")
                    .expect("raw message");
                message.ack().await.expect("raw ack");
            }
        };
        let (published, ()) = tokio::join!(publish, consume);
        published.expect("raw publish");
    }
}

impl RawJetStream {
    /// Deletes the stream (and its consumer).
    async fn delete(self) {
        self.jetstream.delete_stream(&self.stream).await.ok();
    }
}

/// Any [`EventBus`] (here `NatsBus`): publish, subscribe, ack.
struct BusPipeline {
    bus: Arc<dyn EventBus>,
    topic: String,
    payload: Bytes,
    subscription: Subscription,
}

impl BusPipeline {
    async fn new(bus: Arc<dyn EventBus>, topic: String, payload: Bytes) -> BusPipeline {
        let options = SubscribeOptions {
            max_in_flight: WINDOW,
            ..SubscribeOptions::default()
        };
        let subscription = bus.subscribe(&topic, options).await.expect("subscribe");
        BusPipeline {
            bus,
            topic,
            payload,
            subscription,
        }
    }
}

impl Pipeline for BusPipeline {
    async fn drive(&mut self, n: usize) {
        let BusPipeline {
            bus,
            topic,
            payload,
            subscription,
            ..
        } = self;
        let publish = futures_stream::iter(0..n)
            .map(|_| bus.publish(BusMessage::new(topic.clone(), payload.clone())))
            .buffer_unordered(WINDOW)
            .try_for_each(|()| async { Ok(()) });
        let consume = async {
            for _ in 0..n {
                let delivery = subscription
                    .next()
                    .await
                    .expect("subscription open")
                    .expect("delivery");
                delivery.ack().await.expect("ack");
            }
        };
        let (published, ()) = tokio::join!(publish, consume);
        published.expect("publish");
    }
}

// ---------------------------------------------------------------------------------------
// Request → reply: a raw async-nats service next to the node host.

/// Envelopes each service processes at once (the host's default `max_concurrency`).
const CONCURRENCY: usize = 64;
/// Traffic for one service: request envelopes published with raw async-nats to
/// `request_subject`, replies counted by a core-NATS subscription on the reply subject.
struct RequestReply {
    jetstream: jetstream::Context,
    request_subject: String,
    requests: Requests,
    replies: async_nats::Subscriber,
    /// The size of the last reply seen.
    reply_len: usize,
}

impl RequestReply {
    async fn new(client: &async_nats::Client, request_subject: &str, reply_subject: &str) -> Self {
        let replies = client
            .subscribe(reply_subject.to_owned())
            .await
            .expect("reply subscription");
        // The subscription is in place on the server before the first request goes out.
        client.flush().await.expect("flush");
        RequestReply {
            jetstream: jetstream::new(client.clone()),
            request_subject: request_subject.to_owned(),
            requests: Requests::new(),
            replies,
            reply_len: 0,
        }
    }
}

impl Pipeline for RequestReply {
    async fn drive(&mut self, n: usize) {
        let RequestReply {
            jetstream,
            request_subject,
            requests,
            replies,
            reply_len,
        } = self;
        let batch: Vec<Bytes> = (0..n).map(|_| requests.next_request()).collect();
        let publish = futures_stream::iter(batch)
            .map(|request| async {
                jetstream
                    .publish(request_subject.clone(), request)
                    .await?
                    .await
            })
            .buffer_unordered(WINDOW)
            .try_for_each(|ack| async move {
                black_box(ack);
                Ok(())
            });
        let observe = async {
            for i in 0..n {
                let reply = tokio::time::timeout(PATIENCE, replies.next())
                    .await
                    .unwrap_or_else(|_| panic!("only {i} of {n} replies within {PATIENCE:?}"))
                    .expect("reply subscription open");
                *reply_len = reply.payload.len();
            }
        };
        let (published, ()) = tokio::join!(publish, observe);
        published.expect("request publish");
    }
}

/// The hand-written service: a durable pull consumer whose messages are answered, each in a
/// task of its own, [`CONCURRENCY`] at a time.
struct RawService {
    jetstream: jetstream::Context,
    stream: String,
    consumer: String,
    task: tokio::task::JoinHandle<()>,
}

/// What the raw service does with one request.
struct RawReplier {
    jetstream: jetstream::Context,
    client: async_nats::Client,
    reply_subject: async_nats::Subject,
    /// Added to each reply so that it is as large as the host's.
    pad: String,
}

impl RawReplier {
    /// The reply envelope to a request, encoded.
    fn reply(&self, request: &serde_json::Value) -> Vec<u8> {
        let reply = serde_json::json!({
            "envelope_id": Uuid::new_v4(),
            "envelope_timestamp": "2026-11-21T00:00:00.000000Z",
            "correlation_id": request["correlation_id"],
            "payload": {"text": request["payload"]["text"]},
            "pad": self.pad,
        });
        serde_json::to_vec(&reply).expect("reply JSON")
    }

    /// Decode, reply (PubAck awaited), answer a requester's inbox if any, ack.
    async fn answer(&self, message: jetstream::Message) {
        let request: serde_json::Value =
            serde_json::from_slice(&message.payload).expect("request JSON");
        let reply = Bytes::from(self.reply(&request));
        let message_id = format!("{}-reply", request["envelope_id"].as_str().unwrap_or("?"));
        let publish = PublishMessage::build()
            .payload(reply.clone())
            .message_id(message_id);
        self.jetstream
            .send_publish(self.reply_subject.clone(), publish)
            .await
            .expect("reply publish")
            .await
            .expect("reply PubAck");
        let inbox = message
            .headers
            .as_ref()
            .and_then(|headers| headers.get(NatsBus::REPLY_TO_HEADER))
            .map(|inbox| inbox.as_str().to_owned());
        if let Some(inbox) = inbox {
            self.client.publish(inbox, reply).await.expect("respond");
            self.client.flush().await.expect("flush");
        }
        message.ack().await.expect("ack");
    }
}

impl RawService {
    /// Starts serving `request_subject`, replying on `reply_subject` with replies of
    /// `reply_len` bytes.
    async fn start(
        client: async_nats::Client,
        run: &str,
        request_subject: &str,
        reply_subject: &str,
        reply_len: usize,
    ) -> RawService {
        let jetstream = jetstream::new(client.clone());
        let stream_name = jetstream
            .stream_by_subject(request_subject)
            .await
            .expect("a stream holding the raw request subject");
        let consumer = format!("bench-raw-{run}");
        let stream = jetstream.get_stream(&stream_name).await.expect("stream");
        let messages = stream
            .create_consumer(pull::Config {
                durable_name: Some(consumer.clone()),
                filter_subject: request_subject.to_owned(),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                deliver_policy: jetstream::consumer::DeliverPolicy::New,
                ack_wait: Duration::from_secs(30),
                max_deliver: 5,
                max_ack_pending: CONCURRENCY as i64,
                ..pull::Config::default()
            })
            .await
            .expect("raw service consumer")
            .stream()
            .max_messages_per_batch(CONCURRENCY)
            .heartbeat(Duration::from_secs(15))
            .messages()
            .await
            .expect("raw service messages");
        let mut replier = RawReplier {
            jetstream: jetstream.clone(),
            client,
            reply_subject: reply_subject.into(),
            pad: String::new(),
        };
        let sample: serde_json::Value =
            serde_json::from_slice(&Requests::new().next_request()).expect("request JSON");
        let unpadded = replier.reply(&sample).len();
        replier.pad = "x".repeat(reply_len.saturating_sub(unpadded));
        let task = tokio::spawn(RawService::serve(Arc::new(replier), messages));
        RawService {
            jetstream,
            stream: stream_name,
            consumer,
            task,
        }
    }

    async fn serve(replier: Arc<RawReplier>, mut messages: pull::Stream) {
        let permits = Arc::new(Semaphore::new(CONCURRENCY));
        loop {
            let permit = Arc::clone(&permits)
                .acquire_owned()
                .await
                .expect("semaphore open");
            match messages.next().await {
                Some(Ok(message)) => {
                    let replier = Arc::clone(&replier);
                    tokio::spawn(async move {
                        replier.answer(message).await;
                        drop(permit);
                    });
                }
                Some(Err(e)) => eprintln!("raw service: {e}"),
                None => return,
            }
        }
    }

    /// Stops serving and deletes the consumer.
    async fn delete(self) {
        self.task.abort();
        self.jetstream
            .delete_consumer_from_stream(&self.consumer, &self.stream)
            .await
            .ok();
    }
}

/// Removes `subjects`' messages from the streams holding them (best effort).
async fn purge(jetstream: &jetstream::Context, subjects: &[&str]) {
    for subject in subjects {
        let Ok(name) = jetstream.stream_by_subject(*subject).await else {
            continue;
        };
        if let Ok(stream) = jetstream.get_stream(&name).await
            && let Err(e) = stream.purge().filter(*subject).await
        {
            eprintln!("purging {subject} from {name}: {e}");
        }
    }
}

/// Deletes the `bench-…` durable consumers a killed run of this bench may have left on the
/// stream holding `subject` (this bench's consumers are the only ones named so).
async fn delete_stale_consumers(jetstream: &jetstream::Context, subject: &str) {
    let Ok(name) = jetstream.stream_by_subject(subject).await else {
        return;
    };
    let Ok(stream) = jetstream.get_stream(&name).await else {
        return;
    };
    let names: Vec<String> = stream
        .consumer_names()
        .filter_map(|name| async move { name.ok() })
        .filter(|name| std::future::ready(name.starts_with("bench-")))
        .collect()
        .await;
    for consumer in names {
        eprintln!("deleting the consumer {consumer} left on {name} by an earlier run");
        stream.delete_consumer(&consumer).await.ok();
    }
}

/// One timed round trip.
async fn round_trip(bus: &NatsBus, topic: &str, request: Bytes) -> Duration {
    let start = Instant::now();
    let reply = bus
        .request(BusMessage::new(topic, request), PATIENCE)
        .await
        .expect("reply");
    let elapsed = start.elapsed();
    black_box(reply);
    elapsed
}

/// [`SAMPLES`] sequential round trips to each of the two services, alternating (`ABBA…`).
async fn latency(
    client: &NatsBus,
    (raw_topic, host_topic): (&str, &str),
) -> (Vec<Duration>, Vec<Duration>) {
    let mut requests = Requests::new();
    let (mut raw, mut host) = (Vec::with_capacity(SAMPLES), Vec::with_capacity(SAMPLES));
    for i in 0..WARM_UP + SAMPLES {
        let (a, b) = (requests.next_request(), requests.next_request());
        let (raw_rtt, host_rtt) = if i % 2 == 0 {
            let raw_rtt = round_trip(client, raw_topic, a).await;
            (raw_rtt, round_trip(client, host_topic, b).await)
        } else {
            let host_rtt = round_trip(client, host_topic, b).await;
            (round_trip(client, raw_topic, a).await, host_rtt)
        };
        if i >= WARM_UP {
            raw.push(raw_rtt);
            host.push(host_rtt);
        }
    }
    (raw, host)
}

fn payload() -> Bytes {
    let mut text = String::from(r#"{"payload":{"operation":"greet","name":""#);
    while text.len() < PAYLOAD_BYTES - 3 {
        text.push('x');
    }
    text.push_str(r#""}}"#);
    Bytes::from(text)
}

fn main() {
    let reachable = NATS
        .parse::<SocketAddr>()
        .ok()
        .and_then(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok())
        .is_some();
    if !reachable {
        eprintln!("bus bench: no NATS server at {NATS}; skipped");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut criterion = Criterion::default().configure_from_args();
    bench_bus(&runtime, &mut criterion);
    bench_host(&runtime, &mut criterion);
    criterion.final_summary();
}

/// `jetstream_publish_consume_1000`: raw async-nats against `NatsBus`.
fn bench_bus(runtime: &Runtime, criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group(format!("jetstream_publish_consume_{N}"));
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(10);

    let payload = payload();
    let mut raw = runtime.block_on(async {
        let client = async_nats::connect(NATS).await.expect("raw client");
        RawJetStream::new(client, payload.clone()).await
    });
    bench_pipeline(&mut group, runtime, "raw_async_nats", N, &mut raw);

    let config = NatsBusConfig::new(format!("nats://{NATS}")).family_depth_for("bench", 2);
    let nats = runtime.block_on(NatsBus::connect(config)).expect("NatsBus");
    let family = format!("bench.{}", Uuid::new_v4().simple());
    let mut bus = runtime.block_on(BusPipeline::new(
        Arc::new(nats.clone()),
        format!("{family}.greeter.greet.v1"),
        payload.clone(),
    ));
    bench_pipeline(&mut group, runtime, "natsbus", N, &mut bus);
    group.finish();
    compare(
        runtime,
        (N, "message"),
        ("raw_async_nats", &mut raw),
        ("natsbus", &mut bus),
    );

    drop(bus);
    runtime.block_on(async {
        raw.delete().await;
        if let Ok(stream) = nats.stream_for(&family) {
            nats.jetstream().delete_stream(&stream).await.ok();
        }
    });
}

/// `jetstream_request_reply_1000` and the latency: a raw async-nats service against the
/// node host.
fn bench_host(runtime: &Runtime, criterion: &mut Criterion) {
    let run = Uuid::new_v4().simple().to_string()[..12].to_owned();
    let raw_cmd = format!("onex.cmd.bench-raw-{run}.run.v1");
    let raw_evt = format!("onex.evt.bench-raw-{run}.done.v1");
    let url = format!("nats://{NATS}");
    let connect = |name: &str| {
        let config = NatsBusConfig::new(url.as_str())
            .client_name(name)
            .durable_from_start(false);
        runtime.block_on(NatsBus::connect(config)).expect("NatsBus")
    };
    // Three connections: the host's, the load's (publisher, reply counter, then the
    // latency requests), the raw service's.
    let host_bus = connect("onex-bench-host");
    let load = connect("onex-bench-load");
    let raw_client = runtime
        .block_on(async_nats::connect(NATS))
        .expect("raw service client");

    let host_config = HostConfig {
        max_concurrency: CONCURRENCY,
        durable_prefix: format!("bench-{run}"),
        ..HostConfig::default()
    };
    let (host, mut hosted) = runtime.block_on(async {
        delete_stale_consumers(load.jetstream(), HOST_CMD).await;
        purge(load.jetstream(), &[HOST_CMD, HOST_EVT]).await;
        let host = NodeHost::builder(Arc::new(host_bus.clone()))
            .effect(BenchEcho)
            .config(host_config)
            .start()
            .await
            .expect("node host");
        let mut hosted = RequestReply::new(load.client(), HOST_CMD, HOST_EVT).await;
        // Also creates ONEX_EVT if it is missing, and gives the host's reply size.
        hosted.drive(N).await;
        (host, hosted)
    });
    let durable = host
        .durable_name("bench_echo")
        .expect("the node's durable name")
        .to_owned();
    let (raw_service, mut raw) = runtime.block_on(async {
        // The raw subjects live in the same streams as the host's, which exist by now (the
        // host subscribed to `onex.cmd`, and its replies went to `onex.evt`).
        let service =
            RawService::start(raw_client, &run, &raw_cmd, &raw_evt, hosted.reply_len).await;
        let raw = RequestReply::new(load.client(), &raw_cmd, &raw_evt).await;
        (service, raw)
    });
    // One round trip of the raw service, for its reply size.
    runtime.block_on(raw.drive(1));
    let streams = runtime.block_on(async {
        let jetstream = load.jetstream();
        let cmd = jetstream.stream_by_subject(HOST_CMD).await;
        let evt = jetstream.stream_by_subject(HOST_EVT).await;
        (cmd.unwrap_or_default(), evt.unwrap_or_default())
    });
    println!(
        "request/reply: streams {} -> {}; requests {PAYLOAD_BYTES} bytes, replies {} bytes \
         (node host) and {} bytes (raw)",
        streams.0, streams.1, hosted.reply_len, raw.reply_len,
    );

    let mut group = criterion.benchmark_group(format!("jetstream_request_reply_{N}"));
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(10);
    bench_pipeline(&mut group, runtime, "raw_async_nats", N, &mut raw);
    bench_pipeline(&mut group, runtime, "node_host", N, &mut hosted);
    group.finish();
    let ratio = compare(
        runtime,
        (N, "message"),
        ("raw_async_nats", &mut raw),
        ("node_host", &mut hosted),
    );
    println!(
        "node host on NATS / raw async-nats request-reply = {ratio:.2} (target >= 0.50: {})",
        if ratio >= 0.5 { "met" } else { "NOT met" }
    );

    // The reply counters go: the round trips' replies are not for them.
    drop((raw, hosted));
    let (raw_rtts, host_rtts) = runtime.block_on(latency(&load, (&raw_cmd, HOST_CMD)));
    println!(
        "request -> reply on NATS JetStream ({WARM_UP} warm-up, then {SAMPLES} sequential per \
         service, alternating; {PAYLOAD_BYTES}-byte requests):"
    );
    let raw_p50 = print_latency("raw async-nats service", raw_rtts);
    let host_p50 = print_latency("node host on NatsBus", host_rtts);
    println!(
        "p50 node host - raw = {:.1} µs",
        (host_p50.as_secs_f64() - raw_p50.as_secs_f64()) * 1e6
    );

    let report = runtime.block_on(host.shutdown());
    let stats = &report.stats[0];
    println!(
        "host stats: {} succeeded, {} failed, {} redelivered, {} dead-lettered",
        stats.succeeded, stats.failed, stats.redelivered, stats.dead_lettered
    );
    runtime.block_on(async {
        raw_service.delete().await;
        let jetstream = load.jetstream();
        if let Ok(stream) = jetstream.stream_by_subject(HOST_CMD).await {
            let consumer = NatsBus::consumer_name(&durable, HOST_CMD);
            jetstream
                .delete_consumer_from_stream(&consumer, &stream)
                .await
                .ok();
        }
        purge(jetstream, &[HOST_CMD, HOST_EVT, &raw_cmd, &raw_evt]).await;
        host_bus.flush().await.ok();
    });
}
