//! Effect policies resolved to numbers: what an operation's timeout, retry and circuit
//! breaker are once the contract's defaults and fallbacks are applied.
//!
//! Fallbacks: per operation, else node level (`effect_operations.default_retry_policy` /
//! `default_circuit_breaker`, or `descriptor.*`), as [`operations::lower`] resolved them.
//! Defaults for keys a block leaves out are the reference's (`ModelEffectRetryPolicy`,
//! `ModelEffectCircuitBreaker`). Idempotency: `idempotent` when the operation (or the
//! handler `descriptor`) declares it, else the reference's default for its `io_config`
//! (HTTP GET/HEAD/OPTIONS/PUT/DELETE; SQL SELECT/UPDATE/DELETE/UPSERT; file read/delete),
//! else not idempotent. Only idempotent operations retry (DESIGN.md §5).
//!
//! [`operations::lower`]: crate::operations::lower

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{CircuitBreaker, IoConfig, RetryPolicy};
use crate::operations::{Operation, Operations};

/// How the wait between retries grows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backoff {
    /// `fixed` / `constant`.
    Fixed,
    /// `linear`.
    Linear,
    /// `exponential` (factor 2).
    Exponential,
}

/// A resolved retry policy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Retry {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first wait, in milliseconds.
    pub base_delay_ms: u64,
    /// The longest wait, in milliseconds.
    pub max_delay_ms: u64,
    /// How the wait grows.
    pub backoff: Backoff,
    /// Random spread of each wait (0..=1).
    pub jitter: f64,
}

/// A resolved circuit breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Breaker {
    /// Consecutive failures that open it.
    pub failure_threshold: u32,
    /// Successful probes that close it.
    pub success_threshold: u32,
    /// How long it stays open, in milliseconds.
    pub open_ms: u64,
    /// Probes at once while half-open.
    pub half_open_requests: u32,
}

/// The policies of one operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    /// Per-attempt timeout in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Retries (`None`: no retry, including every non-idempotent operation).
    pub retry: Option<Retry>,
    /// Circuit breaker (`None`: none, or `enabled: false`).
    pub breaker: Option<Breaker>,
    /// Whether the operation is idempotent (declared or defaulted).
    pub idempotent: bool,
}

impl Policy {
    /// True when nothing wraps the handler call.
    pub fn is_none(&self) -> bool {
        self.timeout_ms.is_none() && self.retry.is_none() && self.breaker.is_none()
    }
}

/// The reference's idempotency default for an `io_config`, if it has one.
pub fn default_idempotency(io: &IoConfig) -> Option<bool> {
    let upper = |s: &Option<crate::read::Spanned<String>>| {
        s.as_ref().map(|s| s.value.trim().to_ascii_uppercase())
    };
    match io.handler_type.value.as_str() {
        "http" => match upper(&io.method)?.as_str() {
            "GET" | "HEAD" | "OPTIONS" | "PUT" | "DELETE" => Some(true),
            "POST" | "PATCH" => Some(false),
            _ => None,
        },
        "db" => match upper(&io.operation)?.as_str() {
            "SELECT" | "UPDATE" | "DELETE" | "UPSERT" => Some(true),
            "INSERT" => Some(false),
            _ => None,
        },
        "kafka" => Some(false),
        "filesystem" => match upper(&io.operation)?.as_str() {
            "READ" | "DELETE" => Some(true),
            "WRITE" | "MOVE" | "COPY" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `op` is idempotent: declared, else the `io_config` default, else not.
pub fn idempotent(op: &Operation) -> bool {
    op.idempotent
        .or_else(|| op.io_config.as_ref().and_then(default_idempotency))
        .unwrap_or(false)
}

fn clamp_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Whether a retry block asks for retries (enabled, and `max_retries` > 0; 3 by default).
pub fn asks_for_retries(policy: &RetryPolicy) -> bool {
    policy.enabled != Some(false) && policy.max_retries.unwrap_or(3) > 0
}

fn retry(policy: &RetryPolicy) -> Retry {
    let backoff = match policy.backoff_strategy.as_ref().map(|s| s.value.as_str()) {
        Some("fixed" | "constant") => Backoff::Fixed,
        Some("linear") => Backoff::Linear,
        _ => Backoff::Exponential,
    };
    Retry {
        max_retries: clamp_u32(policy.max_retries.unwrap_or(3)),
        base_delay_ms: policy.base_delay_ms.unwrap_or(1000),
        max_delay_ms: policy.max_delay_ms.unwrap_or(30_000),
        backoff,
        jitter: policy
            .jitter_factor
            .as_ref()
            .map_or(0.1, |j| j.value.clamp(0.0, 1.0)),
    }
}

fn breaker(cb: &CircuitBreaker) -> Option<Breaker> {
    if cb.enabled == Some(false) {
        return None;
    }
    Some(Breaker {
        failure_threshold: clamp_u32(cb.failure_threshold.unwrap_or(5)).max(1),
        success_threshold: clamp_u32(cb.success_threshold.unwrap_or(2)).max(1),
        open_ms: cb.timeout_ms.unwrap_or(60_000),
        half_open_requests: clamp_u32(cb.half_open_requests.unwrap_or(3)).max(1),
    })
}

/// Resolves an operation's policies.
pub fn resolve(op: &Operation) -> Policy {
    let idempotent = idempotent(op);
    Policy {
        timeout_ms: op.timeout_ms.filter(|t| *t > 0),
        retry: op
            .retry_policy
            .as_ref()
            .filter(|p| idempotent && asks_for_retries(p))
            .map(retry),
        breaker: op.circuit_breaker.as_ref().and_then(breaker),
        idempotent,
    }
}

/// Checks the policies of effect operations: an operation's own retry policy on an
/// operation that is not idempotent is an error; on one whose idempotency is unknown, a
/// warning (its retries are switched off). A node-level default retry policy applies to
/// the idempotent operations only, silently.
pub fn validate(ops: &Operations, d: &mut Diagnostics) {
    for op in &ops.operations {
        let (Some(policy), Some(_)) = (&op.retry_policy, op.own_retry_policy) else {
            continue;
        };
        if !asks_for_retries(policy) {
            continue;
        }
        let defaulted = op.io_config.as_ref().and_then(|io| {
            let what = io.method.as_ref().or(io.operation.as_ref());
            let what = what.map_or(String::new(), |w| format!(" {}", w.value.trim()));
            default_idempotency(io).map(|b| (b, format!("{}{what}", io.handler_type.value)))
        });
        let (declared, why) = match (op.idempotent, defaulted) {
            (Some(b), _) => (Some(b), String::new()),
            (None, Some((b, what))) => (Some(b), format!(" (the default for `{what}`)")),
            (None, None) => (None, String::new()),
        };
        match declared {
            Some(true) => {}
            Some(false) => d.push(
                Diagnostic::error(
                    "retry-not-idempotent",
                    op.name.loc,
                    format!(
                        "operation `{}` is not idempotent{why} but its retry policy retries",
                        op.name.value
                    ),
                )
                .with_help(
                    "set `retry_policy.max_retries: 0` (or `enabled: false`), or, if running it twice is safe (an idempotency key, say), declare `idempotent: true`",
                ),
            ),
            None => d.push(
                Diagnostic::warning(
                    "policy-retry-without-idempotency",
                    op.name.loc,
                    format!(
                        "operation `{}` has a retry policy but is not declared idempotent: it will not be retried",
                        op.name.value
                    ),
                )
                .with_help(
                    "add `idempotent: true` to the operation if running it twice is safe, or drop the retry policy",
                ),
            ),
        }
    }
}
