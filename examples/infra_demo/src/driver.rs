//! The demo's driver: asks the hosted orchestrator for one round at a time, over the bus,
//! and reads its report.

use std::sync::Arc;
use std::time::Duration;

use onex_runtime::bus::{BusMessage, EventBus};
use onex_runtime::host::ERROR_PAYLOAD_TYPE;
use onex_runtime::{Envelope, OnexError, Uuid};
use serde::Deserialize;
use tokio::time::Instant;

use crate::orchestrator::{LifecycleRound, Probe, Service, ServiceActions, demo_round};

/// The orchestrator's topic (its contract's subscribe topic).
pub const ROUND_TOPIC: &str = "onex.cmd.infra-demo.round.v1";

/// How long the driver waits for a round's report (the workflow's own limit is 30 s).
pub const ROUND_TIMEOUT: Duration = Duration::from_secs(40);

/// Sends the rounds of one run.
#[derive(Clone)]
pub struct Driver {
    bus: Arc<dyn EventBus>,
    run_id: Uuid,
    started: Instant,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("bus", &self.bus.name())
            .field("run_id", &self.run_id)
            .finish_non_exhaustive()
    }
}

/// One round as the driver saw it.
#[derive(Clone, Debug)]
pub struct RoundOutcome {
    /// The round's number (1 for the first).
    pub round: u32,
    /// When it was sent, from the start of the run.
    pub at: Duration,
    /// How long the request took, reply included.
    pub took: Duration,
    /// The orchestrator's report, or its error.
    pub result: Result<RoundReport, OnexError>,
}

/// The orchestrator's reply: the workflow report of one round (onex's `WorkflowReport`
/// JSON), with the demo's step outputs typed.
#[derive(Clone, Debug, Deserialize)]
pub struct RoundReport {
    /// `completed`, or how the run ended.
    pub status: String,
    /// The round's correlation id (every envelope of the round carries it).
    pub correlation_id: Uuid,
    /// The steps' outputs.
    pub outputs: RoundOutputs,
    /// When each step ran.
    pub trace: RoundTrace,
}

/// The outputs of the four steps (a step that did not complete has none).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RoundOutputs {
    /// `check_primary`.
    pub check_primary: Option<Probe>,
    /// `check_replica`.
    pub check_replica: Option<Probe>,
    /// `aggregate`: one entry per service.
    pub aggregate: Option<Vec<LifecycleRound>>,
    /// `act`: one entry per service.
    pub act: Option<Vec<ServiceActions>>,
}

impl RoundOutputs {
    /// The check of `service`.
    pub fn probe(&self, service: Service) -> Option<&Probe> {
        match service {
            Service::Primary => self.check_primary.as_ref(),
            Service::Replica => self.check_replica.as_ref(),
        }
    }

    /// What `aggregate` did for `service`.
    pub fn lifecycle(&self, service: Service) -> Option<&LifecycleRound> {
        self.aggregate
            .as_ref()?
            .iter()
            .find(|r| r.service == service)
    }

    /// What `act` did for `service`.
    pub fn actions(&self, service: Service) -> Option<&ServiceActions> {
        self.act.as_ref()?.iter().find(|a| a.service == service)
    }
}

/// The workflow trace of a round (times in ms from the start of the run).
#[derive(Clone, Debug, Deserialize)]
pub struct RoundTrace {
    /// How long the round took.
    pub elapsed_ms: f64,
    /// The steps, in the order they started.
    pub steps: Vec<StepTiming>,
}

impl RoundTrace {
    /// The timing of step `id`.
    pub fn step(&self, id: &str) -> Option<&StepTiming> {
        self.steps.iter().find(|s| s.step == id)
    }
}

/// When one step ran and how it ended.
#[derive(Clone, Debug, Deserialize)]
pub struct StepTiming {
    /// The step's `node_id`.
    pub step: String,
    /// `completed`, `failed`, `timed_out`, `skipped`, …
    pub status: String,
    /// When it started.
    pub start_ms: Option<f64>,
    /// When it ended.
    pub end_ms: Option<f64>,
    /// Its error, when it failed.
    #[serde(default)]
    pub error: Option<OnexError>,
}

impl Driver {
    /// A driver of the run `run_id`, its clock starting now.
    pub fn new(bus: Arc<dyn EventBus>, run_id: Uuid) -> Driver {
        Driver {
            bus,
            run_id,
            started: Instant::now(),
        }
    }

    /// The run's id.
    pub fn run_id(&self) -> Uuid {
        self.run_id
    }

    /// Time since the run started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Asks the orchestrator for round `round` and waits for its report.
    pub async fn round(&self, round: u32) -> RoundOutcome {
        let at = self.started.elapsed();
        let result = self.request(round).await;
        RoundOutcome {
            round,
            at,
            took: self.started.elapsed().saturating_sub(at),
            result,
        }
    }

    async fn request(&self, round: u32) -> Result<RoundReport, OnexError> {
        let correlation_id = Uuid::new_v4();
        let timeout_seconds = u32::try_from(ROUND_TIMEOUT.as_secs()).unwrap_or(u32::MAX);
        let envelope = Envelope::new(demo_round(round, self.run_id))
            .with_correlation_id(correlation_id)
            .with_event_type(ROUND_TOPIC)
            .with_payload_type("ModelDemoRound")
            .with_source_tool("infra_demo")
            .with_target_tool("infra_demo")
            .with_timeout_seconds(timeout_seconds);
        let message = BusMessage::new(ROUND_TOPIC, envelope.to_json()?)
            .with_id(envelope.envelope_id.to_string());
        let reply = self.bus.request(message, ROUND_TIMEOUT).await?;
        let reply = Envelope::from_json(&reply.payload)?;
        if reply.payload_type.as_deref() == Some(ERROR_PAYLOAD_TYPE) {
            let error: OnexError = serde_json::from_value(reply.payload).map_err(|e| {
                OnexError::invalid_input(format!("an error reply that is not an ONEX error: {e}"))
            })?;
            return Err(error);
        }
        serde_json::from_value(reply.payload).map_err(|e| {
            OnexError::invalid_input(format!("a round report the driver cannot read: {e}"))
                .with_correlation_id(correlation_id)
        })
    }
}
