//! Per-request latency of envelope decode → dispatch → encode (DESIGN.md §10: p99 < 20 µs).
//!
//! ```sh
//! cargo bench -p onex-runtime --bench latency
//! ```
//!
//! Times each request individually with `Instant` (200 000 requests after 20 000 warm-up
//! ones) and prints percentiles. The path is bytes in, bytes out: `process_json` then
//! `to_json` of the reply, polled once with a no-op waker (no executor). `Instant::now()`
//! costs tens of nanoseconds and is included in every sample.
//!
//! Arguments: `--iterations N` (default 200 000); other arguments (such as cargo's
//! `--bench`) are ignored.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use onex_runtime::{EffectContext, EffectNode, Envelope, JsonValue, OnexError, effect_node};

use calc::{ModelPair, ModelUnary, ModelValue};

/// The benchmarked node (the same contract and handlers as the `dispatch` benchmark).
#[effect_node(contract = "benches/bench_contract.yaml", relative_to = manifest)]
pub struct Calc;

impl CalcHandler for Calc {
    async fn math_add(&self, _: &EffectContext, i: ModelPair) -> Result<ModelValue, OnexError> {
        Ok(ModelValue {
            value: i.a.wrapping_add(i.b),
        })
    }
    async fn math_sub(&self, _: &EffectContext, i: ModelPair) -> Result<ModelValue, OnexError> {
        Ok(ModelValue {
            value: i.a.wrapping_sub(i.b),
        })
    }
    async fn math_mul(&self, _: &EffectContext, i: ModelPair) -> Result<ModelValue, OnexError> {
        Ok(ModelValue {
            value: i.a.wrapping_mul(i.b),
        })
    }
    async fn math_min(&self, _: &EffectContext, i: ModelPair) -> Result<ModelValue, OnexError> {
        Ok(ModelValue {
            value: i.a.min(i.b),
        })
    }
    async fn math_max(&self, _: &EffectContext, i: ModelPair) -> Result<ModelValue, OnexError> {
        Ok(ModelValue {
            value: i.a.max(i.b),
        })
    }
    async fn math_neg(&self, _: &EffectContext, i: ModelUnary) -> Result<ModelValue, OnexError> {
        Ok(ModelValue {
            value: i.x.wrapping_neg(),
        })
    }
    async fn math_abs(&self, _: &EffectContext, i: ModelUnary) -> Result<ModelValue, OnexError> {
        Ok(ModelValue {
            value: i.x.wrapping_abs(),
        })
    }
    async fn math_square(&self, _: &EffectContext, i: ModelUnary) -> Result<ModelValue, OnexError> {
        Ok(ModelValue {
            value: i.x.wrapping_mul(i.x),
        })
    }
}

/// Polls a future once with a no-op waker; the handlers never wait.
fn poll_once<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!("the benchmark handlers never wait"),
    }
}

/// A request as the Python reference writes it: every envelope field, nulls included (the
/// same bytes as `FULL_REQUEST` in the `dispatch` benchmark).
const FULL_REQUEST: &[u8] = br#"{"payload":{"operation":"math.add","a":20,"b":22},"envelope_id":"0b8f6a52-5a36-4c2f-9d0e-1f2a3b4c5d6e","envelope_timestamp":"2026-11-20T12:30:45.123456Z","correlation_id":"6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b","source_tool":"node_orchestrator","target_tool":"node_bench_calculator_effect","metadata":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","parent_span_id":null,"request_id":null,"headers":{"x-tenant":"acme"},"tags":{"message_category":"command"}},"security_context":null,"event_type":"onex.cmd.bench-calculator.compute.v1","payload_type":null,"payload_schema_version":null,"priority":5,"timeout_seconds":30,"retry_count":0,"request_id":null,"trace_id":null,"span_id":null,"onex_version":{"major":1,"minor":0,"patch":0,"prerelease":null,"build":null},"envelope_version":{"major":2,"minor":1,"patch":0,"prerelease":null,"build":null}}"#;

/// The smallest request the node accepts with a correlation id.
const MINIMAL_REQUEST: &[u8] = br#"{"payload":{"operation":"math.add","a":20,"b":22},"envelope_id":"0b8f6a52-5a36-4c2f-9d0e-1f2a3b4c5d6e","envelope_timestamp":"2026-11-20T12:30:45Z","correlation_id":"6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"}"#;

/// Bytes in, bytes out.
fn round_trip(node: &Calc, request: &[u8]) -> Result<Vec<u8>, OnexError> {
    poll_once(node.process_json(request))?.to_json()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn micros(d: Duration) -> String {
    format!("{:.2} µs", d.as_secs_f64() * 1e6)
}

fn measure(node: &Calc, name: &str, request: &[u8], iterations: usize) {
    let reply = Envelope::<JsonValue>::from_json(&round_trip(node, request).unwrap()).unwrap();
    assert_eq!(reply.payload["value"], 42);

    for _ in 0..iterations / 10 {
        black_box(round_trip(node, black_box(request)).unwrap());
    }
    let mut samples = Vec::with_capacity(iterations);
    let wall = Instant::now();
    for _ in 0..iterations {
        let start = Instant::now();
        let out = round_trip(node, black_box(request));
        let elapsed = start.elapsed();
        black_box(out.unwrap());
        samples.push(elapsed);
    }
    let wall = wall.elapsed();
    samples.sort_unstable();
    let mean = samples.iter().sum::<Duration>() / iterations as u32;
    println!(
        "{name:<8} n={iterations}  min {}  p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  mean {}  \
         ({:.0} req/s on one thread, timer included)",
        micros(samples[0]),
        micros(percentile(&samples, 50.0)),
        micros(percentile(&samples, 90.0)),
        micros(percentile(&samples, 99.0)),
        micros(percentile(&samples, 99.9)),
        micros(samples[iterations - 1]),
        micros(mean),
        iterations as f64 / wall.as_secs_f64(),
    );
}

fn main() {
    let mut iterations = 200_000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--iterations" {
            iterations = args
                .next()
                .and_then(|n| n.parse().ok())
                .expect("--iterations takes a number");
        }
    }
    // An instant test run (`cargo test --benches`) passes no `--bench`: keep it short.
    if !std::env::args().any(|a| a == "--bench") {
        iterations = iterations.min(1_000);
        println!("(test mode: {iterations} iterations, not a measurement)");
    }
    println!("envelope decode -> dispatch -> encode (process_json + to_json), bytes to bytes");
    let node = Calc;
    measure(&node, "full", FULL_REQUEST, iterations);
    measure(&node, "minimal", MINIMAL_REQUEST, iterations);
}
