//! ONEX error codes and the [`OnexError`] type, wire-compatible with ONEX `ModelOnexError`.
//!
//! The code numbers are those of `EnumCoreErrorCode` in the Python reference
//! (`omnibase_core/enums/enum_core_error_code.py`, omnibase_core 0.46.8).

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::envelope::{format_timestamp, now_micros, parse_timestamp};

/// An ONEX error code, rendered as the exact ONEX string `ONEX_CORE_<NNN>_<NAME>`.
///
/// The numbers are those of the Python reference's `EnumCoreErrorCode`. Codes onex does not
/// know (other components' codes, newer core codes) are kept verbatim in
/// [`ErrorCode::Other`], so an error read from the wire is written back unchanged.
///
/// ```
/// use onex_runtime::ErrorCode;
///
/// assert_eq!(ErrorCode::Validation.as_str(), "ONEX_CORE_006_VALIDATION_ERROR");
/// let code: ErrorCode = "ONEX_CORE_021_FILE_NOT_FOUND".parse().unwrap();
/// assert_eq!(code, ErrorCode::FileNotFound);
/// let unknown: ErrorCode = "ONEX_INFRA_042_SOMETHING".parse().unwrap();
/// assert_eq!(unknown.to_string(), "ONEX_INFRA_042_SOMETHING");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    /// `ONEX_CORE_006_VALIDATION_ERROR`: a value failed validation (model constraints).
    Validation,
    /// `ONEX_CORE_007_INVALID_INPUT`: the input could not be decoded (malformed JSON, wrong
    /// shape, wrong types).
    InvalidInput,
    /// `ONEX_CORE_082_TIMEOUT_EXCEEDED`: an operation ran past its deadline (the code the
    /// reference's effect execution and compute executor raise on timeouts).
    Timeout,
    /// `ONEX_CORE_081_OPERATION_FAILED`: an operation failed for a reason not covered by a more
    /// specific code.
    OperationFailed,
    /// `ONEX_CORE_095_HANDLER_EXECUTION_ERROR`: a node's handler returned an error.
    HandlerExecution,
    /// `ONEX_CORE_096_EVENT_BUS_ERROR`: publishing to or consuming from the event bus failed.
    EventBus,
    /// `ONEX_CORE_242_CONTRACT_VIOLATION`: a node or message broke its contract.
    ContractViolation,
    /// `ONEX_CORE_083_RESOURCE_UNAVAILABLE`: a circuit breaker is open.
    ///
    /// The reference has no dedicated circuit-breaker code; its effect execution raises
    /// `RESOURCE_UNAVAILABLE` with the message "Circuit breaker is open", so onex does the same.
    CircuitOpen,
    /// `ONEX_CORE_084_UNSUPPORTED_OPERATION`: the requested operation is not one the node has.
    UnsupportedOperation,
    /// `ONEX_CORE_312_ORCHESTRATOR_EXEC_STEP_FAILED`: a workflow step failed.
    WorkflowStepFailed,
    /// `ONEX_CORE_311_ORCHESTRATOR_EXEC_STEP_TIMEOUT`: a workflow step timed out.
    WorkflowStepTimeout,
    /// `ONEX_CORE_316_ORCHESTRATOR_EXEC_WORKFLOW_FAILED`: a workflow could not run to its end
    /// (cancelled, timed out as a whole, or its input was rejected).
    WorkflowFailed,
    /// `ONEX_CORE_301_ORCHESTRATOR_SEMANTIC_CYCLE_DETECTED`: a workflow's dependencies form a
    /// cycle.
    CycleDetected,
    /// `ONEX_CORE_021_FILE_NOT_FOUND`: a file does not exist.
    FileNotFound,
    /// `ONEX_CORE_222_SECURITY_VIOLATION`: a security policy was violated.
    SecurityViolation,
    /// `ONEX_CORE_089_INTERNAL_ERROR`: a bug or an unexpected internal condition.
    Internal,
    /// Any other code, kept verbatim (for example `ONEX_CORE_001_INVALID_PARAMETER` or a
    /// non-core component's code). The empty string stands for "no code" (`null` on the wire).
    Other(String),
}

