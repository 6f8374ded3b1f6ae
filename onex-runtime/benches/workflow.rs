//! Workflow executor benchmarks (DESIGN.md §10: per-step overhead < 5 µs; a diamond of
//! sleeping steps finishes in about its critical path). Results in docs/PERFORMANCE.md.
//!
//! ```sh
//! cargo bench -p onex-runtime --bench workflow -- --warm-up-time 1 --measurement-time 5
//! ```
//!
//! Both groups run on a current-thread tokio runtime, inside one `block_on` per sample (so
//! `block_on` itself is not measured), against nodes declared with `#[orchestrator_node]`
//! from `benches/bench_workflow_chain.yaml` and `benches/bench_workflow_diamond.yaml`: what
//! is measured is the generated dispatch (`run_step` boxing a future that calls the step's
//! `async fn`, reads its dependencies' outputs and stores its own).
//!
//! - `workflow_overhead`: a chain `s1 → s2 → s3` of no-op async steps, run through
//!   `WorkflowExecutor::run` (sequential mode, parallel mode, and sequential with a step
//!   timeout, which arms a timer per step) versus the three async functions awaited
//!   directly. After the group, the per-step overhead `(executor − direct) / 3` is printed,
//!   from the mean time per run over every iteration criterion ran (warm-up included).
//! - `workflow_diamond`: `root → (left ∥ right) → join`, each step sleeping 50 ms, run in
//!   parallel mode, versus its critical path awaited directly (three sequential 50 ms
//!   sleeps), and the same diamond in sequential mode (four sleeps) for contrast.

use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use onex_runtime::workflow::{ExecutionMode, WorkflowContext, WorkflowExecutor};
use onex_runtime::{OnexError, orchestrator_node};

// ---------------------------------------------------------------------------------------
// The steps' work, as plain async functions (what the direct baseline awaits).

#[inline(never)]
async fn step1(x: u64) -> u64 {
    black_box(x).wrapping_add(1)
}

#[inline(never)]
async fn step2(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[inline(never)]
async fn step3(x: u64) -> u64 {
    black_box(x).wrapping_sub(2)
}

const NAP: Duration = Duration::from_millis(50);

// ---------------------------------------------------------------------------------------
// Chain: s1 → s2 → s3.

/// Three no-op steps in a row.
#[orchestrator_node(
    contract = "benches/bench_workflow_chain.yaml",
    relative_to = manifest,
    input = u64
)]
pub struct Chain;

impl ChainSteps for Chain {
    type S1 = u64;
    type S2 = u64;
    type S3 = u64;

    async fn s1(&self, input: &u64, _cx: &WorkflowContext) -> Result<u64, OnexError> {
        Ok(step1(*input).await)
    }

    async fn s2(
        &self,
        _input: &u64,
        deps: ChainS2Deps<'_>,
        _cx: &WorkflowContext,
    ) -> Result<u64, OnexError> {
        Ok(step2(*deps.s1).await)
    }

    async fn s3(
        &self,
        _input: &u64,
        deps: ChainS3Deps<'_>,
        _cx: &WorkflowContext,
    ) -> Result<u64, OnexError> {
        Ok(step3(*deps.s2).await)
    }
}

// ---------------------------------------------------------------------------------------
// Diamond: root → (left ∥ right) → join, each sleeping 50 ms.

/// Four sleeping steps in a diamond.
#[orchestrator_node(contract = "benches/bench_workflow_diamond.yaml", relative_to = manifest)]
pub struct Diamond;

impl DiamondSteps for Diamond {
    type Root = ();
    type Left = ();
    type Right = ();
    type Join = ();

    async fn root(&self, _input: &(), _cx: &WorkflowContext) -> Result<(), OnexError> {
        tokio::time::sleep(NAP).await;
        Ok(())
    }

    async fn left(
        &self,
        _input: &(),
        _deps: DiamondLeftDeps<'_>,
        _cx: &WorkflowContext,
    ) -> Result<(), OnexError> {
        tokio::time::sleep(NAP).await;
        Ok(())
    }

    async fn right(
        &self,
        _input: &(),
        _deps: DiamondRightDeps<'_>,
        _cx: &WorkflowContext,
    ) -> Result<(), OnexError> {
        tokio::time::sleep(NAP).await;
        Ok(())
    }

