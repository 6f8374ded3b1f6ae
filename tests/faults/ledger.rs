//! The `fault_ledger` EFFECT node (`ledger.yaml`) and [`RunScoped`], shared by the fault
//! worker (`tests/bin/fault_worker.rs`) and the fault-injection tests (`tests/faults_nats.rs`),
//! which include this file with `#[path]`.
//!
//! The node's faults are scripted by the payload: `fail_first: N` fails the first `N`
//! attempts of the message with a transient error, `poison: true` panics on every attempt,
//! `delay_ms` overrides the handler delay. Attempts are counted per correlation id by the
//! process running the node.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use onex_runtime::bus::{BusHealth, BusMessage, EventBus, SubscribeOptions, Subscription};
use onex_runtime::{EffectContext, ErrorCode, OnexError, Uuid, effect_node};

/// The ledger node: applies an entry after a delay, failing or panicking as the payload
/// asks.
#[effect_node(contract = "ledger.yaml")]
pub struct FaultLedger {
    /// The handler delay when the payload sets none.
    delay: Duration,
    /// Names this process in replies and `DONE` lines.
    label: String,
    /// Print `DONE <correlation id> <attempt> <label>` on stdout after each successful run.
    announce: bool,
    /// Handler runs so far, per correlation id.
    attempts: Mutex<HashMap<Uuid, u32>>,
}

impl FaultLedger {
    /// A ledger waiting `delay` per entry, labelled `label`; with `announce`, every
    /// successful run prints a `DONE` line (the side effect the tests count).
    pub fn new(delay: Duration, label: impl Into<String>, announce: bool) -> Self {
        FaultLedger {
            delay,
            label: label.into(),
            announce,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one more run of the message with `correlation_id`; returns its number.
    fn attempt(&self, correlation_id: Uuid) -> u32 {
        let mut attempts = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
        let n = attempts.entry(correlation_id).or_default();
        *n += 1;
        *n
    }
}

impl FaultLedgerHandler for FaultLedger {
    async fn apply(
        &self,
        ctx: &EffectContext,
        input: fault_ledger::ModelEntry,
    ) -> Result<fault_ledger::ModelApplied, OnexError> {
        let correlation_id = ctx.correlation_id();
        let attempt = self.attempt(correlation_id);
        if input.poison == Some(true) {
            panic!("poison entry {} (attempt {attempt})", input.key);
        }
        let delay = input
            .delay_ms
            .and_then(|ms| u64::try_from(ms).ok())
            .map_or(self.delay, Duration::from_millis);
        tokio::time::sleep(delay).await;
        if i64::from(attempt) <= input.fail_first.unwrap_or(0) {
            return Err(OnexError::new(
                ErrorCode::OperationFailed,
                format!("entry {} failed on purpose (attempt {attempt})", input.key),
            )
            .with_correlation_id(correlation_id));
        }
        if self.announce {
            // Never panic on a closed stdout: the parent may be gone.
            let _ = writeln!(
                std::io::stdout().lock(),
                "DONE {correlation_id} {attempt} {}",
                self.label
            );
        }
        Ok(fault_ledger::ModelApplied {
            key: input.key,
            amount: input.amount,
            attempts: i64::from(attempt),
            worker: self.label.clone(),
        })
    }
}

/// The topic `topic` becomes in the test run `run`: `onex.<kind>.<producer>.<rest>` →
/// `onex.<kind>.<producer>-<run>.<rest>`, still an ONEX topic of the same family (and so of
/// the same JetStream stream), but one no other run uses. Other topics are kept.
///
/// `run` must be lower-case letters, digits and `-` (a simple UUID is).
pub fn scoped(topic: &str, run: &str) -> String {
    let mut parts = topic.splitn(4, '.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("onex"), Some(kind), Some(producer), Some(rest))
            if !matches!(producer, "*" | ">") =>
        {
            format!("onex.{kind}.{producer}-{run}.{rest}")
        }
        _ => topic.to_owned(),
    }
}

/// A bus that moves every topic of one test run with [`scoped`], so that runs (and tests
/// running at the same time) sharing one NATS server never see each other's messages
/// although the node's contract names fixed topics. Everything else is the wrapped bus's.
pub struct RunScoped<B> {
    inner: B,
    run: String,
}

impl<B: EventBus> RunScoped<B> {
    /// `inner` with the topics of the run `run`.
    pub fn new(inner: B, run: impl Into<String>) -> Self {
        RunScoped {
            inner,
            run: run.into(),
        }
    }
}

#[async_trait]
impl<B: EventBus> EventBus for RunScoped<B> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn publish(&self, mut message: BusMessage) -> Result<(), OnexError> {
        message.topic = scoped(&message.topic, &self.run);
        self.inner.publish(message).await
    }

    async fn subscribe(
        &self,
        pattern: &str,
        options: SubscribeOptions,
    ) -> Result<Subscription, OnexError> {
        self.inner
            .subscribe(&scoped(pattern, &self.run), options)
            .await
    }

    async fn request(
        &self,
        mut message: BusMessage,
        timeout: Duration,
    ) -> Result<BusMessage, OnexError> {
        message.topic = scoped(&message.topic, &self.run);
        self.inner.request(message, timeout).await
    }

    async fn respond(&self, reply_to: &str, message: BusMessage) -> Result<(), OnexError> {
        self.inner.respond(reply_to, message).await
    }

    async fn health(&self) -> BusHealth {
        self.inner.health().await
    }
}
