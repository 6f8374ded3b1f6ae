//! Dispatch and envelope benchmarks (DESIGN.md §10; results in docs/PERFORMANCE.md).
//!
//! ```sh
//! cargo bench -p onex-runtime --bench dispatch -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! - `dispatch_*/*`: the generated `EffectNode::dispatch` against a hand-written `match` over
//!   the same input enum calling the same handler methods. Futures are polled once with a
//!   no-op waker (the handlers never wait), so no executor is measured. Each iteration
//!   dispatches the same 1024 inputs, whose operations follow a pseudo-random sequence over all
//!   eight operations, so the branch predictor cannot settle on one arm. Inputs are cloned
//!   outside the timed section.
//!
//!   Whether LLVM inlines a future's `poll` into the loop decides the result (3 ns against
//!   9 ns per dispatch here), and LLVM inlines a private function far more readily when it
//!   has a single call site. So both sides are measured in both situations, with the same
//!   number of callers each:
//!   - `dispatch_inlined`: node `Solo`, whose `dispatch` (like `solo_hand_written`) is called
//!     from its benchmark loop only: both get inlined into the loop.
//!   - `dispatch_out_of_line`: node `Calc`, whose `dispatch` is also reached through
//!     `process` (the `envelope` benchmarks) and a correctness check, like
//!     `calc_hand_written` (the same check): neither is inlined.
//! - `envelope/*`: JSON bytes → typed input → handler → reply, whole and in pieces (`Calc`).
//! - `compute/*`: the same eight operations as a COMPUTE node (`benches/bench_compute_contract.yaml`,
//!   synchronous handlers, no futures to poll). `compute/dispatch/generated` is the generated
//!   `ComputeNode::dispatch` of node `Pure`, `compute/dispatch/hand_written` a hand-written
//!   `match` calling the same handler methods, over the same 1024 pseudo-random inputs; each
//!   has two callers (its benchmark loop and the correctness check), so inlining treats them
//!   alike. `compute/process_json/{minimal,full}` is JSON bytes → reply envelope (JSON payload) through
//!   `ComputeNode::process_json` (validation and the panic guard included) on a second node,
//!   `PureJson`, so `Pure::dispatch` keeps its two callers.
//!
//!   ```sh
//!   cargo bench -p onex-runtime --bench dispatch -- --warm-up-time 1 --measurement-time 3 compute
//!   ```

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use onex_runtime::{
    ComputeNode, EffectContext, EffectNode, Envelope, JsonValue, NodeInput, OnexError,
    compute_node, effect_node,
};

/// The node of the `envelope` and `dispatch_out_of_line` benchmarks: eight integer operations.
#[effect_node(
    contract = "benches/bench_contract.yaml",
    relative_to = manifest,
    derive(Clone)
)]
pub struct Calc;

/// The same contract again, for `dispatch_inlined` (its `dispatch` has one caller).
#[effect_node(
    contract = "benches/bench_contract.yaml",
    relative_to = manifest,
    derive(Clone)
)]
pub struct Solo;

/// The benchmark inputs of a node over `bench_contract.yaml`'s eight operations (effect
/// and compute nodes share the models).
macro_rules! inputs_fn {
    ($module:ident, $input:ident, $make:ident) => {
        /// The benchmark inputs for this node.
        #[allow(dead_code)]
        fn $make() -> Vec<$input> {
            operations()
                .into_iter()
                .map(|(op, a, b)| {
                    let pair = $module::ModelPair { a, b };
                    let unary = $module::ModelUnary { x: a };
                    match op {
                        0 => $input::MathAdd(pair),
                        1 => $input::MathSub(pair),
                        2 => $input::MathMul(pair),
                        3 => $input::MathMin(pair),
                        4 => $input::MathMax(pair),
                        5 => $input::MathNeg(unary),
                        6 => $input::MathAbs(unary),
                        _ => $input::MathSquare(unary),
                    }
                })
                .collect()
        }
    };
}

