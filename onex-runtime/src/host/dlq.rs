//! Failures: which are worth a retry, and the dead-letter message for those that are not.

use std::borrow::Cow;
use std::hash::{DefaultHasher, Hash, Hasher};

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

use crate::bus::BusMessage;
use crate::envelope::{Envelope, format_timestamp, now_micros};
use crate::error::{ErrorCode, OnexError};
use crate::node::ContractInfo;

/// Header of a dead letter (and of an error reply) carrying the error code.
pub const ERROR_CODE_HEADER: &str = "onex-error-code";
/// Header of a dead letter naming the node that gave up on the message.
pub const NODE_HEADER: &str = "onex-node";
/// Header of a dead letter naming the topic the message was consumed from.
pub const SOURCE_TOPIC_HEADER: &str = "onex-source-topic";

/// The `payload_type` of an error reply (its payload is the [`OnexError`] JSON).
pub const ERROR_PAYLOAD_TYPE: &str = "ModelOnexError";

/// How much of an oversized envelope a dead letter keeps (as lossy UTF-8 text).
const OVERSIZED_EXCERPT_BYTES: usize = 4096;

/// The dead-letter topic of a node: the contract's first `dlq_topics` entry, else
/// `onex.dlq.<node-name-in-kebab-case>.failed.v1`.
///
/// ```
/// # use onex_runtime::{ContractInfo, NodeKind, RoutingStrategy, Version};
/// use onex_runtime::host::dlq_topic;
/// # const V: Version = Version { major: 1, minor: 0, patch: 0 };
/// # const CONTRACT: ContractInfo = ContractInfo {
/// #     name: "user_directory", kind: NodeKind::Effect, node_type: "EFFECT_GENERIC",
/// #     contract_version: V, node_version: V, description: "", fingerprint: "1.0.0:000000000000",
/// #     declared_fingerprint: None, routing: RoutingStrategy::Single, operations: &[],
/// #     subscribe_topics: &[], publish_topics: &[], dlq_topics: &[],
/// # };
/// assert_eq!(dlq_topic(&CONTRACT), "onex.dlq.user-directory.failed.v1");
/// let named = ContractInfo { dlq_topics: &["onex.dlq.users.rejected.v2"], ..CONTRACT };
/// assert_eq!(dlq_topic(&named), "onex.dlq.users.rejected.v2");
/// ```
pub fn dlq_topic(contract: &ContractInfo) -> Cow<'static, str> {
    match contract.dlq_topics.first() {
        Some(topic) => Cow::Borrowed(topic),
        None => Cow::Owned(format!("onex.dlq.{}.failed.v1", kebab(contract.name, '-'))),
    }
}

/// Lower-case ASCII letters and digits kept, every other run of characters turned into one
/// `sep`, none at the ends.
pub(crate) fn kebab(name: &str, sep: char) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with(sep) {
            out.push(sep);
        }
    }
    while out.ends_with(sep) {
        out.pop();
    }
    out
}

/// True for failures a redelivery cannot fix: the message itself is wrong.
///
/// Permanent: [`InvalidInput`](ErrorCode::InvalidInput) (malformed or oversized),
/// [`Validation`](ErrorCode::Validation),
/// [`UnsupportedOperation`](ErrorCode::UnsupportedOperation),
/// [`ContractViolation`](ErrorCode::ContractViolation) and
/// [`SecurityViolation`](ErrorCode::SecurityViolation). Everything else (timeouts, handler
/// errors and panics, failed operations, bus faults, open circuits, internal errors, other
/// codes) is transient and retried.
pub(crate) fn is_permanent(code: &ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::InvalidInput
            | ErrorCode::Validation
            | ErrorCode::UnsupportedOperation
            | ErrorCode::ContractViolation
            | ErrorCode::SecurityViolation
    )
}

/// The error of an envelope larger than the host accepts.
pub(crate) fn oversized(node: &str, size: usize, limit: usize) -> OnexError {
    OnexError::invalid_input(format!(
        "envelope of {size} bytes exceeds the host's limit of {limit} bytes (node '{node}')"
    ))
    .with_context("size", size)
    .with_context("limit", limit)
    .with_context("node", node)
}

/// The error a panicking node turns into.
pub(crate) fn panicked(node: &str, panic: &(dyn std::any::Any + Send)) -> OnexError {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string panic payload");
    OnexError::handler(format!("node '{node}' panicked: {message}"))
        .with_context("node", node)
        .with_context("panic", message)
}

/// The original envelope as a dead letter shows it.
pub(crate) enum Original {
    /// It parsed as JSON.
    Json(Value),
    /// It did not (or was too large to try): lossy text, possibly truncated.
    Text(String),
}

impl Original {
    /// Reads the raw bytes: parsed when they fit `limit`, else a truncated excerpt.
    pub(crate) fn read(raw: &[u8], limit: usize) -> Self {
        if raw.len() > limit {
            let end = raw.len().min(OVERSIZED_EXCERPT_BYTES);
            return Original::Text(String::from_utf8_lossy(&raw[..end]).into_owned());
        }
        match serde_json::from_slice(raw) {
            Ok(value) => Original::Json(value),
            Err(_) => Original::Text(String::from_utf8_lossy(raw).into_owned()),
        }
    }

