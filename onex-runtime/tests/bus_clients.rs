//! Typed clients over the bus: effect, compute and reducer nodes hosted on the in-memory bus
//! and called from a workflow context; replies, errors passed through with their code and
//! context, timeouts, deadlines, cancellation and the request envelope itself.
//!
//! Nodes are declared from the contracts in `tests/host/` and `contracts/`. Waits use
//! generous timeouts and assertions are on values, never on durations.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use onex_runtime::bus::{BusMessage, EventBus, InMemoryBus, SubscribeOptions, Subscription};
use onex_runtime::fsm::ReducerInput;
use onex_runtime::host::{HostConfig, NodeHost};
use onex_runtime::retry::RetryPolicy;
use onex_runtime::{
    BusComputeClient, BusEffectClient, BusReducerClient, EffectContext, Envelope, ErrorCode,
    FsmExecutor, NodeClient, OnexError, RemoteTransition, Uuid, WorkflowContext, compute_node,
    effect_node, reducer_node,
};
use serde_json::{Value, json};
use tokio::time::Instant;

const PATIENCE: Duration = Duration::from_secs(10);

const GREET: &str = "onex.cmd.greeter.greet.v1";
const GATE: &str = "onex.cmd.bus-gate.trigger.v1";

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the greeter's handler saw of its context.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    correlation_id: Uuid,
    has_deadline: bool,
    attempt: u32,
}

/// The hosted EFFECT node (`tests/host/greeter.yaml`: one operation, `greet`). Its handler
/// records every call; some names script a failure.
#[effect_node(contract = "tests/host/greeter.yaml", relative_to = manifest)]
#[derive(Default)]
pub struct Greeter {
    seen: Mutex<Vec<Seen>>,
}

impl GreeterHandler for Greeter {
    async fn greet(
        &self,
        ctx: &EffectContext,
        input: greeter::ModelGreeting,
    ) -> Result<greeter::ModelReply, OnexError> {
        lock(&self.seen).push(Seen {
            correlation_id: ctx.correlation_id(),
            has_deadline: ctx.deadline().is_some(),
            attempt: ctx.attempt(),
        });
        match input.name.as_str() {
            "nobody" => Err(OnexError::validation("nobody is not a name")
                .with_context("field", "name")
                .with_context("rule", "a person")),
            "broken" => Err(OnexError::new(
                ErrorCode::OperationFailed,
                "the greeting machine jammed",
            )
            .with_context("jam", 3)),
            "slow" => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                unreachable!("the caller gives up first")
            }
            name => Ok(greeter::ModelReply {
                text: format!("Hello, {name}!"),
            }),
        }
    }
}

impl Greeter {
    fn seen(&self) -> Vec<Seen> {
        lock(&self.seen).clone()
    }
}

/// A newer greeter (`contracts/greeter.yaml`: `greet` and `farewell`) whose contract names no
/// topic: its client is pointed at the older greeter's topic, which has no `farewell`.
#[effect_node(contract = "contracts/greeter.yaml", relative_to = manifest)]
pub struct NewerGreeter;

impl NewerGreeterHandler for NewerGreeter {
    async fn greet(
        &self,
        _ctx: &EffectContext,
        input: newer_greeter::ModelGreeting,
    ) -> Result<newer_greeter::ModelReply, OnexError> {
        Ok(newer_greeter::ModelReply { text: input.name })
    }

    async fn farewell(
        &self,
        _ctx: &EffectContext,
        input: newer_greeter::ModelGreeting,
    ) -> Result<newer_greeter::ModelReply, OnexError> {
        Ok(newer_greeter::ModelReply { text: input.name })
    }
}

/// The hosted COMPUTE node (`tests/host/text.yaml`).
#[compute_node(contract = "tests/host/text.yaml", relative_to = manifest)]
pub struct HostText;

impl HostTextHandler for HostText {
    fn text_measure(
        &self,
        input: host_text::ModelText,
    ) -> Result<host_text::ModelMeasure, OnexError> {
        Ok(host_text::ModelMeasure {
            words: input.text.split_whitespace().count() as i64,
            chars: input.text.chars().count() as i64,
        })
    }
}

/// The hosted REDUCER (`tests/host/gate.yaml`): a turnstile whose guard wants 50 cents.
#[reducer_node(contract = "tests/host/gate.yaml", relative_to = manifest)]
#[derive(Clone, Copy)]
pub struct BusGate;

fn greet(name: &str) -> GreeterInput {
    GreeterInput::Greet(greeter::ModelGreeting { name: name.into() })
}

