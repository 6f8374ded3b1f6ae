//! The readable timeline: one block per round (what each step did, when), and a summary.
//! Plain text, no colours.
//!
//! ```text
//! round 4 · sent at +681 ms · completed in 13.8 ms · correlation 0a48b79a
//!   check_primary    0.0 ..   2.2 ms  primary  healthy    1.0 ms  PostgreSQL 15.20 · database test at 127.0.0.1:5432 · pool 1/4
//!   check_replica    0.0 ..   1.6 ms  replica  DOWN       0.6 ms  database unreachable at 127.0.0.1:1 · Connection refused (os error 111)
//!   aggregate        2.2 ..   3.8 ms  primary  healthy, unchanged (health_ok is no news)
//!                                     replica  starting --health_failed--> failed [alert]
//!                                              restart refused (guard retry_count less_than 3 not met), stays failed
//!   act              3.8 ..  13.8 ms  primary  heartbeat written (1 row) · sent again: replayed, not written twice · heartbeats 4 this run, 21 in all
//!                                     replica  ALERT raised: replica is failed: Connection refused (os error 111)
//!                                              ESCALATED: replica stays failed after 3 restarts: an operator is needed
//! ```

use std::fmt::Write as _;

use infra_reducer::ServiceLifecycleState;

use crate::driver::{RoundOutcome, RoundReport, StepTiming};
use crate::orchestrator::{Action, Heartbeat, MAX_RESTARTS, Probe, Rejection, Service, cause};

/// The steps, in the order the timeline shows them.
pub const STEPS: [&str; 4] = ["check_primary", "check_replica", "aggregate", "act"];

/// Where a step's details start (after `  step  start .. end ms  `).
const DETAIL: usize = 2 + 13 + 2 + 17 + 2;

/// The longest error text shown in a line (the end of it, where the cause is).
const ERROR_WIDTH: usize = 70;

/// One round's block.
pub fn round(outcome: &RoundOutcome) -> String {
    let mut out = String::new();
    let at = ms(outcome.at);
    match &outcome.result {
        Ok(report) => {
            let _ = writeln!(
                out,
                "round {} · sent at +{at:.0} ms · {} in {:.1} ms · correlation {}",
                outcome.round,
                report.status,
                report.trace.elapsed_ms,
                short_id(&report.correlation_id.to_string()),
            );
            for step in STEPS {
                out.push_str(&step_block(report, step));
            }
        }
        Err(e) => {
            let _ = writeln!(
                out,
                "round {} · sent at +{at:.0} ms · FAILED after {:.1} ms: {e}",
                outcome.round,
                ms(outcome.took),
            );
            if let Some(step) = e.context().get("step").and_then(|s| s.as_str()) {
                let _ = writeln!(out, "  the step that failed: {step}");
            }
        }
    }
    out
}

fn step_block(report: &RoundReport, step: &str) -> String {
    let timing = report.trace.step(step);
    let when = timing.map_or_else(String::new, when);
    let lines: Vec<String> = match timing.map(|t| t.status.as_str()) {
        Some("completed") => completed(report, step),
        Some(status) => vec![failed(status, timing)],
        None => vec!["not in the trace".to_owned()],
    };
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i == 0 {
            let _ = writeln!(out, "  {step:<13}  {when:<17}  {line}");
        } else {
            let _ = writeln!(out, "{:DETAIL$}{line}", "");
        }
    }
    out
}

fn when(t: &StepTiming) -> String {
    match (t.start_ms, t.end_ms) {
        (Some(a), Some(b)) => format!("{a:>5.1} .. {b:>5.1} ms"),
        _ => String::new(),
    }
}

fn failed(status: &str, timing: Option<&StepTiming>) -> String {
    match timing.and_then(|t| t.error.as_ref()) {
        Some(e) => format!("{status}: {e}"),
        None => status.to_owned(),
    }
}

