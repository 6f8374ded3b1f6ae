//! The node traits that generated code implements, and the static contract metadata.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};

use uuid::Uuid;

use crate::context::EffectContext;
use crate::envelope::Envelope;
use crate::error::{ErrorCode, OnexError};
use crate::policy::{OperationPolicy, PolicyState};

/// The kind of an ONEX node (DESIGN.md §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// Talks to the outside world.
    Effect,
    /// A pure transformation.
    Compute,
    /// A finite-state machine folding events into state.
    Reducer,
    /// A workflow DAG coordinating other nodes.
    Orchestrator,
}

impl NodeKind {
    /// The ONEX name of the kind (`EFFECT_GENERIC`, …).
    pub const fn onex_name(self) -> &'static str {
        match self {
            NodeKind::Effect => "EFFECT_GENERIC",
            NodeKind::Compute => "COMPUTE_GENERIC",
            NodeKind::Reducer => "REDUCER_GENERIC",
            NodeKind::Orchestrator => "ORCHESTRATOR_GENERIC",
        }
    }
}

/// How an incoming envelope selects an operation (`handler_routing.routing_strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoutingStrategy {
    /// The payload's `operation` field names the operation.
    OperationMatch,
    /// The envelope's `payload_type` names the input model.
    PayloadTypeMatch,
    /// The node has one operation; every payload goes to it.
    Single,
}

/// A semantic version as written in a contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version {
    /// Major version.
    pub major: u64,
    /// Minor version.
    pub minor: u64,
    /// Patch version.
    pub patch: u64,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// One operation of a node, as the contract declares it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OperationInfo {
    /// The contract's name for the operation (`postgres.query`).
    pub name: &'static str,
    /// The input model's name (`ModelQueryRequest`).
    pub input_type: &'static str,
    /// The output model's name.
    pub output_type: &'static str,
    /// The contract's description of the operation (may be empty).
    pub description: &'static str,
    /// Its timeout, retry and circuit breaker (effect nodes apply them around each handler
    /// call; [`OperationPolicy::NONE`] for other kinds).
    pub policy: OperationPolicy,
}

/// What a node's contract says about it, embedded at compile time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ContractInfo {
    /// The node's name (`name`, `node_name` or `contract_name`).
    pub name: &'static str,
    /// The node kind.
    pub kind: NodeKind,
    /// `node_type` exactly as written in the contract.
    pub node_type: &'static str,
    /// `contract_version`.
    pub contract_version: Version,
    /// `node_version` (or `contract_version` when absent).
    pub node_version: Version,
    /// The contract's `description` (may be empty).
    pub description: &'static str,
    /// The ONEX fingerprint computed from the contract (`1.0.0:abcdef012345`).
    pub fingerprint: &'static str,
    /// The `fingerprint:` value declared in the contract, if any.
    pub declared_fingerprint: Option<&'static str>,
    /// How inputs are routed to operations.
    pub routing: RoutingStrategy,
    /// The operations in contract order.
    pub operations: &'static [OperationInfo],
    /// Topics the node consumes.
    pub subscribe_topics: &'static [&'static str],
    /// Topics the node produces.
    pub publish_topics: &'static [&'static str],
    /// Dead-letter topics (`event_bus.dlq_topics`): where a host sends envelopes the node
    /// could not process. Empty when the contract names none.
    pub dlq_topics: &'static [&'static str],
}

impl ContractInfo {
    /// The operation with the given contract name.
    pub fn operation(&self, name: &str) -> Option<&'static OperationInfo> {
        self.operations.iter().find(|op| op.name == name)
    }

    /// True when the declared fingerprint (if any) differs from the computed one.
    pub fn fingerprint_drifted(&self) -> bool {
        self.declared_fingerprint
            .is_some_and(|declared| declared != self.fingerprint)
    }
}

/// The typed input of a node: one variant per operation, decoded from the ONEX wire form.
pub trait NodeInput: Sized + Send + 'static {
    /// Decodes a payload, routing by the payload's `operation` field or by the envelope's
    /// `payload_type`, as the contract's routing strategy says. Unknown operations give
    /// [`ErrorCode::UnsupportedOperation`](crate::ErrorCode::UnsupportedOperation), payloads
    /// of the wrong shape [`ErrorCode::InvalidInput`](crate::ErrorCode::InvalidInput).
    fn decode(payload_type: Option<&str>, payload: serde_json::Value) -> Result<Self, OnexError>;
    /// Encodes back to the wire form (the `operation` field included for operation routing).
    fn encode(&self) -> Result<serde_json::Value, OnexError>;
    /// The contract name of the operation this input selects.
    fn operation(&self) -> &'static str;
    /// The model name of the payload, used as `payload_type` on the wire.
    fn payload_type(&self) -> &'static str;
    /// Checks the constraints of the contract's models.
    fn validate(&self) -> Result<(), OnexError>;
}