fn coin(cents: i64) -> ReducerInput<BusGateTrigger, bus_gate::ModelCoin> {
    ReducerInput {
        trigger: BusGateTrigger::Coin,
        context: bus_gate::ModelCoin { cents },
    }
}

fn push() -> ReducerInput<BusGateTrigger, bus_gate::ModelCoin> {
    ReducerInput {
        trigger: BusGateTrigger::Push,
        context: bus_gate::ModelCoin { cents: 0 },
    }
}

fn run() -> WorkflowContext {
    WorkflowContext::new(Uuid::new_v4(), "bus_clients")
}

/// A host failing fast: two deliveries, 1 ms apart.
fn quick() -> HostConfig {
    HostConfig {
        max_deliver: 2,
        retry_backoff: RetryPolicy::new(u32::MAX, Duration::from_millis(1)),
        drain_timeout: Duration::from_secs(5),
        ..HostConfig::default()
    }
}

/// A bus, a host serving the greeter, the text node and the gate, and the greeter.
async fn served() -> (Arc<dyn EventBus>, NodeHost, Arc<Greeter>) {
    let bus: Arc<dyn EventBus> = Arc::new(InMemoryBus::new());
    let greeter = Arc::new(Greeter::default());
    let host = NodeHost::builder(Arc::clone(&bus))
        .config(quick())
        .effect_arc(Arc::clone(&greeter))
        .compute(HostText)
        .reducer(FsmExecutor::new(BusGate))
        .start()
        .await
        .unwrap();
    (bus, host, greeter)
}

