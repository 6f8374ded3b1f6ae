//! `WorkflowExecutor` against orchestrator nodes declared with `#[orchestrator_node]` from
//! the contracts in `tests/workflows/`: the generated step enum, outputs struct, `PLAN` and
//! `run_step`/`compensate_step` dispatch, with scripted step bodies.
//!
//! Time-dependent tests use tokio's paused clock (deterministic), except the two that must
//! show real concurrency and real promptness.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use onex_runtime::workflow::{
    ExecutionMode, FailureStrategy, StepOutcome, WorkflowContext, WorkflowExecutor, WorkflowStatus,
};
use onex_runtime::{Envelope, ErrorCode, OnexError, Uuid, orchestrator_node};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

// ---------------------------------------------------------------------------------------
// What the steps do: scripted per test, observed through a log and counters.

/// Counts live step futures (a drop guard held by every running step body).
struct Live(Arc<AtomicUsize>);

impl Live {
    fn new(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Live(Arc::clone(counter))
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Tracks how many steps run at once, and the peak.
struct Concurrent<'a>(&'a AtomicUsize);

impl<'a> Concurrent<'a> {
    fn new(running: &'a AtomicUsize, peak: &AtomicUsize) -> Self {
        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(now, Ordering::SeqCst);
        Concurrent(running)
    }
}

impl Drop for Concurrent<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a step saw of its context.
#[derive(Clone, Debug)]
struct Seen {
    step: String,
    attempt: u32,
    correlation_id: Uuid,
    has_deadline: bool,
    workflow: &'static str,
}

#[derive(Default)]
struct Script {
    sleep: HashMap<&'static str, Duration>,
    /// Fail every attempt below this number (`u32::MAX`: always).
    fail_below: HashMap<&'static str, u32>,
    /// The first attempt sleeps this long (to time out), later ones do not.
    slow_first: HashMap<&'static str, Duration>,
    panic: HashSet<&'static str>,
    hang: HashSet<&'static str>,
    failing_compensation: HashSet<&'static str>,
    log: Mutex<Vec<String>>,
    live: Arc<AtomicUsize>,
    running: AtomicUsize,
    peak: AtomicUsize,
    /// Every step context seen: (step, attempt, correlation id, has a deadline, workflow).
    contexts: Mutex<Vec<Seen>>,
    tokens: Mutex<Vec<CancellationToken>>,
}

impl Script {
    fn sleep(mut self, id: &'static str, d: Duration) -> Self {
        self.sleep.insert(id, d);
        self
    }
    fn fail(mut self, id: &'static str, below: u32) -> Self {
        self.fail_below.insert(id, below);
        self
    }
    fn slow_first(mut self, id: &'static str, d: Duration) -> Self {
        self.slow_first.insert(id, d);
        self
    }
    fn panic(mut self, id: &'static str) -> Self {
        self.panic.insert(id);
        self
    }
    fn hang(mut self, id: &'static str) -> Self {
        self.hang.insert(id);
        self
    }
    fn failing_compensation(mut self, id: &'static str) -> Self {
        self.failing_compensation.insert(id);
        self
    }

