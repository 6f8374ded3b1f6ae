//! Effect policies: the timeout, retry and circuit breaker a contract sets per operation.
//!
//! `#[effect_node]` reads them from the contract (per operation, falling back to the node
//! level: `retry_policy` / `effect_operations.default_retry_policy` /
//! `descriptor.retry_policy`, `circuit_breaker` / `default_circuit_breaker`, `timeout_ms` /
//! `io_config.timeout_ms` / `descriptor.timeout_ms`), embeds them as
//! [`OperationInfo::policy`](crate::OperationInfo::policy), and wraps each handler call of an
//! operation that has any in [`call`]:
//!
//! - each attempt runs under the timeout (the smaller of the policy's and what is left of
//!   the envelope's deadline) and fails with [`ErrorCode::Timeout`];
//! - failures that may pass ([`ErrorCode::is_transient`]) are retried with backoff and
//!   jitter ([`RetryPolicy`], on backon) — only for operations the contract marks
//!   idempotent (DESIGN.md §5): the macro gives every other operation
//!   [`RetryPolicy::NONE`] and warns when the contract asked for retries;
//! - a [`CircuitBreaker`] per operation (on failsafe) opens after consecutive transient
//!   failures; while open, calls fail fast with [`ErrorCode::CircuitOpen`] without reaching
//!   the handler.
//!
//! The breakers live in one [`PolicyState`] per node type, created on first use, so every
//! instance of a node type in a process shares them (a database that is down is down for all
//! of them). [`EffectNode::policy_state`](crate::EffectNode::policy_state) returns it, for
//! health reports.

mod breaker;

use std::future::Future;
use std::time::Duration;

pub use breaker::{BreakerPermit, BreakerPolicy, BreakerState, CircuitBreaker};

use crate::context::EffectContext;
use crate::error::{ErrorCode, OnexError};
use crate::retry::RetryPolicy;

/// The policies of one effect operation, as the contract sets them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OperationPolicy {
    /// The timeout of each attempt.
    pub timeout: Option<Duration>,
    /// Retries of transient failures ([`RetryPolicy::NONE`] when the operation does not
    /// retry, which is always the case for an operation that is not idempotent).
    pub retry: RetryPolicy,
    /// The circuit breaker, if the contract enables one.
    pub breaker: Option<BreakerPolicy>,
    /// Whether the operation is idempotent (declared, or the reference's default for its
    /// `io_config`: HTTP GET/PUT/DELETE…, SQL SELECT/UPDATE/DELETE/UPSERT, file reads…).
    pub idempotent: bool,
}

impl OperationPolicy {
    /// No timeout, no retry, no breaker.
    pub const NONE: OperationPolicy = OperationPolicy {
        timeout: None,
        retry: RetryPolicy::NONE,
        breaker: None,
        idempotent: false,
    };

    /// True when the policy does nothing (the handler is called directly).
    pub fn is_none(&self) -> bool {
        self.timeout.is_none() && self.retry.max_retries == 0 && self.breaker.is_none()
    }
}

impl Default for OperationPolicy {
    fn default() -> Self {
        OperationPolicy::NONE
    }
}

/// The run-time state of a node type's policies: one circuit breaker per operation that
/// has one.
#[derive(Debug)]
pub struct PolicyState {
    breakers: Box<[Option<CircuitBreaker>]>,
}

impl PolicyState {
    /// Fresh (closed) breakers for the given operations' policies, in operation order.
    pub fn new<'a>(policies: impl IntoIterator<Item = &'a OperationPolicy>) -> Self {
        PolicyState {
            breakers: policies
                .into_iter()
                .map(|p| p.breaker.map(CircuitBreaker::new))
                .collect(),
        }
    }

    /// The breaker of the operation at `index` (contract order), if it has one.
    pub fn breaker(&self, index: usize) -> Option<&CircuitBreaker> {
        self.breakers.get(index).and_then(Option::as_ref)
    }

    /// The indices of operations whose breaker is not closed, with its state.
    pub fn tripped(&self) -> impl Iterator<Item = (usize, BreakerState)> + '_ {
        self.breakers.iter().enumerate().filter_map(|(i, b)| {
            let state = b.as_ref()?.state();
            (state != BreakerState::Closed).then_some((i, state))
        })
    }
}

