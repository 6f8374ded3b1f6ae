//! `FailoverPolicy`: the pure COMPUTE node behind the `decide_failover` step.

use onex_runtime::{OnexError, compute_node};

use failover_policy::{
    EnumFailoverAction as Action, EnumLifecycleState as State, ModelFailoverDecision,
    ModelFleetStatus, ModelServiceStatus,
};

/// Decides the one remediation to carry out next.
///
/// Each service that needs attention gets a candidate action; the most urgent wins (ties go
/// to the service listed first) and the others are listed in `waiting`, for the following
/// rounds: one change at a time, so that the effect of each is seen before the next.
///
/// | the service is | action | urgency |
/// |---|---|---|
/// | `failed`, with a replica | `failover <service> to <replica>` | 1 |
/// | `failed`, without one, `retry_count < max_restarts` | `restart <service>` | 2 |
/// | `failed`, without one, out of restarts | `escalate <service>` (page a human) | 3 |
/// | `starting` after failed checks, `degraded`, or `unknown` | `watch <service>` | 4 |
/// | `healthy` or `stopped` | nothing | |
///
/// With no candidate the action is `none`. The reason quotes the intents the service's
/// reducer emitted this round (`alert` when it has just failed, `restart_service` while it
/// restarts in place, `raise_warning` when it degraded).
#[compute_node(contract = "failover_policy.yaml")]
#[derive(Clone, Copy, Debug, Default)]
pub struct FailoverPolicy;

impl FailoverPolicyHandler for FailoverPolicy {
    fn decide(&self, fleet: ModelFleetStatus) -> Result<ModelFailoverDecision, OnexError> {
        let mut candidates: Vec<(u8, ModelFailoverDecision)> = fleet
            .services
            .iter()
            .filter_map(|s| candidate(s, fleet.max_restarts))
            .collect();
        // Stable: equal urgency keeps the fleet's order.
        candidates.sort_by_key(|(urgency, _)| *urgency);
        let mut candidates = candidates.into_iter().map(|(_, d)| d);
        let Some(mut decision) = candidates.next() else {
            let n = fleet.services.len();
            return Ok(ModelFailoverDecision {
                action: Action::None,
                service: None,
                replica: None,
                summary: "none".to_owned(),
                reason: format!("all {n} services are healthy"),
                waiting: Vec::new(),
            });
        };
        decision.waiting = candidates.map(|d| d.summary).collect();
        Ok(decision)
    }
}

/// The action `s` calls for, with its urgency (lower is more urgent).
fn candidate(s: &ModelServiceStatus, max_restarts: i64) -> Option<(u8, ModelFailoverDecision)> {
    let name = &s.service;
    let failures = plural(s.consecutive_failures, "failed check");
    let why = match emitted(s) {
        Some(intents) => format!(" ({intents})"),
        None => String::new(),
    };
    let (urgency, action, replica, summary, reason) = match s.state {
        State::Failed => match &s.replica {
            Some(replica) => (
                1,
                Action::Failover,
                Some(replica.clone()),
                format!("failover {name} to {replica}"),
                format!("{name} failed after {failures} in a row{why}; {replica} stands by"),
            ),
            None if s.retry_count < max_restarts => (
                2,
                Action::Restart,
                None,
                format!("restart {name}"),
                format!(
                    "{name} failed{why} and has no replica; restart {} of {max_restarts}",
                    s.retry_count + 1
                ),
            ),
            None => (
                3,
                Action::Escalate,
                None,
                format!("escalate {name}"),
                format!(
                    "{name} failed{why}, has no replica and {} restarts did not bring it back",
                    s.retry_count
                ),
            ),
        },
        State::Starting if s.consecutive_failures > 0 => (
            4,
            Action::Watch,
            None,
            format!("watch {name}"),
            format!(
                "{name} is restarting in place{why}: {} of {max_restarts} restarts used",
                s.retry_count
            ),
        ),
        State::Degraded if s.consecutive_failures > 0 => (
            4,
            Action::Watch,
            None,
            format!("watch {name}"),
            format!("{name} is degraded{why}: {failures} in a row, it fails at 3"),
        ),
        State::Degraded => (
            4,
            Action::Watch,
            None,
            format!("watch {name}"),
            format!("{name} answers slowly{why}"),
        ),
        State::Unknown => (
            4,
            Action::Watch,
            None,
            format!("watch {name}"),
            format!("{name} has not been observed yet"),
        ),
        State::Starting | State::Healthy | State::Stopped => return None,
    };
    Some((
        urgency,
        ModelFailoverDecision {
            action,
            service: Some(name.clone()),
            replica,
            summary,
            reason,
            waiting: Vec::new(),
        },
    ))
}

/// `intent alert` / `intents a, b`, or `None` when nothing was emitted.
fn emitted(s: &ModelServiceStatus) -> Option<String> {
    match s.intents.as_slice() {
        [] => None,
        [one] => Some(format!("intent {one}")),
        many => Some(format!("intents {}", many.join(", "))),
    }
}

/// `1 failed check`, `3 failed checks`.
fn plural(n: i64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