/// An ephemeral subscription that never answers.
async fn silent(bus: &Arc<dyn EventBus>, topic: &str) -> Subscription {
    bus.subscribe(topic, SubscribeOptions::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn effect_call_returns_the_typed_output_and_keeps_the_correlation_id() {
    let (bus, host, greeter) = served().await;
    let client = BusEffectClient::<Greeter>::new(Arc::clone(&bus)).unwrap();
    assert_eq!(client.topic(), GREET);
    assert_eq!(client.reply_timeout(), Duration::from_secs(30));

    let cx = run();
    let step = cx.for_step("say_hello", 2, None);
    let GreeterOutput::Greet(reply) = step.call(&client, greet("Ada")).await.unwrap();
    assert_eq!(reply.text, "Hello, Ada!");
    // Without a step deadline, the node still gets the client's timeout as its deadline.
    assert_eq!(
        greeter.seen(),
        [Seen {
            correlation_id: cx.correlation_id(),
            has_deadline: true,
            attempt: 2,
        }]
    );

    // Outside a workflow: a fresh correlation id per call; a clone shares the bus.
    client.clone().call(greet("Bob")).await.unwrap();
    let seen = greeter.seen();
    assert_ne!(seen[1].correlation_id, cx.correlation_id());
    assert_eq!(host.shutdown().await.stats[0].succeeded, 2);
}

#[tokio::test]
async fn the_request_envelope_carries_the_step() {
    let bus: Arc<dyn EventBus> = Arc::new(InMemoryBus::new());
    let mut requests = silent(&bus, GREET).await;
    let client = BusEffectClient::<Greeter>::new(Arc::clone(&bus))
        .unwrap()
        .timeout(Duration::from_secs(20));
    let cx = run();
    let deadline = Instant::now() + Duration::from_millis(4500);
    let step = cx.for_step("say_hello", 1, Some(deadline));

    let call = tokio::spawn({
        let step = step.clone();
        let client = client.clone();
        async move { step.call(&client, greet("Ada")).await }
    });
    let delivery = tokio::time::timeout(PATIENCE, requests.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let message = delivery.message().clone();
    delivery.ack().await.unwrap();
    let request = Envelope::from_json(&message.payload).unwrap();
    assert_eq!(
        request.payload,
        json!({"operation": "greet", "name": "Ada"})
    );
    assert_eq!(request.correlation_id, Some(cx.correlation_id()));
    assert_eq!(request.payload_type.as_deref(), Some("ModelGreeting"));
    assert_eq!(request.event_type.as_deref(), Some(GREET));
    assert_eq!(request.target_tool.as_deref(), Some("greeter"));
    assert_eq!(request.source_tool.as_deref(), Some("bus_clients"));
    assert_eq!(request.retry_count, 1);
    // 4.5 s left before the step's deadline (earlier than the client's 20 s): rounded up.
    assert_eq!(request.timeout_seconds, Some(5));
    assert_eq!(request.metadata.tags["workflow"], "bus_clients");
    assert_eq!(request.metadata.tags["step"], "say_hello");
    let envelope_id = request.envelope_id.to_string();
    assert_eq!(message.id(), Some(envelope_id.as_str()));

    // Answer by hand: a reply with the request's correlation id is decoded.
    let reply_to = message.reply_to.clone().unwrap();
    let reply = request.reply(json!({"text": "hand-written"}));
    bus.respond(
        &reply_to,
        BusMessage::new(&reply_to, reply.to_json().unwrap()),
    )
    .await
    .unwrap();
    let GreeterOutput::Greet(out) = call.await.unwrap().unwrap();
    assert_eq!(out.text, "hand-written");
}

#[tokio::test]
async fn a_reply_of_another_correlation_or_not_an_envelope_is_refused() {
    let bus: Arc<dyn EventBus> = Arc::new(InMemoryBus::new());
    let mut requests = silent(&bus, GREET).await;
    let client = BusEffectClient::<Greeter>::new(Arc::clone(&bus)).unwrap();
    for (answer, code) in [
        ("other correlation", ErrorCode::ContractViolation),
        ("not an envelope", ErrorCode::InvalidInput),
        ("wrong output", ErrorCode::InvalidInput),
    ] {
        let cx = run();
        let call = tokio::spawn({
            let client = client.clone();
            let cx = cx.clone();
            async move { cx.call(&client, greet("Ada")).await }
        });
        let delivery = tokio::time::timeout(PATIENCE, requests.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let message = delivery.message().clone();
        delivery.ack().await.unwrap();
        let request = Envelope::from_json(&message.payload).unwrap();
        let bytes = match answer {
            "other correlation" => request
                .reply(json!({"text": "hi"}))
                .with_correlation_id(Uuid::new_v4())
                .to_json()
                .unwrap(),
            "not an envelope" => b"[1, 2, 3]".to_vec(),
            _ => request.reply(json!({"words": 2})).to_json().unwrap(),
        };
        let reply_to = message.reply_to.unwrap();
        bus.respond(&reply_to, BusMessage::new(&reply_to, bytes))
            .await
            .unwrap();
        let err = call.await.unwrap().unwrap_err();
        assert_eq!(err.code(), &code, "{answer}: {err}");
        assert_eq!(err.correlation_id(), Some(cx.correlation_id()), "{answer}");
        assert_eq!(err.context()["node"], "greeter", "{answer}");
        assert_eq!(err.context()["topic"], GREET, "{answer}");
    }
}

#[tokio::test]
async fn a_validation_error_raised_by_the_node_comes_back_with_its_context() {
    let (bus, host, _greeter) = served().await;
    let client = BusEffectClient::<Greeter>::new(Arc::clone(&bus)).unwrap();
    let cx = run();
    let err = cx.call(&client, greet("nobody")).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Validation);
    assert_eq!(err.message(), "nobody is not a name");
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
    assert_eq!(err.context()["field"], "name");
    assert_eq!(err.context()["rule"], "a person");
    // Permanent: dead-lettered at once, never redelivered.
    let stats = host.shutdown().await.stats;
    assert_eq!((stats[0].received, stats[0].dead_lettered), (1, 1));
}

#[tokio::test]
async fn an_invalid_input_is_refused_before_it_is_sent() {
    let (bus, host, greeter) = served().await;
    let client = BusEffectClient::<Greeter>::new(Arc::clone(&bus)).unwrap();
    let cx = run();
    let err = cx.call(&client, greet("")).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Validation);
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
    assert!(greeter.seen().is_empty());
    assert_eq!(host.shutdown().await.stats[0].received, 0);
}

#[tokio::test]
async fn a_transient_failure_comes_back_after_the_hosts_last_delivery() {
    let (bus, host, greeter) = served().await;
    let client = BusEffectClient::<Greeter>::new(Arc::clone(&bus)).unwrap();
    let cx = run();
    let err = cx.call(&client, greet("broken")).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::OperationFailed);
    assert_eq!(err.message(), "the greeting machine jammed");
    assert_eq!(err.context()["jam"], 3);
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
    // `max_deliver: 2`: the handler ran twice before the host gave up and answered.
    assert_eq!(greeter.seen().len(), 2);
    let stats = host.shutdown().await.stats;
    assert_eq!((stats[0].retried, stats[0].dead_lettered), (1, 1));
}

#[tokio::test]
async fn an_operation_the_served_node_lacks_is_unsupported() {
    let (bus, host, _greeter) = served().await;
    // A client built from a newer contract, on the older node's topic.
    let err = BusEffectClient::<NewerGreeter>::new(Arc::clone(&bus)).unwrap_err();
    assert_eq!(err.code(), &ErrorCode::InvalidInput);
    assert!(
        err.message().contains("no event_bus.subscribe_topics"),
        "{err}"
    );
    let client = BusEffectClient::<NewerGreeter>::with_topic(Arc::clone(&bus), GREET).unwrap();

    let cx = run();
    let hello = NewerGreeterInput::Greet(newer_greeter::ModelGreeting { name: "Ada".into() });
    let NewerGreeterOutput::Greet(reply) = cx.call(&client, hello).await.unwrap() else {
        panic!("greet answers greet")
    };
    assert_eq!(reply.text, "Hello, Ada!");

    let bye = NewerGreeterInput::Farewell(newer_greeter::ModelGreeting { name: "Ada".into() });
    let err = cx.call(&client, bye).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::UnsupportedOperation);
    assert_eq!(err.message(), "unsupported operation 'farewell'");
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
    assert_eq!(err.context()["supported"], json!(["greet"]));
    host.shutdown().await;
}