/// The known codes and their ONEX strings, in one place for `as_str` and `from_str`.
const KNOWN: [(ErrorCode, &str); 16] = [
    (ErrorCode::Validation, "ONEX_CORE_006_VALIDATION_ERROR"),
    (ErrorCode::InvalidInput, "ONEX_CORE_007_INVALID_INPUT"),
    (ErrorCode::Timeout, "ONEX_CORE_082_TIMEOUT_EXCEEDED"),
    (ErrorCode::OperationFailed, "ONEX_CORE_081_OPERATION_FAILED"),
    (
        ErrorCode::HandlerExecution,
        "ONEX_CORE_095_HANDLER_EXECUTION_ERROR",
    ),
    (ErrorCode::EventBus, "ONEX_CORE_096_EVENT_BUS_ERROR"),
    (
        ErrorCode::ContractViolation,
        "ONEX_CORE_242_CONTRACT_VIOLATION",
    ),
    (ErrorCode::CircuitOpen, "ONEX_CORE_083_RESOURCE_UNAVAILABLE"),
    (
        ErrorCode::UnsupportedOperation,
        "ONEX_CORE_084_UNSUPPORTED_OPERATION",
    ),
    (
        ErrorCode::WorkflowStepFailed,
        "ONEX_CORE_312_ORCHESTRATOR_EXEC_STEP_FAILED",
    ),
    (
        ErrorCode::WorkflowStepTimeout,
        "ONEX_CORE_311_ORCHESTRATOR_EXEC_STEP_TIMEOUT",
    ),
    (
        ErrorCode::WorkflowFailed,
        "ONEX_CORE_316_ORCHESTRATOR_EXEC_WORKFLOW_FAILED",
    ),
    (
        ErrorCode::CycleDetected,
        "ONEX_CORE_301_ORCHESTRATOR_SEMANTIC_CYCLE_DETECTED",
    ),
    (ErrorCode::FileNotFound, "ONEX_CORE_021_FILE_NOT_FOUND"),
    (
        ErrorCode::SecurityViolation,
        "ONEX_CORE_222_SECURITY_VIOLATION",
    ),
    (ErrorCode::Internal, "ONEX_CORE_089_INTERNAL_ERROR"),
];

