//! The ONEX contract format as Rust types, for `schemars` only: nothing builds or reads
//! values of these types. Each doc comment becomes the `description` an editor shows.
//!
//! The rule for every key: the schema accepts what `onex-contracts` accepts. A section whose
//! unknown keys onex rejects (`Unknown::Deny`) is `deny_unknown_fields`
//! (`additionalProperties: false`); the top level, `workflow_coordination` and topic entries
//! are lenient. A key onex type-checks gets that type; a key onex accepts without reading is
//! [`Any`] (any value), documented but unconstrained. The key lists are compared with the
//! ones `onex-contracts` uses by the tests in `super`.

// The types exist for their schemas; their fields are never read.
#![allow(dead_code)]

use std::collections::BTreeMap;

use schemars::JsonSchema;

use super::spellings::{
    DefaultFactory, ExecutionMode, FailureStrategy, NodeType, StepNodeType, VersionText,
};

/// Any value: onex accepts the key and keeps it without interpreting it.
pub type Any = serde_json::Value;

/// An ONEX contract: a node contract (effect, compute, reducer, orchestrator) or another
/// ONEX document (handler contract, `db_repository` contract, `workflow` dialect).
///
/// The top level is lenient: keys onex does not know are kept and reported as warnings by
/// `onex validate`. The sections onex executes are strict: an unknown key there is an error.
/// Check a contract with `onex validate`, which also applies the rules a schema cannot
/// express (state machine reachability, workflow cycles, SQL placeholders, …).
#[derive(JsonSchema)]
#[schemars(
    title = "ONEX contract",
    extend("allOf" = [
        {
            "if": {
                "required": ["node_type"],
                "properties": {"node_type": {"type": "string", "not": {"const": "workflow"}}}
            },
            "then": {
                "required": ["contract_version"],
                "properties": {"contract_version": {"not": {"type": "null"}}}
            }
        },
        {
            "not": {"required": ["state_transitions", "state_machine"]}
        }
    ])
)]
pub struct Contract {
    /// The node's name (snake_case by convention). onex reads `name`, else `node_name`,
    /// else `contract_name`; generated Rust names derive from the struct the attribute is
    /// on, not from this.
    pub name: Option<String>,
    /// The node's name (another spelling of `name`).
    pub node_name: Option<String>,
    /// The contract's name (another spelling of `name`).
    pub contract_name: Option<String>,
    /// A node identifier (kept, not interpreted by onex).
    pub node_id: Option<Any>,
    /// What the document is. A node kind (`EFFECT_GENERIC`, `COMPUTE_GENERIC`,
    /// `REDUCER_GENERIC`, `ORCHESTRATOR_GENERIC`, the lower-case kinds, or another ONEX node
    /// type name mapped to its kind), or `workflow` for the workflow dialect. The node
    /// attribute must match the kind: `#[effect_node]` needs an effect contract.
    pub node_type: Option<NodeType>,
    /// The contract's version, `{major, minor, patch}` (or `"1.2.3"`). Required for node
    /// contracts; it prefixes the fingerprint.
    pub contract_version: Option<Version>,
    /// The node's version: `{major, minor, patch}` or `"1.2.3"`.
    pub node_version: Option<Version>,
    /// A deprecated top-level version (kept, not interpreted by onex; use
    /// `contract_version`).
    pub version: Option<Any>,
    /// What the node does. Becomes the doc comment of the generated items.
    pub description: Option<String>,
    /// The ONEX fingerprint, `"M.m.p:<12 lower-case hex digits>"`: the contract version and
    /// the start of the SHA-256 of the canonical contract. `onex fingerprint --write` sets
    /// it; a value that differs from the computed one is drift (a warning).
    #[schemars(regex(pattern = r"^[0-9]+\.[0-9]+\.[0-9]+:[0-9a-f]{12}$"))]
    pub fingerprint: Option<String>,
    /// The node's input model: `"pkg.module.ModelX"` or `{name, module?, description?}`.
    /// The Rust type is resolved by name (the last dotted segment): a model of
    /// `definitions`, else a type of that name in scope.
    pub input_model: Option<ModelRef>,
    /// The node's output model: `"pkg.module.ModelX"` or `{name, module?, description?}`.
    pub output_model: Option<ModelRef>,
    /// How envelopes are routed to handlers. Its `handlers` are the node's operations (they
    /// come before `effect_operations`).
    pub handler_routing: Option<HandlerRouting>,
    /// The effect node's I/O operations, with their `io_config`, retry policy and circuit
    /// breaker.
    pub effect_operations: Option<EffectOperations>,
    /// The topics the node host subscribes to and publishes on.
    pub event_bus: Option<EventBus>,
    /// Handler behaviour: purity, idempotency, timeout, retry policy, circuit breaker.
    pub descriptor: Option<Descriptor>,
    /// Models (JSON-Schema-like, with pydantic spellings), generated as Rust structs and
    /// enums. Each key is a model name (`ModelQueryRequest`).
    pub definitions: Option<Models>,
    /// What the node needs: a list of `{name, type, …}` or `{required: [...], optional:
    /// [...]}` (kept, not interpreted by onex).
    pub dependencies: Option<Dependencies>,
    /// What the node offers: names or `{name, description}` (kept, not interpreted by onex).
    pub capabilities: Option<Vec<Capability>>,
    /// A reducer's state machine (core dialect). Use either this or `state_machine`.
    pub state_transitions: Option<StateMachine>,
    /// A reducer's state machine (infra dialect). Use either this or `state_transitions`.
    pub state_machine: Option<StateMachine>,
    /// An orchestrator's workflow: `workflow_definition` with the execution graph.
    pub workflow_coordination: Option<WorkflowCoordination>,
    /// Free-form metadata (kept, not interpreted by onex).
    pub metadata: Option<Any>,
    /// I/O operation declarations of the infra dialect (kept, not interpreted by onex).
    pub io_operations: Option<Any>,
    /// Handler declarations (kept, not interpreted by onex).
    pub handlers: Option<Any>,
    /// A handler contract's id (makes the document a handler contract).
    pub handler_id: Option<Any>,
    /// Subscriptions (kept, not interpreted by onex; the node host reads `event_bus`).
    pub subscriptions: Option<Any>,
    /// Publications (kept, not interpreted by onex; the node host reads `event_bus`).
    pub publications: Option<Any>,
    /// Events the node publishes (kept, not interpreted by onex).
    pub published_events: Option<Any>,
    /// Events the node consumes (kept, not interpreted by onex).
    pub consumed_events: Option<Any>,
    /// Error handling notes (kept, not interpreted by onex).
    pub error_handling: Option<Any>,
    /// Health check settings (kept, not interpreted by onex).
    pub health_check: Option<Any>,
    /// Profile tags (kept, not interpreted by onex).
    pub profile_tags: Option<Any>,
    /// A handler contract's capability requirements (kept, not interpreted by onex).
    pub capability_inputs: Option<Any>,
    /// A handler contract's capability outputs (kept, not interpreted by onex).
    pub capability_outputs: Option<Any>,
    /// A `db_repository` contract's body (makes the document a db repository contract).
    pub db_repository: Option<Any>,
    /// The workflow dialect's id (makes a document without `node_type` a workflow).
    pub workflow_id: Option<Any>,
    /// The workflow dialect's initial command (kept, not interpreted by onex).
    pub initial_command: Option<Any>,
    /// The workflow dialect's terminal event (kept, not interpreted by onex).
    pub terminal_event: Option<Any>,
    /// The workflow dialect's node list (kept, not interpreted by onex).
    pub nodes: Option<Any>,
    /// The workflow dialect's event flow (kept, not interpreted by onex).
    pub event_flow: Option<Any>,
    /// A legacy handler block (kept, not interpreted by onex).
    pub handler: Option<Any>,
    /// Routing settings, often an `!include` (kept, not interpreted by onex).
    pub routing: Option<Any>,
}