/// The typed output of a node: one variant per operation.
pub trait NodeOutput: Sized + Send + 'static {
    /// Decodes an output payload for the named operation (for clients of the node).
    fn decode(operation: &str, payload: serde_json::Value) -> Result<Self, OnexError>;
    /// Encodes the output model as the reply payload.
    fn encode(&self) -> Result<serde_json::Value, OnexError>;
    /// The contract name of the operation that produced this output.
    fn operation(&self) -> &'static str;
    /// The model name of the payload, used as `payload_type` on the wire.
    fn payload_type(&self) -> &'static str;
}

/// An EFFECT node: talks to the outside world. Implemented by `#[effect_node]`.
///
/// The generated [`dispatch`](EffectNode::dispatch) is a `match` over the input that calls
/// the user's handler trait; [`process`](EffectNode::process) and
/// [`process_json`](EffectNode::process_json) are the envelope-level entry points hosts use.
pub trait EffectNode: Send + Sync + 'static {
    /// The input enum (one variant per operation).
    type Input: NodeInput;
    /// The output enum (one variant per operation).
    type Output: NodeOutput;
    /// The contract, as embedded at compile time.
    const CONTRACT: &'static ContractInfo;

    /// The run-time state of the node type's policies (its circuit breakers), shared by every
    /// instance of the type in the process; created on first use. `None` when no operation
    /// has a breaker.
    fn policy_state() -> Option<&'static PolicyState> {
        None
    }

    /// Calls the handler of the input's operation, under the operation's policy (timeout,
    /// retries, circuit breaker) when the contract sets one.
    fn dispatch(
        &self,
        ctx: &EffectContext,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, OnexError>> + Send;

    /// Validates the input, dispatches it and wraps the output in a reply envelope that keeps
    /// the request's correlation id and records it as the cause.
    fn process(
        &self,
        envelope: Envelope<Self::Input>,
    ) -> impl Future<Output = Result<Envelope<Self::Output>, OnexError>> + Send {
        async move {
            let ctx = EffectContext::for_envelope(&envelope, Self::CONTRACT.name);
            let correlation_id = ctx.correlation_id();
            let (payload, request) = accept(envelope, correlation_id)?;
            let output = self
                .dispatch(&ctx, payload)
                .await
                .map_err(|e| e.with_correlation_id(correlation_id))?;
            Ok(reply(&request, output))
        }
    }

    /// Decodes a JSON envelope, processes it and encodes the reply as a JSON envelope.
    ///
    /// Malformed JSON, an unknown operation or an invalid payload give a typed
    /// [`OnexError`] carrying the envelope's correlation id when it could be read.
    fn process_json(
        &self,
        json: &[u8],
    ) -> impl Future<Output = Result<Envelope<serde_json::Value>, OnexError>> + Send {
        async move {
            let typed = decode_envelope::<Self::Input>(json)?;
            let reply = self.process(typed).await?;
            encode_reply(reply)
        }
    }
}

/// A COMPUTE node: a pure transformation. Implemented by `#[compute_node]`.
///
/// Like [`EffectNode`], but synchronous and without a context: the generated
/// [`dispatch`](ComputeNode::dispatch) is a `match` over the input that calls the user's
/// handler trait, whose methods are plain `fn(&self, input) -> Result<Output, OnexError>`.
/// [`process`](ComputeNode::process) and [`process_json`](ComputeNode::process_json) have the
/// envelope-level semantics of [`EffectNode::process`] and [`EffectNode::process_json`]: the
/// input is validated first, the reply keeps the request's correlation id and records it as
/// the cause, and every failure is a typed [`OnexError`].
///
/// # Panicking handlers
///
/// [`process`](ComputeNode::process) (and so `process_json`) catches a panic in a handler with
/// [`std::panic::catch_unwind`] and returns it as an [`ErrorCode::HandlerExecution`] error
/// naming the operation and carrying the panic message (context keys `operation` and
/// `panic`), so one bad input cannot take down a node that serves many. The panic hook still
/// runs (by default it prints the message to stderr). Two limits: with `panic = "abort"` there
/// is nothing to catch, and a handler that panics while holding a lock (a compute node should
/// hold none) leaves it poisoned. Calling [`dispatch`](ComputeNode::dispatch) directly does not
/// catch panics.
pub trait ComputeNode: Send + Sync + 'static {
    /// The input enum (one variant per operation).
    type Input: NodeInput;
    /// The output enum (one variant per operation).
    type Output: NodeOutput;
    /// The contract, as embedded at compile time.
    const CONTRACT: &'static ContractInfo;

    /// Calls the handler of the input's operation.
    fn dispatch(&self, input: Self::Input) -> Result<Self::Output, OnexError>;

    /// Validates the input, dispatches it and wraps the output in a reply envelope that keeps
    /// the request's correlation id and records it as the cause. A panicking handler becomes
    /// an [`ErrorCode::HandlerExecution`] error (see the trait docs).
    fn process(
        &self,
        envelope: Envelope<Self::Input>,
    ) -> Result<Envelope<Self::Output>, OnexError> {
        let correlation_id = correlation_id(&envelope);
        let (payload, request) = accept(envelope, correlation_id)?;
        let operation = payload.operation();
        let output = catch_unwind(AssertUnwindSafe(|| self.dispatch(payload)))
            .unwrap_or_else(|panic| Err(handler_panicked(operation, &*panic)))
            .map_err(|e| e.with_correlation_id(correlation_id))?;
        Ok(reply(&request, output))
    }

    /// Decodes a JSON envelope, processes it and encodes the reply as a JSON envelope.
    ///
    /// Malformed JSON, an unknown operation or an invalid payload give a typed
    /// [`OnexError`] carrying the envelope's correlation id when it could be read.
    fn process_json(&self, json: &[u8]) -> Result<Envelope<serde_json::Value>, OnexError> {
        let typed = decode_envelope::<Self::Input>(json)?;
        let reply = self.process(typed)?;
        encode_reply(reply)
    }
}