    fn note(&self, line: String) {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    fn tokens(&self) -> Vec<CancellationToken> {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The body every step runs before computing its output.
    async fn act(&self, id: &'static str, cx: &WorkflowContext) -> Result<(), OnexError> {
        let _live = Live::new(&self.live);
        let _concurrent = Concurrent::new(&self.running, &self.peak);
        self.contexts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Seen {
                step: cx.step().unwrap_or("?").to_owned(),
                attempt: cx.attempt(),
                correlation_id: cx.correlation_id(),
                has_deadline: cx.deadline().is_some(),
                workflow: cx.workflow(),
            });
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(cx.cancellation_token().clone());
        self.note(format!("start {id}"));
        if let Some(d) = self.sleep.get(id) {
            tokio::time::sleep(*d).await;
        }
        if let Some(d) = self.slow_first.get(id)
            && cx.attempt() == 0
        {
            tokio::time::sleep(*d).await;
        }
        if self.hang.contains(id) {
            std::future::pending::<()>().await;
        }
        if self.panic.contains(id) {
            panic!("{id} exploded");
        }
        if self.fail_below.get(id).is_some_and(|&n| cx.attempt() < n) {
            self.note(format!("fail {id}"));
            return Err(OnexError::new(
                ErrorCode::OperationFailed,
                format!("{id} failed on attempt {}", cx.attempt()),
            )
            .with_context("attempt", cx.attempt()));
        }
        self.note(format!("end {id}"));
        Ok(())
    }

    async fn compensate(&self, id: &'static str) -> Result<(), OnexError> {
        let _live = Live::new(&self.live);
        self.note(format!("compensate {id}"));
        if self.failing_compensation.contains(id) {
            return Err(OnexError::new(
                ErrorCode::OperationFailed,
                format!("cannot undo {id}"),
            ));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Chain: a → b → c → d (a and c compensable). Input i64; a = input, b = 2a, c = b + 1,
// d = c + 1.

/// Four scripted steps in a row (`tests/workflows/chain.yaml`).
#[orchestrator_node(contract = "tests/workflows/chain.yaml", relative_to = manifest, input = i64)]
pub struct Chain {
    script: Script,
}

impl ChainSteps for Chain {
    type A = i64;
    type B = i64;
    type C = i64;
    type D = i64;

    async fn a(&self, input: &i64, cx: &WorkflowContext) -> Result<i64, OnexError> {
        self.script.act("a", cx).await?;
        Ok(*input)
    }

    async fn compensate_a(
        &self,
        _input: &i64,
        _output: &i64,
        _cx: &WorkflowContext,
    ) -> Result<(), OnexError> {
        self.script.compensate("a").await
    }

    async fn b(
        &self,
        _input: &i64,
        deps: ChainBDeps<'_>,
        cx: &WorkflowContext,
    ) -> Result<i64, OnexError> {
        self.script.act("b", cx).await?;
        Ok(deps.a * 2)
    }

    async fn c(
        &self,
        _input: &i64,
        deps: ChainCDeps<'_>,
        cx: &WorkflowContext,
    ) -> Result<i64, OnexError> {
        self.script.act("c", cx).await?;
        Ok(deps.b + 1)
    }

    async fn compensate_c(
        &self,
        _input: &i64,
        _output: &i64,
        _cx: &WorkflowContext,
    ) -> Result<(), OnexError> {
        self.script.compensate("c").await
    }

    async fn d(
        &self,
        _input: &i64,
        deps: ChainDDeps<'_>,
        cx: &WorkflowContext,
    ) -> Result<i64, OnexError> {
        self.script.act("d", cx).await?;
        Ok(deps.c + 1)
    }
}

fn chain(script: Script) -> WorkflowExecutor<Chain> {
    WorkflowExecutor::new(Chain { script })
}

// ---------------------------------------------------------------------------------------
// Diamond: root → (left ∥ right) → join. Outputs are strings naming the path.

/// Four scripted steps in a diamond (`tests/workflows/diamond.yaml`).
#[orchestrator_node(contract = "tests/workflows/diamond.yaml", relative_to = manifest)]
pub struct Diamond {
    script: Script,
}

impl DiamondSteps for Diamond {
    type Root = String;
    type Left = String;
    type Right = String;
    type Join = String;

    async fn root(&self, _input: &(), cx: &WorkflowContext) -> Result<String, OnexError> {
        self.script.act("root", cx).await?;
        Ok("root".to_owned())
    }

    async fn left(
        &self,
        _input: &(),
        deps: DiamondLeftDeps<'_>,
        cx: &WorkflowContext,
    ) -> Result<String, OnexError> {
        self.script.act("left", cx).await?;
        Ok(format!("{}/left", deps.root))
    }

    async fn right(
        &self,
        _input: &(),
        deps: DiamondRightDeps<'_>,
        cx: &WorkflowContext,
    ) -> Result<String, OnexError> {
        self.script.act("right", cx).await?;
        Ok(format!("{}/right", deps.root))
    }

    async fn join(
        &self,
        _input: &(),
        deps: DiamondJoinDeps<'_>,
        cx: &WorkflowContext,
    ) -> Result<String, OnexError> {
        self.script.act("join", cx).await?;
        Ok(format!("{}+{}", deps.left, deps.right))
    }
}

fn diamond(script: Script) -> WorkflowExecutor<Diamond> {
    WorkflowExecutor::new(Diamond { script })
}

// ---------------------------------------------------------------------------------------
// Wide: six independent steps, one wave, at most two at a time.

/// Six independent scripted steps (`tests/workflows/wide.yaml`).
#[orchestrator_node(contract = "tests/workflows/wide.yaml", relative_to = manifest)]
pub struct Wide {
    script: Script,
}

impl WideSteps for Wide {
    type W0 = u32;
    type W1 = u32;
    type W2 = u32;
    type W3 = u32;
    type W4 = u32;
    type W5 = u32;

    async fn w0(&self, _input: &(), cx: &WorkflowContext) -> Result<u32, OnexError> {
        self.script.act("w0", cx).await.map(|()| 0)
    }

    async fn w1(&self, _input: &(), cx: &WorkflowContext) -> Result<u32, OnexError> {
        self.script.act("w1", cx).await.map(|()| 1)
    }

    async fn w2(&self, _input: &(), cx: &WorkflowContext) -> Result<u32, OnexError> {
        self.script.act("w2", cx).await.map(|()| 2)
    }

    async fn w3(&self, _input: &(), cx: &WorkflowContext) -> Result<u32, OnexError> {
        self.script.act("w3", cx).await.map(|()| 3)
    }

    async fn w4(&self, _input: &(), cx: &WorkflowContext) -> Result<u32, OnexError> {
        self.script.act("w4", cx).await.map(|()| 4)
    }

    async fn w5(&self, _input: &(), cx: &WorkflowContext) -> Result<u32, OnexError> {
        self.script.act("w5", cx).await.map(|()| 5)
    }
}

// ---------------------------------------------------------------------------------------
// Branches: a → b → c and, independently, x → y.

/// Two independent chains of scripted steps (`tests/workflows/branches.yaml`).
#[orchestrator_node(contract = "tests/workflows/branches.yaml", relative_to = manifest)]
pub struct Branches {
    script: Script,
}

impl BranchesSteps for Branches {
    type A = u32;
    type B = u32;
    type C = u32;
    type X = u32;
    type Y = u32;

    async fn a(&self, _input: &(), cx: &WorkflowContext) -> Result<u32, OnexError> {
        self.script.act("a", cx).await?;
        Ok(1)
    }

    async fn b(
        &self,
        _input: &(),
        deps: BranchesBDeps<'_>,
        cx: &WorkflowContext,
    ) -> Result<u32, OnexError> {
        self.script.act("b", cx).await?;
        Ok(deps.a + 1)
    }

    async fn c(
        &self,
        _input: &(),
        deps: BranchesCDeps<'_>,
        cx: &WorkflowContext,
    ) -> Result<u32, OnexError> {
        self.script.act("c", cx).await?;
        Ok(deps.b + 1)
    }

    async fn x(&self, _input: &(), cx: &WorkflowContext) -> Result<u32, OnexError> {
        self.script.act("x", cx).await?;
        Ok(10)
    }

    async fn y(
        &self,
        _input: &(),
        deps: BranchesYDeps<'_>,
        cx: &WorkflowContext,
    ) -> Result<u32, OnexError> {
        self.script.act("y", cx).await?;
        Ok(deps.x + 1)
    }
}

// ---------------------------------------------------------------------------------------
// Helpers.

/// The statuses of the trace's steps, in trace order.
fn statuses(trace: &onex_runtime::WorkflowTrace) -> Vec<(&'static str, &'static str)> {
    trace
        .steps
        .iter()
        .map(|s| (s.step, s.outcome.as_str()))
        .collect()
}

/// No step future is alive, and no task was left behind.
fn assert_no_leaks(script: &Script) {
    assert_eq!(script.live(), 0, "a step future outlived its run");
    assert_eq!(
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
        0,
        "a task outlived the run"
    );
    assert!(
        script.tokens().iter().all(CancellationToken::is_cancelled),
        "every step token is cancelled once the run is over"
    );
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn close(got: Option<Duration>, want: Duration) -> bool {
    got.is_some_and(|got| got.abs_diff(want) < ms(2))
}

// ---------------------------------------------------------------------------------------
// Tests.

#[test]
fn run_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let executor = chain(Script::default());
    let run = executor.run(1);
    assert_send(&run);
    let processing = executor.process_json(b"{}");
    assert_send(&processing);
}

#[tokio::test(start_paused = true)]
async fn sequential_runs_the_plan_order_one_step_at_a_time() {
    let executor = chain(Script::default().sleep("b", ms(10)));
    let run = executor.run(5).await.expect("the chain completes");
    assert_eq!(
        executor.node().script.log(),
        [
            "start a", "end a", "start b", "end b", "start c", "end c", "start d", "end d"
        ]
    );
    assert_eq!(executor.node().script.peak.load(Ordering::SeqCst), 1);
    assert_eq!(
        (
            run.outputs.a(),
            run.outputs.b(),
            run.outputs.c(),
            run.outputs.d()
        ),
        (Some(&5), Some(&10), Some(&11), Some(&12))
    );
    assert_eq!(run.trace.status, WorkflowStatus::Completed);
    assert_eq!(run.trace.workflow, "chain");
    assert_eq!(run.trace.correlation_id, run.correlation_id);
    assert_eq!(
        statuses(&run.trace),
        [
            ("a", "completed"),
            ("b", "completed"),
            ("c", "completed"),
            ("d", "completed")
        ]
    );
    // b slept 10 ms: c starts when b ends.
    let (b, c) = (run.trace.step("b"), run.trace.step("c"));
    assert!(close(b.and_then(|b| b.duration()), ms(10)));
    assert_eq!(c.and_then(|c| c.start), b.and_then(|b| b.end));
    assert!(close(Some(run.trace.elapsed), ms(10)));

    // Batch runs in the same order; so does a diamond in sequential mode.
    let batch = chain(Script::default()).with_mode(ExecutionMode::Batch);
    batch.run(1).await.expect("batch completes");
    assert_eq!(
        batch.node().script.log(),
        [
            "start a", "end a", "start b", "end b", "start c", "end c", "start d", "end d"
        ]
    );
    let seq = diamond(Script::default()).with_mode(ExecutionMode::Sequential);
    let run = seq.run(()).await.expect("diamond completes");
    assert_eq!(seq.node().script.peak.load(Ordering::SeqCst), 1);
    let order: Vec<&str> = run.trace.steps.iter().map(|s| s.step).collect();
    assert_eq!(order, ["root", "left", "right", "join"]);
    assert_eq!(
        run.outputs.join().map(String::as_str),
        Some("root/left+root/right")
    );
}

#[tokio::test]
async fn parallel_wave_steps_overlap_in_real_time() {
    let executor = diamond(
        Script::default()
            .sleep("left", ms(50))
            .sleep("right", ms(50)),
    );
    let started = std::time::Instant::now();
    let run = executor.run(()).await.expect("the diamond completes");
    let took = started.elapsed();
    assert!(took >= ms(50), "{took:?}");
    assert!(took < ms(100), "two 50 ms steps of one wave took {took:?}");
    assert_eq!(executor.node().script.peak.load(Ordering::SeqCst), 2);
    let (left, right) = (
        run.trace.step("left").expect("left traced"),
        run.trace.step("right").expect("right traced"),
    );
    assert!(
        left.start < right.end && right.start < left.end,
        "{}",
        run.trace
    );
    // The join waits for the whole wave.
    let join = run.trace.step("join").expect("join traced");
    assert!(join.start >= left.end && join.start >= right.end);
    assert_eq!(
        run.outputs.join().map(String::as_str),
        Some("root/left+root/right")
    );
}

#[tokio::test(start_paused = true)]
async fn max_parallel_steps_bounds_concurrency() {
    let script = || {
        WideStep::ALL
            .iter()
            .fold(Script::default(), |s, step| s.sleep(step.as_str(), ms(10)))
    };
    // The contract says 2.
    let executor = WorkflowExecutor::new(Wide { script: script() });
    let run = executor.run(()).await.expect("wide completes");
    assert_eq!(executor.node().script.peak.load(Ordering::SeqCst), 2);
    assert!(close(Some(run.trace.elapsed), ms(30)), "{}", run.trace);

    for (max, peak, elapsed) in [(Some(3), 3, 20), (Some(0), 1, 60), (None, 6, 10)] {
        let executor =
            WorkflowExecutor::new(Wide { script: script() }).with_max_parallel_steps(max);
        let run = executor.run(()).await.expect("wide completes");
        assert_eq!(
            executor.node().script.peak.load(Ordering::SeqCst),
            peak,
            "{max:?}"
        );
        assert!(
            close(Some(run.trace.elapsed), ms(elapsed)),
            "{max:?}: {}",
            run.trace
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_hanging_step_times_out() {
    let executor = chain(Script::default().hang("c")).with_step_timeout(Some(ms(250)));
    let failure = executor.run(1).await.expect_err("c hangs");
    assert_eq!(failure.error.code(), &ErrorCode::WorkflowStepTimeout);
    assert_eq!(failure.step, Some(ChainStep::C));
    assert_eq!(failure.status, WorkflowStatus::Failed);
    assert!(
        failure.error.message().contains("step `c`"),
        "{}",
        failure.error
    );
    assert!(
        failure.error.message().contains("250ms"),
        "{}",
        failure.error
    );
    assert_eq!(failure.error.context()["step"], "c");
    assert_eq!(
        failure.error.context()["cause"]["error_code"],
        "ONEX_CORE_082_TIMEOUT_EXCEEDED"
    );
    assert_eq!(failure.error.context()["timeout_ms"], 250.0);
    assert_eq!(
        statuses(&failure.trace),
        [
            ("a", "completed"),
            ("b", "completed"),
            ("c", "timed_out"),
            ("d", "not_run")
        ]
    );
    let c = failure.trace.step("c").expect("c traced");
    assert!(close(c.duration(), ms(250)));
    assert_eq!(c.attempts.len(), 1);
    // Completed outputs are kept.
    assert_eq!(failure.outputs.b(), Some(&2));
    assert!(failure.outputs.c().is_none());
    // Every step saw a deadline.
    let contexts = executor
        .node()
        .script
        .contexts
        .lock()
        .map(|c| c.clone())
        .unwrap_or_default();
    assert!(contexts.iter().all(|c| c.has_deadline), "{contexts:?}");
    assert_no_leaks(&executor.node().script);
}

#[tokio::test(start_paused = true)]
async fn the_workflow_timeout_stops_everything() {
    let executor = diamond(Script::default().sleep("left", ms(50)).hang("right"))
        .with_timeout(Some(ms(1_000)));
    let started = Instant::now();
    let failure = executor.run(()).await.expect_err("right hangs");
    assert!(close(Some(started.elapsed()), ms(1_000)));
    assert_eq!(failure.error.code(), &ErrorCode::Timeout);
    assert_eq!(failure.status, WorkflowStatus::TimedOut);
    assert_eq!(failure.step, None);
    let message = failure.error.message();
    assert!(
        message.contains("workflow `diamond` timed out after 1s"),
        "{message}"
    );
    assert!(message.contains("steps in flight: right"), "{message}");
    assert_eq!(failure.error.context()["in_flight"], json!(["right"]));
    assert!(failure.error.correlation_id().is_some());
    assert_eq!(
        statuses(&failure.trace),
        [
            ("root", "completed"),
            ("left", "completed"),
            ("right", "cancelled"),
            ("join", "not_run")
        ]
    );
    assert_eq!(failure.trace.status, WorkflowStatus::TimedOut);
    let right = failure.trace.step("right").expect("right traced");
    assert_eq!(right.attempts.len(), 1);
    assert_eq!(right.attempts[0].outcome.as_str(), "cancelled");
    assert_no_leaks(&executor.node().script);
}

#[tokio::test(start_paused = true)]
async fn retry_backs_off_exponentially_until_the_step_succeeds() {
    let executor =
        chain(Script::default().fail("b", 2)).with_failure_strategy(FailureStrategy::Retry);
    let started = Instant::now();
    let run = executor
        .run(3)
        .await
        .expect("b succeeds on its third attempt");
    // Backoff: 100 ms, then 200 ms (×2).
    assert!(close(Some(started.elapsed()), ms(300)));
    let b = run.trace.step("b").expect("b traced");
    assert_eq!(b.outcome, StepOutcome::Completed);
    assert_eq!(b.attempts.len(), 3);
    let numbers: Vec<u32> = b.attempts.iter().map(|a| a.attempt).collect();
    assert_eq!(numbers, [0, 1, 2]);
    let outcomes: Vec<&str> = b.attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["failed", "failed", "completed"]);
    for (attempt, want) in b.attempts.iter().zip([0, 100, 300]) {
        assert!(close(Some(attempt.start), ms(want)), "{}", run.trace);
    }
    // The attempt number reached the step through its context.
    let contexts = executor
        .node()
        .script
        .contexts
        .lock()
        .map(|c| c.clone())
        .unwrap_or_default();
    let b_attempts: Vec<u32> = contexts
        .iter()
        .filter(|c| c.step == "b")
        .map(|c| c.attempt)
        .collect();
    assert_eq!(b_attempts, [0, 1, 2]);
    assert_eq!(run.outputs.d(), Some(&8));
    assert!(
        run.trace.to_string().contains("retried 2x"),
        "{}",
        run.trace
    );
}

#[tokio::test(start_paused = true)]
async fn retry_also_retries_timeouts_but_not_panics() {
    let executor = chain(Script::default().slow_first("a", ms(500)))
        .with_failure_strategy(FailureStrategy::Retry)
        .with_step_timeout(Some(ms(100)));
    let run = executor.run(1).await.expect("a's second attempt is fast");
    let a = run.trace.step("a").expect("a traced");
    let outcomes: Vec<&str> = a.attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["timed_out", "completed"]);
    assert!(close(Some(a.attempts[1].start), ms(200)), "{}", run.trace);

    let executor =
        chain(Script::default().panic("a")).with_failure_strategy(FailureStrategy::Retry);
    let failure = executor.run(1).await.expect_err("a panics");
    assert_eq!(failure.error.code(), &ErrorCode::HandlerExecution);
    assert_eq!(failure.trace.step("a").map(|a| a.attempts.len()), Some(1));
    assert_no_leaks(&executor.node().script);
}

#[tokio::test(start_paused = true)]
async fn retry_exhausted_fails_the_workflow() {
    let executor =
        chain(Script::default().fail("c", u32::MAX)).with_failure_strategy(FailureStrategy::Retry);
    let failure = executor.run(1).await.expect_err("c always fails");
    assert_eq!(failure.error.code(), &ErrorCode::WorkflowStepFailed);
    assert_eq!(failure.step, Some(ChainStep::C));
    // max_retries = 3: four attempts, 100 + 200 + 400 ms apart.
    let c = failure.trace.step("c").expect("c traced");
    assert_eq!(c.attempts.len(), 4);
    assert!(close(c.duration(), ms(700)), "{}", failure.trace);
    assert_eq!(failure.error.context()["attempts"], 4);
    let message = failure.error.message();
    assert!(
        message.contains("step `c` of workflow `chain` failed after 4 attempts"),
        "{message}"
    );
    assert!(message.contains("c failed on attempt 3"), "{message}");
    assert_eq!(
        failure.error.context()["cause"]["error_code"],
        "ONEX_CORE_081_OPERATION_FAILED"
    );
    assert_eq!(
        failure.error.context()["cause"]["message"],
        "c failed on attempt 3"
    );
    assert_eq!(failure.error.context()["cause"]["context"]["attempt"], 3);
    assert_eq!(
        statuses(&failure.trace),
        [
            ("a", "completed"),
            ("b", "completed"),
            ("c", "failed"),
            ("d", "not_run")
        ]
    );
    assert_no_leaks(&executor.node().script);
}

#[tokio::test(start_paused = true)]
async fn fail_fast_cancels_running_siblings() {
    let executor = diamond(
        Script::default()
            .sleep("left", ms(20))
            .fail("left", 1)
            .hang("right"),
    );
    let failure = executor.run(()).await.expect_err("left fails");
    assert_eq!(failure.error.code(), &ErrorCode::WorkflowStepFailed);
    assert_eq!(failure.step, Some(DiamondStep::Left));
    assert_eq!(failure.error.context()["step"], "left");
    assert_eq!(
        statuses(&failure.trace),
        [
            ("root", "completed"),
            ("left", "failed"),
            ("right", "cancelled"),
            ("join", "not_run")
        ]
    );
    assert!(close(Some(failure.trace.elapsed), ms(20)));
    assert_no_leaks(&executor.node().script);
}

#[tokio::test(start_paused = true)]
async fn continue_skips_dependents_and_runs_the_rest() {
    for mode in [ExecutionMode::Sequential, ExecutionMode::Parallel] {
        let executor = WorkflowExecutor::new(Branches {
            script: Script::default().fail("a", u32::MAX),
        })
        .with_mode(mode);
        let failure = executor.run(()).await.expect_err("a fails");
        assert_eq!(
            failure.error.code(),
            &ErrorCode::WorkflowStepFailed,
            "{mode:?}"
        );
        assert_eq!(failure.step, Some(BranchesStep::A));
        assert_eq!(failure.error.context()["failed_steps"], json!(["a"]));
        let trace = &failure.trace;
        assert_eq!(
            trace.steps_with("completed"),
            ["x", "y"],
            "{mode:?}: {trace}"
        );
        assert_eq!(trace.steps_with("skipped"), ["b", "c"], "{mode:?}: {trace}");
        for id in ["b", "c"] {
            assert_eq!(
                trace.step(id).map(|s| &s.outcome),
                Some(&StepOutcome::Skipped { because: "a" })
            );
        }
        // Started steps first, in start order; unstarted ones last.
        let order: Vec<&str> = trace.steps.iter().map(|s| s.step).collect();
        assert_eq!(order, ["a", "x", "y", "b", "c"], "{mode:?}");
        assert_eq!(failure.outputs.y(), Some(&11));
        assert!(
            !executor
                .node()
                .script
                .log()
                .iter()
                .any(|l| l.ends_with(" b"))
        );
        assert_no_leaks(&executor.node().script);
    }
}

#[tokio::test(start_paused = true)]
async fn compensate_undoes_completed_compensable_steps_newest_first() {
    let executor = chain(Script::default().fail("d", u32::MAX))
        .with_failure_strategy(FailureStrategy::Compensate);
    let failure = executor.run(1).await.expect_err("d fails");
    assert_eq!(failure.error.code(), &ErrorCode::WorkflowStepFailed);
    assert_eq!(failure.step, Some(ChainStep::D));
    let log = executor.node().script.log();
    let compensations: Vec<&str> = log
        .iter()
        .filter(|l| l.starts_with("compensate"))
        .map(String::as_str)
        .collect();
    assert_eq!(compensations, ["compensate c", "compensate a"]);
    let trace = &failure.trace;
    let compensated = |id| {
        trace
            .step(id)
            .and_then(|s| s.compensation.as_ref())
            .map(|c| c.outcome.as_str())
    };
    assert_eq!(compensated("c"), Some("completed"));
    assert_eq!(compensated("a"), Some("completed"));
    assert_eq!(compensated("b"), None, "b is not compensable");
    assert_eq!(compensated("d"), None, "d did not complete");
    assert!(
        trace.to_string().contains("compensation completed"),
        "{trace}"
    );

    // A failing compensation is recorded; the others still run; the error stays d's.
    let executor = chain(
        Script::default()
            .fail("d", u32::MAX)
            .failing_compensation("c"),
    )
    .with_failure_strategy(FailureStrategy::Compensate);
    let failure = executor.run(1).await.expect_err("d fails");
    assert_eq!(failure.step, Some(ChainStep::D));
    let c = failure
        .trace
        .step("c")
        .and_then(|s| s.compensation.clone())
        .expect("c compensated");
    assert_eq!(c.outcome.as_str(), "failed");
    let json = serde_json::to_value(&failure.trace).unwrap_or_default();
    assert_eq!(
        json["steps"][2]["compensation"]["error"]["message"],
        "cannot undo c"
    );
    assert!(
        failure
            .trace
            .step("a")
            .and_then(|s| s.compensation.as_ref())
            .is_some()
    );
    assert_no_leaks(&executor.node().script);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_step_is_a_handler_execution_error() {
    let executor = chain(Script::default().panic("b"));
    let failure = executor.run(1).await.expect_err("b panics");
    assert_eq!(failure.error.code(), &ErrorCode::HandlerExecution);
    assert_eq!(failure.step, Some(ChainStep::B));
    let message = failure.error.message();
    assert!(
        message.contains("step `b` of workflow `chain` panicked: b exploded"),
        "{message}"
    );
    assert_eq!(failure.error.context()["step"], "b");
    assert_eq!(failure.error.context()["panic"], "b exploded");
    assert_eq!(
        failure.trace.step("b").map(|s| &s.outcome),
        Some(&StepOutcome::Panicked {
            message: "b exploded".into()
        })
    );
    // The executor is still usable.
    let again = chain(Script::default())
        .run(2)
        .await
        .expect("a fresh run works");
    assert_eq!(again.outputs.d(), Some(&6));
    assert_no_leaks(&executor.node().script);
}

#[tokio::test]
async fn external_cancellation_returns_promptly() {
    let executor = chain(Script::default().sleep("b", Duration::from_secs(10)));
    let token = CancellationToken::new();
    let correlation_id = Uuid::new_v4();
    let cx = WorkflowContext::new(correlation_id, "chain").with_cancellation(token.clone());
    let started = std::time::Instant::now();
    let (result, ()) = tokio::join!(executor.run_with(7, cx), async {
        tokio::time::sleep(ms(30)).await;
        token.cancel();
    });
    let took = started.elapsed();
    assert!(took < ms(500), "cancellation took {took:?}");
    let failure = result.expect_err("cancelled");
    assert_eq!(failure.error.code(), &ErrorCode::WorkflowFailed);
    assert_eq!(failure.status, WorkflowStatus::Cancelled);
    assert!(
        failure.error.message().contains("cancelled"),
        "{}",
        failure.error
    );
    assert_eq!(failure.error.context()["in_flight"], json!(["b"]));
    assert_eq!(failure.error.correlation_id(), Some(correlation_id));
    assert_eq!(failure.trace.correlation_id, correlation_id);
    assert_eq!(
        statuses(&failure.trace),
        [
            ("a", "completed"),
            ("b", "cancelled"),
            ("c", "not_run"),
            ("d", "not_run")
        ]
    );
    assert_eq!(failure.outputs.a(), Some(&7));
    assert_no_leaks(&executor.node().script);

    // A token cancelled before the run: nothing starts.
    let executor = chain(Script::default());
    let cx = WorkflowContext::new(Uuid::new_v4(), "chain").with_cancellation(token.clone());
    let failure = executor
        .run_with(1, cx)
        .await
        .expect_err("already cancelled");
    assert_eq!(failure.error.code(), &ErrorCode::WorkflowFailed);
    assert_eq!(failure.trace.steps_with("not_run"), ["a", "b", "c", "d"]);
    assert!(executor.node().script.log().is_empty());
}

#[tokio::test(start_paused = true)]
async fn no_step_future_outlives_its_run() {
    // Fail fast with siblings in flight, step timeout, workflow timeout, cancellation.
    let failing = diamond(Script::default().fail("left", 1).hang("right"));
    failing.run(()).await.expect_err("left fails");
    assert_no_leaks(&failing.node().script);

    let timing_out =
        diamond(Script::default().hang("left").hang("right")).with_step_timeout(Some(ms(10)));
    timing_out.run(()).await.expect_err("left and right hang");
    assert_no_leaks(&timing_out.node().script);

    let slow = diamond(Script::default().hang("left").hang("right")).with_timeout(Some(ms(10)));
    slow.run(()).await.expect_err("the workflow times out");
    assert_eq!(slow.node().script.tokens().len(), 3);
    assert_no_leaks(&slow.node().script);

    let token = CancellationToken::new();
    let cancelled = diamond(Script::default().hang("left").hang("right"));
    let cx = WorkflowContext::new(Uuid::new_v4(), "diamond").with_cancellation(token.clone());
    let (result, ()) = tokio::join!(cancelled.run_with((), cx), async {
        tokio::time::sleep(ms(5)).await;
        token.cancel();
    });
    result.expect_err("cancelled");
    assert_no_leaks(&cancelled.node().script);

    // Dropping the run's future drops its steps and cancels their tokens.
    let dropped = diamond(Script::default().hang("left").hang("right"));
    let outcome = tokio::time::timeout(ms(10), dropped.run(())).await;
    assert!(outcome.is_err(), "the run was still going");
    assert_eq!(dropped.node().script.tokens().len(), 3);
    assert_no_leaks(&dropped.node().script);
}

#[tokio::test(start_paused = true)]
async fn steps_see_the_run_context() {
    let executor = chain(Script::default());
    let correlation_id = Uuid::new_v4();
    // The context of another workflow's step (attempt 2), as a nested run would get it.
    let cx = WorkflowContext::new(correlation_id, "outer").for_step("call_chain", 2, None);
    let run = executor.run_with(1, cx).await.expect("completes");
    assert_eq!(run.correlation_id, correlation_id);
    let contexts = executor
        .node()
        .script
        .contexts
        .lock()
        .map(|c| c.clone())
        .unwrap_or_default();
    let seen: Vec<(&str, u32, Uuid, bool, &str)> = contexts
        .iter()
        .map(|c| {
            (
                c.step.as_str(),
                c.attempt,
                c.correlation_id,
                c.has_deadline,
                c.workflow,
            )
        })
        .collect();
    assert_eq!(
        seen,
        ["a", "b", "c", "d"].map(|id| (id, 0, correlation_id, false, "chain"))
    );

    // The caller's deadline reaches the steps, and bounds the run.
    let executor = chain(Script::default().sleep("b", Duration::from_secs(5)));
    let deadline = Instant::now() + ms(500);
    let cx = WorkflowContext::new(correlation_id, "chain").with_deadline(deadline);
    let failure = executor
        .run_with(1, cx)
        .await
        .expect_err("b outlives the deadline");
    assert_eq!(failure.error.code(), &ErrorCode::Timeout);
    assert_eq!(failure.error.context()["in_flight"], json!(["b"]));
    let contexts = executor
        .node()
        .script
        .contexts
        .lock()
        .map(|c| c.clone())
        .unwrap_or_default();
    assert!(contexts.iter().all(|c| c.has_deadline), "{contexts:?}");
    assert_no_leaks(&executor.node().script);
}

#[tokio::test(start_paused = true)]
async fn trace_serializes_and_displays() {
    let executor = chain(Script::default().sleep("a", ms(5)).fail("c", u32::MAX));
    let failure = executor.run(1).await.expect_err("c fails");
    let json = serde_json::to_value(&failure.trace).unwrap_or_default();
    assert_eq!(json["workflow"], "chain");
    assert_eq!(json["status"], "failed");
    assert_eq!(json["steps"][0]["step"], "a");
    assert_eq!(json["steps"][0]["status"], "completed");
    assert_eq!(json["steps"][0]["start_ms"], 0.0);
    assert_eq!(json["steps"][0]["end_ms"], 5.0);
    assert_eq!(json["steps"][2]["status"], "failed");
    assert_eq!(
        json["steps"][2]["error"]["error_code"],
        "ONEX_CORE_081_OPERATION_FAILED"
    );
    assert_eq!(json["steps"][3]["status"], "not_run");
    assert_eq!(json["steps"][3]["start_ms"], Value::Null);
    let text = failure.trace.to_string();
    assert!(
        text.starts_with("workflow `chain` failed in 5.000 ms"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 6, "{text}");
    assert!(
        text.contains("ONEX_CORE_081_OPERATION_FAILED: c failed on attempt 0"),
        "{text}"
    );

    // The failure as an OnexError carries the step, trace and outputs.
    let error = onex_runtime::OnexError::from(failure);
    assert_eq!(error.code(), &ErrorCode::WorkflowStepFailed);
    assert_eq!(error.context()["step"], "c");
    assert_eq!(error.context()["status"], "failed");
    assert_eq!(error.context()["trace"]["steps"][2]["status"], "failed");
    assert_eq!(error.context()["outputs"], json!({"a": 1, "b": 2}));
}

#[tokio::test(start_paused = true)]
async fn process_json_runs_an_envelope_and_replies_with_a_report() {
    let executor = chain(Script::default());
    let correlation_id = Uuid::new_v4();
    let request = format!(
        r#"{{"payload": 4, "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
            "correlation_id": "{correlation_id}", "source_tool": "caller"}}"#
    );
    let reply = executor
        .process_json(request.as_bytes())
        .await
        .expect("processes");
    assert_eq!(reply.correlation_id, Some(correlation_id));
    assert_eq!(
        reply.causation_id(),
        Uuid::parse_str("2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80").ok()
    );
    assert_eq!(reply.target_tool.as_deref(), Some("caller"));
    assert_eq!(reply.payload_type.as_deref(), Some("WorkflowReport"));
    assert_eq!(reply.payload["workflow"], "chain");
    assert_eq!(reply.payload["status"], "completed");
    assert_eq!(reply.payload["correlation_id"], correlation_id.to_string());
    assert_eq!(
        reply.payload["outputs"],
        json!({"a": 4, "b": 8, "c": 9, "d": 10})
    );
    assert_eq!(reply.payload["trace"]["steps"][3]["status"], "completed");

    // Typed envelopes too.
    let typed = executor.process(Envelope::new(1)).await.expect("processes");
    assert_eq!(typed.payload.outputs["d"], 4);

    // A unit input accepts `{}` as well as `null`.
    let unit = diamond(Script::default());
    for payload in ["{}", "null"] {
        let request = format!(r#"{{"payload": {payload}}}"#);
        let reply = unit
            .process_json(request.as_bytes())
            .await
            .expect("processes");
        assert_eq!(reply.payload["outputs"]["join"], "root/left+root/right");
    }

    // A failed run is an OnexError with the step and the trace.
    let failing = chain(Script::default().fail("b", u32::MAX));
    let request = format!(r#"{{"payload": 4, "correlation_id": "{correlation_id}"}}"#);
    let error = failing
        .process_json(request.as_bytes())
        .await
        .expect_err("b fails");
    assert_eq!(error.code(), &ErrorCode::WorkflowStepFailed);
    assert_eq!(error.correlation_id(), Some(correlation_id));
    assert_eq!(error.context()["step"], "b");
    assert_eq!(error.context()["trace"]["steps"][1]["status"], "failed");
}

#[tokio::test(start_paused = true)]
async fn process_json_rejects_malformed_envelopes_with_typed_errors() {
    let executor = chain(Script::default());
    let correlation_id = Uuid::new_v4();
    let cases: [&[u8]; 6] = [
        b"{not json",
        b"",
        b"[1, 2]",
        br#"{"payload": "four"}"#,
        br#"{"payload": {"n": 4}}"#,
        br#"{"payload": 4, "envelope_id": "nope"}"#,
    ];
    for bytes in cases {
        let error = executor.process_json(bytes).await.expect_err("malformed");
        assert_eq!(
            error.code(),
            &ErrorCode::InvalidInput,
            "{}: {error}",
            String::from_utf8_lossy(bytes)
        );
    }
    let wrong = format!(r#"{{"payload": "four", "correlation_id": "{correlation_id}"}}"#);
    let error = executor
        .process_json(wrong.as_bytes())
        .await
        .expect_err("wrong shape");
    assert_eq!(error.code(), &ErrorCode::InvalidInput);
    assert_eq!(error.correlation_id(), Some(correlation_id));
    assert!(error.message().contains("workflow `chain`"), "{error}");
    assert!(executor.node().script.log().is_empty(), "no step ran");
}

#[tokio::test(start_paused = true)]
async fn spans_name_the_workflow_step_and_attempt() {
    // A global subscriber (a thread-local one races with tracing's per-callsite interest
    // cache while other tests run); spans of other tests are told apart by correlation id.
    let seen = spans::global();
    let executor =
        chain(Script::default().fail("b", 1)).with_failure_strategy(FailureStrategy::Retry);
    let run = executor.run(1).await.expect("b succeeds on retry");
    let id = run.correlation_id.to_string();
    let spans: Vec<spans::Span> = seen
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|s| s.fields.get("correlation_id") == Some(&id))
        .collect();
    let root: Vec<&spans::Span> = spans.iter().filter(|s| s.name == "onex.workflow").collect();
    assert_eq!(root.len(), 1, "{spans:?}");
    assert_eq!(root[0].fields["workflow"], "chain");
    assert_eq!(root[0].fields["mode"], "sequential");
    let steps: Vec<(&str, &str)> = spans
        .iter()
        .filter(|s| s.name == "onex.workflow.step")
        .map(|s| {
            assert_eq!(s.parent, Some("onex.workflow"), "{s:?}");
            assert_eq!(s.fields["workflow"], "chain");
            (s.fields["step"].as_str(), s.fields["attempt"].as_str())
        })
        .collect();
    assert_eq!(
        steps,
        [("a", "0"), ("b", "0"), ("b", "1"), ("c", "0"), ("d", "0")]
    );
}

/// A minimal `tracing` subscriber recording span names, fields and parents.
mod spans {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::fmt;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex, OnceLock};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    #[derive(Clone, Debug)]
    pub struct Span {
        pub name: &'static str,
        pub parent: Option<&'static str>,
        pub fields: HashMap<&'static str, String>,
    }

    pub struct Capture {
        next: AtomicU64,
        names: Mutex<HashMap<u64, &'static str>>,
        seen: Arc<Mutex<Vec<Span>>>,
    }

    thread_local! {
        /// The spans entered on this thread.
        static STACK: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
    }

    /// Installs the capturing subscriber as the global default (once) and returns what it saw.
    pub fn global() -> Arc<Mutex<Vec<Span>>> {
        static SEEN: OnceLock<Arc<Mutex<Vec<Span>>>> = OnceLock::new();
        Arc::clone(SEEN.get_or_init(|| {
            let (capture, seen) = Capture::new();
            let installed = tracing::subscriber::set_global_default(capture);
            assert!(installed.is_ok(), "no other global subscriber");
            seen
        }))
    }

    impl Capture {
        pub fn new() -> (Self, Arc<Mutex<Vec<Span>>>) {
            let seen = Arc::new(Mutex::new(Vec::new()));
            let capture = Capture {
                next: AtomicU64::new(1),
                names: Mutex::new(HashMap::new()),
                seen: Arc::clone(&seen),
            };
            (capture, seen)
        }
    }

    struct Fields<'a>(&'a mut HashMap<&'static str, String>);

    impl Visit for Fields<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            self.0.insert(field.name(), format!("{value:?}"));
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.insert(field.name(), value.to_owned());
        }
    }

    impl Subscriber for Capture {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, attrs: &Attributes<'_>) -> Id {
            let id = self.next.fetch_add(1, Ordering::SeqCst);
            let name = attrs.metadata().name();
            let names = self.names.lock().map(|n| n.clone()).unwrap_or_default();
            let parent = match attrs.parent() {
                Some(p) => names.get(&p.into_u64()).copied(),
                None if attrs.is_contextual() => STACK
                    .with(|s| s.borrow().last().copied())
                    .and_then(|p| names.get(&p).copied()),
                None => None,
            };
            let mut fields = HashMap::new();
            attrs.record(&mut Fields(&mut fields));
            if let Ok(mut n) = self.names.lock() {
                n.insert(id, name);
            }
            if let Ok(mut seen) = self.seen.lock() {
                seen.push(Span {
                    name,
                    parent,
                    fields,
                });
            }
            Id::from_u64(id)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, _: &Event<'_>) {}
        fn enter(&self, id: &Id) {
            STACK.with(|s| s.borrow_mut().push(id.into_u64()));
        }
        fn exit(&self, id: &Id) {
            STACK.with(|s| {
                let mut s = s.borrow_mut();
                if let Some(pos) = s.iter().rposition(|x| *x == id.into_u64()) {
                    s.remove(pos);
                }
            });
        }
    }
}