    /// The envelope's `envelope_id` (as written), if it has one.
    fn envelope_id(&self) -> Option<&str> {
        match self {
            Original::Json(value) => value.get("envelope_id")?.as_str(),
            Original::Text(_) => None,
        }
    }

    fn as_value(&self) -> Value {
        match self {
            Original::Json(value) => value.clone(),
            Original::Text(text) => Value::String(text.clone()),
        }
    }
}

/// A dead letter on the wire.
#[derive(Serialize)]
struct DeadLetter<'a> {
    node: &'a str,
    topic: &'a str,
    attempts: u32,
    error: &'a OnexError,
    envelope: Value,
    dead_lettered_at: String,
}

/// The dead letter of `raw` (consumed from `topic`), which `node` gave up on after
/// `attempts` deliveries with `error`.
///
/// Its id is `dlq-<node>-<envelope_id>` (or `dlq-<node>-h<hash of the bytes>` when the
/// envelope has no id), so dead-lettering the same message twice publishes it once.
pub(crate) fn dead_letter(
    dlq: &str,
    node: &str,
    topic: &str,
    attempts: u32,
    raw: &[u8],
    original: &Original,
    error: &OnexError,
) -> Result<BusMessage, OnexError> {
    let letter = DeadLetter {
        node,
        topic,
        attempts,
        error,
        envelope: original.as_value(),
        dead_lettered_at: format_timestamp(&now_micros()),
    };
    let payload = serde_json::to_vec(&letter)
        .map_err(|e| OnexError::internal(format!("cannot encode a dead letter: {e}")))?;
    let id = match original.envelope_id() {
        Some(id) => format!("dlq-{node}-{id}"),
        None => {
            let mut hasher = DefaultHasher::new();
            raw.hash(&mut hasher);
            format!("dlq-{node}-h{:016x}", hasher.finish())
        }
    };
    Ok(BusMessage::new(dlq, payload)
        .with_id(id)
        .with_header(ERROR_CODE_HEADER, error.code().as_str())
        .with_header(NODE_HEADER, node)
        .with_header(SOURCE_TOPIC_HEADER, topic))
}

/// The error reply for a requester: an envelope whose payload is the error's JSON
/// (`payload_type` [`ERROR_PAYLOAD_TYPE`]), a reply to the request when it could be read
/// (same correlation id, causation recorded), else a fresh envelope carrying the error's
/// correlation id.
pub(crate) fn error_reply(original: &Original, error: &OnexError) -> Result<Bytes, OnexError> {
    let payload = serde_json::to_value(error)
        .map_err(|e| OnexError::internal(format!("cannot encode an error reply: {e}")))?;
    let request = match original {
        Original::Json(value) => <Envelope<Value> as serde::Deserialize>::deserialize(value).ok(),
        Original::Text(_) => None,
    };
    let mut reply = match request {
        Some(request) => request.take_payload().1.reply(payload),
        None => {
            let reply = Envelope::new(payload);
            match error.correlation_id() {
                Some(id) => reply.with_correlation_id(id),
                None => reply,
            }
        }
    };
    reply.payload_type = Some(ERROR_PAYLOAD_TYPE.to_owned());
    reply.to_json().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_cases_names() {
        assert_eq!(kebab("user_directory", '-'), "user-directory");
        assert_eq!(kebab("__Odd  Name__", '-'), "odd-name");
        assert_eq!(kebab("onex.cmd.a-b.*", '_'), "onex_cmd_a_b");
    }

    #[test]
    fn classification() {
        assert!(is_permanent(&ErrorCode::Validation));
        assert!(is_permanent(&ErrorCode::InvalidInput));
        assert!(!is_permanent(&ErrorCode::Timeout));
        assert!(!is_permanent(&ErrorCode::HandlerExecution));
        assert!(!is_permanent(&ErrorCode::Other("ONEX_X_1_Y".into())));
    }

    #[test]
    fn dead_letter_ids_are_stable() {
        let raw = br#"{"payload": 1, "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80"}"#;
        let original = Original::read(raw, 1024);
        let err = OnexError::invalid_input("nope");
        let msg = dead_letter("onex.dlq.x.failed.v1", "x", "t", 1, raw, &original, &err)
            .expect("encodes");
        assert_eq!(msg.id(), Some("dlq-x-2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80"));
        let body: Value = serde_json::from_slice(&msg.payload).expect("json");
        assert_eq!(body["envelope"]["payload"], 1);
        assert_eq!(body["error"]["error_code"], "ONEX_CORE_007_INVALID_INPUT");

        let garbage = b"{not json";
        let original = Original::read(garbage, 1024);
        let a = dead_letter("d", "x", "t", 1, garbage, &original, &err).expect("encodes");
        let b = dead_letter("d", "x", "t", 2, garbage, &original, &err).expect("encodes");
        assert_eq!(a.id(), b.id());
        let body: Value = serde_json::from_slice(&a.payload).expect("json");
        assert_eq!(body["envelope"], "{not json");

        let big = vec![b'x'; 10_000];
        let Original::Text(text) = Original::read(&big, 100) else {
            panic!("oversized input is kept as text")
        };
        assert_eq!(text.len(), OVERSIZED_EXCERPT_BYTES);
    }
}