// The envelope-level steps every node kind shares.

/// The id a reply and errors carry: the envelope's `correlation_id`, else its `envelope_id`
/// (as [`Envelope::reply`] does).
pub(crate) fn correlation_id<T>(envelope: &Envelope<T>) -> Uuid {
    envelope.correlation_id.unwrap_or(envelope.envelope_id)
}

/// Validates the input and splits it off the request envelope; a validation error carries
/// `correlation_id`.
fn accept<I: NodeInput>(
    envelope: Envelope<I>,
    correlation_id: Uuid,
) -> Result<(I, Envelope<()>), OnexError> {
    envelope
        .payload
        .validate()
        .map_err(|e| e.with_correlation_id(correlation_id))?;
    Ok(envelope.take_payload())
}

/// The reply to `request` carrying `output`, with the output model as `payload_type`.
fn reply<O: NodeOutput>(request: &Envelope<()>, output: O) -> Envelope<O> {
    let payload_type = output.payload_type();
    let mut reply = request.reply(output);
    reply.payload_type = Some(payload_type.to_owned());
    reply
}

/// JSON bytes → a typed input envelope; decoding errors carry the envelope's correlation id
/// when it could be read.
fn decode_envelope<I: NodeInput>(json: &[u8]) -> Result<Envelope<I>, OnexError> {
    decode_envelope_with(json, I::decode)
}

/// JSON bytes → an envelope whose payload `decode` types (given the envelope's
/// `payload_type`); decoding errors carry the envelope's correlation id when it could be read.
pub(crate) fn decode_envelope_with<T>(
    json: &[u8],
    decode: impl FnOnce(Option<&str>, serde_json::Value) -> Result<T, OnexError>,
) -> Result<Envelope<T>, OnexError> {
    let raw = Envelope::<serde_json::Value>::from_json(json)?;
    let correlation_id = raw.correlation_id;
    raw.try_map_payload(decode)
        .map_err(|e| match correlation_id {
            Some(id) => e.with_correlation_id(id),
            None => e,
        })
}

/// A typed reply → a JSON reply envelope.
fn encode_reply<O: NodeOutput>(
    reply: Envelope<O>,
) -> Result<Envelope<serde_json::Value>, OnexError> {
    reply.try_map_payload(|_, output| output.encode())
}

/// The error a panicking handler turns into.
pub(crate) fn handler_panicked(operation: &str, panic: &(dyn Any + Send)) -> OnexError {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string panic payload");
    OnexError::new(
        ErrorCode::HandlerExecution,
        format!("the handler of `{operation}` panicked: {message}"),
    )
    .with_context("operation", operation)
    .with_context("panic", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_handler_execution_error_with_its_message() {
        for (payload, message) in [
            (
                catch_unwind(|| panic!("static text")).unwrap_err(),
                "static text",
            ),
            (
                catch_unwind(|| panic!("formatted {}", 42)).unwrap_err(),
                "formatted 42",
            ),
            (
                catch_unwind(|| std::panic::panic_any(7_u8)).unwrap_err(),
                "a non-string panic payload",
            ),
        ] {
            let err = handler_panicked("op.name", &*payload);
            assert_eq!(err.code(), &ErrorCode::HandlerExecution);
            assert_eq!(
                err.message(),
                format!("the handler of `op.name` panicked: {message}")
            );
            assert_eq!(err.context()["operation"], "op.name");
            assert_eq!(err.context()["panic"], message);
        }
    }
}
