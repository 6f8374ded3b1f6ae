//! Effect policies from the contract (`policy/flaky_store.yaml`), wrapped around every
//! handler call by `#[effect_node]`: retries with backoff for idempotent operations only,
//! per-attempt timeouts, a circuit breaker that fails fast while open and recovers through
//! a half-open probe.
//!
//! The store's backend follows a script of faults (fail with a code, stall), so each test
//! says exactly what the backend does and counts how often the handler really ran.
//! Durations are short but asserted only through counts and error codes.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use flaky_store::{ModelEntry, ModelKey, ModelValue};
use std::sync::Arc;

use onex_runtime::bus::{EventBus, InMemoryBus};
use onex_runtime::host::{HealthStatus, NodeHost};
use onex_runtime::policy::BreakerState;
use onex_runtime::retry::BackoffStrategy;
use onex_runtime::{EffectContext, EffectNode, ErrorCode, OnexError, Uuid, effect_node};

/// What the backend does on one call.
#[derive(Clone, Copy, Debug)]
enum Fault {
    Fail(ErrorCodeKind),
    Stall(Duration),
}

/// The error codes the script uses (`ErrorCode` is not `Copy`).
#[derive(Clone, Copy, Debug)]
enum ErrorCodeKind {
    Unavailable,
    Invalid,
}

#[effect_node(contract = "policy/flaky_store.yaml")]
#[derive(Default)]
pub struct FlakyStore {
    script: Mutex<VecDeque<Fault>>,
    calls: AtomicU32,
    data: Mutex<BTreeMap<String, String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FlakyStore {
    fn scripted(faults: impl IntoIterator<Item = Fault>) -> Self {
        let store = FlakyStore::default();
        lock(&store.script).extend(faults);
        store
    }

    fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.script).extend(faults);
    }

    fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }

    /// One backend round trip: counts the call and plays the next scripted fault.
    async fn backend(&self) -> Result<u32, OnexError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let fault = lock(&self.script).pop_front();
        match fault {
            Some(Fault::Fail(ErrorCodeKind::Unavailable)) => Err(OnexError::handler(format!(
                "backend unavailable (call {call})"
            ))),
            Some(Fault::Fail(ErrorCodeKind::Invalid)) => {
                Err(OnexError::validation("the backend rejected the key"))
            }
            Some(Fault::Stall(d)) => {
                tokio::time::sleep(d).await;
                Ok(call)
            }
            None => Ok(call),
        }
    }
}

impl FlakyStoreHandler for FlakyStore {
    async fn read(&self, _ctx: &EffectContext, input: ModelKey) -> Result<ModelValue, OnexError> {
        let call = self.backend().await?;
        Ok(ModelValue {
            value: lock(&self.data).get(&input.key).cloned(),
            key: input.key,
            attempt: Some(i64::from(call)),
        })
    }

    async fn write(
        &self,
        _ctx: &EffectContext,
        input: ModelEntry,
    ) -> Result<ModelValue, OnexError> {
        let call = self.backend().await?;
        lock(&self.data).insert(input.key.clone(), input.value.clone());
        Ok(ModelValue {
            key: input.key,
            value: Some(input.value),
            attempt: Some(i64::from(call)),
        })
    }

    async fn touch(&self, _ctx: &EffectContext, input: ModelKey) -> Result<ModelValue, OnexError> {
        let call = self.backend().await?;
        Ok(ModelValue {
            key: input.key,
            value: None,
            attempt: Some(i64::from(call)),
        })
    }
}

fn ctx() -> EffectContext {
    EffectContext::new(Uuid::new_v4())
}

fn key(k: &str) -> FlakyStoreInput {
    FlakyStoreInput::Read(ModelKey { key: k.to_owned() })
}

fn entry(k: &str, v: &str) -> FlakyStoreInput {
    FlakyStoreInput::Write(ModelEntry {
        key: k.to_owned(),
        value: v.to_owned(),
    })
}

use ErrorCodeKind::{Invalid, Unavailable};
use Fault::{Fail, Stall};