impl ErrorCode {
    /// The ONEX string of the code (`ONEX_CORE_006_VALIDATION_ERROR`); for
    /// [`ErrorCode::Other`] the stored string.
    ///
    /// The known codes' strings are `'static`; the lifetime is tied to `self` only because
    /// [`ErrorCode::Other`] owns its string.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::Validation => "ONEX_CORE_006_VALIDATION_ERROR",
            ErrorCode::InvalidInput => "ONEX_CORE_007_INVALID_INPUT",
            ErrorCode::Timeout => "ONEX_CORE_082_TIMEOUT_EXCEEDED",
            ErrorCode::OperationFailed => "ONEX_CORE_081_OPERATION_FAILED",
            ErrorCode::HandlerExecution => "ONEX_CORE_095_HANDLER_EXECUTION_ERROR",
            ErrorCode::EventBus => "ONEX_CORE_096_EVENT_BUS_ERROR",
            ErrorCode::ContractViolation => "ONEX_CORE_242_CONTRACT_VIOLATION",
            ErrorCode::CircuitOpen => "ONEX_CORE_083_RESOURCE_UNAVAILABLE",
            ErrorCode::UnsupportedOperation => "ONEX_CORE_084_UNSUPPORTED_OPERATION",
            ErrorCode::WorkflowStepFailed => "ONEX_CORE_312_ORCHESTRATOR_EXEC_STEP_FAILED",
            ErrorCode::WorkflowStepTimeout => "ONEX_CORE_311_ORCHESTRATOR_EXEC_STEP_TIMEOUT",
            ErrorCode::WorkflowFailed => "ONEX_CORE_316_ORCHESTRATOR_EXEC_WORKFLOW_FAILED",
            ErrorCode::CycleDetected => "ONEX_CORE_301_ORCHESTRATOR_SEMANTIC_CYCLE_DETECTED",
            ErrorCode::FileNotFound => "ONEX_CORE_021_FILE_NOT_FOUND",
            ErrorCode::SecurityViolation => "ONEX_CORE_222_SECURITY_VIOLATION",
            ErrorCode::Internal => "ONEX_CORE_089_INTERNAL_ERROR",
            ErrorCode::Other(code) => code,
        }
    }

    /// True when the failure may pass if the call is made again: timeouts, handler and
    /// operation failures, bus faults, an open circuit, workflow step failures and internal
    /// errors. False for the caller's mistakes (validation, invalid input, unsupported
    /// operation, contract or security violation, cycles, missing files) and for codes onex
    /// does not name.
    ///
    /// Effect policies retry only transient failures, and count only those against a
    /// circuit breaker. The node host is more lenient with what it redelivers: it
    /// dead-letters at once only the message's own faults (invalid input, validation,
    /// unsupported operation, contract or security violation) and redelivers everything
    /// else, unknown codes included, up to `max_deliver`.
    ///
    /// ```
    /// use onex_runtime::ErrorCode;
    ///
    /// assert!(ErrorCode::Timeout.is_transient());
    /// assert!(!ErrorCode::Validation.is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ErrorCode::Timeout
                | ErrorCode::OperationFailed
                | ErrorCode::HandlerExecution
                | ErrorCode::EventBus
                | ErrorCode::CircuitOpen
                | ErrorCode::WorkflowStepFailed
                | ErrorCode::WorkflowStepTimeout
                | ErrorCode::WorkflowFailed
                | ErrorCode::Internal
        )
    }

    /// True for the codes onex names (everything but [`ErrorCode::Other`]).
    pub fn is_known(&self) -> bool {
        !matches!(self, ErrorCode::Other(_))
    }

    /// The number of an `ONEX_<COMPONENT>_<NNN>_<NAME>` code (`6` for
    /// `ONEX_CORE_006_VALIDATION_ERROR`), if the code has that shape.
    pub fn number(&self) -> Option<u32> {
        let mut parts = self.as_str().split('_');
        if parts.next() != Some("ONEX") {
            return None;
        }
        parts.next()?;
        let digits = parts.next()?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ErrorCode {
    type Err = Infallible;

    /// Parses an ONEX code string; never fails: unknown strings become [`ErrorCode::Other`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(KNOWN
            .iter()
            .find(|(_, text)| *text == s)
            .map_or_else(|| ErrorCode::Other(s.to_owned()), |(code, _)| code.clone()))
    }
}

impl From<&str> for ErrorCode {
    fn from(s: &str) -> Self {
        match s.parse() {
            Ok(code) => code,
            Err(never) => match never {},
        }
    }
}

impl PartialEq<ErrorCode> for &ErrorCode {
    fn eq(&self, other: &ErrorCode) -> bool {
        **self == *other
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Ok(ErrorCode::from(s.as_str()))
    }
}

/// How the error's context map is laid out on the wire (kept so that an error read from the
/// wire is written back unchanged).
#[derive(Clone, Debug, PartialEq)]
enum ContextLayout {
    /// `context: {context: {...caller context...}, ...extra}`: what onex writes, and what the
    /// reference writes when the caller passes `context={...}`.
    Nested {
        /// Keys next to the nested `context` (none when onex built the error).
        extra: Map<String, Value>,
    },
    /// `context: {...caller context...}`: what the reference writes when the caller passes the
    /// context as keyword arguments (or no context at all).
    Flat,
}

