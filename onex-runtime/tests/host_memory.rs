//! The node host on the in-memory bus, without services: replies, several node kinds in
//! one host, bad input, retries, panics, the concurrency limit, graceful shutdown and a
//! crash under load (nothing lost), request–reply, health and metrics.
//!
//! Nodes are declared from the contracts in `tests/host/`. Waits use generous timeouts
//! and assertions are on counts and order, never on durations.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use onex_runtime::bus::{BusMessage, EventBus, InMemoryBus, SubscribeOptions, Subscription};
use onex_runtime::host::{
    ERROR_CODE_HEADER, ERROR_PAYLOAD_TYPE, HealthStatus, HostConfig, NodeHost, NodeStats,
    SubscriptionState,
};
use onex_runtime::retry::RetryPolicy;
use onex_runtime::{
    EffectContext, Envelope, ErrorCode, FsmExecutor, OnexError, Uuid, WorkflowContext,
    WorkflowExecutor, compute_node, effect_node, orchestrator_node, reducer_node,
};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// Nodes.

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The scripted EFFECT node (`tests/host/probe.yaml`).
#[effect_node(contract = "tests/host/probe.yaml", relative_to = manifest)]
#[derive(Default)]
pub struct HostProbe {
    /// Calls per key (`flaky`, `fail`, `explode`).
    calls: Mutex<HashMap<String, u32>>,
    /// `slow` handlers running now, and the most seen at once.
    running: AtomicUsize,
    max_running: AtomicUsize,
    /// Correlation ids of the `slow` calls that ran to completion, in order.
    completed: Mutex<Vec<Uuid>>,
}

impl HostProbe {
    fn call(&self, key: &str) -> u32 {
        let mut calls = lock(&self.calls);
        let n = calls.entry(key.to_owned()).or_default();
        *n += 1;
        *n
    }

    fn calls(&self, key: &str) -> u32 {
        lock(&self.calls).get(key).copied().unwrap_or(0)
    }

    fn completed(&self) -> Vec<Uuid> {
        lock(&self.completed).clone()
    }
}

/// Counts a `slow` handler as running until it returns or is dropped.
struct Running<'a>(&'a AtomicUsize);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn echo(text: impl Into<String>, attempts: u32) -> host_probe::ModelEcho {
    host_probe::ModelEcho {
        text: text.into(),
        attempts: i64::from(attempts),
    }
}

impl HostProbeHandler for HostProbe {
    async fn echo(
        &self,
        _ctx: &EffectContext,
        input: host_probe::ModelText,
    ) -> Result<host_probe::ModelEcho, OnexError> {
        Ok(echo(input.text, 1))
    }

    async fn flaky(
        &self,
        _ctx: &EffectContext,
        input: host_probe::ModelFlaky,
    ) -> Result<host_probe::ModelEcho, OnexError> {
        let n = self.call(&input.key);
        if i64::from(n) <= input.failures {
            return Err(OnexError::new(
                ErrorCode::OperationFailed,
                format!("flaky call {n} of {}", input.key),
            ));
        }
        Ok(echo(input.key, n))
    }

    async fn fail(
        &self,
        _ctx: &EffectContext,
        input: host_probe::ModelText,
    ) -> Result<host_probe::ModelEcho, OnexError> {
        let n = self.call(&input.text);
        Err(OnexError::handler(format!(
            "{} failed (call {n})",
            input.text
        )))
    }

    async fn explode(
        &self,
        _ctx: &EffectContext,
        input: host_probe::ModelText,
    ) -> Result<host_probe::ModelEcho, OnexError> {
        self.call(&input.text);
        panic!("the probe exploded on {}", input.text);
    }

    async fn slow(
        &self,
        ctx: &EffectContext,
        input: host_probe::ModelSlow,
    ) -> Result<host_probe::ModelEcho, OnexError> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        let _running = Running(&self.running);
        self.max_running.fetch_max(now, Ordering::SeqCst);
        let millis = u64::try_from(input.millis).unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(millis)).await;
        lock(&self.completed).push(ctx.correlation_id());
        Ok(echo(input.key, 1))
    }
}

/// The COMPUTE node (`tests/host/text.yaml`); panics on "boom".
#[compute_node(contract = "tests/host/text.yaml", relative_to = manifest)]
pub struct HostText;

impl HostTextHandler for HostText {
    fn text_measure(
        &self,
        input: host_text::ModelText,
    ) -> Result<host_text::ModelMeasure, OnexError> {
        if input.text == "boom" {
            panic!("the measuring tape snapped");
        }
        Ok(host_text::ModelMeasure {
            words: input.text.split_whitespace().count() as i64,
            chars: input.text.chars().count() as i64,
        })
    }
}

/// The REDUCER (`tests/host/switch.yaml`).
#[reducer_node(contract = "tests/host/switch.yaml", relative_to = manifest)]
pub struct HostSwitch;

/// The ORCHESTRATOR (`tests/host/pipeline.yaml`): value × 2 + 1.
#[orchestrator_node(contract = "tests/host/pipeline.yaml", relative_to = manifest)]
pub struct HostPipeline;

impl HostPipelineSteps for HostPipeline {
    type Double = i64;
    type AddOne = i64;

