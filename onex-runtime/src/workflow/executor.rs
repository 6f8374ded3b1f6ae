//! [`WorkflowExecutor`]: runs an [`OrchestratorNode`]'s compile-time plan.
//!
//! # What a run does
//!
//! - **Order.** [`ExecutionMode::Sequential`] and [`ExecutionMode::Batch`] run the plan's
//!   `order` one step at a time. [`ExecutionMode::Parallel`] runs its `waves` in order: the
//!   steps of a wave run concurrently, at most `max_parallel_steps` at once (all of the wave
//!   when unset; `Some(0)` counts as 1), and the next wave starts when the whole wave is done.
//! - **No tasks.** Steps are futures polled by the run's own future (a
//!   [`FuturesUnordered`]); nothing is spawned. Dropping the run's future drops every step
//!   in flight and cancels their [`WorkflowContext`] tokens, so no step outlives its run.
//! - **Attempts.** Each attempt of a step gets
//!   [`cx.for_step(id, attempt, deadline)`](WorkflowContext::for_step), runs under the step
//!   timeout, and has its panics caught (an [`ErrorCode::HandlerExecution`] error naming the
//!   step and the panic message). It runs in a `tracing` span `onex.workflow.step` (fields
//!   `workflow`, `step`, `correlation_id`, `attempt`) inside the run's span `onex.workflow`.
//! - **Failures** follow the rules' [`FailureStrategy`]: see its variants, and
//!   [`WorkflowExecutor::run_with`] for the errors.
//! - **Trace.** Every run, successful or not, returns a [`WorkflowTrace`].

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::Utc;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use super::trace::{
    AttemptOutcome, AttemptTrace, CompensationTrace, StepOutcome, StepTrace, WorkflowStatus,
    WorkflowTrace,
};
use super::{
    CoordinationRules, ExecutionMode, FailureStrategy, OrchestratorNode, StepOutputs,
    WorkflowContext, WorkflowPlan, WorkflowStep,
};
use crate::envelope::Envelope;
use crate::error::{ErrorCode, OnexError};
use crate::retry::RetryPolicy;

/// Runs the workflow of an [`OrchestratorNode`]: waves, bounded parallelism, timeouts,
/// retries, the failure strategy, compensation, and a per-step trace.
///
/// The rules start as the contract's (`N::PLAN.rules`); the `with_…` methods override them.
/// The executor holds the node in an [`Arc`] and is cheap to clone; one executor can run
/// any number of workflows at once.
///
/// ```
/// # use std::sync::OnceLock;
/// # use std::time::Duration;
/// # use onex_runtime::workflow::{
/// #     BoxFuture, CoordinationRules, ExecutionMode, FailureStrategy, StepInfo, StepOutputs,
/// #     WorkflowContext, WorkflowExecutor, WorkflowPlan, WorkflowStep,
/// # };
/// # use onex_runtime::{ContractInfo, NodeKind, OnexError, OrchestratorNode, RoutingStrategy, Version};
/// # #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
/// # enum Step { Fetch, Double }
/// # impl std::fmt::Display for Step {
/// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.pad(self.as_str()) }
/// # }
/// # impl WorkflowStep for Step {
/// #     const ALL: &'static [Self] = &[Step::Fetch, Step::Double];
/// #     fn index(self) -> usize { self as usize }
/// #     fn as_str(self) -> &'static str { match self { Step::Fetch => "fetch", Step::Double => "double" } }
/// # }
/// # #[derive(Default)]
/// # struct Outputs { fetch: OnceLock<u32>, double: OnceLock<u32> }
/// # impl StepOutputs for Outputs {
/// #     type Step = Step;
/// #     fn is_done(&self, step: Step) -> bool {
/// #         match step { Step::Fetch => self.fetch.get().is_some(), Step::Double => self.double.get().is_some() }
/// #     }
/// #     fn to_json(&self, step: Step) -> Option<Result<serde_json::Value, OnexError>> {
/// #         match step { Step::Fetch => self.fetch.get(), Step::Double => self.double.get() }.map(|v| Ok((*v).into()))
/// #     }
/// # }
/// # struct Doubler;
/// # const V1: Version = Version { major: 1, minor: 0, patch: 0 };
/// # impl OrchestratorNode for Doubler {
/// #     type Step = Step;
/// #     type Input = u32;
/// #     type Outputs = Outputs;
/// #     const CONTRACT: &'static ContractInfo = &ContractInfo {
/// #         name: "doubler", kind: NodeKind::Orchestrator, node_type: "ORCHESTRATOR_GENERIC",
/// #         contract_version: V1, node_version: V1, description: "", fingerprint: "1.0.0:000000000000",
/// #         declared_fingerprint: None, routing: RoutingStrategy::Single, operations: &[],
/// #         subscribe_topics: &[], publish_topics: &[], dlq_topics: &[],
/// #     };
/// #     const PLAN: &'static WorkflowPlan<Step> = &WorkflowPlan {
/// #         name: "doubler",
/// #         steps: &[
/// #             StepInfo { step: Step::Fetch, id: "fetch", node_type: "effect", kind: NodeKind::Effect,
/// #                        depends_on: &[], dependents: &[Step::Double], compensable: false, description: "" },
/// #             StepInfo { step: Step::Double, id: "double", node_type: "compute", kind: NodeKind::Compute,
/// #                        depends_on: &[Step::Fetch], dependents: &[], compensable: false, description: "" },
/// #         ],
/// #         order: &[Step::Fetch, Step::Double],
/// #         waves: &[&[Step::Fetch], &[Step::Double]],
/// #         rules: CoordinationRules {
/// #             mode: ExecutionMode::Sequential, max_parallel_steps: None,
/// #             failure_strategy: FailureStrategy::FailFast, max_retries: 0,
/// #             retry_backoff: Duration::ZERO, retry_backoff_multiplier: 1.0,
/// #             step_timeout: None, timeout: None,
/// #         },
/// #     };
/// #     fn run_step<'a>(&'a self, step: Step, input: &'a u32, outputs: &'a Outputs, _cx: &'a WorkflowContext)
/// #         -> BoxFuture<'a, Result<(), OnexError>> {
/// #         let stored = |_| OnexError::internal("stored twice");
/// #         match step {
/// #             Step::Fetch => Box::pin(async move { outputs.fetch.set(*input).map_err(stored) }),
/// #             Step::Double => Box::pin(async move {
/// #                 let fetched = outputs.fetch.get().copied().unwrap_or_default();
/// #                 if fetched == 0 { return Err(OnexError::validation("nothing to double")); }
/// #                 outputs.double.set(fetched * 2).map_err(stored)
/// #             }),
/// #         }
/// #     }
/// #     fn compensate_step<'a>(&'a self, _: Step, _: &'a u32, _: &'a Outputs, _: &'a WorkflowContext)
/// #         -> BoxFuture<'a, Result<(), OnexError>> {
/// #         Box::pin(async { Ok(()) })
/// #     }
/// # }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// // `Doubler` is an `#[orchestrator_node]` (written out by hand here): `fetch` stores the
/// // input, `double` (which depends on it) doubles it.
/// let executor = WorkflowExecutor::new(Doubler).with_step_timeout(Some(Duration::from_secs(5)));
///
/// let run = executor.run(21).await.unwrap();
/// assert_eq!(run.outputs.double.get(), Some(&42));
/// assert_eq!(run.trace.steps_with("completed"), ["fetch", "double"]);
/// println!("{}", run.trace); // a timeline table
///
/// // A failing step ends the run (fail fast); the trace says what happened to every step.
/// let failure = executor.run(0).await.unwrap_err();
/// assert_eq!(failure.error.code().as_str(), "ONEX_CORE_312_ORCHESTRATOR_EXEC_STEP_FAILED");
/// assert_eq!(failure.step, Some(Step::Double));
/// assert_eq!(failure.trace.steps_with("failed"), ["double"]);
/// assert_eq!(failure.outputs.fetch.get(), Some(&0)); // what completed is kept
///
/// // Envelopes in, a JSON report out.
/// let reply = executor
///     .process_json(br#"{"payload": 5, "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80"}"#)
///     .await
///     .unwrap();
/// assert_eq!(reply.payload["status"], "completed");
/// assert_eq!(reply.payload["outputs"]["double"], 10);
/// # }
/// ```
pub struct WorkflowExecutor<N: OrchestratorNode> {
    node: Arc<N>,
    rules: CoordinationRules,
}

