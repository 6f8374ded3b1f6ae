//! Retries with exponential backoff, shared by the workflow executor and effect-node policies.
//!
//! A [`RetryPolicy`] says how often to retry and how long to wait in between; the delays
//! come from [`backon`]'s exponential backoff. [`RetryPolicy::run`] drives an attempt
//! closure that is told which attempt it is (0 for the first), retries the errors a
//! predicate accepts, and reports how many attempts were made. Waiting uses
//! [`tokio::time::sleep`], so it needs a tokio runtime with the time driver once a retry
//! actually waits, and it follows tokio's paused clock in tests.
//!
//! ```
//! use std::time::Duration;
//! use onex_runtime::retry::RetryPolicy;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! let policy = RetryPolicy::new(3, Duration::from_millis(100)).with_multiplier(2.0);
//! assert_eq!(
//!     policy.delays().collect::<Vec<_>>(),
//!     [100, 200, 400].map(Duration::from_millis),
//! );
//!
//! // Fails twice, then succeeds on the third attempt (attempt number 2).
//! let retried = policy
//!     .run(
//!         |attempt| async move { if attempt < 2 { Err("busy") } else { Ok(attempt) } },
//!         |error| *error == "busy",
//!     )
//!     .await;
//! assert_eq!(retried.result, Ok(2));
//! assert_eq!(retried.attempts, 3);
//! # }
//! ```

use std::future::Future;
use std::time::Duration;

use backon::{BackoffBuilder, ConstantBuilder, ExponentialBuilder, Retryable};

use crate::workflow::CoordinationRules;

/// How the wait grows from one retry to the next (`backoff_strategy` in a contract).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BackoffStrategy {
    /// Every wait is the base delay (`fixed`, `constant`).
    Fixed,
    /// The wait before retry `n` is `n × base_delay` (`linear`).
    Linear,
    /// The wait before retry `n` is `base_delay × multiplier^(n-1)` (`exponential`).
    Exponential,
}

/// How often to retry a failed operation, and how long to wait before each retry.
///
/// The wait before retry `n` (1 for the first) follows the [`BackoffStrategy`] (exponential
/// by default: `base_delay * multiplier^(n-1)`), capped at `max_delay` when set. A `jitter`
/// factor `f` (0 to 1) then scales each wait by a random factor in `[1 - f, 1 + f]`,
/// spreading out clients that failed together (0.1: ±10 %). Out-of-range values never
/// panic: a multiplier below 1 (or not a number) counts as 1 (a constant delay), a jitter
/// outside 0..=1 is clamped, and a delay too large to represent saturates. Delays are
/// rounded to the microsecond.
///
/// ```
/// use std::time::Duration;
/// use onex_runtime::retry::{BackoffStrategy, RetryPolicy};
///
/// const POLICY: RetryPolicy = RetryPolicy::new(4, Duration::from_millis(50))
///     .with_multiplier(3.0)
///     .with_max_delay(Some(Duration::from_millis(500)));
/// let delays: Vec<u64> = POLICY.delays().map(|d| d.as_millis() as u64).collect();
/// assert_eq!(delays, [50, 150, 450, 500]);
///
/// let linear = POLICY.with_strategy(BackoffStrategy::Linear);
/// let delays: Vec<u64> = linear.delays().map(|d| d.as_millis() as u64).collect();
/// assert_eq!(delays, [50, 100, 150, 200]);
/// assert_eq!(RetryPolicy::NONE.delays().count(), 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: no retry, one attempt in all).
    pub max_retries: u32,
    /// The wait before the first retry.
    pub base_delay: Duration,
    /// The longest wait between two attempts (`None`: no cap).
    pub max_delay: Option<Duration>,
    /// How the wait grows.
    pub strategy: BackoffStrategy,
    /// Each further retry waits this many times longer (exponential strategy; at least 1).
    pub multiplier: f64,
    /// Random spread of each wait, as a fraction of it (0: none, 0.1: ±10 %).
    pub jitter: f64,
}

impl Default for RetryPolicy {
    /// Three retries, 100 ms, 200 ms and 400 ms apart, without cap or jitter.
    fn default() -> Self {
        RetryPolicy::new(3, Duration::from_millis(100))
    }
}

/// The outcome of [`RetryPolicy::run`]: the last attempt's result and how many attempts ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retried<T, E> {
    /// The first success, or the error that ended the retries (not retryable, or the last
    /// allowed attempt's).
    pub result: Result<T, E>,
    /// Attempts made, the first included (at least 1).
    pub attempts: u32,
}

impl RetryPolicy {
    /// No retry: a single attempt.
    pub const NONE: RetryPolicy = RetryPolicy::new(0, Duration::ZERO);

    /// `max_retries` retries, the first after `base_delay`, each further one twice as late;
    /// no cap, no jitter.
    pub const fn new(max_retries: u32, base_delay: Duration) -> Self {
        RetryPolicy {
            max_retries,
            base_delay,
            max_delay: None,
            strategy: BackoffStrategy::Exponential,
            multiplier: 2.0,
            jitter: 0.0,
        }
    }