    async fn double(
        &self,
        input: &host_pipeline::ModelNumber,
        _cx: &WorkflowContext,
    ) -> Result<i64, OnexError> {
        Ok(input.value * 2)
    }

    async fn add_one(
        &self,
        _input: &host_pipeline::ModelNumber,
        deps: HostPipelineAddOneDeps<'_>,
        _cx: &WorkflowContext,
    ) -> Result<i64, OnexError> {
        Ok(deps.double + 1)
    }
}

/// A node whose contract names no topics (the crate's documentation contract).
#[compute_node(contract = "contracts/text_metrics.yaml", relative_to = manifest)]
pub struct Unrouted;

impl UnroutedHandler for Unrouted {
    fn text_measure(
        &self,
        _input: unrouted::ModelText,
    ) -> Result<unrouted::ModelMeasure, OnexError> {
        Ok(unrouted::ModelMeasure { words: 0, chars: 0 })
    }
}

// ---------------------------------------------------------------------------------------
// Helpers.

const PROBE_IN: &str = "onex.cmd.host-probe.run.v1";
const PROBE_OUT: &str = "onex.evt.host-probe.done.v1";
const PROBE_DLQ: &str = "onex.dlq.host-probe.failed.v1";
const TEXT_IN: &str = "onex.cmd.host-text.measure.v1";
const TEXT_OUT: &str = "onex.evt.host-text.measured.v1";
const TEXT_DLQ: &str = "onex.dlq.host-text.rejected.v1";
const SWITCH_IN: &str = "onex.cmd.host-switch.toggle.v1";
const SWITCH_OUT: &str = "onex.evt.host-switch.toggled.v1";
const PIPELINE_IN: &str = "onex.cmd.host-pipeline.run.v1";
const PIPELINE_OUT: &str = "onex.evt.host-pipeline.done.v1";

/// Long enough for any wait on a loaded 2-core machine.
const PATIENCE: Duration = Duration::from_secs(60);

/// The defaults, with short retry delays.
fn quick() -> HostConfig {
    HostConfig {
        retry_backoff: RetryPolicy::new(u32::MAX, Duration::from_millis(5))
            .with_max_delay(Some(Duration::from_millis(20))),
        resubscribe_backoff: RetryPolicy::new(u32::MAX, Duration::from_millis(10))
            .with_max_delay(Some(Duration::from_millis(50))),
        drain_timeout: Duration::from_secs(30),
        ..HostConfig::default()
    }
}

fn new_bus() -> (InMemoryBus, Arc<dyn EventBus>) {
    let bus = InMemoryBus::new();
    let shared: Arc<dyn EventBus> = Arc::new(bus.clone());
    (bus, shared)
}

/// An ephemeral subscription (sees what is published from now on).
async fn listen(bus: &InMemoryBus, topic: &str) -> Subscription {
    let options = SubscribeOptions {
        max_in_flight: 10_000,
        ..SubscribeOptions::default()
    };
    bus.subscribe(topic, options).await.unwrap()
}

/// An envelope around `payload` with fresh envelope and correlation ids.
fn envelope(payload: Value) -> (Uuid, Vec<u8>) {
    let correlation = Uuid::new_v4();
    let env = Envelope::new(payload).with_correlation_id(correlation);
    (correlation, env.to_json().unwrap())
}

async fn send(bus: &InMemoryBus, topic: &str, bytes: impl Into<bytes::Bytes>) {
    bus.publish(BusMessage::new(topic, bytes)).await.unwrap();
}

/// Sends `payload` in a fresh envelope; returns its correlation id.
async fn send_json(bus: &InMemoryBus, topic: &str, payload: Value) -> Uuid {
    let (id, bytes) = envelope(payload);
    send(bus, topic, bytes).await;
    id
}

/// Takes (and acks) `n` messages.
async fn take(sub: &mut Subscription, n: usize) -> Vec<BusMessage> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let next = tokio::time::timeout(PATIENCE, sub.next()).await;
        let Ok(Some(Ok(delivery))) = next else {
            panic!("expected {n} messages, got {}: {next:?}", out.len())
        };
        out.push(delivery.message().clone());
        delivery.ack().await.unwrap();
    }
    out
}

/// The next message, parsed as an envelope.
async fn next_envelope(sub: &mut Subscription) -> Envelope<Value> {
    let message = take(sub, 1).await.remove(0);
    Envelope::from_json(&message.payload).unwrap()
}

/// True if nothing arrives within a short while.
async fn quiet(sub: &mut Subscription) -> bool {
    tokio::time::timeout(Duration::from_millis(200), sub.next())
        .await
        .is_err()
}

fn json_of(message: &BusMessage) -> Value {
    serde_json::from_slice(&message.payload).unwrap()
}

/// Waits until `check` holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    while !check().await {
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn stats_of(host: &NodeHost, node: &str) -> NodeStats {
    host.node_stats(node).unwrap()
}

// ---------------------------------------------------------------------------------------
// Replies.