impl<N: OrchestratorNode> Clone for WorkflowExecutor<N> {
    fn clone(&self) -> Self {
        WorkflowExecutor {
            node: Arc::clone(&self.node),
            rules: self.rules,
        }
    }
}

impl<N: OrchestratorNode> fmt::Debug for WorkflowExecutor<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowExecutor")
            .field("workflow", &N::PLAN.name)
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

/// A successful run: every step completed.
pub struct WorkflowRun<N: OrchestratorNode> {
    /// What the steps produced.
    pub outputs: N::Outputs,
    /// What each step did, and when.
    pub trace: WorkflowTrace,
    /// The run's correlation id.
    pub correlation_id: Uuid,
}

/// A run that did not complete: a step failed, the workflow timed out, or it was cancelled.
///
/// Carries what the completed steps produced and the trace of every step. Converts into an
/// [`OnexError`] (with [`into_error`](WorkflowFailure::into_error) or `?`) that carries the
/// step, trace and outputs as JSON in its context.
pub struct WorkflowFailure<N: OrchestratorNode> {
    /// Why the run stopped (see [`WorkflowExecutor::run_with`] for the codes).
    pub error: OnexError,
    /// How the run ended ([`WorkflowStatus::Failed`], [`TimedOut`](WorkflowStatus::TimedOut)
    /// or [`Cancelled`](WorkflowStatus::Cancelled)).
    pub status: WorkflowStatus,
    /// The step whose failure stopped the run (the first to fail under
    /// [`FailureStrategy::Continue`]); `None` for a timeout or a cancellation.
    pub step: Option<N::Step>,
    /// What the completed steps produced.
    pub outputs: N::Outputs,
    /// What each step did, and when.
    pub trace: WorkflowTrace,
}

/// The payload of a workflow's reply envelope, and the JSON form of a run.
///
/// ```json
/// {"workflow": "order_pipeline", "status": "completed", "correlation_id": "…",
///  "outputs": {"validate": {…}, "charge": {…}}, "trace": {…}}
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkflowReport {
    /// `workflow_metadata.workflow_name`.
    pub workflow: &'static str,
    /// How the run ended.
    pub status: WorkflowStatus,
    /// The run's correlation id.
    pub correlation_id: Uuid,
    /// The output of every completed step as JSON, by `node_id`.
    pub outputs: BTreeMap<&'static str, Value>,
    /// What each step did, and when.
    pub trace: WorkflowTrace,
}

impl<N: OrchestratorNode> fmt::Debug for WorkflowRun<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowRun")
            .field("correlation_id", &self.correlation_id)
            .field("trace", &self.trace)
            .finish_non_exhaustive()
    }
}

impl<N: OrchestratorNode> WorkflowRun<N> {
    /// The run as a [`WorkflowReport`] (fails only if an output cannot be serialized).
    pub fn report(&self) -> Result<WorkflowReport, OnexError> {
        Ok(WorkflowReport {
            workflow: N::PLAN.name,
            status: self.trace.status,
            correlation_id: self.correlation_id,
            outputs: outputs_json::<N>(&self.outputs)
                .map_err(|e| e.with_correlation_id(self.correlation_id))?,
            trace: self.trace.clone(),
        })
    }
}

