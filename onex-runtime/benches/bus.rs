//! Event-bus throughput on NATS JetStream: raw async-nats next to `NatsBus` (DESIGN.md §10:
//! the NATS host at ≥ 50 % of raw async-nats JetStream publish + ack throughput).
//!
//! ```sh
//! cargo bench -p onex-runtime --features nats --bench bus -- --warm-up-time 1 --measurement-time 5
//! ```
//!
//! Needs NATS with JetStream at 127.0.0.1:4222; without it the bench prints a note and does
//! nothing. Each iteration drives [`N`] messages of [`PAYLOAD_BYTES`] bytes through a
//! [`Pipeline`]: publishes them with up to [`WINDOW`] publish acknowledgements awaited
//! concurrently, while a long-lived pull consumer (at most [`WINDOW`] unacked) consumes and
//! acks each one; the iteration ends when all are published and acked. Pipelines:
//!
//! - `raw_async_nats`: `jetstream::Context::publish` + a pull consumer's `messages()` stream;
//! - `natsbus`: the same through `NatsBus` as `Arc<dyn EventBus>` (`publish`, `subscribe`,
//!   `Delivery::ack`).
//!
//! Both use a file-backed stream of their own on the same server (deleted at the end).
//! Throughput is reported in messages per second (`Throughput::Elements`). After the
//! criterion measurements, an interleaved comparison (alternating rounds of each pipeline)
//! prints both medians and their ratio, which load drift on a shared machine skews less.

use std::hint::black_box;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull, stream};
use bytes::Bytes;
use criterion::{BenchmarkGroup, Criterion, Throughput, measurement::WallTime};
use futures_util::{StreamExt, TryStreamExt, stream as futures_stream};
use onex_runtime::Uuid;
use onex_runtime::bus::{
    BusMessage, EventBus, NatsBus, NatsBusConfig, SubscribeOptions, Subscription,
};
use tokio::runtime::Runtime;

/// Messages per iteration.
const N: usize = 1000;
/// Payload size of each message.
const PAYLOAD_BYTES: usize = 200;
/// Publish acknowledgements awaited at once, and unacked deliveries a consumer may hold.
const WINDOW: usize = 256;
/// The server.
const NATS: &str = "127.0.0.1:4222";

/// A way of moving messages from a publisher to a consumer: `drive(n)` publishes `n`
/// messages and returns once all of them were consumed and acked. Panics on any error (a
/// benchmark has no one to report to).
trait Pipeline {
    /// Publishes `n` messages and consumes + acks them all.
    async fn drive(&mut self, n: usize);
}

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

/// Benchmarks one pipeline: each iteration drives [`N`] messages.
fn bench_pipeline(
    group: &mut BenchmarkGroup<'_, WallTime>,
    runtime: &Runtime,
    name: &str,
    pipeline: &mut impl Pipeline,
) {
    // One untimed round trip first: streams and consumers are warm, nothing is left over.
    runtime.block_on(pipeline.drive(N));
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    pipeline.drive(N).await;
                }
                start.elapsed()
            })
        });
    });
}

/// Rounds of the interleaved comparison.
const ROUNDS: usize = 15;

/// Messages per second of one `drive(N)`.
fn rate(runtime: &Runtime, pipeline: &mut impl Pipeline) -> f64 {
    let start = Instant::now();
    runtime.block_on(pipeline.drive(N));
    N as f64 / start.elapsed().as_secs_f64()
}

fn median(mut rates: Vec<f64>) -> f64 {
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

/// Alternates rounds of `base` and `other` (`ABBAAB…`, so that neither always runs first)
/// and prints the median throughput of each and their ratio: on a shared machine whose load
/// drifts, this ratio is steadier than that of two criterion runs one after the other.
fn compare(
    runtime: &Runtime,
    (base_name, base): (&str, &mut impl Pipeline),
    (other_name, other): (&str, &mut impl Pipeline),
) {
    let (mut base_rates, mut other_rates) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            base_rates.push(rate(runtime, base));
            other_rates.push(rate(runtime, other));
        } else {
            other_rates.push(rate(runtime, other));
            base_rates.push(rate(runtime, base));
        }
    }
    let (base_rate, other_rate) = (median(base_rates), median(other_rates));
    println!(
        "interleaved ({ROUNDS} rounds of {N} messages, median): {base_name} {base_rate:.0} msg/s, \
         {other_name} {other_rate:.0} msg/s, {other_name}/{base_name} = {:.2}",
        other_rate / base_rate
    );
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
    let mut group = criterion.benchmark_group(format!("jetstream_publish_consume_{N}"));
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(10);

    let payload = payload();
    let mut raw = runtime.block_on(async {
        let client = async_nats::connect(NATS).await.expect("raw client");
        RawJetStream::new(client, payload.clone()).await
    });
    bench_pipeline(&mut group, &runtime, "raw_async_nats", &mut raw);

    let config = NatsBusConfig::new(format!("nats://{NATS}")).family_depth_for("bench", 2);
    let nats = runtime.block_on(NatsBus::connect(config)).expect("NatsBus");
    let family = format!("bench.{}", Uuid::new_v4().simple());
    let mut bus = runtime.block_on(BusPipeline::new(
        Arc::new(nats.clone()),
        format!("{family}.greeter.greet.v1"),
        payload.clone(),
    ));
    bench_pipeline(&mut group, &runtime, "natsbus", &mut bus);
    group.finish();
    compare(
        &runtime,
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
    criterion.final_summary();
}
