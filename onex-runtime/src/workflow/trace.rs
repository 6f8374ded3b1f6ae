//! The record of one workflow run: what each step did, when, and how often it was tried.
//!
//! [`WorkflowExecutor`](super::WorkflowExecutor) fills a [`WorkflowTrace`] for every run,
//! successful or not. It serializes to stable JSON (times in milliseconds from the start of
//! the run, outcomes tagged by a snake-case `status`) and displays as a timeline table:
//!
//! ```text
//! workflow `order_pipeline` completed in 100.412 ms (correlation 5e1c…, started 2026-11-20T12:30:45.123456Z)
//! step      status        start ms     end ms  attempts  timeline                  detail
//! validate  completed        0.000     50.201         1  [############............]
//! charge    completed       50.201    100.399         2  [............############]  retried 1x
//! ```

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use uuid::Uuid;

use crate::envelope::format_timestamp;
use crate::error::OnexError;

/// How a workflow run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowStatus {
    /// Every step completed.
    Completed,
    /// A step failed (returned an error, timed out or panicked).
    Failed,
    /// The workflow ran past its time limit.
    TimedOut,
    /// The caller cancelled the run.
    Cancelled,
}

impl WorkflowStatus {
    /// The JSON spelling (`completed`, `failed`, `timed_out`, `cancelled`).
    pub const fn as_str(self) -> &'static str {
        match self {
            WorkflowStatus::Completed => "completed",
            WorkflowStatus::Failed => "failed",
            WorkflowStatus::TimedOut => "timed_out",
            WorkflowStatus::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for WorkflowStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// What became of one step.
///
/// JSON: `{"status": "completed"}`, `{"status": "failed", "error": {…ONEX error…}}`,
/// `{"status": "timed_out"}`, `{"status": "panicked", "message": "…"}`,
/// `{"status": "cancelled"}`, `{"status": "skipped", "because": "<failed step>"}`,
/// `{"status": "not_run"}` (flattened into the step's object).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StepOutcome {
    /// The step completed and stored its output.
    Completed,
    /// The step's last attempt returned this error.
    Failed {
        /// The step's own error.
        error: OnexError,
    },
    /// The step's last attempt ran past the step timeout.
    TimedOut,
    /// The step's last attempt panicked.
    Panicked {
        /// The panic message.
        message: String,
    },
    /// The step was running when the workflow stopped (another step failed, the workflow
    /// timed out, or the caller cancelled it), and was dropped.
    Cancelled,
    /// A step it depends on (directly or not) failed, under
    /// [`FailureStrategy::Continue`](super::FailureStrategy::Continue).
    Skipped {
        /// The `node_id` of the failed step.
        because: &'static str,
    },
    /// The workflow stopped before the step could start.
    NotRun,
}

impl StepOutcome {
    /// The JSON `status` (`completed`, `failed`, `timed_out`, …).
    pub const fn as_str(&self) -> &'static str {
        match self {
            StepOutcome::Completed => "completed",
            StepOutcome::Failed { .. } => "failed",
            StepOutcome::TimedOut => "timed_out",
            StepOutcome::Panicked { .. } => "panicked",
            StepOutcome::Cancelled => "cancelled",
            StepOutcome::Skipped { .. } => "skipped",
            StepOutcome::NotRun => "not_run",
        }
    }

    /// True for [`StepOutcome::Completed`].
    pub const fn is_completed(&self) -> bool {
        matches!(self, StepOutcome::Completed)
    }

    /// True when the step itself failed: an error, a timeout or a panic.
    pub const fn is_failure(&self) -> bool {
        matches!(
            self,
            StepOutcome::Failed { .. } | StepOutcome::TimedOut | StepOutcome::Panicked { .. }
        )
    }

    /// True when the step never started (skipped, or not run).
    pub const fn is_unstarted(&self) -> bool {
        matches!(self, StepOutcome::Skipped { .. } | StepOutcome::NotRun)
    }
}

/// How one attempt of a step (or one compensation) ended.
///
/// JSON: the same `status` tags as [`StepOutcome`], flattened into the attempt's object.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// It returned `Ok`.
    Completed,
    /// It returned this error.
    Failed {
        /// The error.
        error: OnexError,
    },
    /// It ran past the step timeout and was dropped.
    TimedOut,
    /// It panicked.
    Panicked {
        /// The panic message.
        message: String,
    },
    /// The workflow stopped while it ran, and it was dropped.
    Cancelled,
}

