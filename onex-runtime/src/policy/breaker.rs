//! The circuit breaker of an effect operation, on [`failsafe`]'s state machine.
//!
//! failsafe owns the closed → open → half-open cycle (consecutive failures open it for a
//! constant time, the first call after that time half-opens it). On top of it this module
//! counts the contract's half-open probes: at most `half_open_requests` calls at once while
//! half-open, and `success_threshold` successes before the breaker closes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use failsafe::failure_policy::{ConsecutiveFailures, consecutive_failures};
use failsafe::{Instrument, StateMachine};

/// A circuit breaker's settings (`circuit_breaker` / `default_circuit_breaker`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BreakerPolicy {
    /// Consecutive failures that open the breaker (`failure_threshold`, at least 1).
    pub failure_threshold: u32,
    /// Successful half-open probes that close it again (`success_threshold`, at least 1).
    pub success_threshold: u32,
    /// How long it stays open before probing (`timeout_ms`).
    pub open_for: Duration,
    /// Probes allowed at once while half-open (`half_open_requests`, at least 1).
    pub half_open_requests: u32,
}

impl BreakerPolicy {
    /// A breaker opening after `failure_threshold` consecutive failures for `open_for`, closing
    /// after one successful probe, one probe at a time.
    pub const fn new(failure_threshold: u32, open_for: Duration) -> Self {
        BreakerPolicy {
            failure_threshold,
            success_threshold: 1,
            open_for,
            half_open_requests: 1,
        }
    }

    /// Sets the successes needed to close.
    #[must_use]
    pub const fn with_success_threshold(mut self, n: u32) -> Self {
        self.success_threshold = n;
        self
    }

    /// Sets the probes allowed at once while half-open.
    #[must_use]
    pub const fn with_half_open_requests(mut self, n: u32) -> Self {
        self.half_open_requests = n;
        self
    }
}

/// Where a breaker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls fail fast until the open time has passed.
    Open,
    /// A few probe calls go through; their outcome closes or reopens the breaker.
    HalfOpen,
}

impl BreakerState {
    /// `closed`, `open` or `half_open`.
    pub const fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// What the failsafe instrument reports, and the probe counts while half-open.
#[derive(Debug, Default)]
struct Probes {
    open: AtomicBool,
    half_open: AtomicBool,
    in_flight: AtomicU32,
    successes: AtomicU32,
    opened: AtomicU32,
}

#[derive(Clone, Debug)]
struct Watch(Arc<Probes>);

impl Instrument for Watch {
    fn on_call_rejected(&self) {}

    fn on_open(&self) {
        self.0.open.store(true, Ordering::Release);
        self.0.half_open.store(false, Ordering::Release);
        self.0.opened.fetch_add(1, Ordering::Relaxed);
    }

    fn on_half_open(&self) {
        self.0.successes.store(0, Ordering::Release);
        self.0.in_flight.store(0, Ordering::Release);
        self.0.open.store(false, Ordering::Release);
        self.0.half_open.store(true, Ordering::Release);
    }

    fn on_closed(&self) {
        self.0.open.store(false, Ordering::Release);
        self.0.half_open.store(false, Ordering::Release);
    }
}

type Machine = StateMachine<ConsecutiveFailures<failsafe::backoff::Constant>, Watch>;

/// A circuit breaker guarding one effect operation.
///
/// ```
/// use std::time::Duration;
/// use onex_runtime::policy::{BreakerPolicy, BreakerState, CircuitBreaker};
///
/// let breaker = CircuitBreaker::new(BreakerPolicy::new(2, Duration::from_secs(30)));
/// for _ in 0..2 {
///     let permit = breaker.try_acquire().expect("closed");
///     permit.record(false); // a failed call
/// }
/// assert_eq!(breaker.state(), BreakerState::Open);
/// assert!(breaker.try_acquire().is_none()); // fails fast
/// ```
#[derive(Debug)]
pub struct CircuitBreaker {
    policy: BreakerPolicy,
    machine: Machine,
    probes: Arc<Probes>,
}

/// Permission for one call through a [`CircuitBreaker`]; report the outcome with
/// [`record`](BreakerPermit::record). Dropping it unrecorded (a cancelled call) releases a
/// half-open probe slot without counting an outcome.
#[derive(Debug)]
pub struct BreakerPermit<'a> {
    breaker: &'a CircuitBreaker,
    probe: bool,
    recorded: bool,
}