#[tokio::test]
async fn nobody_serving_the_topic_is_a_bus_error_or_a_timeout() {
    let bus: Arc<dyn EventBus> = Arc::new(InMemoryBus::new());
    let client = BusEffectClient::<Greeter>::new(Arc::clone(&bus))
        .unwrap()
        .timeout(Duration::from_millis(100));
    let cx = run();

    // No subscriber at all: the in-memory bus says so at once.
    let err = cx.call(&client, greet("Ada")).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::EventBus);
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
    assert_eq!(err.context()["node"], "greeter");

    // A subscriber that never answers: the client's timeout.
    let _requests = silent(&bus, GREET).await;
    let err = cx.call(&client, greet("Ada")).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Timeout);
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
    assert_eq!(err.context()["node"], "greeter");
    assert_eq!(err.context()["topic"], GREET);
    assert_eq!(err.context()["timeout_ms"], 100);
}

#[tokio::test]
async fn the_steps_deadline_and_cancellation_end_a_call() {
    let (bus, host, greeter) = served().await;
    let client = BusEffectClient::<Greeter>::new(Arc::clone(&bus)).unwrap();
    let cx = run();

    let deadline = Instant::now() + Duration::from_millis(100);
    let step = cx.for_step("say_hello", 0, Some(deadline));
    let err = step.call(&client, greet("slow")).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Timeout);
    assert!(err.message().contains("ran past the deadline"), "{err}");
    assert_eq!(err.context()["step"], "say_hello");
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
    // The host took the request (with a deadline) before the caller gave up.
    tokio::time::timeout(PATIENCE, async {
        while greeter.seen().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    assert!(greeter.seen()[0].has_deadline);

    // Past the deadline nothing is sent.
    let err = step.call(&client, greet("Ada")).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Timeout);
    assert_eq!(greeter.seen().len(), 1);

    let cancelled = cx.for_step("say_hello", 0, None);
    cancelled.cancellation_token().cancel();
    let err = cancelled.call(&client, greet("Ada")).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::WorkflowFailed);
    assert_eq!(err.context()["cancelled"], true);
    assert_eq!(greeter.seen().len(), 1);
    host.abort();
}

#[tokio::test]
async fn compute_call_over_the_bus() {
    let (bus, host, _greeter) = served().await;
    let client = BusComputeClient::<HostText>::new(Arc::clone(&bus)).unwrap();
    assert_eq!(client.topic(), "onex.cmd.host-text.measure.v1");
    let cx = run();
    let text = |t: &str| HostTextInput::TextMeasure(host_text::ModelText { text: t.into() });
    let HostTextOutput::TextMeasure(m) = cx.call(&client, text("to be or not")).await.unwrap();
    assert_eq!((m.words, m.chars), (4, 12));

    let err = cx.call(&client, text("")).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Validation);
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
    let stats = host.shutdown().await.stats;
    assert_eq!((stats[1].received, stats[1].succeeded), (1, 1));
}

