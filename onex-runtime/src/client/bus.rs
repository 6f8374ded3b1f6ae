//! Typed clients of nodes served through an event bus: the same [`NodeClient`] calls as the
//! in-process clients, carried as request–reply envelopes to whichever host serves the node's
//! topic, in this process or another. The semantics are documented on [`BusEffectClient`].

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::Instrument;

use super::{NodeClient, supervise};
use crate::bus::{BusMessage, EventBus, validate_topic};
use crate::envelope::Envelope;
use crate::error::{ErrorCode, OnexError};
use crate::fsm::{FsmName, ReducerInput, ReducerNode, Transition};
use crate::host::ERROR_PAYLOAD_TYPE;
use crate::node::{ComputeNode, ContractInfo, EffectNode, NodeInput, NodeOutput};
use crate::workflow::WorkflowContext;

/// How long a bus client waits for a reply unless told otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The `metadata.tags` key naming the caller's workflow in a request envelope.
const WORKFLOW_TAG: &str = "workflow";

/// The `metadata.tags` key naming the caller's step in a request envelope.
const STEP_TAG: &str = "step";

/// Where and how long a bus client asks: what the three clients share.
#[derive(Clone)]
struct Remote {
    bus: Arc<dyn EventBus>,
    topic: Arc<str>,
    timeout: Duration,
    contract: &'static ContractInfo,
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Remote")
            .field("node", &self.contract.name)
            .field("bus", &self.bus.name())
            .field("topic", &self.topic)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Remote {
    /// A client of the node `contract` describes, on its first subscribe topic.
    fn new(bus: Arc<dyn EventBus>, contract: &'static ContractInfo) -> Result<Self, OnexError> {
        let topic = contract.subscribe_topics.first().ok_or_else(|| {
            OnexError::invalid_input(format!(
                "node `{}` has no event_bus.subscribe_topics in its contract: name the topic \
                 it is served on (`with_topic`)",
                contract.name
            ))
            .with_context("node", contract.name)
        })?;
        Self::on_topic(bus, contract, topic)
    }

    /// A client of the node `contract` describes, served on `topic`.
    fn on_topic(
        bus: Arc<dyn EventBus>,
        contract: &'static ContractInfo,
        topic: &str,
    ) -> Result<Self, OnexError> {
        validate_topic(topic).map_err(|e| {
            e.with_context("node", contract.name).with_context(
                "hint",
                "a request goes to one topic: a subscribe pattern with `*` or `>` cannot be \
                 requested",
            )
        })?;
        Ok(Remote {
            bus,
            topic: topic.into(),
            timeout: DEFAULT_TIMEOUT,
            contract,
        })
    }

    /// The `onex.call` span of a call over the bus.
    fn span(&self, cx: &WorkflowContext, operation: &str) -> tracing::Span {
        tracing::info_span!(
            "onex.call",
            node = self.contract.name,
            kind = self.contract.kind.onex_name(),
            operation,
            correlation_id = %cx.correlation_id(),
            workflow = cx.workflow(),
            step = cx.step(),
            bus = self.bus.name(),
            topic = &*self.topic,
        )
    }

    /// The request envelope of a call on behalf of `cx`.
    fn envelope(
        &self,
        cx: &WorkflowContext,
        payload: Value,
        payload_type: Option<&str>,
    ) -> Envelope<Value> {
        let mut envelope = Envelope::new(payload)
            .with_correlation_id(cx.correlation_id())
            .with_event_type(&*self.topic)
            .with_target_tool(self.contract.name)
            .with_timeout_seconds(self.timeout_seconds(cx));
        envelope.payload_type = payload_type.map(str::to_owned);
        envelope.retry_count = cx.attempt();
        let tags = &mut envelope.metadata.tags;
        if !cx.workflow().is_empty() {
            tags.insert(WORKFLOW_TAG.to_owned(), cx.workflow().to_owned());
            envelope.source_tool = Some(cx.workflow().to_owned());
        }
        if let Some(step) = cx.step() {
            tags.insert(STEP_TAG.to_owned(), step.to_owned());
        }
        envelope
    }

    /// Whole seconds (rounded up, at least 1) until the earlier of the step's deadline and the
    /// client's timeout: how long the node has.
    fn timeout_seconds(&self, cx: &WorkflowContext) -> u32 {
        let left = cx
            .remaining()
            .map_or(self.timeout, |left| left.min(self.timeout));
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        u32::try_from(secs.max(1)).unwrap_or(u32::MAX)
    }

    /// Sends `envelope` and waits for the reply, within the client's timeout and the step's
    /// deadline and cancellation; an error reply of the host becomes its [`OnexError`].
    async fn exchange(
        &self,
        cx: &WorkflowContext,
        envelope: Envelope<Value>,
    ) -> Result<Envelope<Value>, OnexError> {
        let name = self.contract.name;
        let transport = |e: OnexError| {
            e.with_context("node", name)
                .with_context("topic", &*self.topic)
        };
        let bytes = envelope.to_json()?;
        let message =
            BusMessage::new(&*self.topic, bytes).with_id(envelope.envelope_id.to_string());
        let request = async {
            self.bus
                .request(message, self.timeout)
                .await
                .map_err(transport)
        };
        let reply = supervise(name, cx, request).await?;
        let reply = Envelope::from_json(&reply.payload).map_err(|e| {
            transport(OnexError::invalid_input(format!(
                "the reply of node `{name}` on `{}` is not an ONEX envelope: {}",
                self.topic,
                e.message()
            )))
        })?;
        if reply.payload_type.as_deref() == Some(ERROR_PAYLOAD_TYPE) {
            let error: OnexError = serde_json::from_value(reply.payload).map_err(|e| {
                transport(OnexError::invalid_input(format!(
                    "the error reply of node `{name}` is not an ONEX error: {e}"
                )))
            })?;
            return Err(match error.correlation_id() {
                Some(_) => error,
                None => error.with_correlation_id(cx.correlation_id()),
            });
        }
        if reply.correlation_id != Some(cx.correlation_id()) {
            let found = reply
                .correlation_id
                .map_or_else(|| "none".to_owned(), |id| id.to_string());
            return Err(transport(OnexError::new(
                ErrorCode::ContractViolation,
                format!(
                    "the reply of node `{name}` carries correlation id {found}, not the \
                     request's"
                ),
            )));
        }
        Ok(reply)
    }

    /// A call of an effect or compute node: validate, send, decode the output.
    async fn call<I: NodeInput, O: NodeOutput>(
        &self,
        cx: &WorkflowContext,
        input: I,
    ) -> Result<O, OnexError> {
        input.validate()?;
        let operation = input.operation();
        let payload = input.encode()?;
        let envelope = self.envelope(cx, payload, Some(input.payload_type()));
        let reply = self.exchange(cx, envelope).await?;
        O::decode(operation, reply.payload).map_err(|e| {
            e.with_context("node", self.contract.name)
                .with_context("topic", &*self.topic)
        })
    }
}

/// `impl NodeClient` for the client of an effect or compute node: the envelope's input and
/// output are the node's own.
macro_rules! bus_node_client {
    ($client:ident, $bound:ident) => {
        impl<N: $bound> NodeClient for $client<N> {
            type Input = N::Input;
            type Output = N::Output;

            fn call_with(
                &self,
                cx: &WorkflowContext,
                input: N::Input,
            ) -> impl Future<Output = Result<N::Output, OnexError>> + Send {
                let span = self.remote.span(cx, input.operation());
                async move {
                    self.remote
                        .call(cx, input)
                        .await
                        .map_err(|e| e.with_correlation_id(cx.correlation_id()))
                }
                .instrument(span)
            }
        }
    };
}

/// The constructors, accessors, `Clone` and `Debug` of a bus client.
macro_rules! bus_client {
    ($client:ident, $bound:ident, $param:ident) => {
        impl<$param: $bound> $client<$param> {
            /// A client of the node served on the first `event_bus.subscribe_topics` entry of
            /// its contract, waiting at most 30 seconds for each reply.
            ///
            /// # Errors
            ///
            /// [`ErrorCode::InvalidInput`] when the contract names no subscribe topic, or its
            /// first one is a pattern.
            pub fn new(bus: Arc<dyn EventBus>) -> Result<Self, OnexError> {
                Ok(Self::from_remote(Remote::new(bus, $param::CONTRACT)?))
            }

            /// A client of the node served on `topic` (one instance of several, or a node
            /// whose contract names no topic).
            ///
            /// # Errors
            ///
            /// [`ErrorCode::InvalidInput`] when `topic` is not a valid topic (patterns
            /// included).
            pub fn with_topic(bus: Arc<dyn EventBus>, topic: &str) -> Result<Self, OnexError> {
                Ok(Self::from_remote(Remote::on_topic(
                    bus,
                    $param::CONTRACT,
                    topic,
                )?))
            }

            /// Waits at most `timeout` for each reply (the step's deadline, when earlier,
            /// still applies).
            #[must_use]
            pub fn timeout(mut self, timeout: Duration) -> Self {
                self.remote.timeout = timeout;
                self
            }

            /// The topic requests go to.
            pub fn topic(&self) -> &str {
                &self.remote.topic
            }

            /// How long a call waits for its reply at most.
            pub fn reply_timeout(&self) -> Duration {
                self.remote.timeout
            }

            /// The bus requests travel on.
            pub fn bus(&self) -> &Arc<dyn EventBus> {
                &self.remote.bus
            }

            fn from_remote(remote: Remote) -> Self {
                $client {
                    remote,
                    node: PhantomData,
                }
            }
        }

        impl<$param: $bound> Clone for $client<$param> {
            fn clone(&self) -> Self {
                $client {
                    remote: self.remote.clone(),
                    node: PhantomData,
                }
            }
        }

        impl<$param: $bound> fmt::Debug for $client<$param> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($client))
                    .field("node", &self.remote.contract.name)
                    .field("bus", &self.remote.bus.name())
                    .field("topic", &self.remote.topic)
                    .field("timeout", &self.remote.timeout)
                    .finish()
            }
        }
    };
}