/// A version: `{major, minor, patch}` or a `"major.minor.patch"` string.
#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum Version {
    /// `{major, minor, patch}`.
    Parts(VersionParts),
    /// `"1.2.3"`.
    Text(VersionText),
}

/// A version as a mapping.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct VersionParts {
    /// The major version.
    pub major: u64,
    /// The minor version.
    pub minor: u64,
    /// The patch version.
    pub patch: u64,
    /// A pre-release label (accepted, not interpreted by onex).
    pub prerelease: Option<Any>,
    /// Build metadata (accepted, not interpreted by onex).
    pub build: Option<Any>,
}

/// A model reference: a dotted Python path `"pkg.module.ModelX"` or `{name, module?,
/// description?}`. The Rust type is resolved by the name (the last dotted segment).
#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum ModelRef {
    /// `"pkg.module.ModelX"`.
    Dotted(String),
    /// `{name, module?, description?}`.
    Named(NamedModelRef),
}

/// A model reference as a mapping.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct NamedModelRef {
    /// The model's name, e.g. `ModelQueryRequest`: a model of `definitions`, else a Rust
    /// type of that name in scope.
    pub name: String,
    /// The Python module the model lives in.
    pub module: Option<String>,
    /// What the model is.
    pub description: Option<String>,
}

/// `handler_routing`: how envelopes reach handlers.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct HandlerRouting {
    /// `operation_match` routes by the payload's `operation` field; `payload_type_match` by
    /// the envelope's `payload_type` (the entry's `event_model` name). Default with
    /// handlers: `operation_match`.
    pub routing_strategy: Option<RoutingStrategy>,
    /// One entry per operation, in order.
    pub handlers: Option<Vec<RouteEntry>>,
    /// The handler used when no entry matches: a name or `{name, module?, handler_type?}`.
    pub default_handler: Option<HandlerRef>,
    /// A version (accepted, not interpreted by onex).
    pub version: Option<Any>,
    /// Dependencies injected into handlers (accepted, not interpreted by onex).
    pub handler_dependencies: Option<Any>,
    /// Execution mode (accepted, not interpreted by onex).
    pub execution_mode: Option<Any>,
    /// Maximum handler time in seconds (accepted, not interpreted by onex).
    pub max_timeout_seconds: Option<Any>,
    /// Partial failure handling (accepted, not interpreted by onex).
    pub partial_failure_handling: Option<Any>,
    /// Aggregation strategy (accepted, not interpreted by onex).
    pub aggregation_strategy: Option<Any>,
}

/// `handler_routing.routing_strategy`.
#[derive(JsonSchema)]
pub enum RoutingStrategy {
    /// Route by the payload's `operation` field (`operation` of each entry).
    #[schemars(rename = "operation_match")]
    OperationMatch,
    /// Route by the envelope's `payload_type` (`event_model.name` of each entry).
    #[schemars(rename = "payload_type_match")]
    PayloadTypeMatch,
}

/// One `handler_routing.handlers[]` entry: an operation. It names `operation` (operation
/// routing) or `event_model` (payload-type routing).
#[derive(JsonSchema)]
#[schemars(
    deny_unknown_fields,
    extend("anyOf" = [{"required": ["operation"]}, {"required": ["event_model"]}])
)]
pub struct RouteEntry {
    /// The operation name, e.g. `postgres.query`: the handler method is its snake_case form.
    pub operation: Option<String>,
    /// The operation's input model (and, for `payload_type_match`, the routing key).
    pub event_model: Option<ModelRef>,
    /// The operation's output model (an onex extension; default: the node's
    /// `output_model`).
    pub output_model: Option<ModelRef>,
    /// The Python handler: a name or `{name, module?, handler_type?}`.
    pub handler: Option<HandlerRef>,
    /// What the operation does. Becomes the handler method's doc comment.
    pub description: Option<String>,
    /// Whether the operation may be retried (an onex extension for retry policies).
    pub idempotent: Option<bool>,
    /// Event type (accepted, not interpreted by onex).
    pub event_type: Option<Any>,
    /// Message category (accepted, not interpreted by onex).
    pub message_category: Option<Any>,
    /// Events the handler emits (accepted, not interpreted by onex).
    pub output_events: Option<Any>,
    /// Output fields (accepted, not interpreted by onex).
    pub output_fields: Option<Any>,
    /// Backend (accepted, not interpreted by onex).
    pub backend: Option<Any>,
    /// Direct handler flag (accepted, not interpreted by onex).
    pub direct_handler: Option<Any>,
    /// Dynamic backend field (accepted, not interpreted by onex).
    pub dynamic_backend_field: Option<Any>,
    /// Zero-argument constructor flag (accepted, not interpreted by onex).
    pub zero_arg_constructible: Option<Any>,
    /// State decision matrix (accepted, not interpreted by onex).
    pub state_decision_matrix: Option<Any>,
    /// State transition notes (accepted, not interpreted by onex).
    pub state_transition: Option<Any>,
    /// Timeout evaluation notes (accepted, not interpreted by onex).
    pub timeout_evaluation: Option<Any>,
}

