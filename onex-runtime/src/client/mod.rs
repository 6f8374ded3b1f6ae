//! Typed clients: a workflow step calls other nodes by type, in-process (directly, without
//! envelopes, JSON or operation-name lookups) or through an event bus (see
//! [`BusEffectClient`]).
//!
//! A client implements [`NodeClient`]: its `Input` and `Output` are the node's own typed
//! input and output, so a wrong payload is a compile error, not a runtime
//! `UNSUPPORTED_OPERATION`. The in-process clients wrap one node:
//!
//! | client | node | input | output |
//! |---|---|---|---|
//! | [`EffectClient<N>`] | [`EffectNode`] | `N::Input` | `N::Output` |
//! | [`ComputeClient<N>`] | [`ComputeNode`] | `N::Input` | `N::Output` |
//! | [`ReducerClient<N>`] | [`ReducerNode`] | [`ReducerInput<N::Trigger, N::Context>`] | [`TransitionOf<N>`] |
//!
//! The bus clients ([`BusEffectClient`], [`BusComputeClient`], [`BusReducerClient`]) reach
//! the node wherever a host serves its topic, with the same call semantics; a step written
//! against `impl NodeClient` (or a generic client field) runs either way.
//!
//! A call made with a [`WorkflowContext`] (`cx.call(&client, input)` or
//! [`NodeClient::call_with`]) behaves like a step of that run:
//!
//! - the input is validated first, as [`EffectNode::process`] does (an invalid input is an
//!   [`ErrorCode::Validation`] error and the node never sees it);
//! - the callee sees the run's correlation id (an effect handler in its [`EffectContext`]),
//!   and every error the call returns carries it;
//! - the call respects the run's deadline: a call that starts after it, or an effect call still
//!   running when it passes, is an [`ErrorCode::Timeout`] error;
//! - the call respects cancellation: once the run's (or the step's) cancellation token is
//!   cancelled, a call returns an [`ErrorCode::WorkflowFailed`] error at once (the code
//!   [`WorkflowContext::check`] uses), dropping an effect handler that is still running;
//! - the call runs in a `tracing` span `onex.call` with the fields `node` (the callee's
//!   contract name), `kind`, `operation` (or the reducer's trigger), `correlation_id`,
//!   `workflow` and `step`.
//!
//! Inside a step, the clients are usually fields of the orchestrator struct:
//! `cx.call(&self.db, input).await`.
//!
//! ```
//! use onex_runtime::fsm::ReducerInput;
//! use onex_runtime::{
//!     effect_node, reducer_node, EffectClient, EffectContext, ErrorCode, OnexError,
//!     ReducerClient, Uuid, WorkflowContext,
//! };
//!
//! #[effect_node(contract = "contracts/greeter.yaml", relative_to = manifest)]
//! pub struct Greeter;
//!
//! impl GreeterHandler for Greeter {
//!     async fn greet(&self, ctx: &EffectContext, input: greeter::ModelGreeting)
//!         -> Result<greeter::ModelReply, OnexError> {
//!         Ok(greeter::ModelReply { text: format!("Hello, {}! ({})", input.name, ctx.node_name()) })
//!     }
//!     async fn farewell(&self, _ctx: &EffectContext, input: greeter::ModelGreeting)
//!         -> Result<greeter::ModelReply, OnexError> {
//!         Ok(greeter::ModelReply { text: format!("Goodbye, {}!", input.name) })
//!     }
//! }
//!
//! #[reducer_node(contract = "contracts/turnstile.yaml", relative_to = manifest)]
//! pub struct Turnstile;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), OnexError> {
//! let hello = EffectClient::new(Greeter);
//! let gate = ReducerClient::new(Turnstile);
//! let cx = WorkflowContext::new(Uuid::new_v4(), "visit");
//!
//! let reply = cx
//!     .call(&hello, GreeterInput::Greet(greeter::ModelGreeting { name: "Ada".into() }))
//!     .await?;
//! let GreeterOutput::Greet(reply) = reply else { unreachable!() };
//! assert_eq!(reply.text, "Hello, Ada! (greeter)");
//!
//! let coin = turnstile::ModelCoin { cents: 50 };
//! let t = cx.call(&gate, ReducerInput { trigger: TurnstileTrigger::Coin, context: coin }).await?;
//! assert_eq!((t.from, t.to), (TurnstileState::Locked, TurnstileState::Unlocked));
//! assert_eq!(t.intents, &[TurnstileIntent::CountCoin, TurnstileIntent::ReleaseArm]);
//! assert_eq!(gate.state(), TurnstileState::Unlocked);
//!
//! // Failures are typed and carry the run's correlation id.
//! let empty = greeter::ModelGreeting { name: String::new() };
//! let err = cx.call(&hello, GreeterInput::Greet(empty)).await.unwrap_err();
//! assert_eq!(err.code(), &ErrorCode::Validation);
//! assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
//!
//! // Past the run's deadline nothing runs.
//! let late = cx.clone().with_deadline(tokio::time::Instant::now());
//! let coin = turnstile::ModelCoin { cents: 50 };
//! let push = ReducerInput { trigger: TurnstileTrigger::Push, context: coin };
//! assert_eq!(late.call(&gate, push).await.unwrap_err().code(), &ErrorCode::Timeout);
//! assert_eq!(gate.state(), TurnstileState::Unlocked);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tracing::Instrument;
use uuid::Uuid;

