//! Typed in-process clients: effect, compute and reducer nodes called from a workflow
//! context, with validation, correlation ids, deadlines, cancellation and tracing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use onex_runtime::fsm::ReducerInput;
use onex_runtime::{
    ComputeClient, EffectClient, EffectContext, ErrorCode, FsmExecutor, NodeClient, OnexError,
    ReducerClient, Uuid, WorkflowContext, compute_node, effect_node, reducer_node,
};
use tokio::time::Instant;

/// What the greeter's handlers saw of their context.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    /// The operation called.
    pub operation: &'static str,
    /// The context's correlation id.
    pub correlation_id: Uuid,
    /// The context's node name.
    pub node: &'static str,
    /// The context's attempt.
    pub attempt: u32,
    /// The context's deadline.
    pub deadline: Option<Instant>,
}

/// An effect node that records every call; `slow` never answers, `farewell` always fails.
#[effect_node(contract = "contracts/greeter.yaml", relative_to = manifest)]
#[derive(Debug, Default)]
pub struct Greeter {
    seen: Mutex<Vec<Seen>>,
}

impl Greeter {
    fn record(&self, operation: &'static str, ctx: &EffectContext) {
        tracing::info!("greeter handler");
        self.seen.lock().unwrap().push(Seen {
            operation,
            correlation_id: ctx.correlation_id(),
            node: ctx.node_name(),
            attempt: ctx.attempt(),
            deadline: ctx.deadline(),
        });
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl GreeterHandler for Greeter {
    async fn greet(
        &self,
        ctx: &EffectContext,
        input: greeter::ModelGreeting,
    ) -> Result<greeter::ModelReply, OnexError> {
        self.record("greet", ctx);
        if input.name == "slow" {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Ok(greeter::ModelReply {
            text: format!("Hello, {}!", input.name),
        })
    }

    async fn farewell(
        &self,
        ctx: &EffectContext,
        _input: greeter::ModelGreeting,
    ) -> Result<greeter::ModelReply, OnexError> {
        self.record("farewell", ctx);
        Err(OnexError::new(ErrorCode::OperationFailed, "no goodbyes")
            .with_correlation_id(Uuid::nil()))
    }
}

/// A compute node that panics on `boom` and counts its calls.
#[compute_node(contract = "contracts/text_metrics.yaml", relative_to = manifest)]
#[derive(Debug, Default)]
pub struct TextMetrics {
    calls: AtomicU64,
}

impl TextMetricsHandler for TextMetrics {
    fn text_measure(
        &self,
        input: text_metrics::ModelText,
    ) -> Result<text_metrics::ModelMeasure, OnexError> {
        tracing::info!("text_metrics handler");
        self.calls.fetch_add(1, Ordering::SeqCst);
        if input.text == "boom" {
            panic!("the measuring tape snapped");
        }
        Ok(text_metrics::ModelMeasure {
            words: input.text.split_whitespace().count() as i64,
            chars: input.text.chars().count() as i64,
        })
    }
}

/// The coin-operated turnstile of the `fsm` documentation.
#[reducer_node(contract = "contracts/turnstile.yaml", relative_to = manifest)]
#[derive(Debug)]
pub struct Turnstile;

type S = TurnstileState;
type T = TurnstileTrigger;
type I = TurnstileIntent;

fn greet(name: &str) -> GreeterInput {
    GreeterInput::Greet(greeter::ModelGreeting { name: name.into() })
}

fn measure(text: &str) -> TextMetricsInput {
    TextMetricsInput::TextMeasure(text_metrics::ModelText { text: text.into() })
}

fn coin(cents: i64) -> ReducerInput<T, turnstile::ModelCoin> {
    ReducerInput {
        trigger: T::Coin,
        context: turnstile::ModelCoin { cents },
    }
}

fn push() -> ReducerInput<T, turnstile::ModelCoin> {
    ReducerInput {
        trigger: T::Push,
        context: turnstile::ModelCoin { cents: 0 },
    }
}

fn run() -> WorkflowContext {
    WorkflowContext::new(Uuid::new_v4(), "clients")
}

#[tokio::test]
async fn effect_call_returns_the_output_and_passes_the_correlation_id() {
    let client = EffectClient::new(Greeter::default());
    let cx = run();
    let step = cx.for_step("say_hello", 2, None);

    let out = step.call(&client, greet("Ada")).await.unwrap();
    let GreeterOutput::Greet(reply) = out else {
        panic!("{out:?}")
    };
    assert_eq!(reply.text, "Hello, Ada!");
    assert_eq!(
        client.node().seen(),
        vec![Seen {
            operation: "greet",
            correlation_id: cx.correlation_id(),
            node: "greeter",
            attempt: 2,
            deadline: None,
        }]
    );

    // A deadline reaches the handler's context; a clone shares the node.
    let deadline = Instant::now() + Duration::from_secs(60);
    let step = cx.for_step("say_hello", 0, Some(deadline));
    client.clone().call_with(&step, greet("Bob")).await.unwrap();
    assert_eq!(client.node().seen()[1].deadline, Some(deadline));
    assert_eq!(client.node().seen()[1].correlation_id, cx.correlation_id());
}

#[tokio::test]
async fn call_without_a_workflow_uses_a_fresh_correlation_id() {
    let client = EffectClient::from_arc(Arc::new(Greeter::default()));
    client.call(greet("Ada")).await.unwrap();
    client.call(greet("Bob")).await.unwrap();
    let seen = client.node().seen();
    assert_ne!(seen[0].correlation_id, Uuid::nil());
    assert_ne!(seen[0].correlation_id, seen[1].correlation_id);
    assert_eq!((seen[0].deadline, seen[0].node), (None, "greeter"));
}

#[tokio::test]
async fn handler_errors_carry_the_callers_correlation_id() {
    let client = EffectClient::new(Greeter::default());
    let cx = run();
    let input = GreeterInput::Farewell(greeter::ModelGreeting { name: "Ada".into() });
    let err = cx.call(&client, input).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::OperationFailed);
    assert_eq!(err.message(), "no goodbyes");
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
}

#[tokio::test]
async fn invalid_input_is_a_validation_error_and_the_handler_is_not_called() {
    let client = EffectClient::new(Greeter::default());
    let cx = run();
    let err = cx.call(&client, greet("")).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Validation);
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
    assert!(client.node().seen().is_empty());

    let metrics = ComputeClient::new(TextMetrics::default());
    let err = cx.call(&metrics, measure("")).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Validation);
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
    assert_eq!(metrics.node().calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn compute_call_returns_the_output_and_a_panic_is_a_handler_execution_error() {
    let client = ComputeClient::new(TextMetrics::default());
    let cx = run();
    let TextMetricsOutput::TextMeasure(m) =
        cx.call(&client, measure("to be or not")).await.unwrap();
    assert_eq!((m.words, m.chars), (4, 12));

    let err = cx.call(&client, measure("boom")).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::HandlerExecution);
    assert_eq!(
        err.message(),
        "the handler of `text.measure` panicked: the measuring tape snapped"
    );
    assert_eq!(err.context()["operation"], "text.measure");
    assert_eq!(err.context()["panic"], "the measuring tape snapped");
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));

    // The same error `process` gives, and the node keeps serving.
    let envelope = onex_runtime::Envelope::new(measure("boom"));
    let via_process = onex_runtime::ComputeNode::process(client.node(), envelope).unwrap_err();
    assert_eq!(
        (via_process.code(), via_process.message()),
        (err.code(), err.message())
    );
    assert!(client.clone().call(measure("still here")).await.is_ok());
}