impl<N: OrchestratorNode> fmt::Debug for WorkflowFailure<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowFailure")
            .field("error", &self.error)
            .field("status", &self.status)
            .field("step", &self.step)
            .field("trace", &self.trace)
            .finish_non_exhaustive()
    }
}

impl<N: OrchestratorNode> fmt::Display for WorkflowFailure<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<N: OrchestratorNode> std::error::Error for WorkflowFailure<N> {}

impl<N: OrchestratorNode> WorkflowFailure<N> {
    /// The failure as a [`WorkflowReport`] (outputs that cannot be serialized are left out).
    pub fn report(&self) -> WorkflowReport {
        WorkflowReport {
            workflow: N::PLAN.name,
            status: self.status,
            correlation_id: self.trace.correlation_id,
            outputs: outputs_lossy::<N>(&self.outputs),
            trace: self.trace.clone(),
        }
    }

    /// The error, with the failed step (`step`), the run's `status`, its `trace` and the
    /// completed steps' `outputs` added to its context as JSON.
    pub fn into_error(self) -> OnexError {
        let mut error = self.error.with_context("status", self.status.as_str());
        if let Some(step) = self.step {
            error = error.with_context("step", step.as_str());
        }
        if let Ok(trace) = self.trace.to_json() {
            error = error.with_context("trace", trace);
        }
        let outputs: serde_json::Map<String, Value> = outputs_lossy::<N>(&self.outputs)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        error.with_context("outputs", Value::Object(outputs))
    }
}

impl<N: OrchestratorNode> From<WorkflowFailure<N>> for OnexError {
    fn from(failure: WorkflowFailure<N>) -> Self {
        failure.into_error()
    }
}

/// The completed outputs as JSON; an output that cannot be serialized is an error.
fn outputs_json<N: OrchestratorNode>(
    outputs: &N::Outputs,
) -> Result<BTreeMap<&'static str, Value>, OnexError> {
    let mut map = BTreeMap::new();
    for &step in <N::Step as WorkflowStep>::ALL {
        if let Some(value) = outputs.to_json(step) {
            let value = value.map_err(|e| e.with_context("step", step.as_str()))?;
            map.insert(step.as_str(), value);
        }
    }
    Ok(map)
}

/// The completed outputs as JSON, leaving out those that cannot be serialized.
fn outputs_lossy<N: OrchestratorNode>(outputs: &N::Outputs) -> BTreeMap<&'static str, Value> {
    <N::Step as WorkflowStep>::ALL
        .iter()
        .filter_map(|&step| Some((step.as_str(), outputs.to_json(step)?.ok()?)))
        .collect()
}

impl<N: OrchestratorNode> WorkflowExecutor<N> {
    /// An executor for `node` with the contract's rules.
    pub fn new(node: N) -> Self {
        Self::from_arc(Arc::new(node))
    }

    /// An executor for a shared node with the contract's rules.
    pub fn from_arc(node: Arc<N>) -> Self {
        WorkflowExecutor {
            node,
            rules: N::PLAN.rules,
        }
    }

    /// The node.
    pub fn node(&self) -> &N {
        &self.node
    }

