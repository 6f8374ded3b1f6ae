//! The only surface generated code touches (`::onex_runtime::__private`). Not public API:
//! anything here may change in any release.

pub use crate::context::EffectContext;
pub use crate::db::{SqlSource, SqlSpec, sql_call, sql_json_param, sql_param};
pub use crate::error::{ErrorCode, OnexError};
pub use crate::fsm::guard as fsm_guard;
pub use crate::fsm::{FsmError, FsmInfo, FsmName, FsmState, ReducerNode, Transition};
pub use crate::node::{
    ComputeNode, ContractInfo, EffectNode, NodeInput, NodeKind, NodeOutput, OperationInfo,
    RoutingStrategy, Version,
};
pub use crate::policy::{
    BreakerPolicy, OperationPolicy, PolicyState, call as policy_call, call_once as policy_call_once,
};
pub use crate::retry::{BackoffStrategy, RetryPolicy};
pub use crate::workflow::{
    BoxFuture, CoordinationRules, ExecutionMode, FailureStrategy, OrchestratorNode, StepInfo,
    StepOutputs, WorkflowContext, WorkflowPlan, WorkflowStep,
};
pub use serde;
pub use serde_json;
pub use serde_json::Value as JsonValue;
pub use std::sync::OnceLock;
pub use uuid::Uuid;

/// A UTC timestamp (`type: datetime` fields).
pub type DateTime = chrono::DateTime<chrono::Utc>;

/// `default_factory: uuid4`.
pub fn new_uuid() -> Uuid {
    Uuid::new_v4()
}

/// `default_factory: datetime.now`.
pub fn now_utc() -> DateTime {
    chrono::Utc::now()
}

/// An `any`-typed literal default, checked to be JSON at compile time.
pub fn json_literal(text: &str) -> JsonValue {
    serde_json::from_str(text).unwrap_or(JsonValue::Null)
}

/// Shown in place of secret fields by generated `Debug` impls.
pub struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

/// Constraint violations collected while validating a model.
#[derive(Debug, Default)]
pub struct Violations {
    items: Vec<(String, String)>,
}

impl Violations {
    fn push(&mut self, path: &str, field: &str, message: String) {
        self.items.push((join_path(path, field), message));
    }
}

/// A model with generated constraint checks.
pub trait Validate {
    /// Records every violated constraint, with field paths under `path`.
    fn validate_into(&self, path: &str, violations: &mut Violations);
}

impl<T: Validate> Validate for Box<T> {
    fn validate_into(&self, path: &str, violations: &mut Violations) {
        (**self).validate_into(path, violations);
    }
}

/// Runs a model's checks; every violation is listed in one validation error.
pub fn validate<T: Validate>(value: &T) -> Result<(), OnexError> {
    let mut violations = Violations::default();
    value.validate_into("", &mut violations);
    if violations.items.is_empty() {
        return Ok(());
    }
    let message = violations
        .items
        .iter()
        .map(|(field, why)| format!("{field} {why}"))
        .collect::<Vec<_>>()
        .join("; ");
    let fields: Vec<JsonValue> = violations
        .items
        .iter()
        .map(|(field, why)| serde_json::json!({ "field": field, "violation": why }))
        .collect();
    Err(
        OnexError::validation(format!("input failed validation: {message}"))
            .with_context("violations", JsonValue::Array(fields)),
    )
}

/// `a.b` paths for nested fields.
pub fn join_path(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// Length for `min_length`/`max_length`: characters of a string, items of a list.
pub trait Length {
    /// The length the constraint compares, and what it counts.
    fn length(&self) -> (usize, &'static str);
}

impl Length for String {
    fn length(&self) -> (usize, &'static str) {
        (self.chars().count(), "characters")
    }
}

impl<T> Length for Vec<T> {
    fn length(&self) -> (usize, &'static str) {
        (self.len(), "items")
    }
}

macro_rules! bound {
    ($name:ident, $op:tt, $word:literal) => {
        #[doc = concat!("`", stringify!($name), "` constraint.")]
        // Negated on purpose: NaN compares false, so it fails every bound.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        pub fn $name(violations: &mut Violations, path: &str, field: &str, value: f64, bound: f64) {
            if !(value $op bound) {
                violations.push(path, field, format!(concat!("must be ", $word, " {}, found {}"), bound, value));
            }
        }
    };
}

bound!(check_ge, >=, "at least");
bound!(check_le, <=, "at most");
bound!(check_gt, >, "greater than");
bound!(check_lt, <, "less than");

/// `min_length` constraint.
pub fn check_min_length(
    violations: &mut Violations,
    path: &str,
    field: &str,
    (len, unit): (usize, &str),
    min: usize,
) {
    if len < min {
        let message = if min == 1 {
            "must not be empty".to_owned()
        } else {
            format!("must have at least {min} {unit}, found {len}")
        };
        violations.push(path, field, message);
    }
}

/// `max_length` constraint.
pub fn check_max_length(
    violations: &mut Violations,
    path: &str,
    field: &str,
    (len, unit): (usize, &str),
    max: usize,
) {
    if len > max {
        violations.push(
            path,
            field,
            format!("must have at most {max} {unit}, found {len}"),
        );
    }
}

/// A `pattern` constraint, compiled on first use (the pattern was checked at compile time).
pub struct Pattern {
    source: &'static str,
    regex: OnceLock<Result<regex::Regex, String>>,
}

impl Pattern {
    /// A pattern from the contract.
    pub const fn new(source: &'static str) -> Self {
        Pattern {
            source,
            regex: OnceLock::new(),
        }
    }

    /// Records a violation when `value` does not match.
    pub fn check(&self, violations: &mut Violations, path: &str, field: &str, value: &str) {
        let compiled = self
            .regex
            .get_or_init(|| regex::Regex::new(self.source).map_err(|e| e.to_string()));
        match compiled {
            Ok(re) if re.is_match(value) => {}
            Ok(_) => violations.push(path, field, format!("must match `{}`", self.source)),
            Err(e) => violations.push(path, field, format!("has an unusable pattern: {e}")),
        }
    }
}

/// The payload's `operation` field (operation routing).
pub fn operation_field(payload: &JsonValue) -> Result<String, OnexError> {
    match payload {
        JsonValue::Object(map) => match map.get("operation") {
            Some(JsonValue::String(op)) => Ok(op.clone()),
            Some(other) => Err(OnexError::invalid_input(format!(
                "the payload's `operation` must be a string, found {other}"
            ))
            .with_context("field", "operation")),
            None => Err(OnexError::invalid_input(
                "the payload has no `operation` field, which names the operation to run",
            )
            .with_context("field", "operation")),
        },
        other => Err(OnexError::invalid_input(format!(
            "the payload must be a JSON object, found {}",
            json_kind(other)
        ))),
    }
}

fn json_kind(v: &JsonValue) -> &'static str {
    match v {
        JsonValue::Null => "null",
        JsonValue::Bool(_) => "a boolean",
        JsonValue::Number(_) => "a number",
        JsonValue::String(_) => "a string",
        JsonValue::Array(_) => "an array",
        JsonValue::Object(_) => "an object",
    }
}

