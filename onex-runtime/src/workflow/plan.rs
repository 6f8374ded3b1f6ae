//! The compile-time plan of a workflow: steps, dependencies, order, waves and rules.
//!
//! `#[orchestrator_node]` computes all of it from the contract while the crate compiles and
//! emits it as `const` data ([`OrchestratorNode::PLAN`](super::OrchestratorNode::PLAN)), so
//! the executor never sorts a graph at run time.

use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::time::Duration;

use crate::node::NodeKind;

/// The step enum of an orchestrator (`{Node}Step`, one variant per `execution_graph` node).
pub trait WorkflowStep: Copy + Eq + Hash + Debug + Display + Send + Sync + 'static {
    /// Every step, in declaration order (`ALL[s.index()] == s`).
    const ALL: &'static [Self];
    /// The step's declaration index.
    fn index(self) -> usize;
    /// The contract's `node_id`.
    fn as_str(self) -> &'static str;
}

/// `execution_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExecutionMode {
    /// One step at a time, in [`WorkflowPlan::order`].
    Sequential,
    /// Each wave's steps concurrently, up to `max_parallel_steps` at once.
    Parallel,
    /// Like sequential (the Python reference runs batch workflows in sequential order).
    Batch,
}

impl ExecutionMode {
    /// The contract spelling (`sequential`, `parallel`, `batch`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ExecutionMode::Sequential => "sequential",
            ExecutionMode::Parallel => "parallel",
            ExecutionMode::Batch => "batch",
        }
    }
}

/// `coordination_rules.failure_recovery_strategy`: what a failed step does to the workflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureStrategy {
    /// Stop at the first failure and cancel the steps still running.
    FailFast,
    /// Retry a failed step (`max_retries`, exponential backoff from `retry_backoff_ms` by
    /// `retry_backoff_multiplier`), then fail fast.
    Retry,
    /// Keep going: the steps depending on a failed step are skipped, the others run.
    Continue,
    /// Stop, then run the compensation of every completed `compensable` step, most recently
    /// completed first.
    Compensate,
}

impl FailureStrategy {
    /// The contract spelling (`fail_fast`, `retry`, `continue`, `compensate`).
    pub const fn as_str(self) -> &'static str {
        match self {
            FailureStrategy::FailFast => "fail_fast",
            FailureStrategy::Retry => "retry",
            FailureStrategy::Continue => "continue",
            FailureStrategy::Compensate => "compensate",
        }
    }
}

/// `coordination_rules` (and the execution mode), as the contract declares them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CoordinationRules {
    /// Sequential, parallel or batch.
    pub mode: ExecutionMode,
    /// At most this many steps at once in parallel mode (`None`: no limit).
    pub max_parallel_steps: Option<u32>,
    /// What a failed step does to the workflow.
    pub failure_strategy: FailureStrategy,
    /// Retries of a failed step under [`FailureStrategy::Retry`].
    pub max_retries: u32,
    /// The delay before the first retry.
    pub retry_backoff: Duration,
    /// Each further retry waits this many times longer.
    pub retry_backoff_multiplier: f64,
    /// The time limit of one attempt of one step (`step_timeout_ms`).
    pub step_timeout: Option<Duration>,
    /// The time limit of the whole workflow (`timeout_ms`).
    pub timeout: Option<Duration>,
}

/// One step of the plan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepInfo<S: 'static> {
    /// The step.
    pub step: S,
    /// The contract's `node_id`.
    pub id: &'static str,
    /// `node_type` exactly as written.
    pub node_type: &'static str,
    /// The node kind `node_type` names.
    pub kind: NodeKind,
    /// The steps it depends on (deduplicated, in the order written).
    pub depends_on: &'static [S],
    /// The steps that depend on it, in declaration order.
    pub dependents: &'static [S],
    /// `compensable: true`: the step has a compensation handler.
    pub compensable: bool,
    /// The contract's description (may be empty).
    pub description: &'static str,
}

/// The whole plan of a workflow, computed at compile time.
///
/// `order` is the Python reference's sequential order (Kahn's algorithm, ready steps taken
/// by declaration index); `waves` its parallel waves (each wave every remaining step whose
/// dependencies are done, in declaration order).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorkflowPlan<S: 'static> {
    /// `workflow_metadata.workflow_name`.
    pub name: &'static str,
    /// Every step, in declaration order (`steps[s.index()].step == s`).
    pub steps: &'static [StepInfo<S>],
    /// The sequential order.
    pub order: &'static [S],
    /// The parallel waves.
    pub waves: &'static [&'static [S]],
    /// The coordination rules.
    pub rules: CoordinationRules,
}

impl<S: WorkflowStep> WorkflowPlan<S> {
    /// The plan entry of a step.
    pub fn step(&self, step: S) -> &'static StepInfo<S> {
        &self.steps[step.index()]
    }
}
