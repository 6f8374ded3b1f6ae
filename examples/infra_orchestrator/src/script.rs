//! The faults the demo scripts, round by round (`main.rs` runs them, `tests/demo.rs`
//! asserts what they lead to).
//!
//! | round | fault | what it shows |
//! |---|---|---|
//! | 1 | none | every service is started and reaches `healthy` |
//! | 2 | the NATS probe wedges | the step timeout ends it; the other probes complete, `aggregate` and `decide_failover` are skipped (`continue`) |
//! | 3 | postgres down, redis 300 ms slow | `health_failed` and `health_slow` degrade both; the policy watches |
//! | 4 | postgres down | postgres stays degraded (2 failures), redis recovers |
//! | 5 | postgres down | the third failure collapses postgres to `failed`: fail over to the replica |
//! | 6 | none | the replica answers: postgres is healthy again |

use std::time::Duration;

use crate::Fault;

/// Rounds in the scripted run.
pub const ROUNDS: u32 = 6;

/// How late the slow Redis answers in round 3 (above the 250 ms `slow_ms`, below the 400 ms
/// probe timeout).
pub const SLOW: Duration = Duration::from_millis(300);

/// The faults of round `round`, by instance.
pub fn faults(round: u32) -> Vec<(&'static str, Fault)> {
    match round {
        2 => vec![("nats", Fault::Wedged)],
        3 => vec![("postgres", Fault::Down), ("redis", Fault::Slow(SLOW))],
        4 | 5 => vec![("postgres", Fault::Down)],
        _ => Vec::new(),
    }
}