/// An operation the node does not have.
pub fn unsupported_operation<'a>(
    operation: &str,
    known: impl Iterator<Item = &'a str>,
) -> OnexError {
    let known: Vec<&str> = known.collect();
    OnexError::unsupported_operation(operation)
        .with_context("operation", operation)
        .with_context("supported", known)
}

/// A `payload_type` shared by several operations, with no `operation` field to choose one.
pub fn shared_payload_type(payload_type: &str, operations: &[&str]) -> OnexError {
    OnexError::invalid_input(format!(
        "payload_type `{payload_type}` is the input of several operations ({}): the payload's `operation` field must name one",
        operations.join(", ")
    ))
    .with_context("field", "operation")
    .with_context("operations", operations.to_vec())
}

/// A `payload_type` that names no operation's input model.
pub fn unknown_payload_type(payload_type: Option<&str>, known: &[&str]) -> OnexError {
    let message = match payload_type {
        Some(t) => format!(
            "payload_type `{t}` matches no operation; expected one of {}",
            known.join(", ")
        ),
        None => format!(
            "the envelope has no payload_type; expected one of {}",
            known.join(", ")
        ),
    };
    OnexError::new(ErrorCode::UnsupportedOperation, message)
        .with_context("supported", known.to_vec())
}

/// Deserializes one operation's payload (dropping `operation` first when the model forbids
/// unknown fields and has no such field).
pub fn decode_payload<T: serde::de::DeserializeOwned>(
    mut payload: JsonValue,
    operation: &str,
    strip_operation: bool,
) -> Result<T, OnexError> {
    if strip_operation && let JsonValue::Object(map) = &mut payload {
        map.remove("operation");
    }
    serde_json::from_value(payload).map_err(|e| {
        OnexError::invalid_input(format!("invalid payload for `{operation}`: {e}"))
            .with_context("operation", operation)
    })
}

/// Serializes one operation's payload, adding `operation` for operation routing.
pub fn encode_payload<T: serde::Serialize>(
    value: &T,
    operation: &str,
    with_operation: bool,
) -> Result<JsonValue, OnexError> {
    let mut json = serde_json::to_value(value).map_err(|e| {
        OnexError::internal(format!("cannot encode the payload of `{operation}`: {e}"))
    })?;
    if with_operation && let JsonValue::Object(map) = &mut json {
        map.insert(
            "operation".to_owned(),
            JsonValue::String(operation.to_owned()),
        );
    }
    Ok(json)
}

/// The kind of a node type, implemented by every node attribute, so an orchestrator can
/// check at compile time that a node bound to a step is of the kind the step declares.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an onex node, so it cannot be bound to a workflow step",
    label = "not declared with a node attribute",
    note = "bind steps to types declared with #[effect_node], #[compute_node], #[reducer_node] or #[orchestrator_node]"
)]
pub trait NodeKindOf {
    /// The node's kind.
    const KIND: NodeKind;
}

/// The output of the completed step `dependency`, which `step` depends on.
///
/// The executor only starts a step after its dependencies completed, so a missing output is
/// an executor bug, reported as an internal error rather than a panic.
pub fn dependency<'a, T>(
    slot: &'a OnceLock<T>,
    step: &'static str,
    dependency: &'static str,
) -> Result<&'a T, OnexError> {
    slot.get().ok_or_else(|| {
        OnexError::internal(format!(
            "step `{step}` started before `{dependency}` produced its output"
        ))
        .with_context("step", step)
    })
}

/// Stores the output of a completed step (once per run).
pub fn store_output<T>(slot: &OnceLock<T>, output: T, step: &'static str) -> Result<(), OnexError> {
    slot.set(output).map_err(|_| {
        OnexError::internal(format!("step `{step}` completed twice in one run"))
            .with_context("step", step)
    })
}

/// A step output as JSON (for reports and replies).
pub fn output_json<T: serde::Serialize>(output: &T) -> Result<JsonValue, OnexError> {
    serde_json::to_value(output).map_err(|e| {
        OnexError::new(
            ErrorCode::Internal,
            format!("a step output cannot be serialized as JSON: {e}"),
        )
    })
}