#[tokio::test]
async fn reducer_calls_move_the_state_and_return_the_intents() {
    let gate = ReducerClient::new(Turnstile);
    let cx = run();
    assert_eq!(gate.state(), S::Locked);

    let t = cx.call(&gate, coin(50)).await.unwrap();
    assert_eq!(
        (t.from, t.to, t.trigger, t.name),
        (S::Locked, S::Unlocked, T::Coin, "pay")
    );
    assert_eq!(t.intents, &[I::CountCoin, I::ReleaseArm]);
    assert_eq!(gate.state(), S::Unlocked);

    let t = cx.call(&gate, push()).await.unwrap();
    assert_eq!((t.from, t.to, t.name), (S::Unlocked, S::Locked, "pass"));
    assert_eq!(t.intents, &[I::LockArm]);

    let t = gate.call(coin(75)).await.unwrap();
    assert_eq!(t.to, S::Unlocked);
    let snapshot = gate.snapshot();
    assert_eq!(
        (snapshot.state, snapshot.taken, snapshot.rejected),
        (S::Unlocked, 3, 0)
    );
    let names: Vec<_> = snapshot
        .history
        .iter()
        .map(|e| e.transition.to_string())
        .collect();
    assert_eq!(names, ["pay", "pass", "pay"]);

    // Restoring through the client.
    let fresh = ReducerClient::new(Turnstile);
    fresh.restore(snapshot.clone()).unwrap();
    assert_eq!(fresh.state(), S::Unlocked);
    assert_eq!(fresh.with_executor(|fsm| fsm.taken()), 3);
}

#[tokio::test]
async fn reducer_rejections_are_typed_and_keep_the_state() {
    let gate = ReducerClient::new(Turnstile);
    let cx = run();

    let err = cx.call(&gate, coin(20)).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Validation);
    assert_eq!(err.context()["transition"], "pay");
    assert_eq!(
        err.context()["failed_conditions"],
        serde_json::json!(["cents >= 50"])
    );
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
    assert_eq!(gate.state(), S::Locked);

    let err = cx.call(&gate, push()).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Validation);
    assert!(err.message().contains("no transition"), "{}", err.message());
    assert_eq!(gate.state(), S::Locked);
    let snapshot = gate.snapshot();
    assert_eq!((snapshot.taken, snapshot.rejected), (0, 2));
}

