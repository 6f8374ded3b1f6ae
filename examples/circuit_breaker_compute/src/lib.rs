//! `CircuitBreakerDecider`: a pure COMPUTE node, declared from `contract.yaml`, that decides a
//! circuit breaker's state from failure statistics.
//!
//! The rules, for thresholds `T` (the contract's defaults unless the request sends its own):
//!
//! - **closed**: trips to **open** when the window holds at least `T.minimum_requests`
//!   requests and either `T.failure_threshold` failures or a failure rate of at least
//!   `T.failure_rate_threshold`; otherwise stays closed. Requests go through.
//! - **open**: requests are refused until the last failure is `T.open_timeout_ms` old, then
//!   **half_open**.
//! - **half_open**: trial requests go through. A failure younger than `T.open_timeout_ms` can
//!   only be a failed trial (the breaker entered half_open after that long without one), so
//!   it reopens the circuit; `T.half_open_successes` consecutive successes close it.
//!
//! Statistics that contradict each other (more failures than requests, failures in the
//! window while the last failure is older than the window) are rejected with a typed error.
//!
//! `main.rs` replays the scripted statistics in [`script`] through `process_json` and prints
//! each decision; `tests/decisions.rs` asserts them.

use onex_runtime::{ErrorCode, OnexError, compute_node};

use circuit_breaker_decider::{
    EnumBreakerState, ModelBreakerDecision, ModelBreakerStats, ModelBreakerThresholds,
};

/// The decision maker. It holds nothing: every input carries all it needs.
///
/// The attribute generates, beside it, the module `circuit_breaker_decider` (the contract's
/// models, `CONTRACT` and topic constants), `CircuitBreakerDeciderOperation`,
/// `CircuitBreakerDeciderInput` / `CircuitBreakerDeciderOutput`, the
/// `CircuitBreakerDeciderHandler` trait implemented below, and `impl ComputeNode`.
#[compute_node(contract = "contract.yaml")]
#[derive(Clone, Copy, Debug, Default)]
pub struct CircuitBreakerDecider;

impl CircuitBreakerDeciderHandler for CircuitBreakerDecider {
    /// The contract has one operation (`process`, no routing), so one method: `handle`.
    fn handle(&self, stats: ModelBreakerStats) -> Result<ModelBreakerDecision, OnexError> {
        check_consistent(&stats)?;
        let t = match stats.thresholds {
            Some(t) => t,
            None => default_thresholds()?,
        };
        let failure_rate = if stats.requests == 0 {
            0.0
        } else {
            stats.failures as f64 / stats.requests as f64
        };
        let open_for = |age: i64| (t.open_timeout_ms - age).max(0);
        let (state, retry_after_ms, reason) = match stats.current_state {
            EnumBreakerState::Closed => {
                let enough = stats.requests >= t.minimum_requests;
                if enough && stats.failures >= t.failure_threshold {
                    (
                        EnumBreakerState::Open,
                        Some(t.open_timeout_ms),
                        format!(
                            "{} failures in the last {} ms reach the threshold of {}",
                            stats.failures, stats.window_ms, t.failure_threshold
                        ),
                    )
                } else if enough && failure_rate >= t.failure_rate_threshold {
                    (
                        EnumBreakerState::Open,
                        Some(t.open_timeout_ms),
                        format!(
                            "a failure rate of {:.0}% reaches the threshold of {:.0}%",
                            failure_rate * 100.0,
                            t.failure_rate_threshold * 100.0
                        ),
                    )
                } else if !enough && stats.failures > 0 {
                    (
                        EnumBreakerState::Closed,
                        None,
                        format!(
                            "{} requests are too few to judge (the breaker needs {})",
                            stats.requests, t.minimum_requests
                        ),
                    )
                } else {
                    (
                        EnumBreakerState::Closed,
                        None,
                        "failures are below the thresholds".to_owned(),
                    )
                }
            }
            EnumBreakerState::Open => match stats.last_failure_age_ms {
                Some(age) if age < t.open_timeout_ms => (
                    EnumBreakerState::Open,
                    Some(open_for(age)),
                    format!(
                        "the last failure is {age} ms old; trial requests start at {} ms",
                        t.open_timeout_ms
                    ),
                ),
                _ => (
                    EnumBreakerState::HalfOpen,
                    None,
                    format!(
                        "no failure for {} ms: letting trial requests through",
                        t.open_timeout_ms
                    ),
                ),
            },
            EnumBreakerState::HalfOpen => match stats.last_failure_age_ms {
                Some(age) if age < t.open_timeout_ms => (
                    EnumBreakerState::Open,
                    Some(open_for(age)),
                    format!("a trial request failed {age} ms ago"),
                ),
                _ if stats.consecutive_successes >= t.half_open_successes => (
                    EnumBreakerState::Closed,
                    None,
                    format!(
                        "{} trial requests in a row succeeded",
                        stats.consecutive_successes
                    ),
                ),
                _ => (
                    EnumBreakerState::HalfOpen,
                    None,
                    format!(
                        "{} of {} trial successes so far",
                        stats.consecutive_successes, t.half_open_successes
                    ),
                ),
            },
        };
        Ok(ModelBreakerDecision {
            changed: state != stats.current_state,
            allow_request: state != EnumBreakerState::Open,
            state,
            failure_rate,
            retry_after_ms,
            reason,
        })
    }
}