use crate::error::{ErrorCode, OnexError};
use crate::fsm::{FsmError, FsmExecutor, FsmName, FsmSnapshot, ReducerInput, TransitionOf};
use crate::node::{ContractInfo, NodeInput, handler_panicked};
use crate::workflow::WorkflowContext;
use crate::{ComputeNode, EffectNode, ReducerNode};

mod bus;

pub use bus::{
    BusComputeClient, BusEffectClient, BusReducerClient, RemoteTransition, RemoteTransitionOf,
};

#[cfg(doc)]
use crate::EffectContext;

/// A typed, in-process handle on a node: call it with the node's own input type and get its
/// own output type back.
///
/// Implemented by [`EffectClient`], [`ComputeClient`] and [`ReducerClient`], whose calls
/// validate the input, carry the caller's correlation id (into the callee and onto every
/// error), end in an [`ErrorCode::Timeout`] error past the caller's deadline and in an
/// [`ErrorCode::WorkflowFailed`] error once the caller is cancelled, and run in a `tracing`
/// span `onex.call` naming the callee. [`BusEffectClient`], [`BusComputeClient`] and
/// [`BusReducerClient`] make the same calls through an event bus, to a node a host serves in
/// this process or another. Implement it yourself to stand in for a node in tests.
///
/// ```
/// use onex_runtime::{compute_node, ComputeClient, NodeClient, OnexError};
///
/// #[compute_node(contract = "contracts/text_metrics.yaml", relative_to = manifest)]
/// pub struct TextMetrics;
///
/// impl TextMetricsHandler for TextMetrics {
///     fn text_measure(&self, input: text_metrics::ModelText)
///         -> Result<text_metrics::ModelMeasure, OnexError> {
///         let words = input.text.split_whitespace().count() as i64;
///         Ok(text_metrics::ModelMeasure { words, chars: input.text.chars().count() as i64 })
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let metrics = ComputeClient::new(TextMetrics);
/// let text = text_metrics::ModelText { text: "to be or not".into() };
/// // `call` outside a workflow: a fresh correlation id, no deadline.
/// let TextMetricsOutput::TextMeasure(m) =
///     metrics.call(TextMetricsInput::TextMeasure(text)).await.unwrap();
/// assert_eq!((m.words, m.chars), (4, 12));
/// # }
/// ```
pub trait NodeClient: Send + Sync {
    /// What a call takes.
    type Input: Send;
    /// What a successful call returns.
    type Output: Send;

