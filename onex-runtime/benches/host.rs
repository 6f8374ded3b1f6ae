//! The node host on the in-memory bus (DESIGN.md §10): throughput and per-envelope latency.
//! Results in docs/PERFORMANCE.md §7.
//!
//! ```sh
//! cargo bench -p onex-runtime --bench host -- --warm-up-time 1 --measurement-time 5
//! ```
//!
//! Needs no service. The node is `BenchEcho`, an EFFECT node declared with `#[effect_node]`
//! from `benches/bench_echo.yaml` whose one operation returns its input, served by a
//! [`NodeHost`] with the default [`HostConfig`] (64 envelopes in flight) from an
//! [`InMemoryBus`] with the default configuration. The host's tasks run on a two-worker
//! tokio runtime; the publisher, the reply consumer and the requester run in `block_on` on
//! the main thread.
//!
//! - `host_memory_2000/bus_only`: the bus alone. [`N`] messages of [`PAYLOAD_BYTES`] bytes
//!   published (at most [`WINDOW`] publishes at once) to a topic an ephemeral subscription
//!   consumes and acks; the iteration ends when all are acked.
//! - `host_memory_2000/node_host`: [`N`] request envelopes (fresh `envelope_id` and
//!   `correlation_id` each, 200 bytes) published the same way to the node's subscribe
//!   topic; the host decodes each, runs the handler, publishes the reply envelope to the
//!   contract's publish topic and acks; the iteration ends when all [`N`] replies arrived
//!   at (and were acked by) a subscription on that topic.
//!
//! Throughput is reported in envelopes per second (`Throughput::Elements`). After the
//! criterion group, an interleaved comparison (alternating rounds of each) prints both
//! medians, their ratio and the CPU time the process spent per envelope with each (Linux
//! only, from `/proc/self/task/*/schedstat`). Then [`SAMPLES`] sequential request → reply
//! round trips (`EventBus::request` through the host, after [`WARM_UP`] untimed ones) are
//! each timed with [`Instant`] and printed as percentiles: criterion gives no percentiles.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkGroup, Criterion, Throughput, measurement::WallTime};
use futures_util::{StreamExt, TryStreamExt, stream as futures_stream};
use onex_runtime::bus::{BusMessage, EventBus, InMemoryBus, SubscribeOptions, Subscription};
use onex_runtime::host::{HostConfig, NodeHost};
use onex_runtime::{EffectContext, OnexError, Uuid, effect_node};
use tokio::runtime::Runtime;

use bench_echo::{
    TOPIC_ONEX_CMD_BENCH_ECHO_RUN_V1 as CMD, TOPIC_ONEX_EVT_BENCH_ECHO_DONE_V1 as EVT,
};

/// The served node: replies with its input.
#[effect_node(contract = "benches/bench_echo.yaml", relative_to = manifest)]
pub struct BenchEcho;

impl BenchEchoHandler for BenchEcho {
    async fn echo(
        &self,
        _ctx: &EffectContext,
        input: bench_echo::ModelText,
    ) -> Result<bench_echo::ModelEcho, OnexError> {
        Ok(bench_echo::ModelEcho { text: input.text })
    }
}

/// Envelopes per iteration.
const N: usize = 2000;
/// Size of each message and request envelope.
const PAYLOAD_BYTES: usize = 200;
/// Publishes awaited at once.
const WINDOW: usize = 256;
/// Timed request → reply round trips.
const SAMPLES: usize = 2000;
/// Untimed round trips before them.
const WARM_UP: usize = 200;
/// How long anything may take before the bench gives up (a loaded VM is slow, not stuck).
const PATIENCE: Duration = Duration::from_secs(60);

/// Moves `n` messages from a publisher to a consumer: `drive(n)` returns once all were
/// consumed (and, for the host, answered). Panics on any error (a benchmark has no one to
/// report to).
trait Pipeline {
    /// Publishes `n` messages and waits until all of them went through.
    async fn drive(&mut self, n: usize);
}

/// Request envelopes with fresh ids: every request needs its own `envelope_id`, since the
/// host derives its reply's de-duplication id from it.
struct Requests {
    base: u128,
    next: u128,
    text: String,
}

impl Requests {
    fn new() -> Requests {
        let mut requests = Requests {
            base: Uuid::new_v4().as_u128(),
            next: 0,
            text: String::new(),
        };
        // Pad the text so that the whole envelope is PAYLOAD_BYTES long.
        let len = requests.next_request().len();
        requests.text = "x".repeat(PAYLOAD_BYTES.saturating_sub(len));
        requests
    }