impl AttemptOutcome {
    /// The JSON `status`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            AttemptOutcome::Completed => "completed",
            AttemptOutcome::Failed { .. } => "failed",
            AttemptOutcome::TimedOut => "timed_out",
            AttemptOutcome::Panicked { .. } => "panicked",
            AttemptOutcome::Cancelled => "cancelled",
        }
    }
}

/// One attempt of one step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AttemptTrace {
    /// 0 for the first attempt, 1 for the first retry, ….
    pub attempt: u32,
    /// When it started, from the start of the run (`start_ms` in JSON).
    #[serde(rename = "start_ms", serialize_with = "millis")]
    pub start: Duration,
    /// When it ended, from the start of the run (`end_ms` in JSON).
    #[serde(rename = "end_ms", serialize_with = "millis")]
    pub end: Duration,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: AttemptOutcome,
}

/// The compensation of one completed step, under
/// [`FailureStrategy::Compensate`](super::FailureStrategy::Compensate).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompensationTrace {
    /// When it started, from the start of the run (`start_ms` in JSON).
    #[serde(rename = "start_ms", serialize_with = "millis")]
    pub start: Duration,
    /// When it ended, from the start of the run (`end_ms` in JSON).
    #[serde(rename = "end_ms", serialize_with = "millis")]
    pub end: Duration,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: AttemptOutcome,
}

/// One step of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepTrace {
    /// The step's `node_id`.
    pub step: &'static str,
    /// What became of it.
    #[serde(flatten)]
    pub outcome: StepOutcome,
    /// When its first attempt started, from the start of the run (`None`: never started;
    /// `start_ms` in JSON).
    #[serde(rename = "start_ms", serialize_with = "opt_millis")]
    pub start: Option<Duration>,
    /// When it ended (`None`: never started; `end_ms` in JSON).
    #[serde(rename = "end_ms", serialize_with = "opt_millis")]
    pub end: Option<Duration>,
    /// Its attempts, in order.
    pub attempts: Vec<AttemptTrace>,
    /// Its compensation, if one ran.
    pub compensation: Option<CompensationTrace>,
}

impl StepTrace {
    /// How long it ran, first attempt to end (retry waits included).
    pub fn duration(&self) -> Option<Duration> {
        Some(self.end?.saturating_sub(self.start?))
    }
}

/// The record of one workflow run.
///
/// One [`StepTrace`] per step of the plan: the steps that started, in the order they
/// started, then the others (skipped or not run) in the plan's order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkflowTrace {
    /// `workflow_metadata.workflow_name`.
    pub workflow: &'static str,
    /// The run's correlation id.
    pub correlation_id: Uuid,
    /// How the run ended.
    pub status: WorkflowStatus,
    /// When the run started (RFC 3339, UTC).
    #[serde(serialize_with = "timestamp")]
    pub started_at: DateTime<Utc>,
    /// How long the run took, compensations included (`elapsed_ms` in JSON).
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    pub elapsed: Duration,
    /// The steps.
    pub steps: Vec<StepTrace>,
}

impl WorkflowTrace {
    /// The trace of the step with this `node_id`.
    pub fn step(&self, id: &str) -> Option<&StepTrace> {
        self.steps.iter().find(|s| s.step == id)
    }

    /// The `node_id`s of the steps with this outcome status (`"completed"`, `"skipped"`, …;
    /// see [`StepOutcome::as_str`]), in trace order.
    pub fn steps_with(&self, status: &str) -> Vec<&'static str> {
        self.steps
            .iter()
            .filter(|s| s.outcome.as_str() == status)
            .map(|s| s.step)
            .collect()
    }

    /// The trace as JSON.
    pub fn to_json(&self) -> Result<serde_json::Value, OnexError> {
        serde_json::to_value(self).map_err(|e| {
            OnexError::internal(format!("cannot encode the workflow trace: {e}"))
                .with_correlation_id(self.correlation_id)
        })
    }
}

/// The width of the timeline bar.
const BAR: usize = 24;