/// Runs one handler call of `operation` under its policy: breaker admission, per-attempt
/// timeout, retries of transient failures. `attempt(n)` makes the `n`-th call (0 first).
///
/// Errors keep their code; a timeout is [`ErrorCode::Timeout`], a refused call
/// [`ErrorCode::CircuitOpen`]. Both carry the operation name in their context, and the
/// error of a retried call records how many attempts were made (`attempts`).
///
/// ```
/// use std::time::Duration;
/// use onex_runtime::policy::{self, OperationPolicy};
/// use onex_runtime::retry::RetryPolicy;
/// use onex_runtime::{EffectContext, OnexError, Uuid};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// let policy = OperationPolicy {
///     retry: RetryPolicy::new(3, Duration::from_millis(10)),
///     timeout: Some(Duration::from_secs(1)),
///     ..OperationPolicy::NONE
/// };
/// let ctx = EffectContext::new(Uuid::new_v4());
/// let out = policy::call("probe", &policy, None, &ctx, |attempt| async move {
///     if attempt < 2 { Err(OnexError::handler("busy")) } else { Ok(attempt) }
/// })
/// .await;
/// assert_eq!(out, Ok(2));
/// # }
/// ```
pub async fn call<T, F, Fut>(
    operation: &'static str,
    policy: &OperationPolicy,
    breaker: Option<&CircuitBreaker>,
    ctx: &EffectContext,
    mut attempt: F,
) -> Result<T, OnexError>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, OnexError>>,
{
    if policy.retry.max_retries == 0 {
        return guarded(operation, policy, breaker, ctx, 0, attempt(0)).await;
    }
    let retried = policy
        .retry
        .run(
            |n| guarded(operation, policy, breaker, ctx, n, attempt(n)),
            |e: &OnexError| {
                e.code().is_transient() && *e.code() != ErrorCode::CircuitOpen && !ctx.is_expired()
            },
        )
        .await;
    retried.result.map_err(|e| {
        if retried.attempts > 1 {
            e.with_context("attempts", retried.attempts)
        } else {
            e
        }
    })
}

/// [`call`] for an operation that does not retry: runs `call` once under the breaker and
/// the timeout.
pub async fn call_once<T>(
    operation: &'static str,
    policy: &OperationPolicy,
    breaker: Option<&CircuitBreaker>,
    ctx: &EffectContext,
    call: impl Future<Output = Result<T, OnexError>>,
) -> Result<T, OnexError> {
    guarded(operation, policy, breaker, ctx, 0, call).await
}

/// One attempt: breaker admission, the timeout, the breaker's record.
async fn guarded<T>(
    operation: &'static str,
    policy: &OperationPolicy,
    breaker: Option<&CircuitBreaker>,
    ctx: &EffectContext,
    attempt: u32,
    call: impl Future<Output = Result<T, OnexError>>,
) -> Result<T, OnexError> {
    let node = ctx.node_name();
    let permit = match breaker {
        Some(b) => match b.try_acquire() {
            Some(permit) => Some(permit),
            None => {
                metrics::counter!("onex_circuit_rejections_total", "node" => node, "operation" => operation)
                    .increment(1);
                return Err(circuit_open(operation, b));
            }
        },
        None => None,
    };
    if attempt > 0 {
        metrics::counter!("onex_effect_retries_total", "node" => node, "operation" => operation)
            .increment(1);
    }
    let limit = match (policy.timeout, ctx.remaining()) {
        (Some(t), Some(left)) => Some(t.min(left)),
        (t, left) => t.or(left),
    };
    let result = match limit {
        Some(limit) => match tokio::time::timeout(limit, call).await {
            Ok(result) => result,
            Err(_) => Err(timed_out(operation, limit)),
        },
        None => call.await,
    };
    if let Some(permit) = permit {
        permit.record(
            result
                .as_ref()
                .err()
                .is_none_or(|e| !e.code().is_transient()),
        );
    }
    result
}

fn timed_out(operation: &'static str, limit: Duration) -> OnexError {
    let ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
    OnexError::timeout(format!("operation `{operation}` timed out after {ms} ms"))
        .with_context("operation", operation)
        .with_context("timeout_ms", ms)
}

fn circuit_open(operation: &'static str, breaker: &CircuitBreaker) -> OnexError {
    OnexError::new(
        ErrorCode::CircuitOpen,
        format!("Circuit breaker is open for operation `{operation}`"),
    )
    .with_context("operation", operation)
    .with_context("breaker_state", breaker.state().as_str())
    .with_context(
        "open_for_ms",
        u64::try_from(breaker.policy().open_for.as_millis()).unwrap_or(u64::MAX),
    )
}