    /// The policy of a workflow's coordination rules: `max_retries`, `retry_backoff`,
    /// `retry_backoff_multiplier`; no cap, no jitter.
    pub const fn from_rules(rules: &CoordinationRules) -> Self {
        RetryPolicy::new(rules.max_retries, rules.retry_backoff)
            .with_multiplier(rules.retry_backoff_multiplier)
    }

    /// Sets the number of retries.
    #[must_use]
    pub const fn with_max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// Sets the wait before the first retry.
    #[must_use]
    pub const fn with_base_delay(mut self, base_delay: Duration) -> Self {
        self.base_delay = base_delay;
        self
    }

    /// Caps the wait between two attempts (`None`: no cap).
    #[must_use]
    pub const fn with_max_delay(mut self, max_delay: Option<Duration>) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// Sets the growth factor of the wait (values below 1, and NaN, count as 1).
    #[must_use]
    pub const fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier;
        self
    }

    /// Sets how the wait grows.
    #[must_use]
    pub const fn with_strategy(mut self, strategy: BackoffStrategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Sets the jitter factor (0: none; 0.1 spreads each wait by ±10 %).
    #[must_use]
    pub const fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// The waits before each retry, in order (`max_retries` of them), before jitter: backon's
    /// exponential or constant backoff, or the linear sequence.
    fn backoff(&self) -> Box<dyn Iterator<Item = Duration> + Send + Sync + Unpin> {
        let times = self.max_retries as usize;
        match self.strategy {
            BackoffStrategy::Exponential => {
                // NaN and values below 1 mean a constant delay; `as f32` saturates.
                let factor = if self.multiplier >= 1.0 {
                    self.multiplier as f32
                } else {
                    1.0
                };
                let builder = ExponentialBuilder::new()
                    .with_min_delay(self.base_delay)
                    .with_factor(factor)
                    .with_max_times(times);
                let builder = match self.max_delay {
                    Some(max) => builder.with_max_delay(max),
                    None => builder.without_max_delay(),
                };
                Box::new(builder.build())
            }
            BackoffStrategy::Fixed => {
                let delay = self
                    .max_delay
                    .map_or(self.base_delay, |m| m.min(self.base_delay));
                Box::new(
                    ConstantBuilder::new()
                        .with_delay(delay)
                        .with_max_times(times)
                        .build(),
                )
            }
            BackoffStrategy::Linear => {
                let (base, cap) = (self.base_delay, self.max_delay);
                Box::new((1..=self.max_retries).map(move |n| {
                    let delay = base.saturating_mul(n);
                    cap.map_or(delay, |cap| delay.min(cap))
                }))
            }
        }
    }

    /// The waits before each retry, in order (`max_retries` of them). With jitter, each call
    /// draws new random factors.
    pub fn delays(&self) -> impl Iterator<Item = Duration> + Send + Sync + Unpin + use<> {
        let jitter = if self.jitter.is_nan() {
            0.0
        } else {
            self.jitter.clamp(0.0, 1.0)
        };
        self.backoff().map(move |delay| {
            let delay = if jitter > 0.0 {
                let factor = 1.0 + jitter * (2.0 * fastrand::f64() - 1.0);
                Duration::try_from_secs_f64(delay.as_secs_f64() * factor).unwrap_or(delay)
            } else {
                delay
            };
            to_micros(delay)
        })
    }

    /// Runs `attempt(0)`, and while it fails with an error `should_retry` accepts and retries
    /// are left, waits the next delay and runs `attempt(1)`, `attempt(2)`, ….
    ///
    /// Returns the first success or the error that ended it, with the number of attempts
    /// made. Dropping the returned future cancels the attempt (or the wait) in progress.
    pub async fn run<T, E, F, Fut, P>(&self, mut attempt: F, should_retry: P) -> Retried<T, E>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        P: Fn(&E) -> bool,
    {
        let mut attempts: u32 = 0;
        let result = (|| {
            let n = attempts;
            attempts = attempts.saturating_add(1);
            attempt(n)
        })
        .retry(self.delays())
        .sleep(tokio::time::sleep)
        .when(should_retry)
        .await;
        Retried { result, attempts }
    }
}