#[test]
fn the_contract_policies_are_embedded_per_operation() {
    let ops = <FlakyStore as EffectNode>::CONTRACT.operations;
    let [read, write, touch] = ops else {
        panic!("three operations, got {ops:?}")
    };
    assert_eq!(read.policy.timeout, Some(Duration::from_millis(200)));
    assert_eq!(read.policy.retry.max_retries, 3);
    assert_eq!(read.policy.retry.base_delay, Duration::from_millis(5));
    assert_eq!(read.policy.retry.max_delay, Some(Duration::from_millis(20)));
    assert_eq!(read.policy.retry.strategy, BackoffStrategy::Exponential);
    assert!(read.policy.idempotent && read.policy.breaker.is_none());

    // Not idempotent: the node's default retry policy does not apply.
    assert_eq!(write.policy.retry.max_retries, 0);
    assert!(!write.policy.idempotent);
    let breaker = write.policy.breaker.expect("write has a breaker");
    assert_eq!(
        (
            breaker.failure_threshold,
            breaker.success_threshold,
            breaker.half_open_requests
        ),
        (3, 1, 1)
    );
    assert_eq!(breaker.open_for, Duration::from_millis(300));

    // Inherits `default_retry_policy`.
    assert_eq!(touch.policy.retry.max_retries, 2);
    assert_eq!(touch.policy.retry.strategy, BackoffStrategy::Fixed);
}

#[tokio::test]
async fn transient_failures_are_retried_until_the_call_succeeds() {
    let store = FlakyStore::scripted([Fail(Unavailable), Fail(Unavailable)]);
    let out = store
        .dispatch(&ctx(), key("a"))
        .await
        .expect("third attempt");
    let FlakyStoreOutput::Read(value) = out else {
        panic!("a read output")
    };
    assert_eq!(value.attempt, Some(3), "the handler ran three times");
    assert_eq!(store.calls(), 3);
}

#[tokio::test]
async fn retries_stop_after_max_retries_with_the_last_error() {
    let store = FlakyStore::scripted([Fail(Unavailable); 10]);
    let err = store
        .dispatch(&ctx(), key("a"))
        .await
        .expect_err("always down");
    assert_eq!(*err.code(), ErrorCode::HandlerExecution);
    assert_eq!(store.calls(), 4, "1 attempt + max_retries 3");
    assert_eq!(err.context().get("attempts"), Some(&4.into()));
    assert!(err.message().contains("call 4"), "{err}");
}

#[tokio::test]
async fn the_callers_mistakes_are_not_retried() {
    let store = FlakyStore::scripted([Fail(Invalid), Fail(Unavailable)]);
    let err = store.dispatch(&ctx(), key("a")).await.expect_err("invalid");
    assert_eq!(*err.code(), ErrorCode::Validation);
    assert_eq!(store.calls(), 1);
}

#[tokio::test]
async fn the_node_default_retry_policy_applies_to_operations_without_their_own() {
    let store = FlakyStore::scripted([Fail(Unavailable); 10]);
    let input = FlakyStoreInput::Touch(ModelKey { key: "a".into() });
    let err = store.dispatch(&ctx(), input).await.expect_err("down");
    assert_eq!(store.calls(), 3, "1 attempt + default max_retries 2");
    assert_eq!(err.context().get("attempts"), Some(&3.into()));
}

#[tokio::test]
async fn each_attempt_runs_under_the_timeout_and_a_timeout_is_retried() {
    let stall = Stall(Duration::from_secs(5));
    let store = FlakyStore::scripted([stall, stall]);
    let out = store
        .dispatch(&ctx(), key("a"))
        .await
        .expect("third attempt");
    let FlakyStoreOutput::Read(value) = out else {
        panic!("a read output")
    };
    assert_eq!(value.attempt, Some(3));

    let store = FlakyStore::scripted([stall; 4]);
    let err = store.dispatch(&ctx(), key("a")).await.expect_err("stalls");
    assert_eq!(*err.code(), ErrorCode::Timeout);
    assert_eq!(err.context().get("operation"), Some(&"read".into()));
    assert_eq!(err.context().get("timeout_ms"), Some(&200.into()));
    assert_eq!(store.calls(), 4);
}