    /// The compile-time plan.
    pub fn plan(&self) -> &'static WorkflowPlan<N::Step> {
        N::PLAN
    }

    /// The rules in force (the contract's, with any overrides).
    pub fn rules(&self) -> &CoordinationRules {
        &self.rules
    }

    /// Replaces all rules.
    #[must_use]
    pub fn with_rules(mut self, rules: CoordinationRules) -> Self {
        self.rules = rules;
        self
    }

    /// Overrides the execution mode.
    #[must_use]
    pub fn with_mode(mut self, mode: ExecutionMode) -> Self {
        self.rules.mode = mode;
        self
    }

    /// Overrides `max_parallel_steps` (`None`: a whole wave at once).
    #[must_use]
    pub fn with_max_parallel_steps(mut self, max: Option<u32>) -> Self {
        self.rules.max_parallel_steps = max;
        self
    }

    /// Overrides the time limit of one attempt of one step (`None`: no limit).
    #[must_use]
    pub fn with_step_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.rules.step_timeout = timeout;
        self
    }

    /// Overrides the time limit of the whole workflow (`None`: no limit).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.rules.timeout = timeout;
        self
    }

    /// Overrides the failure strategy.
    #[must_use]
    pub fn with_failure_strategy(mut self, strategy: FailureStrategy) -> Self {
        self.rules.failure_strategy = strategy;
        self
    }

    /// The retry policy of [`FailureStrategy::Retry`] under the rules in force.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy::from_rules(&self.rules)
    }

    /// Runs the workflow with a new correlation id (see [`run_with`](Self::run_with)).
    pub async fn run(&self, input: N::Input) -> Result<WorkflowRun<N>, WorkflowFailure<N>> {
        self.run_with(input, WorkflowContext::new(Uuid::new_v4(), N::PLAN.name))
            .await
    }

    /// Runs the workflow under the caller's context: its correlation id, its deadline (the
    /// earlier of it and the workflow timeout applies) and its cancellation token (cancelling
    /// it cancels the run; the run never cancels it). Its workflow name, step and attempt are
    /// not used: a workflow run from another workflow's step passes that step's context, and
    /// its own steps see their own names.
    ///
    /// # Errors
    ///
    /// Every error carries the run's correlation id; step failures also name the step
    /// (context key `step`) and its own error (`cause`: `error_code`, `message` and, if
    /// any, `context`).
    ///
    /// | what happened | code |
    /// |---|---|
    /// | a step returned an error | [`ErrorCode::WorkflowStepFailed`] |
    /// | a step ran past the step timeout | [`ErrorCode::WorkflowStepTimeout`] |
    /// | a step panicked | [`ErrorCode::HandlerExecution`] (context `panic`) |
    /// | the workflow ran past its timeout or the caller's deadline | [`ErrorCode::Timeout`] (context `in_flight`) |
    /// | the caller cancelled the token | [`ErrorCode::WorkflowFailed`] (context `in_flight`) |
    ///
    /// Under [`FailureStrategy::Continue`] the error is the first step failure's, with every
    /// failed step in `failed_steps`. When the run stops, the steps in flight are dropped and
    /// their tokens cancelled (`Cancelled` in the trace) and the steps not started are
    /// `NotRun`. Under [`FailureStrategy::Compensate`], a step failure or a workflow timeout
    /// then runs the compensation of every completed `compensable` step, most recently
    /// completed first, each under the step timeout with a fresh context (no workflow
    /// deadline; cancelled with the caller's token), and records each result in the trace;
    /// a cancellation by the caller skips compensation.
    ///
    /// # Runtime
    ///
    /// Steps run inside this future: nothing is spawned. Timeouts and retry waits use tokio's
    /// timer, so a run that has them must be polled inside a tokio runtime with the time
    /// driver (without a runtime the run fails with [`ErrorCode::Internal`]).
    pub async fn run_with(
        &self,
        input: N::Input,
        cx: WorkflowContext,
    ) -> Result<WorkflowRun<N>, WorkflowFailure<N>> {
        let span = tracing::info_span!(
            "onex.workflow",
            workflow = N::PLAN.name,
            correlation_id = %cx.correlation_id(),
            mode = self.rules.mode.as_str(),
        );
        self.execute(&input, cx).instrument(span).await
    }

    /// Processes a workflow request envelope: validates the input
    /// ([`OrchestratorNode::validate_input`]: the contract's constraints, a
    /// [`ErrorCode::Validation`] error before any step runs), runs the workflow with it,
    /// under its correlation id (its `envelope_id` when it has none) and its
    /// `timeout_seconds` as a deadline, and replies with a [`WorkflowReport`] that keeps the
    /// correlation id and records the request as its cause. A failed run is its error
    /// converted with [`WorkflowFailure::into_error`] (step, trace and outputs in its
    /// context).
    pub async fn process(
        &self,
        envelope: Envelope<N::Input>,
    ) -> Result<Envelope<WorkflowReport>, OnexError> {
        let correlation_id = crate::node::correlation_id(&envelope);
        let mut cx = WorkflowContext::new(correlation_id, N::PLAN.name);
        if let Some(deadline) = envelope
            .timeout_seconds
            .and_then(|secs| Instant::now().checked_add(Duration::from_secs(u64::from(secs))))
        {
            cx = cx.with_deadline(deadline);
        }
        let (input, request) = envelope.take_payload();
        N::validate_input(&input).map_err(|e| e.with_correlation_id(correlation_id))?;
        let run = self.run_with(input, cx).await?;
        let mut reply = request.reply(run.report()?);
        reply.payload_type = Some("WorkflowReport".to_owned());
        Ok(reply)
    }

    /// Decodes a JSON envelope whose payload is the workflow input, processes it as
    /// [`process`](Self::process) does and encodes the reply as a JSON envelope.
    ///
    /// Malformed JSON and a payload that does not fit `N::Input` are
    /// [`ErrorCode::InvalidInput`] errors (an empty object is also tried as `null`, so a
    /// workflow without input accepts `{}`); errors carry the envelope's correlation id when
    /// it could be read.
    pub async fn process_json(&self, json: &[u8]) -> Result<Envelope<Value>, OnexError>
    where
        N::Input: DeserializeOwned,
    {
        let typed = crate::node::decode_envelope_with(json, |_, payload| {
            decode_input::<N::Input>(N::PLAN.name, payload)
        })?;
        let reply = self.process(typed).await?;
        let correlation_id = reply.correlation_id;
        reply.try_map_payload(|_, report| {
            serde_json::to_value(&report).map_err(|e| {
                let err = OnexError::internal(format!("cannot encode the workflow report: {e}"));
                match correlation_id {
                    Some(id) => err.with_correlation_id(id),
                    None => err,
                }
            })
        })
    }

    /// The run, inside the run span.
    async fn execute(
        &self,
        input: &N::Input,
        cx: WorkflowContext,
    ) -> Result<WorkflowRun<N>, WorkflowFailure<N>> {
        let plan = N::PLAN;
        let rules = self.rules;
        let origin = Instant::now();
        let started_at = Utc::now();
        let correlation_id = cx.correlation_id();
        let caller = cx.cancellation_token().clone();
        // The run's token: cancelled when the run stops early, ends or is dropped (so the
        // steps' child tokens fire); never the caller's own token.
        let run_token = caller.child_token();
        let _cancel_on_exit = run_token.clone().drop_guard();
        // The caller's correlation id and deadline, this workflow's name (the caller's
        // context may be another workflow's step), the run's token.
        let mut run_cx =
            WorkflowContext::new(correlation_id, plan.name).with_cancellation(run_token.clone());
        let deadlines = [
            cx.deadline(),
            rules.timeout.and_then(|t| origin.checked_add(t)),
        ];
        for deadline in deadlines.into_iter().flatten() {
            run_cx = run_cx.with_deadline(deadline);
        }
        let deadline = run_cx.deadline();
        let outputs = N::Outputs::default();
        let rec = Recorder::new(origin, plan);

        let stop = if caller.is_cancelled() {
            Some(Stop::Cancelled)
        } else if self.needs_timer(deadline.is_some())
            && tokio::runtime::Handle::try_current().is_err()
        {
            Some(Stop::NoRuntime)
        } else {
            self.schedule(input, &outputs, &run_cx, &rec, &caller, deadline)
                .await
        };

        // Everything in flight was dropped with the scheduler; cancel their tokens too.
        run_token.cancel();
        let in_flight = rec.stop_in_flight();
        rec.mark_not_run();

        let stop = match stop {
            Some(stop) => stop,
            None => match rec.first_failure() {
                None => {
                    let trace =
                        rec.into_trace(correlation_id, WorkflowStatus::Completed, started_at);
                    tracing::debug!(elapsed = ?trace.elapsed, "workflow completed");
                    return Ok(WorkflowRun {
                        outputs,
                        trace,
                        correlation_id,
                    });
                }
                Some((step, failure)) => Stop::Failed(step, failure),
            },
        };

        if rules.failure_strategy == FailureStrategy::Compensate
            && matches!(stop, Stop::Failed(..) | Stop::TimedOut)
        {
            self.compensate(input, &outputs, correlation_id, &caller, &rec)
                .await;
        }

        let (error, status, step) = match stop {
            Stop::Failed(step, failure) => {
                let attempts = rec.attempts(step);
                let mut error = step_error(plan.name, step.as_str(), &failure, attempts);
                if rules.failure_strategy == FailureStrategy::Continue {
                    error = error.with_context("failed_steps", rec.failed_steps());
                }
                (error, WorkflowStatus::Failed, Some(step))
            }
            Stop::TimedOut => {
                let limit = deadline.map(|d| d.saturating_duration_since(origin));
                let message = format!(
                    "workflow `{}` timed out{}; steps in flight: {}",
                    plan.name,
                    limit.map_or_else(String::new, |l| format!(" after {l:?}")),
                    list(&in_flight),
                );
                let mut error = OnexError::timeout(message)
                    .with_context("workflow", plan.name)
                    .with_context("in_flight", in_flight);
                if let Some(limit) = limit {
                    error = error.with_context("timeout_ms", millis(limit));
                }
                (error, WorkflowStatus::TimedOut, None)
            }
            Stop::Cancelled => {
                let message = format!(
                    "workflow `{}` was cancelled; steps in flight: {}",
                    plan.name,
                    list(&in_flight),
                );
                let error = OnexError::new(ErrorCode::WorkflowFailed, message)
                    .with_context("workflow", plan.name)
                    .with_context("in_flight", in_flight);
                (error, WorkflowStatus::Cancelled, None)
            }
            Stop::NoRuntime => {
                let error = OnexError::internal(format!(
                    "workflow `{}` has timeouts or retries, which need a tokio runtime with \
                     timers, and none is running",
                    plan.name
                ))
                .with_context("workflow", plan.name);
                (error, WorkflowStatus::Failed, None)
            }
        };
        let error = error.with_correlation_id(correlation_id);
        tracing::warn!(error = %error, "workflow stopped");
        Err(WorkflowFailure {
            error,
            status,
            step,
            outputs,
            trace: rec.into_trace(correlation_id, status, started_at),
        })
    }

    /// True when a run with these rules may use tokio's timer.
    fn needs_timer(&self, has_deadline: bool) -> bool {
        has_deadline || self.rules.step_timeout.is_some() || self.retries()
    }

    /// True when failed steps are retried (the `retry` strategy with retries left).
    fn retries(&self) -> bool {
        self.rules.failure_strategy == FailureStrategy::Retry && self.rules.max_retries > 0
    }

    /// Runs the waves until they are done (`None`) or the run must stop.
    async fn schedule(
        &self,
        input: &N::Input,
        outputs: &N::Outputs,
        cx: &WorkflowContext,
        rec: &Recorder<N::Step>,
        caller: &CancellationToken,
        deadline: Option<Instant>,
    ) -> Option<Stop<N::Step>> {
        let plan = N::PLAN;
        let (waves, limit): (&[&'static [N::Step]], usize) = match self.rules.mode {
            ExecutionMode::Sequential | ExecutionMode::Batch => {
                (std::slice::from_ref(&plan.order), 1)
            }
            ExecutionMode::Parallel => (
                plan.waves,
                self.rules.max_parallel_steps.map_or(usize::MAX, |n| {
                    usize::try_from(n.max(1)).unwrap_or(usize::MAX)
                }),
            ),
        };
        let continue_on_failure = self.rules.failure_strategy == FailureStrategy::Continue;
        let mut running = FuturesUnordered::new();
        let mut timer = deadline.map(|d| Box::pin(tokio::time::sleep_until(d)));
        let cancelled = caller.cancelled();
        tokio::pin!(cancelled);

        for wave in waves {
            let mut pending = wave.iter().copied();
            loop {
                while running.len() < limit {
                    let Some(step) = pending.next() else { break };
                    if rec.start(step) {
                        running.push(self.drive(step, input, outputs, cx, rec));
                    }
                }
                if running.is_empty() {
                    break;
                }
                let (step, result) = tokio::select! {
                    biased;
                    () = &mut cancelled => return Some(Stop::Cancelled),
                    () = async {
                        if let Some(timer) = timer.as_mut() {
                            timer.await;
                        }
                    }, if timer.is_some() => return Some(Stop::TimedOut),
                    Some(done) = running.next() => done,
                    else => break,
                };
                match result {
                    Ok(()) => rec.finish(step, Ok(())),
                    Err(failure) => {
                        tracing::debug!(step = step.as_str(), error = %failure, "workflow step failed");
                        rec.finish(step, Err(&failure));
                        if !continue_on_failure {
                            return Some(Stop::Failed(step, failure));
                        }
                        rec.fail(step, failure);
                    }
                }
            }
        }
        None
    }

    /// One step: its attempts (with retries under [`FailureStrategy::Retry`]).
    async fn drive(
        &self,
        step: N::Step,
        input: &N::Input,
        outputs: &N::Outputs,
        cx: &WorkflowContext,
        rec: &Recorder<N::Step>,
    ) -> (N::Step, Result<(), StepFailure>) {
        let result = if self.retries() {
            self.retry_policy()
                .run(
                    |attempt| self.attempt(step, attempt, input, outputs, cx, rec),
                    StepFailure::is_retryable,
                )
                .await
                .result
        } else {
            self.attempt(step, 0, input, outputs, cx, rec).await
        };
        (step, result)
    }

    /// One attempt of one step: its context, timeout, panic catching and span.
    async fn attempt(
        &self,
        step: N::Step,
        attempt: u32,
        input: &N::Input,
        outputs: &N::Outputs,
        cx: &WorkflowContext,
        rec: &Recorder<N::Step>,
    ) -> Result<(), StepFailure> {
        let id = step.as_str();
        let now = Instant::now();
        let limit = self.rules.step_timeout;
        let step_deadline = limit.and_then(|t| now.checked_add(t));
        let step_cx = cx.for_step(id, attempt, step_deadline);
        rec.begin_attempt(step, attempt, now);
        let span = tracing::info_span!(
            "onex.workflow.step",
            workflow = N::PLAN.name,
            step = id,
            correlation_id = %cx.correlation_id(),
            attempt,
        );
        // The call is made inside the guarded future, so a panic while building the step's
        // future is caught too.
        let call =
            AssertUnwindSafe(async { self.node.run_step(step, input, outputs, &step_cx).await })
                .catch_unwind()
                .instrument(span);
        let outcome = match step_deadline {
            Some(d) => tokio::time::timeout_at(d, call).await.ok(),
            None => Some(call.await),
        };
        let result = match outcome {
            None => {
                step_cx.cancellation_token().cancel();
                Err(StepFailure::TimedOut(limit.unwrap_or_default()))
            }
            Some(Ok(Ok(()))) if outputs.is_done(step) => Ok(()),
            Some(Ok(Ok(()))) => Err(StepFailure::Failed {
                error: OnexError::internal(format!(
                    "step `{id}` returned without storing its output"
                )),
                cancelled: false,
            }),
            // A step waiting on a call that honours the step's deadline (a node client)
            // fails with that call's timeout an instant before the executor's own timer
            // fires: it is the step timeout all the same.
            Some(Ok(Err(error)))
                if *error.code() == ErrorCode::Timeout
                    && step_deadline.is_some_and(|d| Instant::now() >= d) =>
            {
                step_cx.cancellation_token().cancel();
                Err(StepFailure::TimedOut(limit.unwrap_or_default()))
            }
            Some(Ok(Err(error))) => Err(StepFailure::Failed {
                error,
                cancelled: step_cx.is_cancelled(),
            }),
            Some(Err(panic)) => Err(StepFailure::Panicked(panic_message(&*panic).to_owned())),
        };
        rec.end_attempt(step, attempt, &result);
        result
    }

    /// Runs the compensation of every completed compensable step, most recently completed
    /// first; stops if the caller cancels.
    async fn compensate(
        &self,
        input: &N::Input,
        outputs: &N::Outputs,
        correlation_id: Uuid,
        caller: &CancellationToken,
        rec: &Recorder<N::Step>,
    ) {
        let plan = N::PLAN;
        for index in rec.completed_newest_first() {
            let Some(info) = plan.steps.get(index) else {
                continue;
            };
            if !info.compensable {
                continue;
            }
            let step = info.step;
            let now = Instant::now();
            let limit = self.rules.step_timeout;
            let step_deadline = limit.and_then(|t| now.checked_add(t));
            let cx = WorkflowContext::new(correlation_id, plan.name)
                .with_cancellation(caller.child_token())
                .for_step(info.id, 0, step_deadline);
            let span = tracing::info_span!(
                "onex.workflow.compensate",
                workflow = plan.name,
                step = info.id,
                correlation_id = %correlation_id,
            );
            let call = AssertUnwindSafe(async {
                self.node.compensate_step(step, input, outputs, &cx).await
            })
            .catch_unwind()
            .instrument(span);
            let timed = async {
                match step_deadline {
                    Some(d) => tokio::time::timeout_at(d, call).await.ok(),
                    None => Some(call.await),
                }
            };
            let outcome = tokio::select! {
                biased;
                () = caller.cancelled() => AttemptOutcome::Cancelled,
                outcome = timed => match outcome {
                    None => AttemptOutcome::TimedOut,
                    Some(Ok(Ok(()))) => AttemptOutcome::Completed,
                    Some(Ok(Err(error))) => AttemptOutcome::Failed { error },
                    Some(Err(panic)) => AttemptOutcome::Panicked {
                        message: panic_message(&*panic).to_owned(),
                    },
                },
            };
            cx.cancellation_token().cancel();
            let stop = outcome == AttemptOutcome::Cancelled;
            if outcome != AttemptOutcome::Completed {
                tracing::warn!(
                    step = info.id,
                    outcome = outcome.as_str(),
                    "compensation did not complete"
                );
            }
            rec.compensated(index, now, outcome);
            if stop {
                break;
            }
        }
    }
}