/// Rounds a delay to the nearest microsecond: backon computes in `f32`, which turns
/// 100 ms × 2 into 200.000003 ms.
fn to_micros(d: Duration) -> Duration {
    let micros = (d.subsec_nanos() + 500) / 1_000;
    Duration::from_secs(d.as_secs()).saturating_add(Duration::from_micros(u64::from(micros)))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use tokio::time::Instant;

    use super::*;

    fn ms(d: Duration) -> f64 {
        d.as_secs_f64() * 1000.0
    }

    #[test]
    fn delays_grow_by_the_multiplier_and_stop_at_the_cap() {
        let policy = RetryPolicy::new(5, Duration::from_millis(10))
            .with_multiplier(2.0)
            .with_max_delay(Some(Duration::from_millis(50)));
        let delays: Vec<f64> = policy.delays().map(ms).collect();
        assert_eq!(delays.len(), 5);
        assert_eq!(delays, [10.0, 20.0, 40.0, 50.0, 50.0]);
    }

    #[test]
    fn odd_multipliers_do_not_panic() {
        for multiplier in [f64::NAN, -3.0, 0.0, 0.5, f64::INFINITY, 1e300] {
            let policy = RetryPolicy::new(70, Duration::from_secs(1)).with_multiplier(multiplier);
            let delays: Vec<Duration> = policy.delays().collect();
            assert_eq!(delays.len(), 70);
            assert_eq!(delays[0], Duration::from_secs(1));
            assert!(delays.windows(2).all(|w| w[0] <= w[1]), "{multiplier}");
        }
        // A growing delay without a cap saturates instead of overflowing.
        let huge = RetryPolicy::new(200, Duration::from_secs(1)).with_multiplier(10.0);
        assert_eq!(huge.delays().last(), Some(Duration::MAX));
    }

    #[test]
    fn jitter_spreads_each_delay_by_the_factor() {
        let policy = RetryPolicy::new(3, Duration::from_millis(100)).with_jitter(0.1);
        let mut spread = false;
        for _ in 0..50 {
            for (got, base) in policy.delays().zip([100.0, 200.0, 400.0]) {
                let got = ms(got);
                assert!(
                    got >= base * 0.9 - 0.01 && got <= base * 1.1 + 0.01,
                    "{got} vs {base}"
                );
                spread |= (got - base).abs() > 0.01;
            }
        }
        assert!(spread, "a 10 % jitter never moved a delay in 150 draws");
        for odd in [f64::NAN, -1.0, 7.0] {
            assert_eq!(
                RetryPolicy::new(2, Duration::from_millis(10))
                    .with_jitter(odd)
                    .delays()
                    .count(),
                2
            );
        }
    }

    #[test]
    fn fixed_and_linear_strategies() {
        let fixed =
            RetryPolicy::new(3, Duration::from_millis(40)).with_strategy(BackoffStrategy::Fixed);
        assert_eq!(
            fixed.delays().map(ms).collect::<Vec<_>>(),
            [40.0, 40.0, 40.0]
        );
        let linear = RetryPolicy::new(4, Duration::from_millis(40))
            .with_strategy(BackoffStrategy::Linear)
            .with_max_delay(Some(Duration::from_millis(100)));
        assert_eq!(
            linear.delays().map(ms).collect::<Vec<_>>(),
            [40.0, 80.0, 100.0, 100.0]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn run_retries_with_the_attempt_number_and_waits_the_delays() {
        let start = Instant::now();
        let starts = std::sync::Mutex::new(Vec::new());
        let policy = RetryPolicy::new(5, Duration::from_millis(100));
        let retried = policy
            .run(
                |attempt| {
                    let starts = &starts;
                    async move {
                        if let Ok(mut v) = starts.lock() {
                            v.push((attempt, ms(start.elapsed())));
                        }
                        if attempt < 3 {
                            Err(attempt)
                        } else {
                            Ok("done")
                        }
                    }
                },
                |_| true,
            )
            .await;
        assert_eq!(
            retried,
            Retried {
                result: Ok("done"),
                attempts: 4
            }
        );
        let starts = starts.into_inner().unwrap_or_default();
        let numbers: Vec<u32> = starts.iter().map(|s| s.0).collect();
        assert_eq!(numbers, [0, 1, 2, 3]);
        for ((_, got), want) in starts.iter().zip([0.0, 100.0, 300.0, 700.0]) {
            assert!((got - want).abs() < 1.0, "{starts:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn run_stops_on_a_non_retryable_error_and_when_retries_run_out() {
        let calls = AtomicU32::new(0);
        let policy = RetryPolicy::new(3, Duration::from_millis(1));
        let retried: Retried<(), &str> = policy
            .run(
                |_| {
                    calls.fetch_add(1, Ordering::Relaxed);
                    async { Err("fatal") }
                },
                |e| *e != "fatal",
            )
            .await;
        assert_eq!((retried.result, retried.attempts), (Err("fatal"), 1));
        assert_eq!(calls.load(Ordering::Relaxed), 1);

        let retried: Retried<(), u32> = policy.run(|n| async move { Err(n) }, |_| true).await;
        assert_eq!((retried.result, retried.attempts), (Err(3), 4));

        let once: Retried<(), u32> = RetryPolicy::NONE
            .run(|n| async move { Err(n) }, |_| true)
            .await;
        assert_eq!((once.result, once.attempts), (Err(0), 1));
    }

    #[test]
    fn from_rules_takes_the_retry_fields() {
        let rules = CoordinationRules {
            mode: crate::workflow::ExecutionMode::Sequential,
            max_parallel_steps: None,
            failure_strategy: crate::workflow::FailureStrategy::Retry,
            max_retries: 2,
            retry_backoff: Duration::from_millis(30),
            retry_backoff_multiplier: 1.5,
            step_timeout: None,
            timeout: None,
        };
        let policy = RetryPolicy::from_rules(&rules);
        assert_eq!(policy.max_retries, 2);
        assert_eq!(policy.base_delay, Duration::from_millis(30));
        assert_eq!(policy.multiplier, 1.5);
        assert!(policy.jitter == 0.0 && policy.max_delay.is_none());
    }
}
