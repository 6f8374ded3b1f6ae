//! What a workflow step knows while it runs: correlation id, deadline, cancellation.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use uuid::Uuid;

use crate::context::EffectContext;
use crate::error::OnexError;

/// The context a workflow step receives.
///
/// One per workflow run, narrowed per step attempt by the executor: the correlation id of
/// the run (every node a step calls sees it too), the workflow and step names, the attempt
/// (0 for the first), the deadline (the earlier of the workflow's and the step's) and a
/// cancellation token that fires when the workflow is cancelled, fails fast, or the step
/// times out. Steps that await I/O are cancelled by being dropped; long computations
/// should poll [`is_cancelled`](WorkflowContext::is_cancelled).
///
/// ```
/// use onex_runtime::WorkflowContext;
/// use onex_runtime::Uuid;
///
/// let cx = WorkflowContext::new(Uuid::nil(), "pipeline");
/// assert_eq!(cx.workflow(), "pipeline");
/// assert_eq!(cx.step(), None);
/// assert!(!cx.is_cancelled());
/// cx.cancellation_token().cancel();
/// assert!(cx.is_cancelled());
/// ```
#[derive(Clone, Debug)]
pub struct WorkflowContext {
    correlation_id: Uuid,
    workflow: &'static str,
    step: Option<&'static str>,
    attempt: u32,
    deadline: Option<Instant>,
    cancel: CancellationToken,
}

impl WorkflowContext {
    /// The context of a new run: no step, no deadline, a fresh cancellation token.
    pub fn new(correlation_id: Uuid, workflow: &'static str) -> Self {
        WorkflowContext {
            correlation_id,
            workflow,
            step: None,
            attempt: 0,
            deadline: None,
            cancel: CancellationToken::new(),
        }
    }

    /// Sets the deadline (keeps the earlier one if there is one already).
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(self.deadline.map_or(deadline, |d| d.min(deadline)));
        self
    }

    /// Uses `token` for cancellation (cancelling it cancels the run).
    pub fn with_cancellation(mut self, token: CancellationToken) -> Self {
        self.cancel = token;
        self
    }

    /// The context of one attempt of one step: the step's name and attempt, the earlier of
    /// the two deadlines, and a child token (cancelled with the workflow, or on its own).
    pub fn for_step(&self, step: &'static str, attempt: u32, deadline: Option<Instant>) -> Self {
        let mut cx = WorkflowContext {
            correlation_id: self.correlation_id,
            workflow: self.workflow,
            step: Some(step),
            attempt,
            deadline: self.deadline,
            cancel: self.cancel.child_token(),
        };
        if let Some(deadline) = deadline {
            cx = cx.with_deadline(deadline);
        }
        cx
    }

    /// The run's correlation id.
    pub fn correlation_id(&self) -> Uuid {
        self.correlation_id
    }

    /// The workflow's name (`workflow_metadata.workflow_name`).
    pub fn workflow(&self) -> &'static str {
        self.workflow
    }

    /// The running step's `node_id` (`None` outside a step).
    pub fn step(&self) -> Option<&'static str> {
        self.step
    }

    /// The attempt of the running step: 0 for the first, 1 for the first retry, ….
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// When the step (or the workflow) runs out of time.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The time left before the deadline (zero once it passed; `None` without one).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// True once the deadline has passed (never without a deadline), as
    /// [`EffectContext::is_expired`].
    pub fn is_expired(&self) -> bool {
        self.deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
    }

    /// True once the run (or this step) was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Completes when the run (or this step) is cancelled.
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.cancel.cancelled()
    }

    /// The cancellation token (cancel it to cancel the run, or this step).
    pub fn cancellation_token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// An error if the run was cancelled or the deadline passed: a checkpoint for long
    /// computations.
    pub fn check(&self) -> Result<(), OnexError> {
        if self.is_cancelled() {
            return Err(OnexError::new(
                crate::error::ErrorCode::WorkflowFailed,
                format!("workflow `{}` was cancelled", self.workflow),
            )
            .with_correlation_id(self.correlation_id));
        }
        if self.is_expired() {
            return Err(OnexError::timeout(format!(
                "step `{}` of workflow `{}` ran past its deadline",
                self.step.unwrap_or("-"),
                self.workflow
            ))
            .with_correlation_id(self.correlation_id));
        }
        Ok(())
    }

    /// The context to call an effect node with on behalf of this step: the same correlation
    /// id, deadline and attempt, the callee's name.
    pub fn effect_context(&self, node_name: &'static str) -> EffectContext {
        let mut cx = EffectContext::new(self.correlation_id)
            .with_attempt(self.attempt)
            .with_node_name(node_name);
        if let Some(deadline) = self.deadline {
            cx = cx.with_deadline(deadline);
        }
        cx
    }
}