#[tokio::test]
async fn a_past_deadline_is_a_timeout_and_nothing_runs() {
    let greeter = EffectClient::new(Greeter::default());
    let metrics = ComputeClient::new(TextMetrics::default());
    let gate = ReducerClient::new(Turnstile);
    let cx = run().for_step("late", 0, Some(Instant::now()));

    let errors = [
        cx.call(&greeter, greet("Ada")).await.unwrap_err(),
        cx.call(&metrics, measure("text")).await.unwrap_err(),
        cx.call(&gate, coin(50)).await.unwrap_err(),
    ];
    for (err, node) in errors.iter().zip(["greeter", "text_metrics", "turnstile"]) {
        assert_eq!(err.code(), &ErrorCode::Timeout, "{err:?}");
        assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
        assert_eq!(err.context()["node"], node);
        assert_eq!(err.context()["step"], "late");
        assert_eq!(
            err.message(),
            format!(
                "call to node `{node}` ran past the deadline (step `late` of workflow `clients`)"
            )
        );
    }
    assert!(greeter.node().seen().is_empty());
    assert_eq!(metrics.node().calls.load(Ordering::SeqCst), 0);
    assert_eq!(gate.state(), S::Locked);
    assert_eq!(gate.snapshot().rejected, 0);
}

#[tokio::test]
async fn an_effect_running_over_the_deadline_times_out() {
    let greeter = EffectClient::new(Greeter::default());
    let cx = run().with_deadline(Instant::now() + Duration::from_millis(50));
    let started = std::time::Instant::now();
    let err = cx.call(&greeter, greet("slow")).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Timeout);
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(greeter.node().seen().len(), 1);
}

#[tokio::test]
async fn a_cancelled_run_is_a_prompt_typed_error() {
    let greeter = EffectClient::new(Greeter::default());
    let metrics = ComputeClient::new(TextMetrics::default());
    let gate = ReducerClient::new(Turnstile);
    let cx = run();
    let step = cx.for_step("cancelled", 0, None);
    cx.cancellation_token().cancel();

    let errors = [
        step.call(&greeter, greet("Ada")).await.unwrap_err(),
        step.call(&metrics, measure("text")).await.unwrap_err(),
        step.call(&gate, coin(50)).await.unwrap_err(),
    ];
    for err in &errors {
        assert_eq!(err.code(), &ErrorCode::WorkflowFailed, "{err:?}");
        assert_eq!(err.context()["cancelled"], true);
        assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
    }
    assert!(greeter.node().seen().is_empty());
    assert_eq!(metrics.node().calls.load(Ordering::SeqCst), 0);
    assert_eq!(gate.state(), S::Locked);
}

#[tokio::test]
async fn cancelling_a_running_effect_call_returns_promptly() {
    let greeter = EffectClient::new(Greeter::default());
    let cx = run();
    let step = cx.for_step("waiting", 0, None);
    let token = cx.cancellation_token().clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        token.cancel();
    });
    let started = std::time::Instant::now();
    let err = step.call(&greeter, greet("slow")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(err.code(), &ErrorCode::WorkflowFailed);
    assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
    assert_eq!(
        err.message(),
        "call to node `greeter` cancelled (step `waiting` of workflow `clients`)"
    );
    assert_eq!(greeter.node().seen().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reducer_calls_are_serialized() {
    const CALLS: usize = 400;
    let gate = ReducerClient::from_executor(FsmExecutor::new(Turnstile).with_history(CALLS));
    let cx = run();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..CALLS {
        let (gate, cx) = (gate.clone(), cx.clone());
        tasks.spawn(async move {
            let input = if i % 2 == 0 { coin(50) } else { push() };
            cx.call(&gate, input).await
        });
    }
    let (mut coins, mut pushes, mut rejected) = (0, 0, 0);
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            Ok(t) if t.trigger == T::Coin => {
                assert_eq!((t.from, t.to), (S::Locked, S::Unlocked));
                coins += 1;
            }
            Ok(t) => {
                assert_eq!((t.from, t.to), (S::Unlocked, S::Locked));
                pushes += 1;
            }
            Err(e) => {
                assert_eq!(e.code(), &ErrorCode::Validation);
                rejected += 1;
            }
        }
    }
    // Every transition reported was taken, once, each from the state the previous one left.
    let snapshot = gate.snapshot();
    assert_eq!(coins + pushes + rejected, CALLS);
    assert_eq!(snapshot.taken as usize, coins + pushes);
    assert_eq!(snapshot.rejected as usize, rejected);
    assert!(coins > 0);
    assert!(
        coins == pushes || coins == pushes + 1,
        "{coins} coins, {pushes} pushes"
    );
    let expected = if coins == pushes {
        S::Locked
    } else {
        S::Unlocked
    };
    assert_eq!(snapshot.state, expected);
    assert_eq!(snapshot.history.len(), coins + pushes);
    let mut state = S::Locked;
    for (n, entry) in snapshot.history.iter().enumerate() {
        assert_eq!((entry.seq, entry.from), (n as u64 + 1, state));
        state = entry.to;
    }
    assert_eq!(state, snapshot.state);
}