/// The lines of a completed step.
fn completed(report: &RoundReport, step: &str) -> Vec<String> {
    let outputs = &report.outputs;
    match step {
        "check_primary" => outputs.check_primary.iter().map(probe).collect(),
        "check_replica" => outputs.check_replica.iter().map(probe).collect(),
        "aggregate" => Service::ALL
            .iter()
            .filter_map(|s| outputs.lifecycle(*s))
            .flat_map(|round| {
                let mut lines = Vec::new();
                for (i, t) in round.transitions.iter().enumerate() {
                    let head = if i == 0 { round.service.as_str() } else { "" };
                    lines.push(format!("{head:<7}  {t}"));
                }
                if round.unchanged && round.transitions.is_empty() {
                    lines.push(format!(
                        "{:<7}  {}, unchanged ({} is no news)",
                        round.service.as_str(),
                        round.state,
                        round.trigger
                    ));
                }
                for r in &round.rejected {
                    let head = if lines.is_empty() {
                        round.service.as_str()
                    } else {
                        ""
                    };
                    lines.push(format!("{head:<7}  {}, stays {}", refusal(r), round.state));
                }
                lines
            })
            .collect(),
        "act" => Service::ALL
            .iter()
            .filter_map(|s| outputs.actions(*s))
            .flat_map(|acted| {
                let mut lines: Vec<String> = acted.actions.iter().filter_map(action).collect();
                if let Some(heartbeat) = &acted.heartbeat {
                    lines.push(heartbeat_line(heartbeat));
                }
                let noted: Vec<String> = acted
                    .actions
                    .iter()
                    .filter_map(|a| match a {
                        Action::Noted { intent, .. } => Some(intent.to_string()),
                        _ => None,
                    })
                    .collect();
                if lines.is_empty() {
                    lines.push(if noted.is_empty() {
                        "nothing to do".to_owned()
                    } else {
                        format!("nothing to do for {}", noted.join(", "))
                    });
                }
                lines
                    .into_iter()
                    .enumerate()
                    .map(|(i, line)| {
                        let head = if i == 0 { acted.service.as_str() } else { "" };
                        format!("{head:<7}  {line}")
                    })
                    .collect::<Vec<_>>()
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `health_ok refused (no transition from healthy)`, `restart refused (guard retry_count
/// less_than 3)`.
fn refusal(r: &Rejection) -> String {
    if r.failed_conditions.is_empty() {
        format!("{} refused ({})", r.trigger, cause(&r.reason))
    } else {
        format!(
            "{} refused (guard {} not met)",
            r.trigger,
            r.failed_conditions.join(", ")
        )
    }
}

/// `primary  healthy  2.7 ms  PostgreSQL 16.4 · database test at … · pool 1/4`, or
/// `replica  DOWN  0.4 ms  database … at 127.0.0.1:1 · Connection refused (os error 111)`.
fn probe(p: &Probe) -> String {
    let service = p.service.as_str();
    let mut parts = Vec::new();
    if p.healthy
        && let Some(version) = &p.server_version
    {
        // `15.20 (Debian 15.20-0+deb12u1)`: the number is enough.
        let number = version.split_whitespace().next().unwrap_or(version);
        parts.push(format!("PostgreSQL {number}"));
    }
    if let Some(database) = &p.database {
        parts.push(database.clone());
    }
    if p.healthy {
        if let Some((size, max)) = p.pool {
            parts.push(format!("pool {size}/{max}"));
        }
    } else {
        let why = p.error.as_deref().unwrap_or("no reason given");
        parts.push(tail(cause(why), ERROR_WIDTH));
    }
    let status = if p.healthy { "healthy" } else { "DOWN" };
    format!(
        "{service:<7}  {status:<7}  {:>5.1} ms  {}",
        p.latency_ms,
        parts.join(" · ")
    )
}

/// The line of an action (`None` for an intent with nothing to do).
fn action(a: &Action) -> Option<String> {
    Some(match a {
        Action::Reconnect { attempt, probe } => {
            let outcome = if probe.healthy {
                format!("back, healthy in {:.1} ms", probe.latency_ms)
            } else {
                let why = probe.error.as_deref().unwrap_or("no reason given");
                format!("still down: {}", tail(cause(why), ERROR_WIDTH))
            };
            format!("restart_service: reconnect {attempt} of {MAX_RESTARTS}: {outcome}")
        }
        Action::Alert { message } => format!("ALERT raised: {}", tail(message, ERROR_WIDTH)),
        Action::Warning { message } => format!("warning: {}", tail(message, ERROR_WIDTH)),
        Action::AlertCleared => "alert cleared".to_owned(),
        Action::Escalate { message } => format!("ESCALATED: {message}"),
        Action::Noted { .. } => return None,
    })
}

fn heartbeat_line(h: &Heartbeat) -> String {
    match h {
        Heartbeat::Written {
            rows_affected,
            first_replayed,
            resent_replayed,
            this_run,
            all_runs,
            ..
        } => {
            let first = if *first_replayed {
                format!("heartbeat already written ({rows_affected} row): replayed")
            } else {
                format!("heartbeat written ({rows_affected} row)")
            };
            let again = if *resent_replayed {
                "sent again: replayed, not written twice"
            } else {
                "sent again: WRITTEN TWICE"
            };
            format!("{first} · {again} · heartbeats {this_run} this run, {all_runs} in all")
        }
        Heartbeat::Failed { operation, error } => {
            format!(
                "heartbeat failed ({operation}): {}",
                tail(error, ERROR_WIDTH)
            )
        }
    }
}

/// What happened to one service over the run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceSummary {
    /// The state after the last round that reached `aggregate`.
    pub state: Option<ServiceLifecycleState>,
    /// Rounds whose check found it healthy.
    pub healthy_rounds: u32,
    /// Transitions its reducer took.
    pub transitions: u32,
    /// Reconnects tried for `restart_service`.
    pub reconnects: u32,
    /// Rounds that raised an alert.
    pub alerts: Vec<u32>,
    /// Rounds that escalated it.
    pub escalations: Vec<u32>,
    /// Heartbeats written (not replayed) by the first request of a round.
    pub heartbeats_written: u32,
    /// Heartbeat resends that were replayed rather than written.
    pub heartbeats_replayed: u32,
    /// The last count of this run's heartbeats.
    pub heartbeats_counted: Option<i64>,
}

/// The summary of each service over `outcomes`.
pub fn summarize(outcomes: &[RoundOutcome], service: Service) -> ServiceSummary {
    let mut s = ServiceSummary::default();
    for outcome in outcomes {
        let Ok(report) = &outcome.result else {
            continue;
        };
        let outputs = &report.outputs;
        if outputs.probe(service).is_some_and(|p| p.healthy) {
            s.healthy_rounds += 1;
        }
        if let Some(round) = outputs.lifecycle(service) {
            s.state = Some(round.state);
            s.transitions += u32::try_from(round.transitions.len()).unwrap_or(u32::MAX);
            if round.escalated {
                s.escalations.push(outcome.round);
            }
        }
        let Some(acted) = outputs.actions(service) else {
            continue;
        };
        for action in &acted.actions {
            match action {
                Action::Reconnect { .. } => s.reconnects += 1,
                Action::Alert { .. } => s.alerts.push(outcome.round),
                _ => {}
            }
        }
        if let Some(Heartbeat::Written {
            first_replayed,
            resent_replayed,
            this_run,
            ..
        }) = &acted.heartbeat
        {
            s.heartbeats_written += u32::from(!first_replayed);
            s.heartbeats_replayed += u32::from(*resent_replayed);
            s.heartbeats_counted = Some(*this_run);
        }
    }
    s
}

/// The closing summary: each service's fate, then what it means.
pub fn summary(outcomes: &[RoundOutcome], primary_target: &str) -> String {
    let mut out = String::new();
    let rounds = outcomes.len();
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    let _ = writeln!(
        out,
        "summary: {rounds} rounds{}",
        if failed > 0 {
            format!(", {failed} FAILED")
        } else {
            String::new()
        }
    );
    for service in Service::ALL {
        let s = summarize(outcomes, service);
        let state = s.state.map_or("-".to_owned(), |st| st.to_string());
        let mut facts = vec![format!(
            "healthy in {} of {rounds} checks, {}",
            s.healthy_rounds,
            count(s.transitions, "transition")
        )];
        if s.reconnects > 0 {
            facts.push(format!("{} tried", count(s.reconnects, "reconnect")));
        }
        if !s.alerts.is_empty() {
            facts.push(format!("alert raised in {}", rounds_list(&s.alerts)));
        }
        if !s.escalations.is_empty() {
            facts.push(format!("escalated in {}", rounds_list(&s.escalations)));
        }
        if s.heartbeats_written > 0 || s.heartbeats_counted.is_some() {
            facts.push(format!(
                "{} written, {} replayed, {} counted for this run",
                count(s.heartbeats_written, "heartbeat"),
                count(s.heartbeats_replayed, "resend"),
                s.heartbeats_counted.unwrap_or(0)
            ));
        }
        let _ = writeln!(
            out,
            "  {:<7}  {state:<8}  {}",
            service.as_str(),
            facts.join(" · ")
        );
    }
    let primary = summarize(outcomes, Service::Primary);
    if primary.healthy_rounds == 0 {
        let _ = writeln!(
            out,
            "\nThe primary database was not reachable at {primary_target} (the checks above \
             say why).\nBoth adapters were down, so what you saw is the failure handling: the \
             reducers ask for restarts, the\norchestrator reconnects, then alerts and escalates \
             once the restarts are spent. To see a healthy\nprimary writing heartbeats, point \
             the demo at a database:\n    \
             ONEX_POSTGRES_URL=postgres://user:pass@host:5432/db cargo run -p infra_demo"
        );
    }
    out
}

/// `1 reconnect`, `3 reconnects`.
fn count(n: u32, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `round 4`, `rounds 4-6`.
fn rounds_list(rounds: &[u32]) -> String {
    let plural = if rounds.len() > 1 { "s" } else { "" };
    format!("round{plural} {}", list(rounds))
}

/// `1`, `4-6`, `1, 3, 5-6`.
fn list(rounds: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < rounds.len() {
        let start = rounds[i];
        let mut end = start;
        while i + 1 < rounds.len() && rounds[i + 1] == end + 1 {
            i += 1;
            end = rounds[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(", ")
}

/// The last `width` characters of `text` (the cause ends an error chain), `…` before them.
fn tail(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_owned();
    }
    let kept: String = text.chars().skip(count - width + 1).collect();
    format!("…{kept}")
}

fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_lists() {
        assert_eq!(list(&[]), "");
        assert_eq!(list(&[4]), "4");
        assert_eq!(list(&[4, 5, 6]), "4-6");
        assert_eq!(list(&[1, 3, 5, 6]), "1, 3, 5-6");
    }

    #[test]
    fn tails_keep_the_end() {
        assert_eq!(tail("short", 10), "short");
        assert_eq!(tail("abcdefghij", 5), "…ghij");
    }
}
