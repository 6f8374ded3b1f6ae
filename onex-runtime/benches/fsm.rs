//! FSM benchmarks (DESIGN.md §10; results in docs/PERFORMANCE.md).
//!
//! ```sh
//! cargo bench -p onex-runtime --bench fsm -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! One iteration drives a machine through the same 1024 `(trigger, context)` steps, starting
//! from the initial state, over `benches/bench_fsm.yaml` (guards, priorities, a self-loop, a
//! wildcard; about one step in six is rejected by a guard or has no transition, as in real
//! traffic). Three implementations of the same machine, measured in one run:
//!
//! - `fsm/generated`: `#[reducer_node]`'s `reduce` (a generated `match`);
//! - `fsm/hand_written`: the `match` one would write by hand for the same machine, returning
//!   the same `Transition` values and the same errors;
//! - `fsm/interpreter`: `onex_contracts::fsm::interp`, the table-driven reference
//!   interpreter, on the same contexts as JSON (what a runtime-loaded contract costs).
//!
//! Throughput is reported in transitions attempted per second.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use onex_runtime::{FsmError, ReducerNode, Transition, reducer_node};

/// The benchmarked reducer.
#[reducer_node(contract = "benches/bench_fsm.yaml", relative_to = manifest)]
pub struct Lifecycle;

use lifecycle::ModelObservation as Ctx;

type S = LifecycleState;
type T = LifecycleTrigger;
type I = LifecycleIntent;

/// The same machine, written by hand: a `match` on `(state, trigger)` with `if`s for the
/// guards inside the arms.
#[inline]
fn hand_written(state: S, trigger: T, c: &Ctx) -> Result<Transition<S, T, I>, FsmError> {
    macro_rules! t {
        ($from:expr, $to:expr, $name:expr, $intents:expr $(,)?) => {
            Ok(Transition {
                from: $from,
                to: $to,
                trigger,
                name: $name,
                intents: $intents,
            })
        };
    }
    match (state, trigger) {
        (S::Starting, T::Ok) => t!(S::Starting, S::Healthy, "up", &[I::ClearAlert]),
        (S::Starting, T::Fail) => {
            if c.retries < 3 {
                t!(
                    S::Starting,
                    S::Starting,
                    "retry",
                    &[I::RestartService, I::StartProbe],
                )
            } else {
                t!(S::Starting, S::Failed, "give_up", &[I::Alert])
            }
        }
        (S::Healthy, T::Slow) => {
            if c.latency_ms > 250.0 {
                t!(S::Healthy, S::Degraded, "slow", &[I::RaiseWarning])
            } else {
                Err(FsmError::GuardRejected {
                    state: "healthy",
                    trigger: "slow",
                    transition: "slow",
                    to: "degraded",
                    failed: vec!["latency_ms > 250"],
                })
            }
        }
        (S::Healthy, T::Fail) => t!(S::Healthy, S::Degraded, "wobble", &[I::RaiseWarning]),
        (S::Degraded, T::Ok) => t!(S::Degraded, S::Healthy, "recover", &[I::ClearAlert]),
        (S::Degraded, T::Fail) => {
            if c.failures >= 3 {
                t!(S::Degraded, S::Failed, "collapse", &[I::Alert])
            } else {
                t!(
                    S::Degraded,
                    S::Degraded,
                    "limp",
                    &[I::RecordFailure, I::RaiseWarning],
                )
            }
        }
        (S::Failed, T::Restart) => {
            if c.retries < 3 {
                t!(
                    S::Failed,
                    S::Starting,
                    "restart",
                    &[I::ClearAlert, I::RestartService, I::StartProbe],
                )
            } else {
                Err(FsmError::GuardRejected {
                    state: "failed",
                    trigger: "restart",
                    transition: "restart",
                    to: "starting",
                    failed: vec!["retries less_than 3"],
                })
            }
        }
        (S::Failed, T::Stop) => t!(S::Failed, S::Stopped, "stop", &[I::ClearAlert]),
        (S::Starting, T::Stop) => t!(S::Starting, S::Stopped, "stop", &[]),
        (S::Healthy, T::Stop) => t!(S::Healthy, S::Stopped, "stop", &[]),
        (S::Degraded, T::Stop) => t!(S::Degraded, S::Stopped, "stop", &[]),
        (S::Stopped, T::Stop) => t!(S::Stopped, S::Stopped, "stop", &[]),
        (s, t) => Err(FsmError::NoTransition {
            state: s.as_str(),
            trigger: t.as_str(),
        }),
    }
}