/// A handler: its name, or `{name, module?, handler_type?}`.
#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum HandlerRef {
    /// The handler's name.
    Name(String),
    /// `{name, module?, handler_type?}`.
    Named(NamedHandler),
}

/// A handler as a mapping.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct NamedHandler {
    /// The handler's name.
    pub name: Option<String>,
    /// The Python module (accepted, not interpreted by onex).
    pub module: Option<Any>,
    /// The handler's type (accepted, not interpreted by onex).
    pub handler_type: Option<Any>,
}

/// `effect_operations`: the effect node's I/O operations.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct EffectOperations {
    /// The operations, in order (used when `handler_routing` has no handlers).
    pub operations: Option<Vec<EffectOperation>>,
    /// The retry policy of operations without their own.
    pub default_retry_policy: Option<RetryPolicy>,
    /// The circuit breaker of operations without their own.
    pub default_circuit_breaker: Option<CircuitBreaker>,
    /// Another spelling of `default_circuit_breaker`.
    pub circuit_breaker: Option<CircuitBreaker>,
    /// A version (accepted, not interpreted by onex).
    pub version: Option<Any>,
    /// The subcontract's version (accepted, not interpreted by onex).
    pub subcontract_version: Option<Any>,
    /// The subcontract's name (accepted, not interpreted by onex).
    pub subcontract_name: Option<Any>,
    /// Execution mode (accepted, not interpreted by onex).
    pub execution_mode: Option<Any>,
    /// Observability settings (accepted, not interpreted by onex).
    pub observability: Option<Any>,
    /// A description (accepted, not interpreted by onex).
    pub description: Option<Any>,
    /// Free-form metadata (accepted, not interpreted by onex).
    pub metadata: Option<Any>,
}

/// One `effect_operations.operations[]` entry.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct EffectOperation {
    /// The operation's name: the handler method is its snake_case form.
    pub operation_name: String,
    /// What the operation does. Becomes the handler method's doc comment.
    pub description: Option<String>,
    /// Whether the operation may be retried: retries apply only to idempotent operations.
    pub idempotent: Option<bool>,
    /// How the operation talks to the outside world (`db`, `http`, `kafka`, `filesystem`).
    pub io_config: Option<IoConfig>,
    /// This operation's retry policy (overrides `default_retry_policy`).
    pub retry_policy: Option<RetryPolicy>,
    /// This operation's circuit breaker (overrides `default_circuit_breaker`).
    pub circuit_breaker: Option<CircuitBreaker>,
    /// The operation's timeout in milliseconds.
    pub operation_timeout_ms: Option<u64>,
    /// Response handling: onex reads `fail_on_empty` (a declarative `db` operation that
    /// returns and affects no rows is an error); other keys are accepted, not interpreted.
    pub response_handling: Option<ResponseHandling>,
    /// Free-form metadata (accepted, not interpreted by onex).
    pub metadata: Option<Any>,
    /// The operation's input model (an onex extension; default: the node's `input_model`).
    pub input_model: Option<ModelRef>,
    /// The operation's output model (an onex extension; default: the node's
    /// `output_model`).
    pub output_model: Option<ModelRef>,
}

/// An operation's `response_handling`.
#[derive(JsonSchema)]
pub struct ResponseHandling {
    /// A declarative `db` operation that returns and affects no rows is an error.
    pub fail_on_empty: Option<bool>,
}

/// An operation's `io_config`. A `db` operation with a `query_template` (`$1`, `$2`, …
/// placeholders, never `${…}`, and one `query_params` entry per placeholder) is generated
/// by the macro; without one, its handler method runs the SQL. An `http` POST, PUT or PATCH
/// needs `body_template`.
#[derive(JsonSchema)]
#[schemars(
    deny_unknown_fields,
    extend("allOf" = [
        {
            "if": {
                "required": ["handler_type"],
                "properties": {"handler_type": {"const": "db"}}
            },
            "then": {
                "properties": {"query_template": {"not": {"pattern": "\\$\\{"}}}
            }
        },
        {
            "if": {
                "properties": {
                    "handler_type": {"const": "http"},
                    "method": {"pattern": "^([Pp][Oo][Ss][Tt]|[Pp][Uu][Tt]|[Pp][Aa][Tt][Cc][Hh])$"}
                },
                "required": ["handler_type", "method"]
            },
            "then": {"required": ["body_template"]}
        }
    ])
)]
pub struct IoConfig {
    /// The kind of I/O.
    pub handler_type: HandlerType,
    /// The I/O timeout in milliseconds.
    pub timeout_ms: Option<u64>,
    /// db: the SQL, with `$1`, `$2`, … placeholders (no `${…}` interpolation).
    pub query_template: Option<String>,
    /// db: one `${input.field}` template per SQL placeholder, in order; http: a mapping of
    /// URL query parameters.
    pub query_params: Option<QueryParams>,
    /// http: the method (`GET`, `POST`, …).
    pub method: Option<String>,
    /// db: the statement kind (`select`, `insert`, …); filesystem: `read`, `write`, ….
    pub operation: Option<String>,
    /// http: the request body template (required for POST, PUT and PATCH).
    pub body_template: Option<String>,
    /// db: the connection's name (accepted, not interpreted by onex).
    pub connection_name: Option<Any>,
    /// db: the statement cannot write (default: true for `operation: select`).
    pub read_only: Option<bool>,
    /// http: the URL template (accepted, not interpreted by onex).
    pub url_template: Option<Any>,
    /// http: request headers (accepted, not interpreted by onex).
    pub headers: Option<Any>,
    /// http: follow redirects (accepted, not interpreted by onex).
    pub follow_redirects: Option<Any>,
    /// http: verify TLS certificates (accepted, not interpreted by onex).
    pub verify_ssl: Option<Any>,
    /// kafka: the topic (accepted, not interpreted by onex).
    pub topic: Option<Any>,
    /// kafka: the payload template (accepted, not interpreted by onex).
    pub payload_template: Option<Any>,
    /// kafka: the partition key template (accepted, not interpreted by onex).
    pub partition_key_template: Option<Any>,
    /// kafka: acknowledgement mode (accepted, not interpreted by onex).
    pub acks: Option<Any>,
    /// kafka: compression (accepted, not interpreted by onex).
    pub compression: Option<Any>,
    /// filesystem: the file path template (accepted, not interpreted by onex).
    pub file_path_template: Option<Any>,
    /// filesystem: the destination path template (accepted, not interpreted by onex).
    pub destination_path_template: Option<Any>,
    /// filesystem: atomic writes (accepted, not interpreted by onex).
    pub atomic: Option<Any>,
    /// filesystem: create missing directories (accepted, not interpreted by onex).
    pub create_dirs: Option<Any>,
    /// filesystem: text encoding (accepted, not interpreted by onex).
    pub encoding: Option<Any>,
    /// filesystem: file mode (accepted, not interpreted by onex).
    pub mode: Option<Any>,
    /// filesystem: path security rules (accepted, not interpreted by onex).
    pub security: Option<Any>,
}