    async fn join(
        &self,
        _input: &(),
        _deps: DiamondJoinDeps<'_>,
        _cx: &WorkflowContext,
    ) -> Result<(), OnexError> {
        tokio::time::sleep(NAP).await;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Benchmarks.

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("cannot build a tokio runtime: {e}"),
    }
}

/// Total time and iterations measured for one benchmark, to derive the overhead.
#[derive(Default, Clone, Copy)]
struct Tally {
    time: Duration,
    iters: u64,
}

impl Tally {
    fn add(cell: &Mutex<Tally>, time: Duration, iters: u64) {
        if let Ok(mut t) = cell.lock() {
            t.time += time;
            t.iters += iters;
        }
    }

    fn mean_ns(cell: &Mutex<Tally>) -> f64 {
        let t = cell.lock().map(|t| *t).unwrap_or_default();
        if t.iters == 0 {
            return f64::NAN;
        }
        t.time.as_nanos() as f64 / t.iters as f64
    }
}

fn overhead(c: &mut Criterion) {
    let rt = runtime();
    let direct = Mutex::new(Tally::default());
    let sequential = Mutex::new(Tally::default());
    let parallel = Mutex::new(Tally::default());
    let timed = Mutex::new(Tally::default());

    let seq_executor = WorkflowExecutor::new(Chain);
    let par_executor = WorkflowExecutor::new(Chain).with_mode(ExecutionMode::Parallel);
    let timed_executor =
        WorkflowExecutor::new(Chain).with_step_timeout(Some(Duration::from_secs(5)));

    // Sanity: all variants compute the same thing.
    let want = rt.block_on(async { step3(step2(step1(7).await).await).await });
    for executor in [&seq_executor, &par_executor, &timed_executor] {
        match rt.block_on(executor.run(7)) {
            Ok(run) => assert_eq!(run.outputs.s3(), Some(&want)),
            Err(failure) => panic!("the chain failed: {failure}"),
        }
    }

    let mut group = c.benchmark_group("workflow_overhead");
    group.bench_function("direct_3_steps", |b| {
        b.iter_custom(|iters| {
            let took = rt.block_on(async {
                let start = Instant::now();
                for i in 0..iters {
                    let a = step1(black_box(i)).await;
                    let b = step2(a).await;
                    black_box(step3(b).await);
                }
                start.elapsed()
            });
            Tally::add(&direct, took, iters);
            took
        });
    });
    for (name, executor, tally) in [
        ("executor_sequential_3_steps", &seq_executor, &sequential),
        ("executor_parallel_3_steps", &par_executor, &parallel),
        ("executor_step_timeout_3_steps", &timed_executor, &timed),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let took = rt.block_on(async {
                    let start = Instant::now();
                    for i in 0..iters {
                        let _ = black_box(executor.run(black_box(i)).await);
                    }
                    start.elapsed()
                });
                Tally::add(tally, took, iters);
                took
            });
        });
    }
    group.finish();

    let base = Tally::mean_ns(&direct);
    println!("\nworkflow_overhead: direct 3 steps {:.1} ns per run", base);
    for (name, tally) in [
        ("sequential", &sequential),
        ("parallel", &parallel),
        ("sequential + step timeout", &timed),
    ] {
        let mean = Tally::mean_ns(tally);
        println!(
            "workflow_overhead: executor ({name}) {:.1} ns per run, per-step overhead {:.3} µs (target < 5 µs)",
            mean,
            (mean - base) / 3.0 / 1000.0
        );
    }
}

fn diamond(c: &mut Criterion) {
    let rt = runtime();
    let parallel = WorkflowExecutor::new(Diamond);
    let sequential = WorkflowExecutor::new(Diamond).with_mode(ExecutionMode::Sequential);

    let mut group = c.benchmark_group("workflow_diamond");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("critical_path_direct", |b| {
        b.iter(|| {
            rt.block_on(async {
                tokio::time::sleep(NAP).await;
                tokio::time::sleep(NAP).await;
                tokio::time::sleep(NAP).await;
            });
        });
    });
    group.bench_function("executor_parallel", |b| {
        b.iter(|| {
            if let Err(failure) = rt.block_on(parallel.run(())) {
                panic!("the diamond failed: {failure}");
            }
        });
    });
    group.bench_function("executor_sequential", |b| {
        b.iter(|| {
            if let Err(failure) = rt.block_on(sequential.run(())) {
                panic!("the diamond failed: {failure}");
            }
        });
    });
    group.finish();
}

criterion_group!(benches, overhead, diamond);
criterion_main!(benches);