impl fmt::Display for WorkflowTrace {
    /// A timeline table: one row per step with its status, start and end (ms from the start
    /// of the run), attempts, a bar showing when it ran, and details (errors, skips,
    /// retries, compensations).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "workflow `{}` {} in {} ms (correlation {}, started {})",
            self.workflow,
            self.status,
            ms(self.elapsed),
            self.correlation_id,
            format_timestamp(&self.started_at),
        )?;
        let width = self
            .steps
            .iter()
            .map(|s| s.step.len())
            .chain(["step".len()])
            .max()
            .unwrap_or(4);
        writeln!(
            f,
            "{:<width$}  {:<10}  {:>10}  {:>10}  {:>8}  {:<bar$}  detail",
            "step",
            "status",
            "start ms",
            "end ms",
            "attempts",
            "timeline",
            bar = BAR + 2,
        )?;
        let total = self.elapsed.as_secs_f64();
        for s in &self.steps {
            let start = s.start.map_or_else(|| "-".to_owned(), ms);
            let end = s.end.map_or_else(|| "-".to_owned(), ms);
            let bar = match (s.start, s.end) {
                (Some(a), Some(b)) => timeline(a, b, total),
                _ => String::new(),
            };
            write!(
                f,
                "{:<width$}  {:<10}  {:>10}  {:>10}  {:>8}  {:<bar_w$}",
                s.step,
                s.outcome.as_str(),
                start,
                end,
                s.attempts.len(),
                bar,
                bar_w = BAR + 2,
            )?;
            let detail = detail(s);
            if detail.is_empty() {
                writeln!(f)?;
            } else {
                writeln!(f, "  {detail}")?;
            }
        }
        Ok(())
    }
}

/// The detail column of a step.
fn detail(s: &StepTrace) -> String {
    let mut parts = Vec::new();
    match &s.outcome {
        StepOutcome::Failed { error } => parts.push(error.to_string()),
        StepOutcome::Panicked { message } => parts.push(format!("panic: {message}")),
        StepOutcome::Skipped { because } => parts.push(format!("because `{because}` failed")),
        _ => {}
    }
    if s.attempts.len() > 1 {
        parts.push(format!("retried {}x", s.attempts.len() - 1));
    }
    if let Some(c) = &s.compensation {
        match &c.outcome {
            AttemptOutcome::Failed { error } => parts.push(format!("compensation failed: {error}")),
            AttemptOutcome::Panicked { message } => {
                parts.push(format!("compensation panicked: {message}"));
            }
            other => parts.push(format!("compensation {}", other.as_str())),
        }
    }
    parts.join("; ")
}

/// `[....####....]`: where `[a, b]` falls within the run.
fn timeline(a: Duration, b: Duration, total: f64) -> String {
    let pos = |d: Duration| {
        if total > 0.0 {
            ((d.as_secs_f64() / total) * BAR as f64).round() as usize
        } else {
            0
        }
        .min(BAR)
    };
    let (from, mut to) = (pos(a), pos(b));
    if to <= from {
        to = (from + 1).min(BAR);
    }
    let from = from.min(to.saturating_sub(1));
    let mut bar = String::with_capacity(BAR + 2);
    bar.push('[');
    for i in 0..BAR {
        bar.push(if (from..to).contains(&i) { '#' } else { '.' });
    }
    bar.push(']');
    bar
}

/// A duration in milliseconds with three decimals.
fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

/// A duration as JSON milliseconds, microsecond precision.
fn to_millis(d: &Duration) -> f64 {
    // Microseconds first, so the JSON number is short (`50.123`, not `50.12299999…`).
    d.as_micros() as f64 / 1000.0
}

fn millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(to_millis(d))
}

fn opt_millis<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(to_millis(d)),
        None => s.serialize_none(),
    }
}