/// `io_config.handler_type`.
#[derive(JsonSchema)]
pub enum HandlerType {
    /// A database (SQL) operation.
    #[schemars(rename = "db")]
    Db,
    /// An HTTP call.
    #[schemars(rename = "http")]
    Http,
    /// A Kafka produce.
    #[schemars(rename = "kafka")]
    Kafka,
    /// A filesystem operation.
    #[schemars(rename = "filesystem")]
    Filesystem,
}

/// `io_config.query_params`: SQL parameter templates (db) or URL parameters (http).
#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum QueryParams {
    /// db: one template per `$N` placeholder, e.g. `${input.user_id}`.
    Templates(Vec<String>),
    /// http: URL query parameters.
    Parameters(BTreeMap<String, Any>),
}

/// A retry policy.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Whether retries are on (default true).
    pub enabled: Option<bool>,
    /// Retries after the first attempt.
    pub max_retries: Option<u64>,
    /// How the delay grows between attempts.
    pub backoff_strategy: Option<BackoffStrategy>,
    /// The first delay in milliseconds.
    pub base_delay_ms: Option<u64>,
    /// The longest delay in milliseconds.
    pub max_delay_ms: Option<u64>,
    /// Random spread of each delay, from 0 (none) to 1 (±100%).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub jitter_factor: Option<f64>,
    /// Errors that may be retried (accepted, not interpreted by onex).
    pub retryable_errors: Option<Any>,
    /// Conditions that trigger a retry (accepted, not interpreted by onex).
    pub retry_on: Option<Any>,
}

/// `backoff_strategy`.
#[derive(JsonSchema)]
pub enum BackoffStrategy {
    /// The same delay every time.
    #[schemars(rename = "fixed")]
    Fixed,
    /// Another spelling of `fixed`.
    #[schemars(rename = "constant")]
    Constant,
    /// The delay grows by `base_delay_ms` each attempt.
    #[schemars(rename = "linear")]
    Linear,
    /// The delay doubles each attempt.
    #[schemars(rename = "exponential")]
    Exponential,
}

/// A circuit breaker.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct CircuitBreaker {
    /// Whether the breaker is on (default true).
    pub enabled: Option<bool>,
    /// Consecutive failures that open the breaker.
    pub failure_threshold: Option<u64>,
    /// Successes in the half-open state that close it again.
    pub success_threshold: Option<u64>,
    /// How long the breaker stays open, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Trial requests let through while half-open.
    pub half_open_requests: Option<u64>,
}

/// `event_bus`: the topics the node host serves.
///
/// ONEX topics read `onex.<cmd|evt|dlq|intent|snapshot>.<producer>.<event>.v<N>` (lower-case
/// kebab segments); other names are accepted with a warning.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct EventBus {
    /// Topics the node consumes.
    pub subscribe_topics: Option<Vec<Topic>>,
    /// Topics the node publishes its results on.
    pub publish_topics: Option<Vec<Topic>>,
    /// Dead-letter topics for envelopes that failed.
    pub dlq_topics: Option<Vec<Topic>>,
    /// Another spelling of `subscribe_topics`.
    pub subscribe: Option<Vec<Topic>>,
    /// Another spelling of `publish_topics`.
    pub publish: Option<Vec<Topic>>,
    /// Topics planned for later (accepted, not interpreted by onex).
    pub planned_subscribe_topics: Option<Any>,
    /// A version (accepted, not interpreted by onex).
    pub version: Option<Any>,
    /// Whether a plugin manages the topics (accepted, not interpreted by onex).
    pub plugin_managed: Option<Any>,
}

/// A topic: its name, or `{topic, …}` (other keys are documentation).
#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum Topic {
    /// The topic's name.
    Name(String),
    /// `{topic, description?, …}`.
    Entry(TopicEntry),
}

/// A topic as a mapping; keys besides `topic` are documentation.
#[derive(JsonSchema)]
pub struct TopicEntry {
    /// The topic's name.
    pub topic: String,
    /// What flows on the topic.
    pub description: Option<Any>,
}

/// `descriptor`: handler behaviour.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Descriptor {
    /// `pure`, `impure`, `side_effecting`, …: a compute node must be pure.
    pub purity: Option<String>,
    /// Whether the handler may be retried.
    pub idempotent: Option<bool>,
    /// The handler's timeout in milliseconds.
    pub timeout_ms: Option<u64>,
    /// The handler's retry policy.
    pub retry_policy: Option<RetryPolicy>,
    /// The handler's circuit breaker.
    pub circuit_breaker: Option<CircuitBreaker>,
    /// The node archetype (accepted, not interpreted by onex).
    pub node_archetype: Option<Any>,
    /// Concurrency policy (accepted, not interpreted by onex).
    pub concurrency_policy: Option<Any>,
    /// Observability level (accepted, not interpreted by onex).
    pub observability_level: Option<Any>,
    /// Isolation policy (accepted, not interpreted by onex).
    pub isolation_policy: Option<Any>,
    /// Runtime profiles (accepted, not interpreted by onex).
    pub runtime_profiles: Option<Any>,
    /// Handler kind (accepted, not interpreted by onex).
    pub handler_kind: Option<Any>,
    /// Qdrant URL (accepted, not interpreted by onex).
    pub qdrant_url: Option<Any>,
}

