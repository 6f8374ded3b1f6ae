//! Workflow executor benchmarks (DESIGN.md §10: per-step overhead < 5 µs; a diamond of
//! sleeping steps finishes in about its critical path). Results in docs/PERFORMANCE.md.
//!
//! ```sh
//! cargo bench -p onex-runtime --bench workflow -- --warm-up-time 1 --measurement-time 5
//! ```
//!
//! Both groups run on a current-thread tokio runtime, inside one `block_on` per sample (so
//! `block_on` itself is not measured), against hand-written orchestrator nodes shaped like
//! `#[orchestrator_node]`'s output.
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
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use onex_runtime::workflow::{
    BoxFuture, CoordinationRules, ExecutionMode, FailureStrategy, StepInfo, StepOutputs,
    WorkflowContext, WorkflowExecutor, WorkflowPlan, WorkflowStep,
};
use onex_runtime::{ContractInfo, NodeKind, OnexError, OrchestratorNode, RoutingStrategy, Version};
use serde_json::Value;

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
// Shared generated-code scaffolding (written by hand).

const V1: Version = Version {
    major: 1,
    minor: 0,
    patch: 0,
};

const fn contract(name: &'static str) -> ContractInfo {
    ContractInfo {
        name,
        kind: NodeKind::Orchestrator,
        node_type: "ORCHESTRATOR_GENERIC",
        contract_version: V1,
        node_version: V1,
        description: "",
        fingerprint: "1.0.0:000000000000",
        declared_fingerprint: None,
        routing: RoutingStrategy::Single,
        operations: &[],
        subscribe_topics: &[],
        publish_topics: &[],
    }
}

const fn info<S: Copy>(
    step: S,
    id: &'static str,
    depends_on: &'static [S],
    dependents: &'static [S],
) -> StepInfo<S> {
    StepInfo {
        step,
        id,
        node_type: "COMPUTE_GENERIC",
        kind: NodeKind::Compute,
        depends_on,
        dependents,
        compensable: false,
        description: "",
    }
}

const fn rules(mode: ExecutionMode) -> CoordinationRules {
    CoordinationRules {
        mode,
        max_parallel_steps: None,
        failure_strategy: FailureStrategy::FailFast,
        max_retries: 0,
        retry_backoff: Duration::ZERO,
        retry_backoff_multiplier: 1.0,
        step_timeout: None,
        timeout: None,
    }
}

fn dependency<'a, T>(slot: &'a OnceLock<T>, step: &'static str) -> Result<&'a T, OnexError> {
    slot.get()
        .ok_or_else(|| OnexError::internal(format!("`{step}` ran before its dependency")))
}

fn store<T>(slot: &OnceLock<T>, value: T, step: &'static str) -> Result<(), OnexError> {
    slot.set(value)
        .map_err(|_| OnexError::internal(format!("`{step}` completed twice")))
}

fn nothing<'a>() -> BoxFuture<'a, Result<(), OnexError>> {
    Box::pin(std::future::ready(Ok(())))
}

// ---------------------------------------------------------------------------------------
// Chain: s1 → s2 → s3.

/// The chain's steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChainStep {
    /// `s1`.
    S1,
    /// `s2`.
    S2,
    /// `s3`.
    S3,
}

impl std::fmt::Display for ChainStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl WorkflowStep for ChainStep {
    const ALL: &'static [Self] = &[ChainStep::S1, ChainStep::S2, ChainStep::S3];
    fn index(self) -> usize {
        self as usize
    }
    fn as_str(self) -> &'static str {
        match self {
            ChainStep::S1 => "s1",
            ChainStep::S2 => "s2",
            ChainStep::S3 => "s3",
        }
    }
}

/// The chain's outputs.
#[derive(Default)]
pub struct ChainOutputs {
    s1: OnceLock<u64>,
    s2: OnceLock<u64>,
    s3: OnceLock<u64>,
}

impl StepOutputs for ChainOutputs {
    type Step = ChainStep;
    fn is_done(&self, step: ChainStep) -> bool {
        match step {
            ChainStep::S1 => self.s1.get().is_some(),
            ChainStep::S2 => self.s2.get().is_some(),
            ChainStep::S3 => self.s3.get().is_some(),
        }
    }
    fn to_json(&self, step: ChainStep) -> Option<Result<Value, OnexError>> {
        match step {
            ChainStep::S1 => self.s1.get(),
            ChainStep::S2 => self.s2.get(),
            ChainStep::S3 => self.s3.get(),
        }
        .map(|v| Ok(Value::from(*v)))
    }
}

/// Three no-op steps in a row.
pub struct Chain;