/// Implements the handler trait of a node, and writes the hand-written `match` one would use
/// instead of the generated `dispatch`: same handlers, same output wrapping.
macro_rules! node {
    ($node:ident, $module:ident, $handler:ident, $input:ident, $output:ident, $hand:ident, $make:ident) => {
        impl $handler for $node {
            async fn math_add(
                &self,
                _: &EffectContext,
                i: $module::ModelPair,
            ) -> Result<$module::ModelValue, OnexError> {
                Ok($module::ModelValue {
                    value: i.a.wrapping_add(i.b),
                })
            }
            async fn math_sub(
                &self,
                _: &EffectContext,
                i: $module::ModelPair,
            ) -> Result<$module::ModelValue, OnexError> {
                Ok($module::ModelValue {
                    value: i.a.wrapping_sub(i.b),
                })
            }
            async fn math_mul(
                &self,
                _: &EffectContext,
                i: $module::ModelPair,
            ) -> Result<$module::ModelValue, OnexError> {
                Ok($module::ModelValue {
                    value: i.a.wrapping_mul(i.b),
                })
            }
            async fn math_min(
                &self,
                _: &EffectContext,
                i: $module::ModelPair,
            ) -> Result<$module::ModelValue, OnexError> {
                Ok($module::ModelValue {
                    value: i.a.min(i.b),
                })
            }
            async fn math_max(
                &self,
                _: &EffectContext,
                i: $module::ModelPair,
            ) -> Result<$module::ModelValue, OnexError> {
                Ok($module::ModelValue {
                    value: i.a.max(i.b),
                })
            }
            async fn math_neg(
                &self,
                _: &EffectContext,
                i: $module::ModelUnary,
            ) -> Result<$module::ModelValue, OnexError> {
                Ok($module::ModelValue {
                    value: i.x.wrapping_neg(),
                })
            }
            async fn math_abs(
                &self,
                _: &EffectContext,
                i: $module::ModelUnary,
            ) -> Result<$module::ModelValue, OnexError> {
                Ok($module::ModelValue {
                    value: i.x.wrapping_abs(),
                })
            }
            async fn math_square(
                &self,
                _: &EffectContext,
                i: $module::ModelUnary,
            ) -> Result<$module::ModelValue, OnexError> {
                Ok($module::ModelValue {
                    value: i.x.wrapping_mul(i.x),
                })
            }
        }

        /// The hand-written dispatch.
        async fn $hand(
            node: &$node,
            ctx: &EffectContext,
            input: $input,
        ) -> Result<$output, OnexError> {
            match input {
                $input::MathAdd(i) => node.math_add(ctx, i).await.map($output::MathAdd),
                $input::MathSub(i) => node.math_sub(ctx, i).await.map($output::MathSub),
                $input::MathMul(i) => node.math_mul(ctx, i).await.map($output::MathMul),
                $input::MathMin(i) => node.math_min(ctx, i).await.map($output::MathMin),
                $input::MathMax(i) => node.math_max(ctx, i).await.map($output::MathMax),
                $input::MathNeg(i) => node.math_neg(ctx, i).await.map($output::MathNeg),
                $input::MathAbs(i) => node.math_abs(ctx, i).await.map($output::MathAbs),
                $input::MathSquare(i) => node.math_square(ctx, i).await.map($output::MathSquare),
            }
        }

        inputs_fn!($module, $input, $make);
    };
}

node!(
    Calc,
    calc,
    CalcHandler,
    CalcInput,
    CalcOutput,
    calc_hand_written,
    calc_inputs
);
node!(
    Solo,
    solo,
    SoloHandler,
    SoloInput,
    SoloOutput,
    solo_hand_written,
    solo_inputs
);

/// Polls a future once with a no-op waker; every future benchmarked here is ready at once.
#[inline(always)]
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

/// 1024 `(operation index, a, b)` over all eight operations, in a fixed pseudo-random order.
fn operations() -> Vec<(u64, i64, i64)> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..1024)
        .map(|n: i64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) % 8, n, 1000 - n)
        })
        .collect()
}

/// Times `dispatch` over a batch of inputs cloned outside the timed section (`drain` keeps
/// the allocation, so the timed loop does not allocate).
macro_rules! bench_loop {
    ($group:expr, $name:literal, $inputs:expr, |$input:ident| $call:expr) => {
        $group.bench_function($name, |b| {
            b.iter_batched_ref(
                || $inputs.clone(),
                |batch| {
                    for $input in batch.drain(..) {
                        let _ = black_box(poll_once($call));
                    }
                },
                BatchSize::SmallInput,
            )
        });
    };
}

fn dispatch(c: &mut Criterion) {
    let ctx = EffectContext::new(uuid::Uuid::nil());

    let inputs = solo_inputs();
    let mut group = c.benchmark_group("dispatch_inlined");
    group.throughput(Throughput::Elements(inputs.len() as u64));
    bench_loop!(group, "generated", inputs, |input| Solo
        .dispatch(&ctx, black_box(input)));
    bench_loop!(group, "hand_written", inputs, |input| solo_hand_written(
        &Solo,
        &ctx,
        black_box(input)
    ));
    group.finish();

    let inputs = calc_inputs();
    // The correctness check that also gives each side its second caller.
    for input in &inputs {
        let generated = poll_once(Calc.dispatch(&ctx, input.clone()));
        let hand = poll_once(calc_hand_written(&Calc, &ctx, input.clone()));
        assert_eq!(format!("{generated:?}"), format!("{hand:?}"));
    }
    let mut group = c.benchmark_group("dispatch_out_of_line");
    group.throughput(Throughput::Elements(inputs.len() as u64));
    bench_loop!(group, "generated", inputs, |input| Calc
        .dispatch(&ctx, black_box(input)));
    bench_loop!(group, "hand_written", inputs, |input| calc_hand_written(
        &Calc,
        &ctx,
        black_box(input)
    ));
    group.finish();
}