#[tokio::test]
async fn the_breaker_opens_fails_fast_and_recovers_through_a_probe() {
    let store = FlakyStore::scripted([Fail(Unavailable); 3]);
    let breaker = || {
        <FlakyStore as EffectNode>::policy_state()
            .and_then(|s| s.breaker(1))
            .expect("write's breaker")
    };
    // `write` is not idempotent: each failure is final, the policy never runs it twice.
    // (The breaker is the node type's, shared by every instance: this is the only test
    // that writes, so no other test moves it.)
    for call in 1..=3 {
        let err = store
            .dispatch(&ctx(), entry("k", "v"))
            .await
            .expect_err("down");
        assert_eq!(*err.code(), ErrorCode::HandlerExecution);
        assert_eq!(store.calls(), call, "one handler call per dispatch");
    }
    assert!(lock(&store.data).is_empty());
    assert_eq!(breaker().state(), BreakerState::Open);

    // A host serving the node reports it degraded while the breaker is open.
    let bus: Arc<dyn EventBus> = Arc::new(InMemoryBus::new());
    let host = NodeHost::builder(bus)
        .effect(FlakyStore::default())
        .start()
        .await
        .expect("the host starts");
    let health = host.health().await;
    assert_eq!(health.status, HealthStatus::Degraded, "{health:?}");
    assert!(
        format!("{health:?}").contains("circuit breaker not closed: `write` open"),
        "{health:?}"
    );
    host.shutdown().await;
    assert_eq!(store.calls(), 3);

    // Open: fails fast, the handler is not called.
    let err = store
        .dispatch(&ctx(), entry("k", "v"))
        .await
        .expect_err("open");
    assert_eq!(*err.code(), ErrorCode::CircuitOpen);
    assert_eq!(err.code().as_str(), "ONEX_CORE_083_RESOURCE_UNAVAILABLE");
    assert_eq!(err.context().get("operation"), Some(&"write".into()));
    assert_eq!(store.calls(), 3, "no call reached the backend");
    // Other operations have no breaker of their own and go on working.
    store
        .dispatch(&ctx(), key("k"))
        .await
        .expect("reads are unaffected");

    // After `timeout_ms` (300 ms) one probe goes through; it succeeds and closes the breaker.
    tokio::time::sleep(Duration::from_millis(400)).await;
    store.script([Stall(Duration::from_millis(50))]);
    let calls = store.calls();
    let (first_ctx, second_ctx) = (ctx(), ctx());
    let (probe, second) = tokio::join!(store.dispatch(&first_ctx, entry("k", "v1")), async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        store.dispatch(&second_ctx, entry("k", "v2")).await
    });
    probe.expect("the probe succeeds");
    let second = second.expect_err("one probe at a time while half-open");
    assert_eq!(*second.code(), ErrorCode::CircuitOpen);
    assert_eq!(store.calls(), calls + 1);
    assert_eq!(breaker().state(), BreakerState::Closed);
    store
        .dispatch(&ctx(), entry("k", "v3"))
        .await
        .expect("closed again");
    assert_eq!(lock(&store.data).get("k").map(String::as_str), Some("v3"));
}

#[tokio::test]
async fn the_envelope_deadline_bounds_the_attempts() {
    use onex_runtime::Envelope;
    // `touch` has no timeout of its own but retries twice: the envelope's 1 s deadline
    // cuts the stalled first attempt, and nothing is retried past the deadline.
    let store = FlakyStore::scripted([Stall(Duration::from_secs(30)); 3]);
    let input = FlakyStoreInput::Touch(ModelKey { key: "a".into() });
    let envelope = Envelope::new(input).with_timeout_seconds(1);
    let err = store.process(envelope).await.expect_err("expired");
    assert_eq!(*err.code(), ErrorCode::Timeout);
    assert_eq!(store.calls(), 1, "no retry past the deadline");
}