impl OrchestratorNode for Chain {
    type Step = ChainStep;
    type Input = u64;
    type Outputs = ChainOutputs;
    const CONTRACT: &'static ContractInfo = &contract("chain");
    const PLAN: &'static WorkflowPlan<ChainStep> = &WorkflowPlan {
        name: "chain",
        steps: &[
            info(ChainStep::S1, "s1", &[], &[ChainStep::S2]),
            info(ChainStep::S2, "s2", &[ChainStep::S1], &[ChainStep::S3]),
            info(ChainStep::S3, "s3", &[ChainStep::S2], &[]),
        ],
        order: ChainStep::ALL,
        waves: &[&[ChainStep::S1], &[ChainStep::S2], &[ChainStep::S3]],
        rules: rules(ExecutionMode::Sequential),
    };

    fn run_step<'a>(
        &'a self,
        step: ChainStep,
        input: &'a u64,
        outputs: &'a ChainOutputs,
        _cx: &'a WorkflowContext,
    ) -> BoxFuture<'a, Result<(), OnexError>> {
        match step {
            ChainStep::S1 => Box::pin(async move {
                let out = step1(*input).await;
                store(&outputs.s1, out, "s1")
            }),
            ChainStep::S2 => Box::pin(async move {
                let s1 = dependency(&outputs.s1, "s2")?;
                let out = step2(*s1).await;
                store(&outputs.s2, out, "s2")
            }),
            ChainStep::S3 => Box::pin(async move {
                let s2 = dependency(&outputs.s2, "s3")?;
                let out = step3(*s2).await;
                store(&outputs.s3, out, "s3")
            }),
        }
    }

    fn compensate_step<'a>(
        &'a self,
        _step: ChainStep,
        _input: &'a u64,
        _outputs: &'a ChainOutputs,
        _cx: &'a WorkflowContext,
    ) -> BoxFuture<'a, Result<(), OnexError>> {
        nothing()
    }
}

// ---------------------------------------------------------------------------------------
// Diamond: root → (left ∥ right) → join, each sleeping 50 ms.

/// The diamond's steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DiamondStep {
    /// `root`.
    Root,
    /// `left`.
    Left,
    /// `right`.
    Right,
    /// `join`.
    Join,
}

impl std::fmt::Display for DiamondStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl WorkflowStep for DiamondStep {
    const ALL: &'static [Self] = &[
        DiamondStep::Root,
        DiamondStep::Left,
        DiamondStep::Right,
        DiamondStep::Join,
    ];
    fn index(self) -> usize {
        self as usize
    }
    fn as_str(self) -> &'static str {
        match self {
            DiamondStep::Root => "root",
            DiamondStep::Left => "left",
            DiamondStep::Right => "right",
            DiamondStep::Join => "join",
        }
    }
}

/// The diamond's outputs.
#[derive(Default)]
pub struct DiamondOutputs {
    root: OnceLock<()>,
    left: OnceLock<()>,
    right: OnceLock<()>,
    join: OnceLock<()>,
}

impl StepOutputs for DiamondOutputs {
    type Step = DiamondStep;
    fn is_done(&self, step: DiamondStep) -> bool {
        match step {
            DiamondStep::Root => self.root.get().is_some(),
            DiamondStep::Left => self.left.get().is_some(),
            DiamondStep::Right => self.right.get().is_some(),
            DiamondStep::Join => self.join.get().is_some(),
        }
    }
    fn to_json(&self, step: DiamondStep) -> Option<Result<Value, OnexError>> {
        self.is_done(step).then_some(Ok(Value::Null))
    }
}

/// Four sleeping steps in a diamond.
pub struct Diamond;

impl OrchestratorNode for Diamond {
    type Step = DiamondStep;
    type Input = ();
    type Outputs = DiamondOutputs;
    const CONTRACT: &'static ContractInfo = &contract("diamond");
    const PLAN: &'static WorkflowPlan<DiamondStep> = &WorkflowPlan {
        name: "diamond",
        steps: &[
            info(
                DiamondStep::Root,
                "root",
                &[],
                &[DiamondStep::Left, DiamondStep::Right],
            ),
            info(
                DiamondStep::Left,
                "left",
                &[DiamondStep::Root],
                &[DiamondStep::Join],
            ),
            info(
                DiamondStep::Right,
                "right",
                &[DiamondStep::Root],
                &[DiamondStep::Join],
            ),
            info(
                DiamondStep::Join,
                "join",
                &[DiamondStep::Left, DiamondStep::Right],
                &[],
            ),
        ],
        order: DiamondStep::ALL,
        waves: &[
            &[DiamondStep::Root],
            &[DiamondStep::Left, DiamondStep::Right],
            &[DiamondStep::Join],
        ],
        rules: rules(ExecutionMode::Parallel),
    };

    fn run_step<'a>(
        &'a self,
        step: DiamondStep,
        _input: &'a (),
        outputs: &'a DiamondOutputs,
        _cx: &'a WorkflowContext,
    ) -> BoxFuture<'a, Result<(), OnexError>> {
        let (slot, id) = match step {
            DiamondStep::Root => (&outputs.root, "root"),
            DiamondStep::Left => (&outputs.left, "left"),
            DiamondStep::Right => (&outputs.right, "right"),
            DiamondStep::Join => (&outputs.join, "join"),
        };
        Box::pin(async move {
            tokio::time::sleep(NAP).await;
            store(slot, (), id)
        })
    }

    fn compensate_step<'a>(
        &'a self,
        _step: DiamondStep,
        _input: &'a (),
        _outputs: &'a DiamondOutputs,
        _cx: &'a WorkflowContext,
    ) -> BoxFuture<'a, Result<(), OnexError>> {
        nothing()
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
            Ok(run) => assert_eq!(run.outputs.s3.get(), Some(&want)),
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