/// A client of an [`EffectNode`] served through an event bus.
///
/// Three clients reach nodes through a bus, with the semantics below:
///
/// | client | node | input | output |
/// |---|---|---|---|
/// | [`BusEffectClient<N>`] | [`EffectNode`] | `N::Input` | `N::Output` |
/// | [`BusComputeClient<N>`] | [`ComputeNode`] | `N::Input` | `N::Output` |
/// | [`BusReducerClient<R>`] | [`ReducerNode`] | [`ReducerInput<R::Trigger, R::Context>`] | [`RemoteTransitionOf<R>`] |
///
/// A client holds an `Arc<dyn EventBus>`, the topic the node is served on (by default the
/// first `event_bus.subscribe_topics` entry of its contract) and a per-call timeout. A call
/// made with a [`WorkflowContext`]:
///
/// - validates an effect or compute input first, as the in-process clients do (the request
///   is not sent);
/// - sends an [`Envelope`] carrying the input in the ONEX wire form (`payload_type` the
///   input model, `event_type` the topic, `target_tool` the node), the step's correlation id,
///   its attempt as `retry_count`, the workflow and step in `metadata.tags`, and as
///   `timeout_seconds` the time left before the earlier of the step's deadline and the
///   client's timeout (rounded up to whole seconds); the envelope id is the message's
///   de-duplication id;
/// - waits for the reply with [`EventBus::request`], at most the client's timeout, and no
///   longer than the step's deadline or cancellation (the same [`ErrorCode::Timeout`] and
///   [`ErrorCode::WorkflowFailed`] errors as the in-process clients);
/// - returns the decoded output, or the [`OnexError`] the host sent back (a reply whose
///   `payload_type` is [`ERROR_PAYLOAD_TYPE`]) with its code, message and context as the
///   node raised them.
///
/// Every error carries the call's correlation id. Errors of the transport (no subscriber, the
/// bus's own timeout, a reply that cannot be decoded) name the node and the topic in their
/// context.
///
/// What the host does with a failed request decides when the error arrives: a permanent
/// failure (validation, invalid input, unsupported operation, a reducer's rejected trigger)
/// is answered at once, a transient one (a handler error, a timeout) only after the host's
/// last redelivery ([`HostConfig::max_deliver`](crate::host::HostConfig::max_deliver)), so
/// give the client a timeout that covers the host's retries.
///
/// ```
/// use std::sync::Arc;
/// use onex_runtime::bus::{EventBus, InMemoryBus};
/// use onex_runtime::host::NodeHost;
/// use onex_runtime::{
///     BusEffectClient, EffectContext, ErrorCode, NodeClient, OnexError, Uuid, WorkflowContext,
///     effect_node,
/// };
///
/// #[effect_node(contract = "tests/host/greeter.yaml", relative_to = manifest)]
/// pub struct Greeter;
///
/// impl GreeterHandler for Greeter {
///     async fn greet(&self, ctx: &EffectContext, input: greeter::ModelGreeting)
///         -> Result<greeter::ModelReply, OnexError> {
///         Ok(greeter::ModelReply { text: format!("Hello, {}! ({})", input.name, ctx.correlation_id()) })
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), OnexError> {
/// let bus: Arc<dyn EventBus> = Arc::new(InMemoryBus::new());
/// let host = NodeHost::builder(Arc::clone(&bus)).effect(Greeter).start().await?;
///
/// // The node's first subscribe topic, `onex.cmd.greeter.greet.v1`.
/// let greeter = BusEffectClient::<Greeter>::new(Arc::clone(&bus))?;
/// assert_eq!(greeter.topic(), "onex.cmd.greeter.greet.v1");
///
/// let cx = WorkflowContext::new(Uuid::new_v4(), "visit");
/// let ada = greeter::ModelGreeting { name: "Ada".into() };
/// let GreeterOutput::Greet(reply) = cx.call(&greeter, GreeterInput::Greet(ada)).await?;
/// assert_eq!(reply.text, format!("Hello, Ada! ({})", cx.correlation_id()));
///
/// // An invalid input is refused before it is sent.
/// let nobody = greeter::ModelGreeting { name: String::new() };
/// let err = cx.call(&greeter, GreeterInput::Greet(nobody)).await.unwrap_err();
/// assert_eq!(err.code(), &ErrorCode::Validation);
/// assert_eq!(err.correlation_id(), Some(cx.correlation_id()));
///
/// host.shutdown().await;
/// # Ok(()) }
/// ```
///
/// Cloning is cheap and shares the bus.
pub struct BusEffectClient<N: EffectNode> {
    remote: Remote,
    node: PhantomData<fn() -> N>,
}

bus_client!(BusEffectClient, EffectNode, N);

bus_node_client!(BusEffectClient, EffectNode);

/// A client of a [`ComputeNode`] served through an event bus: the calls of
/// [`BusEffectClient`].
///
/// Unlike [`ComputeClient`](crate::ComputeClient), whose handler runs to completion once
/// started, a bus call is abandoned at the deadline or on cancellation (the node may still
/// compute the result; it is pure, so nothing is lost).
///
/// Cloning is cheap and shares the bus.
pub struct BusComputeClient<N: ComputeNode> {
    remote: Remote,
    node: PhantomData<fn() -> N>,
}

bus_client!(BusComputeClient, ComputeNode, N);

bus_node_client!(BusComputeClient, ComputeNode);

/// A client of a [`ReducerNode`] hosted through an event bus: the state machine lives in
/// the host (one executor per hosted reducer), each call fires one trigger on it.
///
/// The reply is a [`RemoteTransition`]: the [`Transition`] taken, with owned names (the
/// in-process [`Transition`] borrows them from the compiled contract). A trigger the machine
/// rejects (no transition, a guard that says no) is the host's [`ErrorCode::Validation`]
/// error, with the state, trigger and failed conditions in its context, as
/// [`ReducerClient`](crate::ReducerClient) returns it; the host's state is then unchanged.
/// The context is not validated before it is sent (the guards are the check).
///
/// A reducer's contract often names no topic: build the client
/// [`with_topic`](Self::with_topic).
///
/// Cloning is cheap and shares the bus.
pub struct BusReducerClient<R: ReducerNode> {
    remote: Remote,
    node: PhantomData<fn() -> R>,
}

bus_client!(BusReducerClient, ReducerNode, R);

impl<R> NodeClient for BusReducerClient<R>
where
    R: ReducerNode,
    R::Context: Serialize,
{
    type Input = ReducerInput<R::Trigger, R::Context>;
    type Output = RemoteTransitionOf<R>;

    fn call_with(
        &self,
        cx: &WorkflowContext,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, OnexError>> + Send {
        let span = self.remote.span(cx, input.trigger.as_str());
        async move {
            let fire = async {
                let payload = serde_json::to_value(&input).map_err(|e| {
                    OnexError::invalid_input(format!(
                        "cannot encode the context of trigger `{}`: {e}",
                        input.trigger.as_str()
                    ))
                })?;
                let envelope = self.remote.envelope(cx, payload, None);
                let reply = self.remote.exchange(cx, envelope).await?;
                decode_transition::<R>(reply.payload).map_err(|e| {
                    e.with_context("node", self.remote.contract.name)
                        .with_context("topic", &*self.remote.topic)
                })
            };
            fire.await
                .map_err(|e| e.with_correlation_id(cx.correlation_id()))
        }
        .instrument(span)
    }
}

fn decode_transition<R: ReducerNode>(payload: Value) -> Result<RemoteTransitionOf<R>, OnexError> {
    serde_json::from_value(payload).map_err(|e| {
        OnexError::invalid_input(format!(
            "the reply of reducer `{}` is not a transition of its machine: {e}",
            R::CONTRACT.name
        ))
    })
}

/// A transition taken by a reducer hosted elsewhere, as its host replied it: the
/// [`Transition`] with owned names.
///
/// JSON (the host's reply payload): `{"from_state", "to_state", "trigger",
/// "transition_name", "intents": [...]}`, the states, trigger and intents by their contract
/// names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "S: Serialize, T: Serialize, I: Serialize",
    deserialize = "S: DeserializeOwned, T: DeserializeOwned, I: DeserializeOwned"
))]
pub struct RemoteTransition<S, T, I> {
    /// The state before.
    #[serde(rename = "from_state")]
    pub from: S,
    /// The state after.
    #[serde(rename = "to_state")]
    pub to: S,
    /// The trigger that fired it.
    pub trigger: T,
    /// The contract's `transition_name`.
    #[serde(rename = "transition_name")]
    pub name: String,
    /// The intents to carry out, in order (exit, transition, entry actions).
    pub intents: Vec<I>,
}