/// `definitions`: models by name (each key is the model's name).
pub struct Models;

impl JsonSchema for Models {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("Models")
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut schema = generator.subschema_for::<BTreeMap<String, ModelDefinition>>();
        schema.insert(
            "description".into(),
            "Models by name: each key names a model (`ModelQueryRequest`).".into(),
        );
        schema
    }
}

/// A model of `definitions`: an object with `properties`, or a string enum.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ModelDefinition {
    /// `object` (the default) with `properties`, or `string`/`enum` with `enum` values.
    #[schemars(rename = "type")]
    pub ty: Option<ModelKind>,
    /// What the model is. Becomes the generated type's doc comment.
    pub description: Option<String>,
    /// The fields, in order: each key is the wire name.
    pub properties: Option<BTreeMap<String, PropertySchema>>,
    /// The fields that must be present (others become `Option`).
    pub required: Option<Vec<String>>,
    /// `forbid` rejects unknown fields when decoding (like `additionalProperties: false`).
    pub extra: Option<Extra>,
    /// Whether the model is immutable.
    pub frozen: Option<bool>,
    /// `false` rejects unknown fields when decoding.
    #[schemars(rename = "additionalProperties")]
    pub additional_properties: Option<Any>,
    /// The values of an enum model.
    #[schemars(rename = "enum")]
    pub values: Option<EnumValues>,
    /// A title (accepted, not interpreted by onex).
    pub title: Option<Any>,
}

/// What a model of `definitions` is.
#[derive(JsonSchema)]
pub enum ModelKind {
    /// A struct with `properties`.
    #[schemars(rename = "object")]
    Object,
    /// A string enum with `enum` values.
    #[schemars(rename = "enum")]
    Enum,
    /// A string enum: needs `enum` values.
    #[schemars(rename = "string")]
    String,
}

/// `extra`: what decoding does with unknown fields.
#[derive(JsonSchema)]
pub enum Extra {
    /// Reject them.
    #[schemars(rename = "forbid")]
    Forbid,
    /// Accept them.
    #[schemars(rename = "allow")]
    Allow,
    /// Ignore them.
    #[schemars(rename = "ignore")]
    Ignore,
}

/// The values of an enum, at least one, without duplicates.
#[derive(JsonSchema)]
#[schemars(transparent)]
pub struct EnumValues(
    #[schemars(length(min = 1))]
    #[schemars(extend("uniqueItems" = true))]
    Vec<EnumValue>,
);

/// An enum value (a scalar, used as text).
#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum EnumValue {
    /// A string value.
    Text(String),
    /// A number, used as its text.
    Number(f64),
    /// A boolean, used as its text.
    Flag(bool),
}

/// A field of a model (or the item/value type of an array/map field).
///
/// It has a `type`, or a `$ref` to another model.
#[derive(JsonSchema)]
#[schemars(
    deny_unknown_fields,
    extend("anyOf" = [{"required": ["type"]}, {"required": ["$ref"]}])
)]
pub struct PropertySchema {
    /// The field's type, or a list such as `[string, "null"]` (the non-null member is the
    /// type; `null` makes it optional).
    #[schemars(rename = "type")]
    pub ty: Option<PropertyType>,
    /// What the field is. Becomes the field's doc comment.
    pub description: Option<String>,
    /// The value when the field is absent (must fit the type; `null` makes it optional).
    pub default: Option<Any>,
    /// A factory for the default value.
    pub default_factory: Option<DefaultFactory>,
    /// Whether `null` is allowed (the field becomes an `Option`).
    pub nullable: Option<bool>,
    /// An inline string enum's values (with `type: string` or `type: enum`).
    #[schemars(rename = "enum")]
    pub values: Option<EnumValues>,
    /// The name of the generated enum type for an inline enum (default: model name + field
    /// name).
    pub enum_class: Option<String>,
    /// The Python module (accepted, not interpreted by onex).
    pub module: Option<Any>,
    /// A map's key type (accepted, not interpreted by onex: keys are strings).
    pub key_type: Option<Any>,
    /// A map's value type (`type: object`/`dict`).
    pub value_type: Option<NestedType>,
    /// An array's item type (`type: array`/`list`).
    pub items: Option<NestedType>,
    /// Another spelling of `items`.
    pub item_type: Option<NestedType>,
    /// A map's value type (`type: object`/`dict`), or `true` for any values.
    #[schemars(rename = "additionalProperties")]
    pub additional_properties: Option<AdditionalProperties>,
    /// A reference to another model: `#/definitions/ModelName`.
    #[schemars(rename = "$ref")]
    pub reference: Option<String>,
    /// The referenced model's name (with `type: ref`).
    #[schemars(rename = "ref")]
    pub ref_name: Option<String>,
    /// `uuid` or `date-time` (with `type: string`), `password` (redacted in `Debug` and
    /// logs).
    pub format: Option<Any>,
    /// Lower bound, inclusive (numbers).
    pub ge: Option<f64>,
    /// Upper bound, inclusive (numbers).
    pub le: Option<f64>,
    /// Lower bound, exclusive (numbers).
    pub gt: Option<f64>,
    /// Upper bound, exclusive (numbers).
    pub lt: Option<f64>,
    /// Another spelling of `ge`.
    pub minimum: Option<f64>,
    /// Another spelling of `le`.
    pub maximum: Option<f64>,
    /// Another spelling of `gt`.
    #[schemars(rename = "exclusiveMinimum")]
    pub exclusive_minimum: Option<f64>,
    /// Another spelling of `lt`.
    #[schemars(rename = "exclusiveMaximum")]
    pub exclusive_maximum: Option<f64>,
    /// Minimum length (strings, in characters; arrays, in items).
    pub min_length: Option<u64>,
    /// Maximum length (strings, in characters; arrays, in items).
    pub max_length: Option<u64>,
    /// Another spelling of `min_length`.
    #[schemars(rename = "minLength")]
    pub min_length_camel: Option<u64>,
    /// Another spelling of `max_length`.
    #[schemars(rename = "maxLength")]
    pub max_length_camel: Option<u64>,
    /// A regular expression (Rust `regex` syntax) the string must match.
    pub pattern: Option<String>,
    /// Whether the value is a secret, redacted in `Debug` and logs (an onex extension).
    pub secret: Option<bool>,
    /// A title (accepted, not interpreted by onex).
    pub title: Option<Any>,
    /// Examples (accepted, not interpreted by onex).
    pub examples: Option<Any>,
    /// Validation notes (accepted, not interpreted by onex).
    pub validation: Option<Any>,
}