/// 1024 pseudo-random steps. Most pick a trigger the current state handles (so the machine
/// keeps moving through all its states); the rest pick any trigger. `stop` is rare.
fn steps() -> Vec<(T, Ctx)> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut state = S::INITIAL;
    (0..1024)
        .map(|_| {
            let r = next();
            let handled: &[T] = match state {
                S::Starting => &[T::Ok, T::Fail],
                S::Healthy => &[T::Slow, T::Fail],
                S::Degraded => &[T::Ok, T::Fail],
                S::Failed => &[T::Restart],
                S::Stopped => &[T::Stop],
            };
            let trigger = match r % 100 {
                0 => T::Stop,
                1..=85 => handled[((r >> 40) as usize) % handled.len()],
                _ => T::ALL[((r >> 40) as usize) % T::ALL.len()],
            };
            let ctx = Ctx {
                retries: ((r >> 8) % 5) as i64,
                failures: ((r >> 16) % 5) as i64,
                latency_ms: ((r >> 24) % 500) as f64,
            };
            if let Ok(t) = hand_written(state, trigger, &ctx) {
                state = t.to;
            }
            if state == S::Stopped {
                state = S::INITIAL;
            }
            (trigger, ctx)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let steps = steps();
    let json: Vec<(T, serde_json::Value)> = steps
        .iter()
        .map(|(t, c)| (*t, serde_json::to_value(c).unwrap()))
        .collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/bench_fsm.yaml");
    let fsm = onex_contracts::load_file(&path, "bench_fsm.yaml")
        .fsm
        .expect("bench_fsm.yaml has a state machine");

    // The three implementations agree on every step before anything is timed.
    let mut state = S::INITIAL;
    let (mut taken, mut refused) = (0, 0);
    for ((trigger, ctx), (_, j)) in steps.iter().zip(&json) {
        let generated = Lifecycle.reduce(state, *trigger, ctx);
        assert_eq!(generated, hand_written(state, *trigger, ctx));
        let reference =
            onex_contracts::fsm::interp::step(&fsm, state.as_str(), trigger.as_str(), j);
        assert_eq!(
            generated.as_ref().ok().map(|t| t.name),
            reference
                .as_ref()
                .ok()
                .map(|s| s.transition.name.value.as_str())
        );
        match generated {
            Ok(t) => {
                state = t.to;
                taken += 1;
            }
            Err(_) => refused += 1,
        }
        if state == S::Stopped {
            state = S::INITIAL;
        }
    }
    assert!(
        taken > 700 && refused > 50,
        "taken {taken}, refused {refused}"
    );

    let mut group = c.benchmark_group("fsm");
    group.throughput(Throughput::Elements(steps.len() as u64));
    group.bench_function("generated", |b| {
        b.iter(|| {
            let mut state = S::INITIAL;
            for (trigger, ctx) in &steps {
                if let Ok(t) = Lifecycle.reduce(state, black_box(*trigger), black_box(ctx)) {
                    state = black_box(t).to;
                }
                if state == S::Stopped {
                    state = S::INITIAL;
                }
            }
            state
        })
    });
    group.bench_function("hand_written", |b| {
        b.iter(|| {
            let mut state = S::INITIAL;
            for (trigger, ctx) in &steps {
                if let Ok(t) = hand_written(state, black_box(*trigger), black_box(ctx)) {
                    state = black_box(t).to;
                }
                if state == S::Stopped {
                    state = S::INITIAL;
                }
            }
            state
        })
    });
    group.bench_function("interpreter", |b| {
        b.iter(|| {
            let mut state = S::INITIAL.as_str();
            for (trigger, ctx) in &json {
                if let Ok(s) = onex_contracts::fsm::interp::step(
                    &fsm,
                    state,
                    black_box(trigger.as_str()),
                    black_box(ctx),
                ) {
                    state = black_box(s).to;
                }
                if state == "stopped" {
                    state = S::INITIAL.as_str();
                }
            }
            state.len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
