//! `HealthProbe`: the EFFECT node behind the three `check_*` steps.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use onex_runtime::{EffectContext, OnexError, effect_node};
use tokio::net::TcpStream;
use tokio::time::Instant;

use health_probe::{ModelProbeRequest, ModelProbeResult};

/// A failure the demo scripts into the probe of one instance, instead of waiting for a real
/// one.
///
/// Faults are ordered by how much they hide: a slow answer < no answer < no probe at all, so
/// `a.max(b)` is what the probe shows when both are scripted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// The instance answers, this much later than it really does (the delay counts against
    /// the probe's timeout).
    Slow(Duration),
    /// The instance refuses connections (the probe does not touch the network).
    Down,
    /// The probe itself wedges before its own timeout starts, as a stuck name lookup would:
    /// only the orchestrator's `step_timeout_ms` ends it.
    Wedged,
}

impl Fault {
    /// `down`, `slow 300 ms`, `wedged`.
    pub fn describe(self) -> String {
        match self {
            Fault::Down => "down".to_owned(),
            Fault::Slow(d) => format!("slow {} ms", d.as_millis()),
            Fault::Wedged => "wedged".to_owned(),
        }
    }
}

/// Probes an instance by opening one TCP connection to it within the request's timeout.
///
/// A refused or timed-out connection is a result (`healthy: false` with the reason), not an
/// error: a probe that cannot reach its service did its job. The probe holds a table of
/// simulated [`Fault`]s by instance name, so a demo or a test can script an outage without
/// touching the real service; instances without a fault are probed for real.
///
/// The attribute reads `health_probe.yaml` and generates, beside this struct, the module
/// `health_probe` (the models and `CONTRACT`), `HealthProbeOperation`, `HealthProbeInput` /
/// `HealthProbeOutput`, the `HealthProbeHandler` trait implemented below and
/// `impl EffectNode`.
#[effect_node(contract = "health_probe.yaml")]
#[derive(Debug, Default)]
pub struct HealthProbe {
    /// Simulated faults, by instance name.
    faults: Mutex<BTreeMap<String, Fault>>,
}

impl HealthProbe {
    /// A probe with no simulated faults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Scripts `fault` for `instance` (replacing its previous one).
    pub fn set_fault(&self, instance: &str, fault: Fault) {
        self.faults().insert(instance.to_owned(), fault);
    }

    /// Removes every simulated fault.
    pub fn clear_faults(&self) {
        self.faults().clear();
    }

    /// The simulated fault of `instance`, if any.
    pub fn fault(&self, instance: &str) -> Option<Fault> {
        self.faults().get(instance).copied()
    }

    fn faults(&self) -> MutexGuard<'_, BTreeMap<String, Fault>> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl HealthProbeHandler for HealthProbe {
    async fn probe(
        &self,
        _ctx: &EffectContext,
        input: ModelProbeRequest,
    ) -> Result<ModelProbeResult, OnexError> {
        let address = format!("{}:{}", input.host, input.port);
        let limit = Duration::from_millis(u64::try_from(input.timeout_ms).unwrap_or(1));
        let started = Instant::now();
        let fault = self.fault(&input.service);
        let outcome = match fault {
            Some(Fault::Down) => Err("connection refused (simulated outage)".to_owned()),
            // Never returns: the caller's deadline (the step timeout) drops this future.
            Some(Fault::Wedged) => std::future::pending().await,
            Some(Fault::Slow(delay)) => connect(&input.host, input.port, limit, delay).await,
            None => connect(&input.host, input.port, limit, Duration::ZERO).await,
        };
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(ModelProbeResult {
            service: input.service,
            address,
            healthy: outcome.is_ok(),
            latency_ms,
            error: outcome.err(),
        })
    }
}

/// Waits `delay`, then connects to `host:port`; all within `limit`.
async fn connect(host: &str, port: i64, limit: Duration, delay: Duration) -> Result<(), String> {
    let port = u16::try_from(port).map_err(|_| format!("port {port} is out of range"))?;
    let attempt = async {
        tokio::time::sleep(delay).await;
        TcpStream::connect((host, port)).await
    };
    match tokio::time::timeout(limit, attempt).await {
        Ok(Ok(_stream)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} ms", limit.as_millis())),
    }
}