/// The contract's thresholds: `{}` decoded, so every field takes its contract default.
fn default_thresholds() -> Result<ModelBreakerThresholds, OnexError> {
    serde_json::from_value(serde_json::json!({}))
        .map_err(|e| OnexError::internal(format!("the contract's default thresholds: {e}")))
}

/// Rejects statistics that cannot all be true at once.
fn check_consistent(stats: &ModelBreakerStats) -> Result<(), OnexError> {
    let inconsistent = |message: String| {
        Err(OnexError::new(ErrorCode::InvalidInput, message)
            .with_context("requests", stats.requests)
            .with_context("failures", stats.failures))
    };
    if stats.failures > stats.requests {
        return inconsistent(format!(
            "{} failures out of {} requests: a window cannot fail more requests than it saw",
            stats.failures, stats.requests
        ));
    }
    match stats.last_failure_age_ms {
        Some(age) if stats.failures > 0 && age > stats.window_ms => inconsistent(format!(
            "{} failures in the last {} ms, but the last failure is {age} ms old",
            stats.failures, stats.window_ms
        )),
        None if stats.failures > 0 => inconsistent(format!(
            "{} failures in the window, but no `last_failure_age_ms`",
            stats.failures
        )),
        _ => Ok(()),
    }
}

/// The statistics `main.rs` replays, in order: the life of one breaker, then bad input.
pub mod script {
    /// One scripted step: what it shows, and the envelope's payload.
    pub struct Step {
        /// What the step shows.
        pub title: &'static str,
        /// The `ModelBreakerStats` payload, as JSON.
        pub payload: &'static str,
    }

    /// The steps.
    pub const STEPS: &[Step] = &[
        Step {
            title: "healthy traffic",
            payload: r#"{"current_state": "closed", "window_ms": 10000, "requests": 40, "failures": 1, "last_failure_age_ms": 4200}"#,
        },
        Step {
            title: "failures pile up",
            payload: r#"{"current_state": "closed", "window_ms": 10000, "requests": 40, "failures": 6, "last_failure_age_ms": 150}"#,
        },
        Step {
            title: "still open, 10 s later",
            payload: r#"{"current_state": "open", "window_ms": 10000, "requests": 0, "failures": 0, "last_failure_age_ms": 10150}"#,
        },
        Step {
            title: "the open timeout has passed",
            payload: r#"{"current_state": "open", "window_ms": 10000, "requests": 0, "failures": 0, "last_failure_age_ms": 30150}"#,
        },
        Step {
            title: "one trial request succeeded",
            payload: r#"{"current_state": "half_open", "window_ms": 10000, "requests": 1, "failures": 0, "consecutive_successes": 1, "last_failure_age_ms": 31000}"#,
        },
        Step {
            title: "the next trial request failed",
            payload: r#"{"current_state": "half_open", "window_ms": 10000, "requests": 2, "failures": 1, "consecutive_successes": 0, "last_failure_age_ms": 40}"#,
        },
        Step {
            title: "open again, until the timeout passes",
            payload: r#"{"current_state": "open", "window_ms": 10000, "requests": 0, "failures": 0, "last_failure_age_ms": 30040}"#,
        },
        Step {
            title: "three trial requests succeeded",
            payload: r#"{"current_state": "half_open", "window_ms": 10000, "requests": 3, "failures": 0, "consecutive_successes": 3, "last_failure_age_ms": 33000}"#,
        },
        Step {
            title: "few requests, all failed: too little traffic to judge",
            payload: r#"{"current_state": "closed", "window_ms": 10000, "requests": 4, "failures": 4, "last_failure_age_ms": 900}"#,
        },
        Step {
            title: "custom thresholds: a high failure rate trips the breaker",
            payload: r#"{"current_state": "closed", "window_ms": 60000, "requests": 200, "failures": 120, "last_failure_age_ms": 20,
                         "thresholds": {"failure_threshold": 500, "failure_rate_threshold": 0.5, "minimum_requests": 100, "open_timeout_ms": 5000}}"#,
        },
        Step {
            title: "inconsistent statistics: more failures than requests",
            payload: r#"{"current_state": "closed", "window_ms": 10000, "requests": 3, "failures": 5, "last_failure_age_ms": 10}"#,
        },
        Step {
            title: "statistics outside the contract's constraints",
            payload: r#"{"current_state": "closed", "window_ms": 0, "requests": -1, "failures": 0}"#,
        },
        Step {
            title: "a state the contract does not know",
            payload: r#"{"current_state": "ajar", "window_ms": 10000, "requests": 0, "failures": 0}"#,
        },
    ];

    /// The JSON envelope of a step (fixed ids, so the output is reproducible).
    pub fn envelope(index: usize, step: &Step) -> Vec<u8> {
        format!(
            r#"{{"correlation_id": "5b1e2c3d-4f5a-4b6c-8d7e-{index:012}",
                "envelope_id": "9a8b7c6d-5e4f-4a3b-8c2d-{index:012}",
                "envelope_timestamp": "2026-11-20T12:30:45Z",
                "source_tool": "gateway",
                "payload": {}}}"#,
            step.payload
        )
        .into_bytes()
    }
}