/// A request as the Python reference writes it: every envelope field, nulls included.
const FULL_REQUEST: &[u8] = br#"{"payload":{"operation":"math.add","a":20,"b":22},"envelope_id":"0b8f6a52-5a36-4c2f-9d0e-1f2a3b4c5d6e","envelope_timestamp":"2026-11-20T12:30:45.123456Z","correlation_id":"6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b","source_tool":"node_orchestrator","target_tool":"node_bench_calculator_effect","metadata":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","parent_span_id":null,"request_id":null,"headers":{"x-tenant":"acme"},"tags":{"message_category":"command"}},"security_context":null,"event_type":"onex.cmd.bench-calculator.compute.v1","payload_type":null,"payload_schema_version":null,"priority":5,"timeout_seconds":30,"retry_count":0,"request_id":null,"trace_id":null,"span_id":null,"onex_version":{"major":1,"minor":0,"patch":0,"prerelease":null,"build":null},"envelope_version":{"major":2,"minor":1,"patch":0,"prerelease":null,"build":null}}"#;

/// The smallest request the node accepts with a correlation id.
const MINIMAL_REQUEST: &[u8] = br#"{"payload":{"operation":"math.add","a":20,"b":22},"envelope_id":"0b8f6a52-5a36-4c2f-9d0e-1f2a3b4c5d6e","envelope_timestamp":"2026-11-20T12:30:45Z","correlation_id":"6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"}"#;

/// Bytes in, bytes out: what a bus consumer does per message.
fn round_trip(node: &Calc, request: &[u8]) -> Result<Vec<u8>, OnexError> {
    poll_once(node.process_json(request))?.to_json()
}

fn decode(request: &[u8]) -> Result<Envelope<CalcInput>, OnexError> {
    Envelope::<JsonValue>::from_json(request)?.try_map_payload(CalcInput::decode)
}

fn envelope(c: &mut Criterion) {
    let node = Calc;
    // Sanity: the request really is processed.
    let reply =
        Envelope::<JsonValue>::from_json(&round_trip(&node, FULL_REQUEST).unwrap()).unwrap();
    assert_eq!(reply.payload["value"], 42);

    let mut group = c.benchmark_group("envelope");
    for (name, request) in [("full", FULL_REQUEST), ("minimal", MINIMAL_REQUEST)] {
        group.throughput(Throughput::Bytes(request.len() as u64));
        group.bench_function(format!("{name}/bytes_to_bytes"), |b| {
            b.iter(|| round_trip(&node, black_box(request)))
        });
        group.bench_function(format!("{name}/process_json"), |b| {
            b.iter(|| poll_once(node.process_json(black_box(request))))
        });
        group.bench_function(format!("{name}/decode_json_only"), |b| {
            b.iter(|| Envelope::<JsonValue>::from_json(black_box(request)))
        });
        group.bench_function(format!("{name}/decode_typed"), |b| {
            b.iter(|| decode(black_box(request)))
        });
        let typed = decode(request).unwrap();
        group.bench_function(format!("{name}/process_typed"), |b| {
            b.iter_batched(
                || typed.clone(),
                |typed| poll_once(node.process(typed)),
                BatchSize::SmallInput,
            )
        });
        let reply = poll_once(node.process_json(request)).unwrap();
        group.bench_function(format!("{name}/encode_reply"), |b| {
            b.iter(|| black_box(&reply).to_json())
        });
    }
    group.finish();
}

/// The COMPUTE node of `compute/dispatch/*`.
#[compute_node(
    contract = "benches/bench_compute_contract.yaml",
    relative_to = manifest,
    derive(Clone)
)]
pub struct Pure;

/// The same contract again, for `compute/process_json/*`.
#[compute_node(
    contract = "benches/bench_compute_contract.yaml",
    relative_to = manifest,
    derive(Clone)
)]
pub struct PureJson;