/// A field's `type`: one name, or a list of names (`[string, "null"]`).
#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum PropertyType {
    /// One type.
    One(TypeName),
    /// A list of types; the first that is not `null` is the type.
    Union(Vec<TypeNameOrNull>),
}

/// A field type name. JSON Schema names and pydantic spellings are both accepted.
#[derive(JsonSchema)]
pub enum TypeName {
    /// A string.
    #[schemars(rename = "string")]
    String,
    /// Another spelling of `string`.
    #[schemars(rename = "str")]
    Str,
    /// A signed integer.
    #[schemars(rename = "integer")]
    Integer,
    /// Another spelling of `integer`.
    #[schemars(rename = "int")]
    Int,
    /// A floating-point number.
    #[schemars(rename = "number")]
    Number,
    /// Another spelling of `number`.
    #[schemars(rename = "float")]
    Float,
    /// A boolean.
    #[schemars(rename = "boolean")]
    Boolean,
    /// Another spelling of `boolean`.
    #[schemars(rename = "bool")]
    Bool,
    /// A UUID.
    #[schemars(rename = "uuid")]
    Uuid,
    /// An RFC 3339 date-time.
    #[schemars(rename = "datetime")]
    Datetime,
    /// Another spelling of `datetime`.
    #[schemars(rename = "date-time")]
    DateTime,
    /// Any JSON value.
    #[schemars(rename = "any")]
    Any,
    /// A list: its item type is `items` (default: any).
    #[schemars(rename = "array")]
    Array,
    /// Another spelling of `array`.
    #[schemars(rename = "list")]
    List,
    /// A string-keyed map: its value type is `additionalProperties`/`value_type` (default:
    /// any).
    #[schemars(rename = "object")]
    Object,
    /// Another spelling of `object`.
    #[schemars(rename = "dict")]
    Dict,
    /// An inline string enum: its values are `enum`.
    #[schemars(rename = "enum")]
    Enum,
    /// Another model of `definitions`, named by `ref`.
    #[schemars(rename = "ref")]
    Ref,
}

/// A member of a `type` list: a type name or `null`.
#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum TypeNameOrNull {
    /// A type name.
    Type(TypeName),
    /// `null`: the field may be null.
    Null(NullTypeName),
}

/// The `null` type name.
#[derive(JsonSchema)]
pub enum NullTypeName {
    /// The field may be null.
    #[schemars(rename = "null")]
    Null,
}

/// An item or value type: a type name, or a nested field schema.
#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum NestedType {
    /// A type name, e.g. `string`.
    Name(TypeName),
    /// A nested schema, e.g. `{type: array, items: string}` or `{$ref: …}`.
    Schema(Box<PropertySchema>),
}

/// A map field's value type, or `true` for any values.
#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum AdditionalProperties {
    /// `true`: values of any type.
    AnyValue(AnyValues),
    /// The value type.
    Type(NestedType),
}

/// `true`: values of any type.
#[derive(JsonSchema)]
#[schemars(transparent)]
pub struct AnyValues(#[schemars(extend("const" = true))] bool);

/// `dependencies`: a list of `{name, type, …}` or `{required: [...], optional: [...]}`.
#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum Dependencies {
    /// One entry per dependency.
    List(Vec<Dependency>),
    /// Names of required and optional dependencies.
    Groups(DependencyGroups),
}

/// A dependency entry; other keys (`module`, `class_name`, `env_var`, …) are kept.
#[derive(JsonSchema)]
pub struct Dependency {
    /// The dependency's name.
    pub name: String,
    /// Its kind (`protocol`, `service`, `environment`, …).
    #[schemars(rename = "type")]
    pub ty: Option<Any>,
    /// What it is for.
    pub description: Option<Any>,
}

/// Required and optional dependency names.
#[derive(JsonSchema)]
pub struct DependencyGroups {
    /// Dependencies the node cannot run without.
    pub required: Option<Vec<String>>,
    /// Dependencies the node can run without.
    pub optional: Option<Vec<String>>,
}

/// A capability: its name, or `{name, description}`.
#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum Capability {
    /// The capability's name.
    Name(String),
    /// `{name, description?}`.
    Entry(CapabilityEntry),
}

/// A capability as a mapping.
#[derive(JsonSchema)]
pub struct CapabilityEntry {
    /// The capability's name.
    pub name: String,
    /// What it does.
    pub description: Option<Any>,
}

/// A reducer's state machine (`state_transitions` or `state_machine`).
///
/// It needs `initial_state` and at least one state. Transitions go between declared states
/// (`from_state: "*"` matches any state); candidates for a trigger are tried by `priority`
/// (highest first, then declaration order), and the first whose required conditions hold
/// wins.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct StateMachine {
    /// A version.
    pub version: Option<Version>,
    /// The state machine's name.
    pub state_machine_name: Option<String>,
    /// The state machine's version.
    pub state_machine_version: Option<Version>,
    /// What the state machine does.
    pub description: Option<String>,
    /// The state a new instance starts in.
    pub initial_state: String,
    /// The states.
    #[schemars(length(min = 1))]
    pub states: Vec<State>,
    /// The transitions, in priority order within equal `priority`.
    pub transitions: Option<Vec<Transition>>,
    /// States with no way out (same as `is_terminal: true`).
    pub terminal_states: Option<Vec<String>>,
    /// Error states.
    pub error_states: Option<Vec<String>>,
    /// Whether state is persisted (default true).
    pub persistence_enabled: Option<bool>,
    /// Operations on the state machine (a list; accepted, not interpreted by onex).
    pub operations: Option<Vec<Any>>,
    /// Correlation id (accepted, not interpreted by onex).
    pub correlation_id: Option<Any>,
    /// Checkpoint interval (accepted, not interpreted by onex).
    pub checkpoint_interval_ms: Option<Any>,
    /// Maximum checkpoints (accepted, not interpreted by onex).
    pub max_checkpoints: Option<Any>,
    /// Recovery flag (accepted, not interpreted by onex).
    pub recovery_enabled: Option<Any>,
    /// Recovery strategies (accepted, not interpreted by onex).
    pub recovery_strategies: Option<Any>,
    /// Rollback flag (accepted, not interpreted by onex).
    pub rollback_enabled: Option<Any>,
    /// Conflict resolution strategy (accepted, not interpreted by onex).
    pub conflict_resolution_strategy: Option<Any>,
    /// Concurrent transitions flag (accepted, not interpreted by onex).
    pub concurrent_transitions_allowed: Option<Any>,
    /// Transition timeout (accepted, not interpreted by onex).
    pub transition_timeout_ms: Option<Any>,
    /// Strict validation flag (accepted, not interpreted by onex).
    pub strict_validation_enabled: Option<Any>,
    /// State monitoring flag (accepted, not interpreted by onex).
    pub state_monitoring_enabled: Option<Any>,
    /// Event logging flag (accepted, not interpreted by onex).
    pub event_logging_enabled: Option<Any>,
    /// Free-form metadata (accepted, not interpreted by onex).
    pub metadata: Option<Any>,
}

