//! Orchestrator nodes: workflow DAGs planned at compile time and run in waves.
//!
//! `#[orchestrator_node(contract = "…")]` reads the contract's
//! `workflow_coordination.workflow_definition` and generates, next to your struct:
//!
//! - `{Node}Step`, one variant per `execution_graph` node (a [`WorkflowStep`]);
//! - `{Node}Steps`, the trait you implement: one associated output type and one `async fn`
//!   per step, receiving the workflow input, a typed view of the outputs of the steps it
//!   depends on (`{Node}{Step}Deps`) and the [`WorkflowContext`];
//! - `{Node}Outputs`, the outputs of a run, one typed getter per step;
//! - `impl OrchestratorNode`, whose [`PLAN`](OrchestratorNode::PLAN) (order, waves, rules)
//!   was computed from the contract while your crate compiled.
//!
//! The [`WorkflowExecutor`] runs the plan.

mod context;
mod executor;
pub mod plan;
pub mod trace;

use std::future::Future;
use std::pin::Pin;

pub use context::WorkflowContext;
pub use executor::{WorkflowExecutor, WorkflowFailure, WorkflowReport, WorkflowRun};
pub use plan::{
    CoordinationRules, ExecutionMode, FailureStrategy, StepInfo, WorkflowPlan, WorkflowStep,
};
pub use trace::{
    AttemptOutcome, AttemptTrace, CompensationTrace, StepOutcome, StepTrace, WorkflowStatus,
    WorkflowTrace,
};

use crate::error::OnexError;
use crate::node::ContractInfo;

/// A boxed, sendable future (what generated step dispatch returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The outputs of one workflow run (`{Node}Outputs`): one slot per step, filled once when
/// the step completes. Slots are set through `&self`, so steps of one wave run concurrently
/// against the same value.
pub trait StepOutputs: Default + Send + Sync + 'static {
    /// The step enum.
    type Step: WorkflowStep;
    /// True once the step completed (its output is stored).
    fn is_done(&self, step: Self::Step) -> bool;
    /// The stored output of a completed step as JSON (`None` if it has not completed).
    fn to_json(&self, step: Self::Step) -> Option<Result<serde_json::Value, OnexError>>;
}

/// An ORCHESTRATOR node: a workflow DAG. Implemented by `#[orchestrator_node]`.
pub trait OrchestratorNode: Send + Sync + 'static {
    /// The step enum.
    type Step: WorkflowStep;
    /// The workflow input every step receives (`input_model`, or `input = Type`, or `()`).
    type Input: Send + Sync + 'static;
    /// The outputs of a run.
    type Outputs: StepOutputs<Step = Self::Step>;
    /// The contract, as embedded at compile time.
    const CONTRACT: &'static ContractInfo;
    /// The plan, computed at compile time.
    const PLAN: &'static WorkflowPlan<Self::Step>;

    /// Checks the workflow input against the contract's constraints (generated when the
    /// input is a model from `definitions`; other inputs are accepted as they are).
    /// [`WorkflowExecutor::process`] calls it before any step runs; `run` does not, like
    /// [`EffectNode::dispatch`](crate::EffectNode::dispatch).
    fn validate_input(input: &Self::Input) -> Result<(), OnexError> {
        let _ = input;
        Ok(())
    }

    /// Runs one attempt of `step` (its dependencies have completed) and stores its output in
    /// `outputs` on success.
    fn run_step<'a>(
        &'a self,
        step: Self::Step,
        input: &'a Self::Input,
        outputs: &'a Self::Outputs,
        cx: &'a WorkflowContext,
    ) -> BoxFuture<'a, Result<(), OnexError>>;

    /// Runs the compensation of a completed `compensable` step (for other steps: nothing).
    fn compensate_step<'a>(
        &'a self,
        step: Self::Step,
        input: &'a Self::Input,
        outputs: &'a Self::Outputs,
        cx: &'a WorkflowContext,
    ) -> BoxFuture<'a, Result<(), OnexError>>;
}