/// Implements a compute node's handler trait and writes the hand-written `match` one would use
/// instead of the generated `dispatch`: same handlers, same output wrapping.
macro_rules! compute_node_impl {
    ($node:ident, $module:ident, $handler:ident, $input:ident, $output:ident, $hand:ident, $make:ident) => {
        impl $handler for $node {
            fn math_add(&self, i: $module::ModelPair) -> Result<$module::ModelValue, OnexError> {
                Ok($module::ModelValue {
                    value: i.a.wrapping_add(i.b),
                })
            }
            fn math_sub(&self, i: $module::ModelPair) -> Result<$module::ModelValue, OnexError> {
                Ok($module::ModelValue {
                    value: i.a.wrapping_sub(i.b),
                })
            }
            fn math_mul(&self, i: $module::ModelPair) -> Result<$module::ModelValue, OnexError> {
                Ok($module::ModelValue {
                    value: i.a.wrapping_mul(i.b),
                })
            }
            fn math_min(&self, i: $module::ModelPair) -> Result<$module::ModelValue, OnexError> {
                Ok($module::ModelValue {
                    value: i.a.min(i.b),
                })
            }
            fn math_max(&self, i: $module::ModelPair) -> Result<$module::ModelValue, OnexError> {
                Ok($module::ModelValue {
                    value: i.a.max(i.b),
                })
            }
            fn math_neg(&self, i: $module::ModelUnary) -> Result<$module::ModelValue, OnexError> {
                Ok($module::ModelValue {
                    value: i.x.wrapping_neg(),
                })
            }
            fn math_abs(&self, i: $module::ModelUnary) -> Result<$module::ModelValue, OnexError> {
                Ok($module::ModelValue {
                    value: i.x.wrapping_abs(),
                })
            }
            fn math_square(
                &self,
                i: $module::ModelUnary,
            ) -> Result<$module::ModelValue, OnexError> {
                Ok($module::ModelValue {
                    value: i.x.wrapping_mul(i.x),
                })
            }
        }

        /// The hand-written dispatch.
        #[allow(dead_code)]
        fn $hand(node: &$node, input: $input) -> Result<$output, OnexError> {
            match input {
                $input::MathAdd(i) => node.math_add(i).map($output::MathAdd),
                $input::MathSub(i) => node.math_sub(i).map($output::MathSub),
                $input::MathMul(i) => node.math_mul(i).map($output::MathMul),
                $input::MathMin(i) => node.math_min(i).map($output::MathMin),
                $input::MathMax(i) => node.math_max(i).map($output::MathMax),
                $input::MathNeg(i) => node.math_neg(i).map($output::MathNeg),
                $input::MathAbs(i) => node.math_abs(i).map($output::MathAbs),
                $input::MathSquare(i) => node.math_square(i).map($output::MathSquare),
            }
        }

        inputs_fn!($module, $input, $make);
    };
}

compute_node_impl!(
    Pure,
    pure,
    PureHandler,
    PureInput,
    PureOutput,
    pure_hand_written,
    pure_inputs
);
compute_node_impl!(
    PureJson,
    pure_json,
    PureJsonHandler,
    PureJsonInput,
    PureJsonOutput,
    pure_json_hand_written,
    pure_json_inputs
);

/// [`bench_loop!`] for synchronous calls.
macro_rules! bench_loop_sync {
    ($group:expr, $name:literal, $inputs:expr, |$input:ident| $call:expr) => {
        $group.bench_function($name, |b| {
            b.iter_batched_ref(
                || $inputs.clone(),
                |batch| {
                    for $input in batch.drain(..) {
                        let _ = black_box($call);
                    }
                },
                BatchSize::SmallInput,
            )
        });
    };
}

fn compute(c: &mut Criterion) {
    let inputs = pure_inputs();
    // The correctness check, which is also each side's second caller.
    for input in &inputs {
        let generated = Pure.dispatch(input.clone());
        let hand = pure_hand_written(&Pure, input.clone());
        assert_eq!(format!("{generated:?}"), format!("{hand:?}"));
    }
    let node = PureJson;
    let reply = node.process_json(FULL_REQUEST).unwrap();
    assert_eq!(reply.payload["value"], 42);

    let mut group = c.benchmark_group("compute");
    group.throughput(Throughput::Elements(inputs.len() as u64));
    bench_loop_sync!(group, "dispatch/generated", inputs, |input| Pure
        .dispatch(black_box(input)));
    bench_loop_sync!(group, "dispatch/hand_written", inputs, |input| {
        pure_hand_written(&Pure, black_box(input))
    });
    for (name, request) in [("minimal", MINIMAL_REQUEST), ("full", FULL_REQUEST)] {
        group.throughput(Throughput::Bytes(request.len() as u64));
        group.bench_function(format!("process_json/{name}"), |b| {
            b.iter(|| node.process_json(black_box(request)))
        });
    }
    group.finish();
}

criterion_group!(benches, dispatch, envelope, compute);
criterion_main!(benches);