/// A state.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct State {
    /// The state's name: a variant of the generated state enum.
    pub state_name: String,
    /// What the state means. Becomes the variant's doc comment.
    pub description: Option<String>,
    /// A version.
    pub version: Option<Version>,
    /// `error` marks an error state.
    pub state_type: Option<String>,
    /// A terminal state has no outgoing transitions.
    pub is_terminal: Option<bool>,
    /// Whether the state can be recovered from.
    pub is_recoverable: Option<bool>,
    /// Time allowed in the state, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Intents emitted on entering the state.
    pub entry_actions: Option<Vec<String>>,
    /// Intents emitted on leaving the state.
    pub exit_actions: Option<Vec<String>>,
    /// Context fields the state needs.
    pub required_data: Option<Vec<String>>,
    /// Context fields the state may use.
    pub optional_data: Option<Vec<String>>,
    /// Validation rule names.
    pub validation_rules: Option<Vec<String>>,
    /// Free-form metadata (accepted, not interpreted by onex).
    pub metadata: Option<Any>,
}

/// A transition.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Transition {
    /// The transition's name (default: `<from>_to_<to>_on_<trigger>`).
    pub transition_name: Option<String>,
    /// The source state, or `*` for any state.
    pub from_state: String,
    /// The target state (not `*`).
    pub to_state: String,
    /// The trigger (event) that fires the transition: a variant of the generated trigger enum.
    pub trigger: String,
    /// Higher priorities are tried first (default 0).
    pub priority: Option<i64>,
    /// Guards: the transition fires when all required conditions hold.
    pub conditions: Option<Vec<Condition>>,
    /// Intents emitted when the transition fires.
    pub actions: Option<Vec<Action>>,
    /// What the transition does.
    pub description: Option<String>,
    /// A version.
    pub version: Option<Version>,
    /// Transitions that undo this one.
    pub rollback_transitions: Option<Vec<String>>,
    /// Whether the transition is atomic.
    pub is_atomic: Option<bool>,
    /// Whether the transition is retried.
    pub retry_enabled: Option<bool>,
    /// Retries.
    pub max_retries: Option<u64>,
    /// Delay between retries in milliseconds.
    pub retry_delay_ms: Option<u64>,
}

/// A guard condition.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Condition {
    /// The condition's name.
    pub condition_name: Option<String>,
    /// The condition's type.
    pub condition_type: Option<String>,
    /// `field operator value`, e.g. `retry_count less_than 3`; unary operators take no value
    /// (`node_id exists`). Operators: `==` `!=` `equals` `not_equals` `<` `>` `<=` `>=`
    /// `less_than` `greater_than` `less_than_or_equal` `greater_than_or_equal` `min_length`
    /// `max_length` `exists` `not_exists` `in` `not_in` (comma-separated values) `contains`
    /// `matches`, and the infra forms `is_present` `is_absent` `is_empty` `is_not_empty`
    /// `is_valid`.
    pub expression: String,
    /// Whether the condition must hold (default true).
    pub required: Option<bool>,
    /// What the condition checks.
    pub description: Option<String>,
    /// A version.
    pub version: Option<Version>,
    /// The message when the condition fails.
    pub error_message: Option<String>,
    /// Retries.
    pub retry_count: Option<u64>,
    /// Timeout in milliseconds.
    pub timeout_ms: Option<u64>,
}

/// A transition action: an intent the reducer emits.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Action {
    /// The action's name: a variant of the generated intent enum.
    pub action_name: String,
    /// The action's type.
    pub action_type: Option<String>,
    /// The action's configuration.
    pub action_config: Option<BTreeMap<String, Any>>,
    /// Order among the transition's actions.
    pub execution_order: Option<u64>,
    /// Whether a failure of the action fails the transition.
    pub is_critical: Option<bool>,
    /// The action that undoes this one.
    pub rollback_action: Option<String>,
    /// Timeout in milliseconds.
    pub timeout_ms: Option<u64>,
    /// What the action does.
    pub description: Option<String>,
    /// A version.
    pub version: Option<Version>,
}

/// `workflow_coordination`: an orchestrator's workflow and related settings.
///
/// Lenient like the Python reference: unknown keys are accepted (onex warns about keys close
/// to known ones).
#[derive(JsonSchema)]
pub struct WorkflowCoordination {
    /// The workflow: metadata, execution graph and coordination rules.
    pub workflow_definition: Option<WorkflowDefinition>,
    /// A version (not interpreted by onex).
    pub version: Option<Any>,
    /// The subcontract's version (not interpreted by onex).
    pub subcontract_version: Option<Any>,
    /// Lifecycle settings (not interpreted by onex).
    pub lifecycle: Option<Any>,
    /// Workflow topics (not interpreted by onex; the node host reads the top-level
    /// `event_bus`).
    pub event_bus: Option<Any>,
    /// Step templates (not interpreted by onex).
    pub step_templates: Option<Any>,
    /// Subscriptions (not interpreted by onex).
    pub subscriptions: Option<Any>,
    /// Publications (not interpreted by onex).
    pub publications: Option<Any>,
}