/// An ONEX error: a code, a message, an optional correlation id, a timestamp and a context map.
///
/// Serializes exactly like the reference's `ModelOnexError.model_dump_json()`:
/// `{message, error_code, status: "error", correlation_id, timestamp, context}`, where the
/// caller's context is nested one level down (`context.context`), as the reference does when
/// given `context={...}`. Errors read from the wire keep their layout, status and unknown codes.
///
/// ```
/// use onex_runtime::{ErrorCode, OnexError};
/// use uuid::Uuid;
///
/// let id = Uuid::new_v4();
/// let err = OnexError::validation("sql must not be empty")
///     .with_correlation_id(id)
///     .with_context("field", "sql");
/// assert_eq!(err.code(), ErrorCode::Validation);
/// assert_eq!(err.to_string(), "ONEX_CORE_006_VALIDATION_ERROR: sql must not be empty");
///
/// let json = serde_json::to_value(&err).unwrap();
/// assert_eq!(json["error_code"], "ONEX_CORE_006_VALIDATION_ERROR");
/// assert_eq!(json["status"], "error");
/// assert_eq!(json["context"]["context"]["field"], "sql");
///
/// let back: OnexError = serde_json::from_value(json).unwrap();
/// assert_eq!(back, err);
/// assert_eq!(back.correlation_id(), Some(id));
/// ```
#[derive(Clone, PartialEq, thiserror::Error)]
#[error("{}: {}", .0.code, .0.message)]
pub struct OnexError(Box<Inner>);

/// The fields of an [`OnexError`], boxed so that `Result<_, OnexError>` stays small.
#[derive(Clone, Debug, PartialEq)]
struct Inner {
    code: ErrorCode,
    message: String,
    correlation_id: Option<Uuid>,
    timestamp: DateTime<Utc>,
    context: Map<String, Value>,
    status: String,
    layout: ContextLayout,
}

impl fmt::Debug for OnexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnexError")
            .field("code", &self.0.code)
            .field("message", &self.0.message)
            .field("correlation_id", &self.0.correlation_id)
            .field("timestamp", &self.0.timestamp)
            .field("context", &self.0.context)
            .field("status", &self.0.status)
            .finish()
    }
}

impl OnexError {
    /// A new error with the given code and message, timestamped now, without correlation id
    /// or context.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        OnexError(Box::new(Inner {
            code,
            message: message.into(),
            correlation_id: None,
            timestamp: now_micros(),
            context: Map::new(),
            status: "error".to_owned(),
            layout: ContextLayout::Nested { extra: Map::new() },
        }))
    }

    /// A [`ErrorCode::Validation`] error: a value broke a model constraint.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Validation, message)
    }

    /// An [`ErrorCode::InvalidInput`] error: the input could not be decoded.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    /// An [`ErrorCode::UnsupportedOperation`] error naming the operation (and nothing else: the
    /// node's operations are not listed to the caller).
    pub fn unsupported_operation(operation: &str) -> Self {
        Self::new(
            ErrorCode::UnsupportedOperation,
            format!("unsupported operation '{operation}'"),
        )
    }

    /// An [`ErrorCode::HandlerExecution`] error: a handler failed.
    pub fn handler(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::HandlerExecution, message)
    }

    /// An [`ErrorCode::Timeout`] error: a deadline passed.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Timeout, message)
    }

    /// An [`ErrorCode::Internal`] error: a bug or an unexpected condition.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    /// Sets the correlation id (replacing any previous one).
    #[must_use]
    pub fn with_correlation_id(mut self, correlation_id: Uuid) -> Self {
        self.0.correlation_id = Some(correlation_id);
        self
    }

    /// Adds (or replaces) one entry of the caller's context.
    #[must_use]
    pub fn with_context(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.0.context.insert(key.into(), value.into());
        self
    }

    /// The error code.
    pub fn code(&self) -> &ErrorCode {
        &self.0.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The correlation id of the request that failed, if known.
    pub fn correlation_id(&self) -> Option<Uuid> {
        self.0.correlation_id
    }

    /// The caller's context (on the wire: `context.context`).
    pub fn context(&self) -> &Map<String, Value> {
        &self.0.context
    }

    /// When the error was created (microsecond precision, UTC).
    pub fn timestamp(&self) -> DateTime<Utc> {
        self.0.timestamp
    }

    /// The ONEX status string (`"error"` unless read from the wire with another status).
    pub fn status(&self) -> &str {
        &self.0.status
    }
}

/// The wire form, for serialization.
#[derive(Serialize)]
struct WireOut<'a> {
    message: &'a str,
    error_code: Option<&'a str>,
    status: &'a str,
    correlation_id: Option<Uuid>,
    timestamp: String,
    context: Map<String, Value>,
}