fn timestamp<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_timestamp(at))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::ErrorCode;

    fn sample() -> WorkflowTrace {
        let ms = Duration::from_millis;
        WorkflowTrace {
            workflow: "pipeline",
            correlation_id: Uuid::nil(),
            status: WorkflowStatus::Failed,
            started_at: DateTime::from_timestamp(1_795_000_000, 123_456_000).unwrap_or_default(),
            elapsed: Duration::from_micros(100_250),
            steps: vec![
                StepTrace {
                    step: "fetch",
                    outcome: StepOutcome::Completed,
                    start: Some(ms(0)),
                    end: Some(Duration::from_micros(50_125)),
                    attempts: vec![AttemptTrace {
                        attempt: 0,
                        start: ms(0),
                        end: Duration::from_micros(50_125),
                        outcome: AttemptOutcome::Completed,
                    }],
                    compensation: Some(CompensationTrace {
                        start: ms(100),
                        end: Duration::from_micros(100_250),
                        outcome: AttemptOutcome::Completed,
                    }),
                },
                StepTrace {
                    step: "charge",
                    outcome: StepOutcome::Panicked {
                        message: "boom".into(),
                    },
                    start: Some(Duration::from_micros(50_125)),
                    end: Some(ms(100)),
                    attempts: vec![AttemptTrace {
                        attempt: 0,
                        start: Duration::from_micros(50_125),
                        end: ms(100),
                        outcome: AttemptOutcome::Panicked {
                            message: "boom".into(),
                        },
                    }],
                    compensation: None,
                },
                StepTrace {
                    step: "ship",
                    outcome: StepOutcome::Skipped { because: "charge" },
                    start: None,
                    end: None,
                    attempts: vec![],
                    compensation: None,
                },
            ],
        }
    }

    #[test]
    fn serializes_to_stable_json() {
        let json = serde_json::to_value(sample()).unwrap_or_default();
        assert_eq!(
            json,
            json!({
                "workflow": "pipeline",
                "correlation_id": "00000000-0000-0000-0000-000000000000",
                "status": "failed",
                "started_at": "2026-11-18T11:06:40.123456Z",
                "elapsed_ms": 100.25,
                "steps": [
                    {"step": "fetch", "status": "completed", "start_ms": 0.0, "end_ms": 50.125,
                     "attempts": [{"attempt": 0, "start_ms": 0.0, "end_ms": 50.125, "status": "completed"}],
                     "compensation": {"start_ms": 100.0, "end_ms": 100.25, "status": "completed"}},
                    {"step": "charge", "status": "panicked", "message": "boom",
                     "start_ms": 50.125, "end_ms": 100.0,
                     "attempts": [{"attempt": 0, "start_ms": 50.125, "end_ms": 100.0,
                                   "status": "panicked", "message": "boom"}],
                     "compensation": null},
                    {"step": "ship", "status": "skipped", "because": "charge",
                     "start_ms": null, "end_ms": null, "attempts": [], "compensation": null},
                ]
            })
        );
    }

    #[test]
    fn failed_outcomes_carry_the_onex_error() {
        let outcome = StepOutcome::Failed {
            error: OnexError::new(ErrorCode::OperationFailed, "db down"),
        };
        let json = serde_json::to_value(&outcome).unwrap_or_default();
        assert_eq!(json["status"], "failed");
        assert_eq!(
            json["error"]["error_code"],
            "ONEX_CORE_081_OPERATION_FAILED"
        );
        assert_eq!(json["error"]["message"], "db down");
        assert!(outcome.is_failure() && !outcome.is_completed());
        assert!(StepOutcome::NotRun.is_unstarted());
    }

    #[test]
    fn displays_a_timeline_table() {
        let text = sample().to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(
            lines[0].starts_with("workflow `pipeline` failed in 100.250 ms"),
            "{text}"
        );
        assert!(lines[1].starts_with("step    status"), "{text}");
        assert!(
            lines[2].starts_with("fetch   completed        0.000      50.125"),
            "{text}"
        );
        assert!(lines[2].contains("[############............]"), "{text}");
        assert!(lines[2].ends_with("compensation completed"), "{text}");
        assert!(
            lines[3].contains("[............############]  panic: boom"),
            "{text}"
        );
        let ship: Vec<&str> = lines[4].split_whitespace().collect();
        assert_eq!(ship[..5], ["ship", "skipped", "-", "-", "0"], "{text}");
        assert!(lines[4].ends_with("because `charge` failed"), "{text}");
    }

    #[test]
    fn lookups() {
        let trace = sample();
        assert_eq!(
            trace.step("fetch").and_then(StepTrace::duration),
            Some(Duration::from_micros(50_125))
        );
        assert_eq!(trace.steps_with("skipped"), ["ship"]);
        assert!(trace.step("nope").is_none());
        assert_eq!(
            trace.to_json().ok().map(|j| j["status"].clone()),
            Some(json!("failed"))
        );
    }
}