    /// Calls the node on behalf of the workflow step `cx`: validates `input`, dispatches it
    /// with the step's correlation id, deadline and cancellation, and returns the node's
    /// output or a typed error carrying the correlation id.
    fn call_with(
        &self,
        cx: &WorkflowContext,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, OnexError>> + Send;

    /// Calls the node outside any workflow: a fresh correlation id, no deadline, never
    /// cancelled.
    fn call(
        &self,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, OnexError>> + Send {
        async move {
            let cx = WorkflowContext::new(Uuid::new_v4(), "");
            self.call_with(&cx, input).await
        }
    }
}

impl WorkflowContext {
    /// Calls a node through its client on behalf of this step:
    /// `cx.call(&self.db, input).await` is [`client.call_with(cx, input)`](NodeClient::call_with).
    pub async fn call<C: NodeClient>(
        &self,
        client: &C,
        input: C::Input,
    ) -> Result<C::Output, OnexError> {
        client.call_with(self, input).await
    }
}

/// The constructors, accessor and `Clone` of a client that shares its node through an
/// `Arc` (the effect and compute clients).
macro_rules! shared_node_client {
    ($client:ident, $node:ident) => {
        impl<N: $node> $client<N> {
            /// A client owning `node`.
            pub fn new(node: N) -> Self {
                Self::from_arc(Arc::new(node))
            }

            /// A client of a node shared with others (a host serving it, other clients).
            pub fn from_arc(node: Arc<N>) -> Self {
                $client { node }
            }

            /// The node.
            pub fn node(&self) -> &N {
                &self.node
            }
        }

        impl<N: $node> Clone for $client<N> {
            fn clone(&self) -> Self {
                $client {
                    node: Arc::clone(&self.node),
                }
            }
        }
    };
}

/// A client of an [`EffectNode`].
///
/// Each call dispatches to the node's handler with
/// [`cx.effect_context(N::CONTRACT.name)`](WorkflowContext::effect_context): the handler's
/// [`EffectContext`] has the run's correlation id, deadline and attempt, and the callee's
/// name. An effect call still running at the deadline, or when the run is cancelled, is
/// dropped (at its next `.await`) and returns the typed error. Enforcing a deadline uses
/// tokio's timer, so a call with a deadline runs on a tokio runtime with time enabled.
///
/// Cloning is cheap and shares the node.
#[derive(Debug)]
pub struct EffectClient<N: EffectNode> {
    node: Arc<N>,
}

shared_node_client!(EffectClient, EffectNode);

impl<N: EffectNode> NodeClient for EffectClient<N> {
    type Input = N::Input;
    type Output = N::Output;

    fn call_with(
        &self,
        cx: &WorkflowContext,
        input: N::Input,
    ) -> impl Future<Output = Result<N::Output, OnexError>> + Send {
        let operation = input.operation();
        let span = call_span(N::CONTRACT, cx, operation);
        async move {
            let correlation_id = cx.correlation_id();
            input
                .validate()
                .map_err(|e| e.with_correlation_id(correlation_id))?;
            let ecx = cx.effect_context(N::CONTRACT.name);
            ecx.record_operation(operation);
            let handler = self
                .node
                .dispatch(&ecx, input)
                .instrument(ecx.span().clone());
            supervise(N::CONTRACT.name, cx, handler)
                .await
                .map_err(|e| e.with_correlation_id(correlation_id))
        }
        .instrument(span)
    }
}

/// A client of a [`ComputeNode`].
///
/// The handler runs synchronously inside the call (a compute node is pure and does not
/// wait), so neither the deadline nor cancellation can interrupt it: both are checked before
/// it starts and again when it returns, and a result computed after the deadline (or after
/// cancellation) is dropped for the typed error, which is safe because the handler had no
/// side effects. A panicking handler is the [`ErrorCode::HandlerExecution`] error
/// [`ComputeNode::process`] gives (see its caveats).
///
/// Cloning is cheap and shares the node.
#[derive(Debug)]
pub struct ComputeClient<N: ComputeNode> {
    node: Arc<N>,
}

shared_node_client!(ComputeClient, ComputeNode);

impl<N: ComputeNode> NodeClient for ComputeClient<N> {
    type Input = N::Input;
    type Output = N::Output;

    fn call_with(
        &self,
        cx: &WorkflowContext,
        input: N::Input,
    ) -> impl Future<Output = Result<N::Output, OnexError>> + Send {
        let operation = input.operation();
        let span = call_span(N::CONTRACT, cx, operation);
        async move {
            let name = N::CONTRACT.name;
            let result = input
                .validate()
                .and_then(|()| admit(name, cx))
                .and_then(|()| {
                    catch_unwind(AssertUnwindSafe(|| self.node.dispatch(input)))
                        .unwrap_or_else(|panic| Err(handler_panicked(operation, &*panic)))
                })
                .and_then(|output| admit(name, cx).map(|()| output));
            result.map_err(|e| e.with_correlation_id(cx.correlation_id()))
        }
        .instrument(span)
    }
}

/// A client of a [`ReducerNode`]: owns an [`FsmExecutor`] so that several steps (or several
/// workflow runs) drive one state machine.
///
/// Calls are serialized: each takes a lock, fires its trigger and releases the lock, so
/// concurrent calls never lose a transition; each sees the state the previous one left. The
/// lock is held only while the (synchronous, I/O-free) reducer runs, never across an
/// `.await`. The call returns the [`Transition`](crate::Transition) taken (states, trigger,
/// transition name, intents to execute); a rejected trigger ([`FsmError::NoTransition`],
/// [`FsmError::GuardRejected`]) is an [`ErrorCode::Validation`] error and leaves the state
/// unchanged. Deadline and cancellation are checked before the trigger fires; once it has
/// fired, the transition is returned. The context is not validated against its model (as
/// in [`FsmExecutor::process`]): the contract's guards are the check. A panic while
/// evaluating a guard is an [`ErrorCode::HandlerExecution`] error naming the trigger, and
/// the state is unchanged.
///
/// Cloning is cheap and shares the state machine.
#[derive(Debug)]
pub struct ReducerClient<N: ReducerNode> {
    fsm: Arc<Mutex<FsmExecutor<N>>>,
}

impl<N: ReducerNode> ReducerClient<N> {
    /// A client driving a new executor of `node`, in the contract's initial state.
    pub fn new(node: N) -> Self {
        Self::from_executor(FsmExecutor::new(node))
    }

    /// A client driving `fsm` (restored from a snapshot, or with another history size).
    pub fn from_executor(fsm: FsmExecutor<N>) -> Self {
        ReducerClient {
            fsm: Arc::new(Mutex::new(fsm)),
        }
    }

    /// The current state.
    pub fn state(&self) -> N::State {
        self.lock().state()
    }

    /// A snapshot of the executor (state, history, counters), to persist.
    pub fn snapshot(&self) -> FsmSnapshot<N::State, N::Trigger> {
        self.lock().snapshot()
    }

    /// Restores a snapshot of this machine; see [`FsmExecutor::restore`].
    pub fn restore(&self, snapshot: FsmSnapshot<N::State, N::Trigger>) -> Result<(), FsmError> {
        self.lock().restore(snapshot)
    }

    /// Runs `f` on the executor with the lock held (calls wait meanwhile): for its
    /// counters, history or JSON snapshots. Keep `f` short.
    pub fn with_executor<R>(&self, f: impl FnOnce(&mut FsmExecutor<N>) -> R) -> R {
        f(&mut self.lock())
    }

    /// The executor. A poisoned lock is taken over: the executor changes its state only after
    /// the reducer returned, so a panic never leaves it half-updated.
    fn lock(&self) -> MutexGuard<'_, FsmExecutor<N>> {
        self.fsm.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<N: ReducerNode> Clone for ReducerClient<N> {
    fn clone(&self) -> Self {
        ReducerClient {
            fsm: Arc::clone(&self.fsm),
        }
    }
}

impl<N: ReducerNode> NodeClient for ReducerClient<N> {
    type Input = ReducerInput<N::Trigger, N::Context>;
    type Output = TransitionOf<N>;

    fn call_with(
        &self,
        cx: &WorkflowContext,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, OnexError>> + Send {
        let span = call_span(N::CONTRACT, cx, input.trigger.as_str());
        async move {
            let ReducerInput { trigger, context } = input;
            let result = admit(N::CONTRACT.name, cx).and_then(|()| {
                let mut fsm = self.lock();
                match catch_unwind(AssertUnwindSafe(|| fsm.fire(trigger, &context))) {
                    Ok(fired) => fired.map_err(OnexError::from),
                    Err(panic) => Err(handler_panicked(trigger.as_str(), &*panic)),
                }
            });
            result.map_err(|e| e.with_correlation_id(cx.correlation_id()))
        }
        .instrument(span)
    }
}

// What every call shares.

/// The `onex.call` span of a call to the node `contract` names.
fn call_span(contract: &ContractInfo, cx: &WorkflowContext, operation: &str) -> tracing::Span {
    tracing::info_span!(
        "onex.call",
        node = contract.name,
        kind = contract.kind.onex_name(),
        operation,
        correlation_id = %cx.correlation_id(),
        workflow = cx.workflow(),
        step = cx.step(),
    )
}

/// `Ok` if a call to `node` may proceed: the run is not cancelled and its deadline has not
/// passed.
fn admit(node: &str, cx: &WorkflowContext) -> Result<(), OnexError> {
    if cx.is_cancelled() {
        Err(cancelled(node, cx))
    } else if cx.is_expired() {
        Err(timed_out(node, cx))
    } else {
        Ok(())
    }
}

/// Runs `work` (a call to `node`) unless the run is cancelled or out of time, and drops it
/// when either happens while it runs.
async fn supervise<T>(
    node: &str,
    cx: &WorkflowContext,
    work: impl Future<Output = Result<T, OnexError>>,
) -> Result<T, OnexError> {
    admit(node, cx)?;
    let bounded = async {
        match cx.deadline() {
            Some(deadline) => tokio::time::timeout_at(deadline, work)
                .await
                .unwrap_or_else(|_| Err(timed_out(node, cx))),
            None => work.await,
        }
    };
    tokio::select! {
        biased;
        () = cx.cancelled() => Err(cancelled(node, cx)),
        result = bounded => result,
    }
}

/// " (step `s` of workflow `w`)", as far as the context knows them.
fn whereabouts(cx: &WorkflowContext) -> String {
    match (cx.step(), cx.workflow()) {
        (Some(step), workflow) => format!(" (step `{step}` of workflow `{workflow}`)"),
        (None, "") => String::new(),
        (None, workflow) => format!(" (workflow `{workflow}`)"),
    }
}

/// Adds the callee and the caller's workflow and step to an error's context.
fn located(err: OnexError, node: &str, cx: &WorkflowContext) -> OnexError {
    let mut err = err.with_context("node", node);
    if !cx.workflow().is_empty() {
        err = err.with_context("workflow", cx.workflow());
    }
    if let Some(step) = cx.step() {
        err = err.with_context("step", step);
    }
    err
}

/// The error of a call to `node` made (or still running) after the run was cancelled.
fn cancelled(node: &str, cx: &WorkflowContext) -> OnexError {
    let err = OnexError::new(
        ErrorCode::WorkflowFailed,
        format!("call to node `{node}` cancelled{}", whereabouts(cx)),
    );
    located(err, node, cx).with_context("cancelled", true)
}

/// The error of a call to `node` made (or still running) after the deadline.
fn timed_out(node: &str, cx: &WorkflowContext) -> OnexError {
    let err = OnexError::timeout(format!(
        "call to node `{node}` ran past the deadline{}",
        whereabouts(cx)
    ));
    located(err, node, cx)
}