impl Serialize for OnexError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let context = match &self.0.layout {
            ContextLayout::Flat => self.0.context.clone(),
            ContextLayout::Nested { extra } => {
                let mut outer = extra.clone();
                outer.insert("context".to_owned(), Value::Object(self.0.context.clone()));
                outer
            }
        };
        let code = self.0.code.as_str();
        WireOut {
            message: &self.0.message,
            error_code: (!code.is_empty()).then_some(code),
            status: &self.0.status,
            correlation_id: self.0.correlation_id,
            timestamp: format_timestamp(&self.0.timestamp),
            context,
        }
        .serialize(serializer)
    }
}

/// The wire form, for deserialization: lenient like the reference (`error_code`, `status`,
/// `correlation_id`, `timestamp` and `context` may be absent or null).
#[derive(Deserialize)]
struct WireIn {
    message: String,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    correlation_id: Option<Uuid>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    context: Option<Map<String, Value>>,
}

impl<'de> Deserialize<'de> for OnexError {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireIn::deserialize(deserializer)?;
        let timestamp = match wire.timestamp {
            Some(text) => parse_timestamp(&text).map_err(serde::de::Error::custom)?,
            None => now_micros(),
        };
        let mut outer = wire.context.unwrap_or_default();
        let (context, layout) = match outer.remove("context") {
            Some(Value::Object(inner)) => (inner, ContextLayout::Nested { extra: outer }),
            Some(other) => {
                outer.insert("context".to_owned(), other);
                (outer, ContextLayout::Flat)
            }
            None => (outer, ContextLayout::Flat),
        };
        Ok(OnexError(Box::new(Inner {
            code: ErrorCode::from(wire.error_code.as_deref().unwrap_or("")),
            message: wire.message,
            correlation_id: wire.correlation_id,
            timestamp,
            context,
            status: wire.status.unwrap_or_else(|| "error".to_owned()),
            layout,
        })))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ALL: [ErrorCode; 16] = [
        ErrorCode::Validation,
        ErrorCode::InvalidInput,
        ErrorCode::Timeout,
        ErrorCode::OperationFailed,
        ErrorCode::HandlerExecution,
        ErrorCode::EventBus,
        ErrorCode::ContractViolation,
        ErrorCode::CircuitOpen,
        ErrorCode::UnsupportedOperation,
        ErrorCode::WorkflowStepFailed,
        ErrorCode::WorkflowStepTimeout,
        ErrorCode::WorkflowFailed,
        ErrorCode::CycleDetected,
        ErrorCode::FileNotFound,
        ErrorCode::SecurityViolation,
        ErrorCode::Internal,
    ];

    fn assert_traits<T: Send + Sync + 'static + Clone + std::fmt::Debug + PartialEq>() {}

    #[test]
    fn error_is_send_sync_clone_debug_eq() {
        assert_traits::<OnexError>();
        assert_traits::<ErrorCode>();
    }

    #[test]
    fn known_codes_round_trip_and_match_table() {
        for code in ALL {
            let text = code.as_str().to_owned();
            assert!(text.starts_with("ONEX_CORE_"), "{text}");
            assert_eq!(text.parse::<ErrorCode>(), Ok(code.clone()));
            assert!(KNOWN.iter().any(|(c, t)| *c == code && *t == text));
            assert!(code.is_known());
            assert_eq!(serde_json::to_value(&code).ok(), Some(json!(text)));
        }
        assert_eq!(KNOWN.len(), ALL.len());
    }

    #[test]
    fn reference_numbers() {
        assert_eq!(
            ErrorCode::Validation.as_str(),
            "ONEX_CORE_006_VALIDATION_ERROR"
        );
        assert_eq!(
            ErrorCode::FileNotFound.as_str(),
            "ONEX_CORE_021_FILE_NOT_FOUND"
        );
        assert_eq!(
            ErrorCode::SecurityViolation.as_str(),
            "ONEX_CORE_222_SECURITY_VIOLATION"
        );
        assert_eq!(ErrorCode::Validation.number(), Some(6));
        assert_eq!(ErrorCode::CycleDetected.number(), Some(301));
        assert_eq!(ErrorCode::Other("nonsense".into()).number(), None);
    }