#[tokio::test]
async fn reducer_calls_drive_the_hosted_machine() {
    let (bus, host, _greeter) = served().await;
    let gate = BusReducerClient::<BusGate>::new(Arc::clone(&bus)).unwrap();
    assert_eq!(gate.topic(), GATE);
    let mut local = FsmExecutor::new(BusGate);
    let cx = run();

    let t = cx.call(&gate, coin(50)).await.unwrap();
    assert_eq!(
        t,
        local.fire(BusGateTrigger::Coin, &coin(50).context).unwrap()
    );
    assert_eq!(
        t,
        RemoteTransition {
            from: BusGateState::Locked,
            to: BusGateState::Unlocked,
            trigger: BusGateTrigger::Coin,
            name: "pay".to_owned(),
            intents: vec![BusGateIntent::CountCoin, BusGateIntent::ReleaseArm],
        }
    );
    assert_eq!(
        t.to_string(),
        "locked --coin--> unlocked [count_coin, release_arm]"
    );

    // The host keeps the state: the next call starts where the last one left it.
    let t = cx.call(&gate, push()).await.unwrap();
    assert_eq!(
        (t.from, t.to),
        (BusGateState::Unlocked, BusGateState::Locked)
    );

    // A guard that says no: the host's validation error, state unchanged.
    let err = cx.call(&gate, coin(20)).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Validation);
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
    assert_eq!(err.context()["state"], "locked");
    assert_eq!(err.context()["transition"], "pay");
    assert_eq!(err.context()["failed_conditions"], json!(["cents >= 50"]));
    // No transition for the trigger in this state.
    let err = cx.call(&gate, push()).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Validation);
    assert_eq!(err.context()["trigger"], "push");
    let t = cx.call(&gate, coin(70)).await.unwrap();
    assert_eq!(t.from, BusGateState::Locked);

    let stats = host.shutdown().await.stats;
    assert_eq!((stats[2].succeeded, stats[2].dead_lettered), (3, 2));
}

#[tokio::test]
async fn a_topic_must_be_a_topic() {
    let bus: Arc<dyn EventBus> = Arc::new(InMemoryBus::new());
    for topic in ["onex.cmd.greeter.*.v1", "", "onex..x"] {
        let err = BusEffectClient::<Greeter>::with_topic(Arc::clone(&bus), topic).unwrap_err();
        assert_eq!(err.code(), &ErrorCode::InvalidInput, "{topic:?}");
        assert_eq!(err.context()["node"], "greeter", "{topic:?}");
    }
    let client = BusReducerClient::<BusGate>::with_topic(bus, "onex.cmd.bus-gate.other.v1");
    assert_eq!(client.unwrap().topic(), "onex.cmd.bus-gate.other.v1");
    let value: Value = serde_json::to_value(RemoteTransition {
        from: BusGateState::Locked,
        to: BusGateState::Unlocked,
        trigger: BusGateTrigger::Coin,
        name: "pay".to_owned(),
        intents: vec![BusGateIntent::CountCoin],
    })
    .unwrap();
    assert_eq!(
        value,
        json!({"from_state": "locked", "to_state": "unlocked", "trigger": "coin",
               "transition_name": "pay", "intents": ["count_coin"]})
    );
}

/// The same calls across NATS JetStream: a reply, a typed error, a reducer's transition and a
/// timeout.
#[cfg(feature = "nats")]
#[tokio::test]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn over_nats() {
    use onex_runtime::bus::{NatsBus, NatsBusConfig};

    let config = NatsBusConfig::new("nats://127.0.0.1:4222")
        .durable_from_start(false)
        .confirm_acks(true);
    let bus: Arc<dyn EventBus> = Arc::new(NatsBus::connect(config).await.unwrap());
    let greeter = Arc::new(Greeter::default());
    let host = NodeHost::builder(Arc::clone(&bus))
        .config(HostConfig {
            durable_prefix: "onex-bus-clients-test".to_owned(),
            ..quick()
        })
        .effect_arc(Arc::clone(&greeter))
        .reducer(FsmExecutor::new(BusGate))
        .start()
        .await
        .unwrap();
    let client = BusEffectClient::<Greeter>::new(Arc::clone(&bus))
        .unwrap()
        .timeout(PATIENCE);
    let cx = run();

    let GreeterOutput::Greet(reply) = cx.call(&client, greet("Ada")).await.unwrap();
    assert_eq!(reply.text, "Hello, Ada!");
    assert_eq!(greeter.seen()[0].correlation_id, cx.correlation_id());

    let err = cx.call(&client, greet("nobody")).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Validation);
    assert_eq!(err.context()["field"], "name");
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));

    let gate = BusReducerClient::<BusGate>::new(Arc::clone(&bus))
        .unwrap()
        .timeout(PATIENCE);
    let t = cx.call(&gate, coin(50)).await.unwrap();
    assert_eq!(
        (t.from, t.to),
        (BusGateState::Locked, BusGateState::Unlocked)
    );
    let err = cx.call(&gate, coin(10)).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Validation);
    assert_eq!(err.context()["trigger"], "coin");

    let nobody = BusReducerClient::<BusGate>::with_topic(
        Arc::clone(&bus),
        "onex.cmd.bus-gate.nobody-serves.v1",
    )
    .unwrap()
    .timeout(Duration::from_millis(300));
    let err = cx.call(&nobody, push()).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Timeout);
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
    assert_eq!(err.context()["node"], "bus_gate");
    host.shutdown().await;
}