/// The [`RemoteTransition`] type of a reducer.
pub type RemoteTransitionOf<R> = RemoteTransition<
    <R as ReducerNode>::State,
    <R as ReducerNode>::Trigger,
    <R as ReducerNode>::Intent,
>;

impl<S: Copy, T: Copy, I: Copy> From<Transition<S, T, I>> for RemoteTransition<S, T, I> {
    fn from(t: Transition<S, T, I>) -> Self {
        RemoteTransition {
            from: t.from,
            to: t.to,
            trigger: t.trigger,
            name: t.name.to_owned(),
            intents: t.intents.to_vec(),
        }
    }
}

impl<S: PartialEq, T: PartialEq, I: PartialEq> PartialEq<Transition<S, T, I>>
    for RemoteTransition<S, T, I>
{
    fn eq(&self, other: &Transition<S, T, I>) -> bool {
        self.from == other.from
            && self.to == other.to
            && self.trigger == other.trigger
            && self.name == other.name
            && self.intents == other.intents
    }
}

impl<S: FsmName, T: FsmName, I: FsmName> fmt::Display for RemoteTransition<S, T, I> {
    /// `healthy --health_failed--> degraded [raise_warning]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} --{}--> {}", self.from, self.trigger, self.to)?;
        if !self.intents.is_empty() {
            let intents: Vec<&str> = self.intents.iter().map(|i| i.as_str()).collect();
            write!(f, " [{}]", intents.join(", "))?;
        }
        Ok(())
    }
}