/// `workflow_definition`.
#[derive(JsonSchema)]
pub struct WorkflowDefinition {
    /// The workflow's name and execution mode.
    pub workflow_metadata: Option<WorkflowMetadata>,
    /// The steps and their dependencies.
    pub execution_graph: Option<ExecutionGraph>,
    /// Parallelism, timeouts, retries and the failure strategy.
    pub coordination_rules: Option<CoordinationRules>,
}

/// `workflow_metadata`.
#[derive(JsonSchema)]
pub struct WorkflowMetadata {
    /// The workflow's name (default: the contract's name).
    pub workflow_name: Option<String>,
    /// How steps run (default: `sequential`, or `parallel` when
    /// `coordination_rules.parallel_execution_allowed` is true).
    pub execution_mode: Option<ExecutionMode>,
    /// The workflow's version (not interpreted by onex).
    pub workflow_version: Option<Any>,
    /// What the workflow does (not interpreted by onex).
    pub description: Option<Any>,
    /// The author (not interpreted by onex).
    pub author: Option<Any>,
    /// Tags (not interpreted by onex).
    pub tags: Option<Any>,
    /// Documentation link (not interpreted by onex).
    pub documentation_url: Option<Any>,
}

/// `execution_graph`: the steps (a DAG: no cycles).
#[derive(JsonSchema)]
pub struct ExecutionGraph {
    /// The steps, in declaration order.
    pub nodes: Option<Vec<Step>>,
    /// Edges between steps; each must match a `depends_on` entry.
    pub edges: Option<Vec<Edge>>,
}

/// A workflow step.
#[derive(JsonSchema)]
pub struct Step {
    /// The step's unique id: the handler method is its snake_case form.
    #[schemars(regex(pattern = r"\S"))]
    pub node_id: String,
    /// The kind of node the step runs.
    pub node_type: StepNodeType,
    /// The ids of the steps this one runs after.
    pub depends_on: Option<Vec<String>>,
    /// What the step does. Becomes the handler method's doc comment.
    pub description: Option<String>,
    /// Whether the step has a compensation handler (for `failure_recovery_strategy:
    /// compensate`).
    pub compensable: Option<bool>,
    /// The node's name (not interpreted by onex).
    pub node_name: Option<Any>,
    /// The target node type (not interpreted by onex).
    pub target_node_type: Option<Any>,
    /// Free-form metadata (not interpreted by onex).
    pub metadata: Option<Any>,
    /// The contract of the node the step runs (not interpreted by onex).
    pub contract_ref: Option<Any>,
    /// Step configuration (not interpreted by onex).
    pub step_config: Option<Any>,
}

/// An edge of the execution graph.
#[derive(JsonSchema)]
pub struct Edge {
    /// The step that runs first.
    pub from_node: String,
    /// The step that runs after it.
    pub to_node: String,
    /// The edge's type (not interpreted by onex).
    pub edge_type: Option<Any>,
    /// What the edge means (not interpreted by onex).
    pub description: Option<Any>,
    /// A condition (not interpreted by onex).
    pub condition: Option<Any>,
    /// Free-form metadata (not interpreted by onex).
    pub metadata: Option<Any>,
}

/// `coordination_rules`.
#[derive(JsonSchema)]
pub struct CoordinationRules {
    /// How steps run (must agree with `workflow_metadata.execution_mode`).
    pub execution_mode: Option<ExecutionMode>,
    /// `true` means `parallel` when no execution mode is given.
    pub parallel_execution_allowed: Option<bool>,
    /// The most steps that run at once (default: no limit).
    #[schemars(range(min = 1, max = 4_294_967_295u64))]
    pub max_parallel_steps: Option<u64>,
    /// Another name for `max_parallel_steps` (both must agree).
    #[schemars(range(min = 1, max = 4_294_967_295u64))]
    pub max_parallel_branches: Option<u64>,
    /// What happens when a step fails (default `fail_fast`).
    pub failure_recovery_strategy: Option<FailureStrategy>,
    /// Retries of a failed step (with `retry`).
    #[schemars(range(max = 4_294_967_295u64))]
    pub max_retries: Option<u64>,
    /// The first retry delay in milliseconds.
    pub retry_backoff_ms: Option<u64>,
    /// Each retry waits the previous delay times this (at least 1.0).
    #[schemars(range(min = 1.0))]
    pub retry_backoff_multiplier: Option<f64>,
    /// Time allowed per step, in milliseconds.
    #[schemars(range(min = 1))]
    pub step_timeout_ms: Option<u64>,
    /// Time allowed for the whole workflow, in milliseconds.
    #[schemars(range(min = 1))]
    pub timeout_ms: Option<u64>,
    /// Dependency resolution flag (not interpreted by onex).
    pub dependency_resolution_enabled: Option<Any>,
    /// Cycle detection flag (onex always rejects cycles).
    pub detect_cycles: Option<Any>,
    /// Fail on cycles flag (onex always rejects cycles).
    pub fail_on_cycle: Option<Any>,
    /// Partial completion flag (not interpreted by onex).
    pub allow_partial_completion: Option<Any>,
    /// Minimum completion percentage (not interpreted by onex).
    pub min_required_steps_completion_percent: Option<Any>,
    /// Resource constraints (not interpreted by onex).
    pub resource_constraints: Option<Any>,
    /// Step metrics flag (not interpreted by onex).
    pub emit_step_metrics: Option<Any>,
    /// Workflow events flag (not interpreted by onex).
    pub emit_workflow_events: Option<Any>,
    /// Dependency graph flag (not interpreted by onex).
    pub emit_dependency_graph: Option<Any>,
    /// Load balancing flag (not interpreted by onex).
    pub enable_load_balancing: Option<Any>,
    /// Load balancing strategy (not interpreted by onex).
    pub load_balance_strategy: Option<Any>,
    /// Recovery flag (not interpreted by onex).
    pub recovery_enabled: Option<Any>,
    /// Checkpoint flag (not interpreted by onex).
    pub checkpoint_enabled: Option<Any>,
    /// Checkpoint interval (not interpreted by onex).
    pub checkpoint_interval_ms: Option<Any>,
    /// State persistence flag (not interpreted by onex).
    pub state_persistence_enabled: Option<Any>,
    /// Rollback flag (not interpreted by onex).
    pub rollback_enabled: Option<Any>,
}