/// A `tracing` subscriber that remembers, for every event, the spans it was emitted in.
#[derive(Clone, Default)]
struct Recorder(Arc<RecorderInner>);

/// Entered spans, outermost first: name and fields.
type Scope = Vec<(&'static str, HashMap<String, String>)>;

#[derive(Default)]
struct RecorderInner {
    next: AtomicU64,
    spans: Mutex<HashMap<u64, Vec<(String, String)>>>,
    names: Mutex<HashMap<u64, &'static str>>,
    stack: Mutex<Vec<u64>>,
    /// Per event: its message and the entered spans, outermost first, with their fields.
    events: Mutex<Vec<(String, Scope)>>,
}

struct Fields<'a>(&'a mut Vec<(String, String)>);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl tracing::Subscriber for Recorder {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let id = self.0.next.fetch_add(1, Ordering::SeqCst) + 1;
        let mut fields = Vec::new();
        attrs.record(&mut Fields(&mut fields));
        self.0.spans.lock().unwrap().insert(id, fields);
        self.0
            .names
            .lock()
            .unwrap()
            .insert(id, attrs.metadata().name());
        tracing::span::Id::from_u64(id)
    }

    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        if let Some(fields) = self.0.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut message = Vec::new();
        event.record(&mut Fields(&mut message));
        let message = message
            .into_iter()
            .map(|(_, v)| v)
            .collect::<Vec<_>>()
            .join(" ");
        let spans = self.0.spans.lock().unwrap();
        let names = self.0.names.lock().unwrap();
        let stack = self.0.stack.lock().unwrap();
        let scope = stack
            .iter()
            .map(|id| (names[id], spans[id].iter().cloned().collect()))
            .collect();
        self.0.events.lock().unwrap().push((message, scope));
    }

    fn enter(&self, span: &tracing::span::Id) {
        self.0.stack.lock().unwrap().push(span.into_u64());
    }

    fn exit(&self, span: &tracing::span::Id) {
        let mut stack = self.0.stack.lock().unwrap();
        if let Some(at) = stack.iter().rposition(|id| *id == span.into_u64()) {
            stack.remove(at);
        }
    }
}

#[test]
fn calls_run_in_a_span_naming_the_callee() {
    let recorder = Recorder::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cx = run();
    tracing::subscriber::with_default(recorder.clone(), || {
        runtime.block_on(async {
            let step = cx.for_step("tour", 1, None);
            step.call(&EffectClient::new(Greeter::default()), greet("Ada"))
                .await
                .unwrap();
            step.call(&ComputeClient::new(TextMetrics::default()), measure("a b"))
                .await
                .unwrap();
            step.call(&ReducerClient::new(Turnstile), coin(50))
                .await
                .unwrap();
        });
    });

    let events = recorder.0.events.lock().unwrap();
    let find = |text: &str| {
        events
            .iter()
            .find(|(message, _)| message.contains(text))
            .unwrap_or_else(|| panic!("no event `{text}` in {events:?}"))
            .1
            .clone()
    };
    let id = cx.correlation_id().to_string();
    for (text, node, kind, operation) in [
        ("greeter handler", "greeter", "EFFECT_GENERIC", "greet"),
        (
            "text_metrics handler",
            "text_metrics",
            "COMPUTE_GENERIC",
            "text.measure",
        ),
        ("fsm transition", "turnstile", "REDUCER_GENERIC", "coin"),
    ] {
        let scope = find(text);
        let (name, fields) = &scope[0];
        assert_eq!(*name, "onex.call", "{scope:?}");
        assert_eq!(fields["node"], node);
        assert_eq!(fields["kind"], kind);
        assert_eq!(fields["operation"], operation);
        assert_eq!(fields["correlation_id"], id);
        assert_eq!(fields["workflow"], "clients");
        assert_eq!(fields["step"], "tour");
    }
    // An effect handler also runs in its context's `onex.node` span.
    let scope = find("greeter handler");
    assert_eq!(scope.len(), 2, "{scope:?}");
    assert_eq!(scope[1].0, "onex.node");
    assert_eq!(scope[1].1["node"], "greeter");
    assert_eq!(scope[1].1["operation"], "greet");
}
