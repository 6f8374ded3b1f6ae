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
use criterion::{Criterion, Throughput};
use futures_util::{StreamExt, TryStreamExt, stream as futures_stream};
use onex_runtime::bus::{BusMessage, EventBus, InMemoryBus, SubscribeOptions, Subscription};
use onex_runtime::host::{HostConfig, NodeHost};

mod support;
use support::bench_echo::{
    TOPIC_ONEX_CMD_BENCH_ECHO_RUN_V1 as CMD, TOPIC_ONEX_EVT_BENCH_ECHO_DONE_V1 as EVT,
};
use support::{
    BenchEcho, PATIENCE, PAYLOAD_BYTES, Pipeline, Requests, SAMPLES, WARM_UP, WINDOW,
    bench_pipeline, compare, print_latency,
};

/// Envelopes per iteration.
const N: usize = 2000;
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
    bench_pipeline(&mut group, &runtime, "bus_only", N, &mut bus_only);
    bench_pipeline(&mut group, &runtime, "node_host", N, &mut hosted);
    group.finish();
    compare(
        &runtime,
        (N, "envelope"),
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