    #[test]
    fn unknown_code_round_trips() {
        let raw = "ONEX_CORE_001_INVALID_PARAMETER";
        let code: ErrorCode = raw.parse().unwrap_or(ErrorCode::Internal);
        assert_eq!(code, ErrorCode::Other(raw.to_owned()));
        assert_eq!(code.to_string(), raw);
        assert!(!code.is_known());

        let golden = json!({
            "message": "boom",
            "error_code": "ONEX_INFRA_999_SOMETHING_NEW",
            "status": "error",
            "correlation_id": null,
            "timestamp": "2026-11-20T22:07:35.253973Z",
            "context": {"context": {}},
        });
        let err: OnexError = serde_json::from_value(golden.clone()).expect("deserializes");
        assert_eq!(
            err.code(),
            ErrorCode::Other("ONEX_INFRA_999_SOMETHING_NEW".into())
        );
        assert_eq!(serde_json::to_value(&err).ok(), Some(golden));
    }

    #[test]
    fn null_code_and_flat_context_round_trip() {
        let golden = json!({
            "message": "boom",
            "error_code": null,
            "status": "warning",
            "correlation_id": null,
            "timestamp": "2026-11-20T22:07:35Z",
            "context": {"file_path": "/x", "line_number": 3},
        });
        let err: OnexError = serde_json::from_value(golden.clone()).expect("deserializes");
        assert_eq!(err.context().get("line_number"), Some(&json!(3)));
        assert_eq!(err.status(), "warning");
        assert_eq!(serde_json::to_value(&err).ok(), Some(golden));
    }

    #[test]
    fn nested_context_with_extra_keys_round_trips() {
        let golden = json!({
            "message": "boom",
            "error_code": "ONEX_CORE_006_VALIDATION_ERROR",
            "status": "error",
            "correlation_id": "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
            "timestamp": "2026-11-20T22:07:35.253973Z",
            "context": {"context": {"field": "sql"}, "function_name": "f"},
        });
        let err: OnexError = serde_json::from_value(golden.clone()).expect("deserializes");
        assert_eq!(err.context().get("field"), Some(&json!("sql")));
        assert_eq!(serde_json::to_value(&err).ok(), Some(golden));
    }

    #[test]
    fn minimal_wire_error_takes_defaults() {
        let err: OnexError = serde_json::from_value(json!({"message": "m"})).expect("deserializes");
        assert_eq!(err.message(), "m");
        assert_eq!(err.status(), "error");
        assert!(err.context().is_empty());
        assert_eq!(err.to_string(), ": m");
    }

    #[test]
    fn builders_and_shorthands() {
        let id = Uuid::new_v4();
        let err = OnexError::unsupported_operation("postgres.drop")
            .with_correlation_id(id)
            .with_context("attempt", 2);
        assert_eq!(err.code(), ErrorCode::UnsupportedOperation);
        assert_eq!(err.message(), "unsupported operation 'postgres.drop'");
        assert_eq!(err.correlation_id(), Some(id));
        assert_eq!(err.context().get("attempt"), Some(&json!(2)));
        assert_eq!(OnexError::handler("x").code(), ErrorCode::HandlerExecution);
        assert_eq!(OnexError::timeout("x").code(), ErrorCode::Timeout);
        assert_eq!(OnexError::internal("x").code(), ErrorCode::Internal);
        assert_eq!(
            OnexError::invalid_input("x").code(),
            ErrorCode::InvalidInput
        );

        let value = serde_json::to_value(&err).unwrap_or_default();
        assert_eq!(value["context"], json!({"context": {"attempt": 2}}));
        assert_eq!(value["correlation_id"], json!(id.to_string()));
        let back: Result<OnexError, _> = serde_json::from_value(value);
        assert_eq!(back.ok(), Some(err));
    }

    #[test]
    fn fresh_error_round_trips_exactly() {
        let err = OnexError::new(ErrorCode::EventBus, "bus down");
        let text = serde_json::to_string(&err).unwrap_or_default();
        let back: Result<OnexError, _> = serde_json::from_str(&text);
        assert_eq!(back.ok(), Some(err));
    }
}