#[tokio::test]
async fn a_request_is_answered_on_the_publish_topic_with_its_correlation_id() {
    let (mem, bus) = new_bus();
    let mut done = listen(&mem, PROBE_OUT).await;
    let host = NodeHost::builder(bus)
        .effect(HostProbe::default())
        .start()
        .await
        .unwrap();

    let request = Envelope::new(json!({"operation": "echo", "text": "hi"}))
        .with_correlation_id(Uuid::new_v4())
        .with_source_tool("tester");
    send(&mem, PROBE_IN, request.to_json().unwrap()).await;

    let message = take(&mut done, 1).await.remove(0);
    let reply = Envelope::from_json(&message.payload).unwrap();
    assert_eq!(reply.payload, json!({"text": "hi", "attempts": 1}));
    assert_eq!(reply.correlation_id, request.correlation_id);
    assert_eq!(reply.causation_id(), Some(request.envelope_id));
    assert_eq!(reply.target_tool.as_deref(), Some("tester"));
    assert_eq!(reply.source_tool, None);
    assert_eq!(reply.payload_type.as_deref(), Some("ModelEcho"));
    // The bus message id is the reply's envelope id, derived from the request's.
    assert_eq!(message.id(), Some(reply.envelope_id.to_string().as_str()));
    assert_ne!(reply.envelope_id, request.envelope_id);

    // The same request again (a redelivery after a crash would look like this): the
    // reply has the same id, and the bus drops it as a duplicate.
    send(&mem, PROBE_IN, request.to_json().unwrap()).await;
    eventually("the second copy to be processed", || async {
        stats_of(&host, "host_probe").succeeded == 2
    })
    .await;
    assert!(quiet(&mut done).await, "a duplicate reply went out");

    let report = host.shutdown().await;
    assert_eq!(report.stats[0].succeeded, 2);
    assert_eq!(report.stats[0].received, 2);
    assert_eq!((report.abandoned, report.timed_out), (0, false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn effect_compute_reducer_and_orchestrator_nodes_share_one_host() {
    let (mem, bus) = new_bus();
    let mut probe_out = listen(&mem, PROBE_OUT).await;
    let mut text_out = listen(&mem, TEXT_OUT).await;
    let mut switch_out = listen(&mem, SWITCH_OUT).await;
    let mut pipeline_out = listen(&mem, PIPELINE_OUT).await;
    let host = NodeHost::builder(bus)
        .config(quick())
        .effect(HostProbe::default())
        .compute(HostText)
        .reducer(FsmExecutor::new(HostSwitch))
        .orchestrator(WorkflowExecutor::new(HostPipeline))
        .start()
        .await
        .unwrap();
    assert_eq!(
        host.nodes().collect::<Vec<_>>(),
        ["host_probe", "host_text", "host_switch", "host_pipeline"]
    );

    let echo_id = send_json(&mem, PROBE_IN, json!({"operation": "echo", "text": "a"})).await;
    let text_id = send_json(
        &mem,
        TEXT_IN,
        json!({"operation": "text.measure", "text": "two words"}),
    )
    .await;
    // Ten toggles: a reducer folds them one at a time, in order.
    let mut toggles = Vec::new();
    for i in 0..10 {
        let payload = json!({"trigger": "toggle", "context": {"by": format!("p{i}")}});
        toggles.push(send_json(&mem, SWITCH_IN, payload).await);
    }
    let pipeline_id = send_json(&mem, PIPELINE_IN, json!({"value": 20})).await;

    let reply = next_envelope(&mut probe_out).await;
    assert_eq!(
        (reply.correlation_id, &reply.payload["text"]),
        (Some(echo_id), &json!("a"))
    );
    let reply = next_envelope(&mut text_out).await;
    assert_eq!(reply.correlation_id, Some(text_id));
    assert_eq!(reply.payload, json!({"words": 2, "chars": 9}));
    let mut states = Vec::new();
    for id in &toggles {
        let reply = next_envelope(&mut switch_out).await;
        assert_eq!(reply.correlation_id, Some(*id), "replies in delivery order");
        states.push(reply.payload["to_state"].as_str().unwrap().to_owned());
    }
    assert_eq!(states, ["on", "off"].repeat(5));
    let reply = next_envelope(&mut pipeline_out).await;
    assert_eq!(reply.correlation_id, Some(pipeline_id));
    assert_eq!(reply.payload_type.as_deref(), Some("WorkflowReport"));
    assert_eq!(reply.payload["outputs"]["add_one"], 41, "{}", reply.payload);

    let health = host.health().await;
    assert_eq!(health.status, HealthStatus::Ready, "{health:?}");
    let kinds: Vec<&str> = health.nodes.iter().map(|n| n.kind).collect();
    assert_eq!(
        kinds,
        [
            "EFFECT_GENERIC",
            "COMPUTE_GENERIC",
            "REDUCER_GENERIC",
            "ORCHESTRATOR_GENERIC"
        ]
    );
    let report = host.shutdown().await;
    let succeeded: Vec<(&str, u64)> = report.stats.iter().map(|s| (s.node, s.succeeded)).collect();
    assert_eq!(
        succeeded,
        [
            ("host_probe", 1),
            ("host_text", 1),
            ("host_switch", 10),
            ("host_pipeline", 1)
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Bad input and failures.

/// The dead letter's error code and the original envelope's correlation id, if any.
fn dead_letter(message: &BusMessage) -> (String, Value) {
    let letter = json_of(message);
    let code = letter["error"]["error_code"].as_str().unwrap().to_owned();
    assert_eq!(
        message.headers.get(ERROR_CODE_HEADER).map(String::as_str),
        Some(code.as_str())
    );
    (code, letter)
}

#[tokio::test]
async fn bad_input_is_dead_lettered_with_its_error_code_and_the_host_keeps_serving() {
    let (mem, bus) = new_bus();
    let mut done = listen(&mem, PROBE_OUT).await;
    let mut dlq = listen(&mem, PROBE_DLQ).await;
    let mut text_dlq = listen(&mem, TEXT_DLQ).await;
    let host = NodeHost::builder(bus)
        .config(HostConfig {
            max_envelope_bytes: 2048,
            ..quick()
        })
        .effect(HostProbe::default())
        .compute(HostText)
        .start()
        .await
        .unwrap();
    assert_eq!(host.dlq_topic("host_probe"), Some(PROBE_DLQ));
    assert_eq!(host.dlq_topic("host_text"), Some(TEXT_DLQ));

    // Oversized.
    let big = "x".repeat(5000);
    let (_, bytes) = envelope(json!({"operation": "echo", "text": big}));
    send(&mem, PROBE_IN, bytes).await;
    // Malformed JSON.
    send(
        &mem,
        PROBE_IN,
        &b"{\"payload\": {\"operation\": \"echo\""[..],
    )
    .await;
    // Unknown operation.
    let unknown = send_json(&mem, PROBE_IN, json!({"operation": "dance", "text": "x"})).await;
    // Fails validation (min_length 1).
    let invalid = send_json(&mem, PROBE_IN, json!({"operation": "echo", "text": ""})).await;
    // And a good one after them.
    let good = send_json(&mem, PROBE_IN, json!({"operation": "echo", "text": "fine"})).await;

    let letters: Vec<(String, Value)> = take(&mut dlq, 4).await.iter().map(dead_letter).collect();
    let codes: Vec<&str> = letters.iter().map(|(code, _)| code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "ONEX_CORE_007_INVALID_INPUT",
            "ONEX_CORE_007_INVALID_INPUT",
            "ONEX_CORE_084_UNSUPPORTED_OPERATION",
            "ONEX_CORE_006_VALIDATION_ERROR",
        ]
    );
    let message = letters[0].1["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("exceeds the host's limit of 2048 bytes"),
        "{message}"
    );
    assert!(letters[0].1["envelope"].as_str().unwrap().len() <= 4096);
    assert!(
        letters[1].1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("malformed JSON")
    );
    assert_eq!(
        letters[1].1["envelope"],
        "{\"payload\": {\"operation\": \"echo\""
    );
    for (i, id) in [(2, unknown), (3, invalid)] {
        let letter = &letters[i].1;
        assert_eq!(letter["error"]["correlation_id"], id.to_string());
        assert_eq!(letter["envelope"]["correlation_id"], id.to_string());
        assert_eq!(letter["node"], "host_probe");
        assert_eq!(letter["topic"], PROBE_IN);
        assert_eq!(letter["attempts"], 1, "permanent failures are not retried");
        assert!(letter["dead_lettered_at"].is_string());
    }

    let reply = next_envelope(&mut done).await;
    assert_eq!(reply.correlation_id, Some(good));

    // A compute node's bad input goes to its contract's DLQ topic.
    let bad = send_json(
        &mem,
        TEXT_IN,
        json!({"operation": "text.measure", "text": 7}),
    )
    .await;
    let (code, letter) = dead_letter(&take(&mut text_dlq, 1).await[0]);
    assert_eq!(code, "ONEX_CORE_007_INVALID_INPUT");
    assert_eq!(letter["envelope"]["correlation_id"], bad.to_string());

    let probe = stats_of(&host, "host_probe");
    assert_eq!(
        (
            probe.received,
            probe.succeeded,
            probe.failed,
            probe.dead_lettered,
            probe.retried
        ),
        (5, 1, 4, 4, 0)
    );
    assert!(quiet(&mut dlq).await);
    host.shutdown().await;
}

#[tokio::test]
async fn a_transient_failure_is_retried_until_it_succeeds_once() {
    let (mem, bus) = new_bus();
    let mut done = listen(&mem, PROBE_OUT).await;
    let mut dlq = listen(&mem, PROBE_DLQ).await;
    let probe = Arc::new(HostProbe::default());
    let host = NodeHost::builder(bus)
        .config(quick())
        .effect_arc(Arc::clone(&probe))
        .start()
        .await
        .unwrap();

    let id = send_json(
        &mem,
        PROBE_IN,
        json!({"operation": "flaky", "key": "k", "failures": 3}),
    )
    .await;
    let reply = next_envelope(&mut done).await;
    assert_eq!(reply.correlation_id, Some(id));
    assert_eq!(reply.payload["attempts"], 4);
    assert_eq!(probe.calls("k"), 4);
    assert!(quiet(&mut done).await, "processed once");
    assert!(quiet(&mut dlq).await, "nothing dead-lettered");

    let stats = stats_of(&host, "host_probe");
    println!("{stats:?}");
    assert_eq!(
        (
            stats.received,
            stats.redelivered,
            stats.failed,
            stats.retried
        ),
        (4, 3, 3, 3)
    );
    assert_eq!(
        (stats.succeeded, stats.dead_lettered, stats.in_flight),
        (1, 0, 0)
    );
    host.shutdown().await;
}

#[tokio::test]
async fn a_handler_failing_every_time_is_dead_lettered_after_max_deliver() {
    let (mem, bus) = new_bus();
    let mut dlq = listen(&mem, PROBE_DLQ).await;
    let probe = Arc::new(HostProbe::default());
    let host = NodeHost::builder(bus)
        .config(HostConfig {
            max_deliver: 3,
            ..quick()
        })
        .effect_arc(Arc::clone(&probe))
        .start()
        .await
        .unwrap();

    let id = send_json(
        &mem,
        PROBE_IN,
        json!({"operation": "fail", "text": "doomed"}),
    )
    .await;
    let message = take(&mut dlq, 1).await.remove(0);
    let (code, letter) = dead_letter(&message);
    assert_eq!(code, "ONEX_CORE_095_HANDLER_EXECUTION_ERROR");
    assert_eq!(letter["error"]["message"], "doomed failed (call 3)");
    assert_eq!(letter["attempts"], 3);
    assert_eq!(letter["envelope"]["correlation_id"], id.to_string());
    let envelope_id = letter["envelope"]["envelope_id"].as_str().unwrap();
    assert_eq!(
        message.id(),
        Some(format!("dlq-host_probe-{envelope_id}").as_str())
    );
    assert_eq!(probe.calls("doomed"), 3);

    let stats = stats_of(&host, "host_probe");
    assert_eq!(
        (
            stats.received,
            stats.failed,
            stats.retried,
            stats.dead_lettered
        ),
        (3, 3, 2, 1)
    );
    assert!(quiet(&mut dlq).await);
    host.shutdown().await;
}

#[tokio::test]
async fn panicking_handlers_are_retried_then_dead_lettered_and_the_host_lives_on() {
    let (mem, bus) = new_bus();
    let mut done = listen(&mem, PROBE_OUT).await;
    let mut dlq = listen(&mem, PROBE_DLQ).await;
    let mut text_dlq = listen(&mem, TEXT_DLQ).await;
    let probe = Arc::new(HostProbe::default());
    let host = NodeHost::builder(bus)
        .config(HostConfig {
            max_deliver: 2,
            ..quick()
        })
        .effect_arc(Arc::clone(&probe))
        .compute(HostText)
        .start()
        .await
        .unwrap();

    send_json(
        &mem,
        PROBE_IN,
        json!({"operation": "explode", "text": "bang"}),
    )
    .await;
    send_json(
        &mem,
        TEXT_IN,
        json!({"operation": "text.measure", "text": "boom"}),
    )
    .await;

    let (code, letter) = dead_letter(&take(&mut dlq, 1).await[0]);
    assert_eq!(code, "ONEX_CORE_095_HANDLER_EXECUTION_ERROR");
    let message = letter["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("node 'host_probe' panicked: the probe exploded on bang"),
        "{message}"
    );
    assert_eq!(letter["attempts"], 2);
    assert_eq!(probe.calls("bang"), 2, "a panic is transient: retried");

    // The compute node catches its handler's panic itself (naming the operation).
    let (code, letter) = dead_letter(&take(&mut text_dlq, 1).await[0]);
    assert_eq!(code, "ONEX_CORE_095_HANDLER_EXECUTION_ERROR");
    let message = letter["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("panicked: the measuring tape snapped"),
        "{message}"
    );

    // Still serving.
    let id = send_json(
        &mem,
        PROBE_IN,
        json!({"operation": "echo", "text": "alive"}),
    )
    .await;
    assert_eq!(next_envelope(&mut done).await.correlation_id, Some(id));
    assert_eq!(host.health().await.status, HealthStatus::Ready);
    host.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// Concurrency and shutdown.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_limit_is_respected() {
    let (mem, bus) = new_bus();
    let mut done = listen(&mem, PROBE_OUT).await;
    let probe = Arc::new(HostProbe::default());
    let host = NodeHost::builder(bus)
        .config(HostConfig {
            max_concurrency: 4,
            ..quick()
        })
        .effect_arc(Arc::clone(&probe))
        .start()
        .await
        .unwrap();
    for i in 0..40 {
        let payload = json!({"operation": "slow", "key": format!("k{i}"), "millis": 20});
        send_json(&mem, PROBE_IN, payload).await;
    }
    take(&mut done, 40).await;
    let max = probe.max_running.load(Ordering::SeqCst);
    println!("most handlers running at once: {max} (limit 4)");
    assert!((2..=4).contains(&max), "{max}");
    host.shutdown().await;
}

/// Publishes `n` slow requests; returns their correlation ids.
async fn publish_load(mem: &InMemoryBus, n: usize, millis: u64) -> BTreeSet<Uuid> {
    let mut sent = BTreeSet::new();
    for i in 0..n {
        let payload = json!({"operation": "slow", "key": format!("k{i}"), "millis": millis});
        sent.insert(send_json(mem, PROBE_IN, payload).await);
    }
    sent
}

/// How often each correlation id was processed to completion, and the ids seen twice.
fn duplicates(completed: &[Uuid]) -> (BTreeSet<Uuid>, Vec<Uuid>) {
    let mut counts: BTreeMap<Uuid, usize> = BTreeMap::new();
    for id in completed {
        *counts.entry(*id).or_default() += 1;
    }
    let twice = counts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| *id)
        .collect();
    (counts.into_keys().collect(), twice)
}

/// Correlation ids of replies.
fn reply_ids(replies: &[BusMessage]) -> BTreeSet<Uuid> {
    replies
        .iter()
        .map(|m| {
            Envelope::from_json(&m.payload)
                .unwrap()
                .correlation_id
                .unwrap()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_under_load_then_a_restart_loses_nothing() {
    let (mem, bus) = new_bus();
    let mut done = listen(&mem, PROBE_OUT).await;
    let probe = Arc::new(HostProbe::default());
    let config = HostConfig {
        max_concurrency: 8,
        ..quick()
    };
    let start = || {
        NodeHost::builder(Arc::clone(&bus))
            .config(config.clone())
            .effect_arc(Arc::clone(&probe))
            .start()
    };
    let first = start().await.unwrap();
    let sent = publish_load(&mem, 500, 5).await;
    eventually("100 envelopes processed", || async {
        probe.completed().len() >= 100
    })
    .await;
    let report = first.shutdown().await;
    println!("first host: {report:?}");
    assert!(!report.timed_out);
    assert_eq!(report.abandoned, 0);
    assert_eq!(report.drained, report.in_flight_at_stop);
    let first_done = report.stats[0].succeeded;
    assert_eq!(report.stats[0].in_flight, 0);
    assert!(first_done < 500, "shut down mid-way");

    // The durable consumer kept the rest.
    let second = start().await.unwrap();
    let replies = take(&mut done, 500).await;
    let ids = reply_ids(&replies);
    let (processed, twice) = duplicates(&probe.completed());
    let second_stats = stats_of(&second, "host_probe");
    println!(
        "sent {}, replies {} ({} unique), processed {} ({} unique, {} twice), first host {first_done}, second host {}",
        sent.len(),
        replies.len(),
        ids.len(),
        probe.completed().len(),
        processed.len(),
        twice.len(),
        second_stats.succeeded,
    );
    assert_eq!(ids, sent, "every request answered, none lost");
    assert_eq!(processed, sent);
    assert!(twice.is_empty(), "a graceful shutdown reprocesses nothing");
    assert_eq!(first_done + second_stats.succeeded, 500);
    assert!(quiet(&mut done).await);
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_host_loses_nothing_and_its_successor_finishes_the_work() {
    let (mem, bus) = new_bus();
    let mut done = listen(&mem, PROBE_OUT).await;
    let probe = Arc::new(HostProbe::default());
    let config = HostConfig {
        max_concurrency: 8,
        ..quick()
    };
    let start = || {
        NodeHost::builder(Arc::clone(&bus))
            .config(config.clone())
            .effect_arc(Arc::clone(&probe))
            .start()
    };
    let first = start().await.unwrap();
    let durable = first.durable_name("host_probe").unwrap().to_owned();
    let sent = publish_load(&mem, 500, 5).await;
    eventually("100 envelopes processed", || async {
        probe.completed().len() >= 100
    })
    .await;
    let before = stats_of(&first, "host_probe");
    let backlog = mem.unsettled(&durable);
    first.abort(); // in-flight deliveries are dropped unsettled
    println!(
        "crashed with {} acked, {} in flight, {backlog} held by the bus",
        before.succeeded, before.in_flight
    );

    let second = start().await.unwrap();
    eventually("every request processed", || async {
        duplicates(&probe.completed()).0.len() == sent.len()
    })
    .await;
    eventually("the backlog settled", || async {
        mem.unsettled(&durable) == 0
    })
    .await;
    let completed = probe.completed();
    let (processed, twice) = duplicates(&completed);
    let replies = take(&mut done, processed.len()).await;
    // Replies to reprocessed requests carry the same id: the bus dropped them.
    let extra = quiet(&mut done).await;
    let ids = reply_ids(&replies);
    println!(
        "sent {}, processed {} times ({} unique, {} processed twice: {:?}), replies {} ({} unique), second host {:?}",
        sent.len(),
        completed.len(),
        processed.len(),
        twice.len(),
        twice,
        replies.len(),
        ids.len(),
        stats_of(&second, "host_probe"),
    );
    assert_eq!(processed, sent, "in == out");
    assert_eq!(ids, sent, "every request answered once");
    assert!(extra, "no duplicate reply");
    second.shutdown().await;
}

#[tokio::test]
async fn a_long_handler_is_reported_in_progress_and_not_redelivered() {
    let (mem, bus) = new_bus();
    let mut done = listen(&mem, PROBE_OUT).await;
    let probe = Arc::new(HostProbe::default());
    let host = NodeHost::builder(bus)
        .config(HostConfig {
            ack_wait: Duration::from_millis(600),
            ..quick()
        })
        .effect_arc(Arc::clone(&probe))
        .start()
        .await
        .unwrap();
    let id = send_json(
        &mem,
        PROBE_IN,
        json!({"operation": "slow", "key": "long", "millis": 2_000}),
    )
    .await;
    assert_eq!(next_envelope(&mut done).await.correlation_id, Some(id));
    assert_eq!(probe.completed(), [id]);
    let stats = stats_of(&host, "host_probe");
    assert_eq!((stats.received, stats.redelivered), (1, 0), "{stats:?}");
    host.shutdown().await;
}

#[tokio::test]
async fn shutdown_nacks_what_does_not_drain_in_time() {
    let (mem, bus) = new_bus();
    let probe = Arc::new(HostProbe::default());
    let host = NodeHost::builder(Arc::clone(&bus))
        .config(HostConfig {
            drain_timeout: Duration::from_millis(50),
            ..quick()
        })
        .effect_arc(Arc::clone(&probe))
        .start()
        .await
        .unwrap();
    let durable = host.durable_name("host_probe").unwrap().to_owned();
    send_json(
        &mem,
        PROBE_IN,
        json!({"operation": "slow", "key": "s", "millis": 3_600_000}),
    )
    .await;
    eventually("the slow handler to start", || async {
        probe.running.load(Ordering::SeqCst) == 1
    })
    .await;
    let report = host.shutdown().await;
    assert_eq!(
        (report.in_flight_at_stop, report.abandoned, report.timed_out),
        (1, 1, true)
    );
    assert_eq!(
        probe.running.load(Ordering::SeqCst),
        0,
        "the handler was stopped"
    );
    // Nacked: still held by the durable group for the next host.
    assert_eq!(mem.unsettled(&durable), 1);
}

// ---------------------------------------------------------------------------------------
// Request–reply, health, start errors.

#[tokio::test]
async fn requests_through_a_host_get_replies_and_errors() {
    let (mem, bus) = new_bus();
    let host = NodeHost::builder(Arc::clone(&bus))
        .config(quick())
        .effect(HostProbe::default())
        .start()
        .await
        .unwrap();

    let (id, bytes) = envelope(json!({"operation": "echo", "text": "ping"}));
    let reply = bus
        .request(BusMessage::new(PROBE_IN, bytes), PATIENCE)
        .await
        .unwrap();
    let reply = Envelope::from_json(&reply.payload).unwrap();
    assert_eq!(
        (reply.correlation_id, &reply.payload["text"]),
        (Some(id), &json!("ping"))
    );

    // A request that is dead-lettered is answered with the error.
    let (id, bytes) = envelope(json!({"operation": "echo", "text": ""}));
    let answer = bus
        .request(BusMessage::new(PROBE_IN, bytes), PATIENCE)
        .await
        .unwrap();
    assert_eq!(
        answer.headers.get(ERROR_CODE_HEADER).map(String::as_str),
        None,
        "error replies are plain envelopes"
    );
    let answer = Envelope::from_json(&answer.payload).unwrap();
    assert_eq!(answer.payload_type.as_deref(), Some(ERROR_PAYLOAD_TYPE));
    assert_eq!(answer.correlation_id, Some(id));
    let error: OnexError = serde_json::from_value(answer.payload).unwrap();
    assert_eq!(error.code(), ErrorCode::Validation);
    assert_eq!(error.correlation_id(), Some(id));
    drop(mem);
    host.shutdown().await;
}

#[tokio::test]
async fn health_is_ready_after_start_and_degraded_when_the_bus_closes() {
    let (mem, bus) = new_bus();
    let host = NodeHost::builder(bus)
        .config(quick())
        .effect(HostProbe::default())
        .compute(HostText)
        .start()
        .await
        .unwrap();
    let health = host.health().await;
    assert!(health.is_ready(), "{health:?}");
    assert!(health.reasons.is_empty());
    assert!(health.bus_connected);
    assert_eq!(
        health.nodes[0].subscriptions[0].state,
        SubscriptionState::Active
    );
    assert_eq!(health.nodes[0].subscriptions[0].topic, PROBE_IN);
    assert_eq!(health.nodes[0].durable, "onex-host-host-probe");
    let json = serde_json::to_value(&health).unwrap();
    assert_eq!(json["status"], "ready");
    assert_eq!(json["nodes"][1]["node"], "host_text");

    mem.close();
    eventually("both subscriptions to be lost", || async {
        let health = host.health().await;
        health
            .nodes
            .iter()
            .all(|n| n.subscriptions[0].state == SubscriptionState::Resubscribing)
    })
    .await;
    let health = host.health().await;
    println!("{}", serde_json::to_string_pretty(&health).unwrap());
    assert_eq!(health.status, HealthStatus::Degraded);
    assert!(!health.bus_connected);
    assert!(
        health
            .reasons
            .iter()
            .any(|r| r == "bus 'memory' disconnected: closed"),
        "{:?}",
        health.reasons
    );
    assert!(
        health
            .reasons
            .iter()
            .any(|r| r.starts_with("host_probe: resubscribing to onex.cmd.host-probe.run.v1")),
        "{:?}",
        health.reasons
    );
    // Shutting down while resubscribing still ends.
    let report = host.shutdown().await;
    assert!(!report.timed_out);
}

#[tokio::test]
async fn health_is_failing_when_nothing_can_be_subscribed() {
    let (mem, bus) = new_bus();
    mem.close();
    let host = NodeHost::builder(bus)
        .config(quick())
        .effect(HostProbe::default())
        .start()
        .await
        .unwrap();
    let health = host.health().await;
    assert_eq!(health.status, HealthStatus::Failing, "{health:?}");
    assert_eq!(
        health.nodes[0].subscriptions[0].state,
        SubscriptionState::Subscribing
    );
    assert!(
        health
            .reasons
            .iter()
            .any(|r| r.starts_with("host_probe: cannot subscribe to onex.cmd.host-probe.run.v1")),
        "{:?}",
        health.reasons
    );
    host.shutdown().await;
}

#[tokio::test]
async fn start_rejects_hosts_that_cannot_serve() {
    let (_mem, bus) = new_bus();
    let err = NodeHost::builder(Arc::clone(&bus))
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);

    let err = NodeHost::builder(Arc::clone(&bus))
        .compute(Unrouted)
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(
        err.message().contains("no event_bus.subscribe_topics"),
        "{}",
        err.message()
    );

    let err = NodeHost::builder(Arc::clone(&bus))
        .compute(HostText)
        .compute(HostText)
        .start()
        .await
        .unwrap_err();
    assert!(
        err.message().contains("two nodes named 'host_text'"),
        "{}",
        err.message()
    );
}

// ---------------------------------------------------------------------------------------
// Observability.

#[tokio::test]
async fn metrics_are_recorded_per_node_and_outcome() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let (mem, bus) = new_bus();
    let mut done = listen(&mem, PROBE_OUT).await;
    let mut dlq = listen(&mem, PROBE_DLQ).await;
    // Handles are registered when nodes are added: inside the recorder's scope.
    let builder = metrics::with_local_recorder(&recorder, || {
        NodeHost::builder(bus)
            .config(quick())
            .effect(HostProbe::default())
    });
    let host = builder.start().await.unwrap();

    send_json(&mem, PROBE_IN, json!({"operation": "echo", "text": "a"})).await;
    send_json(&mem, PROBE_IN, json!({"operation": "echo", "text": "b"})).await;
    send_json(
        &mem,
        PROBE_IN,
        json!({"operation": "flaky", "key": "m", "failures": 1}),
    )
    .await;
    send_json(&mem, PROBE_IN, json!({"operation": "nope"})).await;
    take(&mut done, 3).await;
    take(&mut dlq, 1).await;
    host.shutdown().await;

    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        let value = match value {
            DebugValue::Counter(n) => n.to_string(),
            DebugValue::Gauge(g) => g.0.to_string(),
            DebugValue::Histogram(samples) => format!("{} samples", samples.len()),
        };
        seen.insert(format!("{}{{{}}}", key.name(), labels.join(",")), value);
    }
    println!("{seen:#?}");
    let get = |k: &str| seen.get(k).map(String::as_str);
    assert_eq!(
        get("onex_envelopes_total{node=host_probe,outcome=ok}"),
        Some("3")
    );
    assert_eq!(
        get("onex_envelopes_total{node=host_probe,outcome=retry}"),
        Some("1")
    );
    assert_eq!(
        get("onex_envelopes_total{node=host_probe,outcome=dlq}"),
        Some("1")
    );
    assert_eq!(get("onex_dead_letters_total{node=host_probe}"), Some("1"));
    assert_eq!(get("onex_in_flight{node=host_probe}"), Some("0"));
    assert_eq!(
        get("onex_envelope_duration_seconds{node=host_probe}"),
        Some("5 samples")
    );
}

/// A subscriber that keeps the fields of every `onex.envelope` span.
#[derive(Default)]
struct SpanFields(Mutex<Vec<BTreeMap<String, String>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl tracing::Subscriber for SpanFields {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut spans = lock(&self.0);
        let mut fields = BTreeMap::new();
        fields.insert("name".to_owned(), span.metadata().name().to_owned());
        span.record(&mut Fields(&mut fields));
        spans.push(fields);
        tracing::span::Id::from_u64(spans.len() as u64)
    }
    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let index = usize::try_from(span.into_u64()).unwrap() - 1;
        if let Some(fields) = lock(&self.0).get_mut(index) {
            values.record(&mut Fields(fields));
        }
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn each_envelope_has_a_span_with_node_operation_correlation_and_attempt() {
    let spans = Arc::new(SpanFields::default());
    let _guard = tracing::subscriber::set_default(Arc::clone(&spans));
    let (mem, bus) = new_bus();
    let mut done = listen(&mem, PROBE_OUT).await;
    let host = NodeHost::builder(bus)
        .config(quick())
        .effect(HostProbe::default())
        .start()
        .await
        .unwrap();
    let id = send_json(
        &mem,
        PROBE_IN,
        json!({"operation": "flaky", "key": "t", "failures": 1}),
    )
    .await;
    take(&mut done, 1).await;
    host.shutdown().await;

    let envelopes: Vec<BTreeMap<String, String>> = lock(&spans.0)
        .iter()
        .filter(|f| f["name"] == "onex.envelope")
        .cloned()
        .collect();
    println!("{envelopes:#?}");
    assert_eq!(envelopes.len(), 2);
    for (fields, attempt) in envelopes.iter().zip(["1", "2"]) {
        assert_eq!(fields["node"], "host_probe");
        assert_eq!(fields["operation"], "flaky");
        assert_eq!(fields["correlation_id"], id.to_string());
        assert_eq!(fields["attempt"], attempt);
        assert_eq!(fields["topic"], PROBE_IN);
    }
}