/// Why the scheduler stopped early.
enum Stop<S> {
    /// A step failed (fail fast, retry exhausted, compensate; or the first failure under
    /// continue).
    Failed(S, StepFailure),
    /// The workflow's deadline passed.
    TimedOut,
    /// The caller cancelled.
    Cancelled,
    /// Timers are needed and no tokio runtime is running.
    NoRuntime,
}

/// How one attempt of a step failed.
#[derive(Clone, Debug)]
enum StepFailure {
    /// It returned an error (`cancelled`: while its own token was cancelled).
    Failed { error: OnexError, cancelled: bool },
    /// It ran past the step timeout (the limit).
    TimedOut(Duration),
    /// It panicked (the message).
    Panicked(String),
}

impl StepFailure {
    /// Errors and timeouts are retried; panics and cancellations are not.
    fn is_retryable(&self) -> bool {
        matches!(
            self,
            StepFailure::Failed {
                cancelled: false,
                ..
            } | StepFailure::TimedOut(_)
        )
    }

    fn attempt_outcome(&self) -> AttemptOutcome {
        match self {
            StepFailure::Failed { error, .. } => AttemptOutcome::Failed {
                error: error.clone(),
            },
            StepFailure::TimedOut(_) => AttemptOutcome::TimedOut,
            StepFailure::Panicked(message) => AttemptOutcome::Panicked {
                message: message.clone(),
            },
        }
    }

