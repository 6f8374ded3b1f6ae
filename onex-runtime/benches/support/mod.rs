//! What the `bus` and `host` benches share: the served node, the request envelopes, the
//! criterion driver, the interleaved comparison and the latency table.

use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkGroup, measurement::WallTime};
use onex_runtime::{EffectContext, OnexError, Uuid, effect_node};
use tokio::runtime::Runtime;

/// Size of each message and request envelope.
pub const PAYLOAD_BYTES: usize = 200;
/// Publish acknowledgements awaited at once, and unacked deliveries a consumer may hold.
pub const WINDOW: usize = 256;
/// How long anything may take before the bench gives up (a loaded VM is slow, not stuck).
pub const PATIENCE: Duration = Duration::from_secs(60);
/// Timed request → reply round trips.
pub const SAMPLES: usize = 2000;
/// Untimed round trips before them.
pub const WARM_UP: usize = 200;
/// Rounds of the interleaved comparison.
pub const ROUNDS: usize = 15;

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

/// A way of moving messages from a publisher to a consumer: `drive(n)` publishes `n`
/// messages and returns once all of them went through (consumed and acked, and for a
/// service, answered). Panics on any error (a benchmark has no one to report to).
pub trait Pipeline {
    /// Publishes `n` messages and waits until all of them went through.
    async fn drive(&mut self, n: usize);
}

/// Request envelopes with fresh ids: every request needs its own `envelope_id`, since the
/// host derives its reply's de-duplication id from it.
pub struct Requests {
    base: u128,
    next: u128,
    text: String,
}

impl Requests {
    /// Requests of [`PAYLOAD_BYTES`] bytes each.
    pub fn new() -> Requests {
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
    pub fn next_request(&mut self) -> Bytes {
        self.next += 1;
        let envelope_id = Uuid::from_u128(self.base ^ self.next);
        let correlation_id = Uuid::from_u128(self.base.rotate_left(64) ^ self.next);
        Bytes::from(format!(
            r#"{{"envelope_id":"{envelope_id}","correlation_id":"{correlation_id}","payload":{{"operation":"echo","text":"{}"}}}}"#,
            self.text
        ))
    }
}

/// Benchmarks one pipeline: each iteration drives `n` messages.
pub fn bench_pipeline(
    group: &mut BenchmarkGroup<'_, WallTime>,
    runtime: &Runtime,
    name: &str,
    n: usize,
    pipeline: &mut impl Pipeline,
) {
    // One untimed round first: streams and consumers are warm, nothing is left over.
    runtime.block_on(pipeline.drive(n));
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    pipeline.drive(n).await;
                }
                start.elapsed()
            })
        });
    });
}

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

/// One pipeline's rounds: messages per second of each, CPU time of the process over all.
#[derive(Default)]
struct Rounds {
    rates: Vec<f64>,
    cpu: Option<Duration>,
    messages: usize,
}

impl Rounds {
    /// Times one `drive(n)`.
    fn round(&mut self, runtime: &Runtime, n: usize, pipeline: &mut impl Pipeline) {
        let cpu = process_cpu();
        let start = Instant::now();
        runtime.block_on(pipeline.drive(n));
        self.rates.push(n as f64 / start.elapsed().as_secs_f64());
        self.messages += n;
        if let (Some(before), Some(after)) = (cpu, process_cpu()) {
            *self.cpu.get_or_insert_default() += after.saturating_sub(before);
        }
    }

    fn median(&self) -> f64 {
        let mut rates = self.rates.clone();
        rates.sort_by(f64::total_cmp);
        rates[rates.len() / 2]
    }

    /// CPU time of this process per message, in µs.
    fn cpu_per_message(&self) -> Option<f64> {
        self.cpu
            .map(|cpu| cpu.as_secs_f64() * 1e6 / self.messages as f64)
    }
}

/// Alternates rounds of `n` `unit`s through `base` and `other` (`ABBAAB…`, so that neither
/// always runs first) and prints the median throughput of each and their ratio: on a shared
/// machine whose load drifts, this ratio is steadier than that of two criterion runs one
/// after the other. Also prints the CPU time this process (load, services and their I/O;
/// not a NATS server) spent per message with each. Returns the ratio `other / base`.
pub fn compare(
    runtime: &Runtime,
    (n, unit): (usize, &str),
    (base_name, base): (&str, &mut impl Pipeline),
    (other_name, other): (&str, &mut impl Pipeline),
) -> f64 {
    let (mut base_rounds, mut other_rounds) = (Rounds::default(), Rounds::default());
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            base_rounds.round(runtime, n, base);
            other_rounds.round(runtime, n, other);
        } else {
            other_rounds.round(runtime, n, other);
            base_rounds.round(runtime, n, base);
        }
    }
    let (base_rate, other_rate) = (base_rounds.median(), other_rounds.median());
    println!(
        "interleaved ({ROUNDS} rounds of {n} {unit}s, median): {base_name} {base_rate:.0}/s, \
         {other_name} {other_rate:.0}/s, {other_name}/{base_name} = {:.2}",
        other_rate / base_rate
    );
    if let (Some(base_cpu), Some(other_cpu)) = (
        base_rounds.cpu_per_message(),
        other_rounds.cpu_per_message(),
    ) {
        println!(
            "  CPU of this process per {unit}: {base_name} {base_cpu:.2} µs, \
             {other_name} {other_cpu:.2} µs"
        );
    }
    other_rate / base_rate
}

/// The `q`-quantile of sorted samples (nearest rank).
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Prints one row of latency percentiles; returns the median.
pub fn print_latency(label: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let total: Duration = samples.iter().sum();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let p50 = quantile(&samples, 0.50);
    println!(
        "{label:<28} n={}  min {:>7.1} µs  p50 {:>7.1} µs  p90 {:>7.1} µs  p99 {:>7.1} µs  \
         max {:>8.1} µs  mean {:>7.1} µs",
        samples.len(),
        us(samples[0]),
        us(p50),
        us(quantile(&samples, 0.90)),
        us(quantile(&samples, 0.99)),
        us(samples[samples.len() - 1]),
        us(total / u32::try_from(samples.len()).unwrap_or(u32::MAX)),
    );
    p50
}