    /// The next request: `{"envelope_id", "correlation_id", "payload": {"operation": "echo",
    /// "text"}}` (ids are cheap to make: a random base with a counter mixed in).
    fn next_request(&mut self) -> Bytes {
        self.next += 1;
        let envelope_id = Uuid::from_u128(self.base ^ self.next);
        let correlation_id = Uuid::from_u128(self.base.rotate_left(64) ^ self.next);
        Bytes::from(format!(
            r#"{{"envelope_id":"{envelope_id}","correlation_id":"{correlation_id}","payload":{{"operation":"echo","text":"{}"}}}}"#,
            self.text
        ))
    }
}

/// An ephemeral subscription that may hold any number of unsettled deliveries.
async fn listen(bus: &Arc<dyn EventBus>, topic: &str) -> Subscription {
    let options = SubscribeOptions {
        max_in_flight: 10_000,
        ..SubscribeOptions::default()
    };
    bus.subscribe(topic, options).await.expect("subscribe")
}

/// Takes and acks `n` deliveries.
async fn consume(subscription: &mut Subscription, n: usize) {
    for _ in 0..n {
        let delivery = tokio::time::timeout(PATIENCE, subscription.next())
            .await
            .expect("a delivery in time")
            .expect("subscription open")
            .expect("delivery");
        delivery.ack().await.expect("ack");
    }
}

/// The bus alone: publish, deliver, ack.
struct BusOnly {
    bus: Arc<dyn EventBus>,
    payload: Bytes,
    subscription: Subscription,
}

impl Pipeline for BusOnly {
    async fn drive(&mut self, n: usize) {
        let BusOnly {
            bus,
            payload,
            subscription,
        } = self;
        let publish = futures_stream::iter(0..n)
            .map(|_| bus.publish(BusMessage::new("bench.bus.only", payload.clone())))
            .buffer_unordered(WINDOW)
            .try_for_each(|()| async { Ok(()) });
        let (published, ()) = tokio::join!(publish, consume(subscription, n));
        published.expect("publish");
    }
}

/// Requests through the host, replies taken from the node's publish topic.
struct HostPipeline {
    bus: Arc<dyn EventBus>,
    requests: Requests,
    replies: Subscription,
}

impl Pipeline for HostPipeline {
    async fn drive(&mut self, n: usize) {
        let HostPipeline {
            bus,
            requests,
            replies,
        } = self;
        let batch: Vec<Bytes> = (0..n).map(|_| requests.next_request()).collect();
        let publish = futures_stream::iter(batch)
            .map(|request| bus.publish(BusMessage::new(CMD, request)))
            .buffer_unordered(WINDOW)
            .try_for_each(|()| async { Ok(()) });
        let (published, ()) = tokio::join!(publish, consume(replies, n));
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

/// The CPU time all threads of this process have used so far, where Linux tells it
/// (`/proc/self/task/*/schedstat`, in nanoseconds); `None` elsewhere.
fn process_cpu() -> Option<Duration> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        // A thread that exits meanwhile is skipped.
        let Ok(task) = task else { continue };
        let Ok(schedstat) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        total += schedstat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse::<u64>().ok())?;
    }
    Some(Duration::from_nanos(total))
}

/// One pipeline's rounds: envelopes per second of each, CPU time of the process over all.
#[derive(Default)]
struct Rounds {
    rates: Vec<f64>,
    cpu: Option<Duration>,
}

impl Rounds {
    /// Times one `drive(N)`.
    fn round(&mut self, runtime: &Runtime, pipeline: &mut impl Pipeline) {
        let cpu = process_cpu();
        let start = Instant::now();
        runtime.block_on(pipeline.drive(N));
        self.rates.push(N as f64 / start.elapsed().as_secs_f64());
        if let (Some(before), Some(after)) = (cpu, process_cpu()) {
            *self.cpu.get_or_insert_default() += after.saturating_sub(before);
        }
    }

    fn median(&self) -> f64 {
        let mut rates = self.rates.clone();
        rates.sort_by(f64::total_cmp);
        rates[rates.len() / 2]
    }

    /// CPU time of this process per envelope, in µs.
    fn cpu_per_envelope(&self) -> Option<f64> {
        let envelopes = (self.rates.len() * N) as f64;
        self.cpu.map(|cpu| cpu.as_secs_f64() * 1e6 / envelopes)
    }
}