    fn step_outcome(&self) -> StepOutcome {
        match self {
            StepFailure::Failed { error, .. } => StepOutcome::Failed {
                error: error.clone(),
            },
            StepFailure::TimedOut(_) => StepOutcome::TimedOut,
            StepFailure::Panicked(message) => StepOutcome::Panicked {
                message: message.clone(),
            },
        }
    }
}

impl fmt::Display for StepFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepFailure::Failed { error, .. } => fmt::Display::fmt(error, f),
            StepFailure::TimedOut(limit) => write!(f, "timed out after {limit:?}"),
            StepFailure::Panicked(message) => write!(f, "panicked: {message}"),
        }
    }
}

/// The workflow error for a step failure.
fn step_error(workflow: &str, id: &'static str, failure: &StepFailure, attempts: u32) -> OnexError {
    let after = if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    };
    let (code, message, cause) = match failure {
        StepFailure::Failed { error, .. } => {
            let mut cause = json!({
                "error_code": error.code().as_str(),
                "message": error.message(),
            });
            if !error.context().is_empty() {
                cause["context"] = Value::Object(error.context().clone());
            }
            (
                ErrorCode::WorkflowStepFailed,
                format!("step `{id}` of workflow `{workflow}` failed{after}: {error}"),
                cause,
            )
        }
        StepFailure::TimedOut(limit) => (
            ErrorCode::WorkflowStepTimeout,
            format!(
                "step `{id}` of workflow `{workflow}` timed out after {limit:?}{}",
                {
                    if attempts > 1 {
                        format!(" (attempt {attempts})")
                    } else {
                        String::new()
                    }
                }
            ),
            json!({
                "error_code": ErrorCode::Timeout.as_str(),
                "message": format!("step `{id}` ran past its {limit:?} step timeout"),
            }),
        ),
        StepFailure::Panicked(panic) => (
            ErrorCode::HandlerExecution,
            format!("step `{id}` of workflow `{workflow}` panicked: {panic}"),
            json!({
                "error_code": ErrorCode::HandlerExecution.as_str(),
                "message": format!("panicked: {panic}"),
            }),
        ),
    };
    let mut error = OnexError::new(code, message)
        .with_context("workflow", workflow)
        .with_context("step", id)
        .with_context("cause", cause)
        .with_context("attempts", attempts);
    if let StepFailure::Panicked(panic) = failure {
        error = error.with_context("panic", panic.as_str());
    }
    if let StepFailure::TimedOut(limit) = failure {
        error = error.with_context("timeout_ms", millis(*limit));
    }
    error
}