impl CircuitBreaker {
    /// A closed breaker with the given settings (zero thresholds count as 1).
    pub fn new(policy: BreakerPolicy) -> Self {
        let probes = Arc::new(Probes::default());
        let backoff = failsafe::backoff::constant(policy.open_for);
        let machine = StateMachine::new(
            consecutive_failures(policy.failure_threshold.max(1), backoff),
            Watch(Arc::clone(&probes)),
        );
        CircuitBreaker {
            policy,
            machine,
            probes,
        }
    }

    /// The settings.
    pub fn policy(&self) -> &BreakerPolicy {
        &self.policy
    }

    /// Where the breaker stands now (an open breaker whose time has passed still reads
    /// `Open` until the next call half-opens it).
    pub fn state(&self) -> BreakerState {
        if self.probes.open.load(Ordering::Acquire) {
            BreakerState::Open
        } else if self.probes.half_open.load(Ordering::Acquire) {
            BreakerState::HalfOpen
        } else {
            BreakerState::Closed
        }
    }

    /// How many times the breaker has opened since it was created.
    pub fn times_opened(&self) -> u32 {
        self.probes.opened.load(Ordering::Relaxed)
    }

    /// Asks to make a call: `None` while open, or while half-open with every probe slot
    /// taken.
    pub fn try_acquire(&self) -> Option<BreakerPermit<'_>> {
        if !self.machine.is_call_permitted() {
            return None;
        }
        let probe = self.probes.half_open.load(Ordering::Acquire);
        if probe {
            let limit = self.policy.half_open_requests.max(1);
            let taken =
                self.probes
                    .in_flight
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                        (n < limit).then_some(n + 1)
                    });
            if taken.is_err() {
                return None;
            }
        }
        Some(BreakerPermit {
            breaker: self,
            probe,
            recorded: false,
        })
    }

    fn release_probe(&self) {
        let _ = self
            .probes
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }
}

impl BreakerPermit<'_> {
    /// Reports the call's outcome: `true` when the backend answered (the call succeeded or
    /// failed through no fault of the backend), `false` when it counts against the backend.
    pub fn record(mut self, healthy: bool) {
        self.recorded = true;
        let breaker = self.breaker;
        if self.probe {
            breaker.release_probe();
        }
        if !healthy {
            breaker.machine.on_error();
        } else if self.probe {
            let successes = breaker.probes.successes.fetch_add(1, Ordering::AcqRel) + 1;
            if successes >= breaker.policy.success_threshold.max(1) {
                breaker.machine.on_success();
            }
        } else {
            breaker.machine.on_success();
        }
    }
}

impl Drop for BreakerPermit<'_> {
    fn drop(&mut self) {
        if !self.recorded && self.probe {
            self.breaker.release_probe();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(open_ms: u64) -> BreakerPolicy {
        BreakerPolicy::new(3, Duration::from_millis(open_ms))
            .with_success_threshold(2)
            .with_half_open_requests(1)
    }

    #[test]
    fn opens_after_consecutive_failures_only() {
        let b = CircuitBreaker::new(policy(60_000));
        for healthy in [false, false, true, false, false] {
            b.try_acquire().expect("closed").record(healthy);
        }
        assert_eq!(
            b.state(),
            BreakerState::Closed,
            "a success resets the count"
        );
        b.try_acquire().expect("closed").record(false);
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.try_acquire().is_none());
        assert_eq!(b.times_opened(), 1);
    }

    #[test]
    fn half_open_limits_probes_and_needs_the_success_threshold() {
        let b = CircuitBreaker::new(policy(20));
        for _ in 0..3 {
            b.try_acquire().expect("closed").record(false);
        }
        std::thread::sleep(Duration::from_millis(40));
        let probe = b.try_acquire().expect("half-open probe");
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.try_acquire().is_none(), "one probe at a time");
        probe.record(true);
        assert_eq!(b.state(), BreakerState::HalfOpen, "one success of two");
        b.try_acquire().expect("second probe").record(true);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn a_failed_probe_reopens_and_a_dropped_one_frees_its_slot() {
        let b = CircuitBreaker::new(policy(20));
        for _ in 0..3 {
            b.try_acquire().expect("closed").record(false);
        }
        std::thread::sleep(Duration::from_millis(40));
        drop(b.try_acquire().expect("probe"));
        b.try_acquire().expect("slot freed").record(false);
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.try_acquire().is_none());
        assert_eq!(b.times_opened(), 2);
    }
}