/// Alternates rounds of `base` and `other` (`ABBAAB…`) and prints the median throughput of
/// each, their ratio, and the CPU time the whole process spent per envelope with each.
fn compare(
    runtime: &Runtime,
    (base_name, base): (&str, &mut impl Pipeline),
    (other_name, other): (&str, &mut impl Pipeline),
) {
    let (mut base_rounds, mut other_rounds) = (Rounds::default(), Rounds::default());
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            base_rounds.round(runtime, base);
            other_rounds.round(runtime, other);
        } else {
            other_rounds.round(runtime, other);
            base_rounds.round(runtime, base);
        }
    }
    let (base_rate, other_rate) = (base_rounds.median(), other_rounds.median());
    println!(
        "interleaved ({ROUNDS} rounds of {N} envelopes, median): {base_name} {base_rate:.0}/s, \
         {other_name} {other_rate:.0}/s, {other_name}/{base_name} = {:.2}",
        other_rate / base_rate
    );
    if let (Some(base_cpu), Some(other_cpu)) = (
        base_rounds.cpu_per_envelope(),
        other_rounds.cpu_per_envelope(),
    ) {
        println!(
            "  CPU of this process per envelope: {base_name} {base_cpu:.2} µs, \
             {other_name} {other_cpu:.2} µs"
        );
    }
}

/// The `q`-quantile of sorted samples (nearest rank).
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Prints one row of latency percentiles.
fn print_latency(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let total: Duration = samples.iter().sum();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{label:<28} n={}  min {:>7.1} µs  p50 {:>7.1} µs  p90 {:>7.1} µs  p99 {:>7.1} µs  \
         max {:>8.1} µs  mean {:>7.1} µs",
        samples.len(),
        us(samples[0]),
        us(quantile(&samples, 0.50)),
        us(quantile(&samples, 0.90)),
        us(quantile(&samples, 0.99)),
        us(samples[samples.len() - 1]),
        us(total / u32::try_from(samples.len()).unwrap_or(u32::MAX)),
    );
}

/// [`SAMPLES`] sequential round trips through the host, each timed.
async fn latency(host: &NodeHost, requests: &mut Requests) -> Vec<Duration> {
    let bus = host.bus();
    let mut samples = Vec::with_capacity(SAMPLES);
    for i in 0..WARM_UP + SAMPLES {
        let request = BusMessage::new(CMD, requests.next_request());
        let start = Instant::now();
        let reply = match bus.request(request, PATIENCE).await {
            Ok(reply) => reply,
            Err(e) => panic!("request {i}: {e}; host: {:?}", host.stats()),
        };
        let elapsed = start.elapsed();
        std::hint::black_box(reply);
        if i >= WARM_UP {
            samples.push(elapsed);
        }
    }
    samples
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group(format!("host_memory_{N}"));
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(10);

    let bus: Arc<dyn EventBus> = Arc::new(InMemoryBus::new());
    let (mut bus_only, host, mut hosted) = runtime.block_on(async {
        let mut requests = Requests::new();
        let payload = requests.next_request();
        let bus_only = BusOnly {
            bus: Arc::clone(&bus),
            payload,
            subscription: listen(&bus, "bench.bus.only").await,
        };
        let host = NodeHost::builder(Arc::clone(&bus))
            .effect(BenchEcho)
            .config(HostConfig::default())
            .start()
            .await
            .expect("host");
        let hosted = HostPipeline {
            bus: Arc::clone(&bus),
            requests,
            replies: listen(&bus, EVT).await,
        };
        (bus_only, host, hosted)
    });
    bench_pipeline(&mut group, &runtime, "bus_only", &mut bus_only);
    bench_pipeline(&mut group, &runtime, "node_host", &mut hosted);
    group.finish();
    compare(
        &runtime,
        ("bus_only", &mut bus_only),
        ("node_host", &mut hosted),
    );

    // Nothing else runs during the round trips (the reply subscription is gone: the
    // replies to the publish topic are dropped by the bus).
    drop(bus_only);
    let HostPipeline {
        mut requests,
        replies,
        ..
    } = hosted;
    drop(replies);
    let samples = runtime.block_on(latency(&host, &mut requests));
    println!(
        "request -> reply through the node host ({WARM_UP} warm-up, then {SAMPLES} sequential, \
         {PAYLOAD_BYTES}-byte requests):"
    );
    print_latency("InMemoryBus", samples);

    let report = runtime.block_on(host.shutdown());
    let stats = &report.stats[0];
    println!(
        "host stats: {} succeeded, {} failed, {} dead-lettered",
        stats.succeeded, stats.failed, stats.dead_lettered
    );
    criterion.final_summary();
}