/// A panic payload's message.
fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string panic payload")
}

/// `a, b` or `none`.
fn list(ids: &[&str]) -> String {
    if ids.is_empty() {
        "none".to_owned()
    } else {
        ids.join(", ")
    }
}

/// A duration in (fractional) milliseconds, for error contexts.
fn millis(d: Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

/// Decodes a workflow input from an envelope payload.
fn decode_input<I: DeserializeOwned>(workflow: &str, payload: Value) -> Result<I, OnexError> {
    let empty_object = matches!(&payload, Value::Object(map) if map.is_empty());
    serde_json::from_value(payload)
        .or_else(|e| {
            if empty_object {
                serde_json::from_value(Value::Null).map_err(|_| e)
            } else {
                Err(e)
            }
        })
        .map_err(|e| {
            OnexError::invalid_input(format!("invalid input for workflow `{workflow}`: {e}"))
                .with_context("workflow", workflow)
                .with_context("field", "payload")
        })
}

/// What the executor knows about one step during a run.
struct Slot {
    id: &'static str,
    /// Start order among the started steps.
    seq: u32,
    start: Option<Duration>,
    end: Option<Duration>,
    /// The attempt in progress and when it started.
    current: Option<(u32, Duration)>,
    attempts: Vec<AttemptTrace>,
    outcome: Option<StepOutcome>,
    compensation: Option<CompensationTrace>,
}

/// The mutable record of a run, shared by the concurrently running steps (which poll inside
/// the run's task; the lock is never held across an await).
struct Recorder<S: 'static> {
    origin: Instant,
    plan: &'static WorkflowPlan<S>,
    inner: Mutex<Record>,
}

struct Record {
    slots: Vec<Slot>,
    started: u32,
    /// Indices of completed steps, in completion order.
    completed: Vec<usize>,
    /// Step failures under continue, in order.
    failures: Vec<(usize, StepFailure)>,
}

impl<S: WorkflowStep> Recorder<S> {
    fn new(origin: Instant, plan: &'static WorkflowPlan<S>) -> Self {
        let slots = plan
            .steps
            .iter()
            .map(|info| Slot {
                id: info.id,
                seq: 0,
                start: None,
                end: None,
                current: None,
                attempts: Vec::new(),
                outcome: None,
                compensation: None,
            })
            .collect();
        Recorder {
            origin,
            plan,
            inner: Mutex::new(Record {
                slots,
                started: 0,
                completed: Vec::with_capacity(plan.steps.len()),
                failures: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Record> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn offset(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.origin)
    }

    fn now(&self) -> Duration {
        self.offset(Instant::now())
    }

    /// Marks a step started; false if it must not run (skipped, or unknown).
    fn start(&self, step: S) -> bool {
        let now = self.now();
        let mut r = self.lock();
        let seq = r.started;
        let Some(slot) = r.slots.get_mut(step.index()) else {
            return false;
        };
        if slot.outcome.is_some() || slot.start.is_some() {
            return false;
        }
        slot.start = Some(now);
        slot.seq = seq;
        r.started = seq.saturating_add(1);
        true
    }

    fn begin_attempt(&self, step: S, attempt: u32, at: Instant) {
        let at = self.offset(at);
        if let Some(slot) = self.lock().slots.get_mut(step.index()) {
            slot.current = Some((attempt, at));
        }
    }

    fn end_attempt(&self, step: S, attempt: u32, result: &Result<(), StepFailure>) {
        let now = self.now();
        if let Some(slot) = self.lock().slots.get_mut(step.index()) {
            let start = slot.current.take().map_or(now, |(_, start)| start);
            slot.attempts.push(AttemptTrace {
                attempt,
                start,
                end: now,
                outcome: match result {
                    Ok(()) => AttemptOutcome::Completed,
                    Err(failure) => failure.attempt_outcome(),
                },
            });
        }
    }

    /// Records the end of a step.
    fn finish(&self, step: S, result: Result<(), &StepFailure>) {
        let now = self.now();
        let mut r = self.lock();
        let index = step.index();
        if let Some(slot) = r.slots.get_mut(index) {
            slot.end = Some(now);
            slot.outcome = Some(match result {
                Ok(()) => StepOutcome::Completed,
                Err(failure) => failure.step_outcome(),
            });
            if result.is_ok() {
                r.completed.push(index);
            }
        }
    }

    /// Under continue: remembers the failure and skips every step that depends on the
    /// failed one, directly or not.
    fn fail(&self, step: S, failure: StepFailure) {
        let dependents = |i: usize| {
            self.plan
                .steps
                .get(i)
                .map_or(&[][..], |info| info.dependents)
        };
        let mut r = self.lock();
        let failed = step.index();
        let Some(because) = r.slots.get(failed).map(|s| s.id) else {
            return;
        };
        r.failures.push((failed, failure));
        let mut stack: Vec<S> = dependents(failed).to_vec();
        while let Some(next) = stack.pop() {
            let Some(slot) = r.slots.get_mut(next.index()) else {
                continue;
            };
            if slot.start.is_some() || slot.outcome.is_some() {
                continue;
            }
            slot.outcome = Some(StepOutcome::Skipped { because });
            stack.extend_from_slice(dependents(next.index()));
        }
    }

    /// The first step failure under continue.
    fn first_failure(&self) -> Option<(S, StepFailure)> {
        let r = self.lock();
        let (index, failure) = r.failures.first()?;
        Some((*S::ALL.get(*index)?, failure.clone()))
    }

    /// The `node_id`s of the failed steps, in failure order.
    fn failed_steps(&self) -> Vec<&'static str> {
        let r = self.lock();
        r.failures
            .iter()
            .filter_map(|(i, _)| r.slots.get(*i).map(|s| s.id))
            .collect()
    }

    fn attempts(&self, step: S) -> u32 {
        self.lock()
            .slots
            .get(step.index())
            .map_or(0, |s| u32::try_from(s.attempts.len()).unwrap_or(u32::MAX))
    }

    /// Marks the steps in flight cancelled (their futures were dropped); returns their ids
    /// in start order.
    fn stop_in_flight(&self) -> Vec<&'static str> {
        let now = self.now();
        let mut r = self.lock();
        let mut stopped: Vec<(u32, &'static str)> = Vec::new();
        for slot in &mut r.slots {
            if slot.start.is_some() && slot.outcome.is_none() {
                slot.end = Some(now);
                slot.outcome = Some(StepOutcome::Cancelled);
                if let Some((attempt, start)) = slot.current.take() {
                    slot.attempts.push(AttemptTrace {
                        attempt,
                        start,
                        end: now,
                        outcome: AttemptOutcome::Cancelled,
                    });
                }
                stopped.push((slot.seq, slot.id));
            }
        }
        stopped.sort_unstable_by_key(|(seq, _)| *seq);
        stopped.into_iter().map(|(_, id)| id).collect()
    }

    /// Marks every step without an outcome `NotRun`.
    fn mark_not_run(&self) {
        for slot in &mut self.lock().slots {
            if slot.outcome.is_none() {
                slot.outcome = Some(StepOutcome::NotRun);
            }
        }
    }

    /// The completed steps' indices, most recently completed first.
    fn completed_newest_first(&self) -> Vec<usize> {
        self.lock().completed.iter().rev().copied().collect()
    }

    fn compensated(&self, index: usize, started: Instant, outcome: AttemptOutcome) {
        let start = self.offset(started);
        let end = self.now();
        if let Some(slot) = self.lock().slots.get_mut(index) {
            slot.compensation = Some(CompensationTrace {
                start,
                end,
                outcome,
            });
        }
    }

    /// The trace: started steps in start order, then the others in the plan's order.
    fn into_trace(
        self,
        correlation_id: Uuid,
        status: WorkflowStatus,
        started_at: chrono::DateTime<Utc>,
    ) -> WorkflowTrace {
        let elapsed = self.now();
        let plan = self.plan;
        let record = self
            .inner
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let slots = record.slots;
        // Steps missing from the order (never, for a generated plan) go last.
        let order = plan.order.iter().map(|s| s.index()).chain(0..slots.len());
        let mut slots: Vec<Option<Slot>> = slots.into_iter().map(Some).collect();
        let mut started: Vec<Slot> = Vec::with_capacity(slots.len());
        for slot in slots.iter_mut() {
            if slot.as_ref().is_some_and(|s| s.start.is_some()) {
                started.extend(slot.take());
            }
        }
        started.sort_by_key(|s| s.seq);
        let unstarted = order.filter_map(|i| slots.get_mut(i).and_then(Option::take));
        let steps = started
            .into_iter()
            .chain(unstarted)
            .map(|s| StepTrace {
                step: s.id,
                outcome: s.outcome.unwrap_or(StepOutcome::NotRun),
                start: s.start,
                end: s.end,
                attempts: s.attempts,
                compensation: s.compensation,
            })
            .collect();
        WorkflowTrace {
            workflow: plan.name,
            correlation_id,
            status,
            started_at,
            elapsed,
            steps,
        }
    }
}
