//! The contract model: the top level of an ONEX contract and the sections onex executes.
//!
//! The top level is lenient (unknown keys are kept as warnings); the sections onex executes
//! (`handler_routing`, `effect_operations`, `event_bus`, `definitions`, model references,
//! versions) are strict: an unknown key there is an error with a "did you mean" hint.

use crate::diag::{Diagnostic, Diagnostics};
use crate::kind::{NODE_TYPES, NodeKind, NodeType, node_type};
use crate::read::{Fields, Spanned, Unknown, string, type_error};
use crate::schema::{self, ModelDef};
use crate::yaml::{Loc, Node};

/// Top-level keys onex knows (typed ones and ONEX ones it keeps without interpreting).
pub const TOP_LEVEL_KEYS: &[&str] = &[
    "name",
    "node_name",
    "contract_name",
    "node_id",
    "node_type",
    "contract_version",
    "node_version",
    "version",
    "description",
    "fingerprint",
    "input_model",
    "output_model",
    "handler_routing",
    "effect_operations",
    "event_bus",
    "descriptor",
    "definitions",
    "dependencies",
    "capabilities",
    "state_transitions",
    "state_machine",
    "workflow_coordination",
    "metadata",
    "io_operations",
    "handlers",
    "handler_id",
    "subscriptions",
    "publications",
    "published_events",
    "consumed_events",
    "error_handling",
    "health_check",
    "profile_tags",
    "capability_inputs",
    "capability_outputs",
    "db_repository",
    "workflow_id",
    "initial_command",
    "terminal_event",
    "nodes",
    "event_flow",
    "handler",
    "routing",
];

/// What kind of ONEX document a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentKind {
    /// A node contract of the given kind.
    Node(NodeKind),
    /// The `workflow` dialect (`workflow_id`, `nodes`, `event_flow`).
    Workflow,
    /// A handler contract (`handler_id`, `descriptor`, no `node_type`).
    HandlerContract,
    /// A `db_repository` contract.
    DbRepository,
    /// Anything else without a `node_type` (an `!include` fragment, say).
    Fragment,
}

impl DocumentKind {
    /// A short name for reports.
    pub fn describe(self) -> String {
        match self {
            DocumentKind::Node(kind) => format!("{kind} node contract"),
            DocumentKind::Workflow => "workflow document".into(),
            DocumentKind::HandlerContract => "handler contract".into(),
            DocumentKind::DbRepository => "db repository contract".into(),
            DocumentKind::Fragment => "contract fragment".into(),
        }
    }
}

/// A `major.minor.patch` version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A reference to a model: `"pkg.module.ModelX"` or `{name, module?, description?}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelRef {
    /// The model's name (the last dotted segment), resolved to a Rust type by name.
    pub name: Spanned<String>,
    /// The Python module, when given.
    pub module: Option<String>,
    /// The description, when given.
    pub description: Option<String>,
}

/// `handler_routing.routing_strategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoutingStrategy {
    /// Route by the payload's `operation` field.
    OperationMatch,
    /// Route by the envelope's `payload_type` (the event model's name).
    PayloadTypeMatch,
}

/// One `handler_routing.handlers[]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteEntry {
    /// Where the entry starts.
    pub loc: Loc,
    /// `operation` (operation routing).
    pub operation: Option<Spanned<String>>,
    /// `event_model` (payload-type routing, and the entry's input type).
    pub event_model: Option<ModelRef>,
    /// `output_model` (an onex extension: the entry's output type).
    pub output_model: Option<ModelRef>,
    /// `handler.name`.
    pub handler: Option<Spanned<String>>,
    /// `description`.
    pub description: Option<String>,
    /// `idempotent` (an onex extension for retries).
    pub idempotent: Option<bool>,
}

/// `handler_routing`.
#[derive(Clone, Debug, PartialEq)]
pub struct HandlerRouting {
    /// Where the section starts.
    pub loc: Loc,
    /// The strategy (absent when only `default_handler` is given).
    pub strategy: Option<Spanned<RoutingStrategy>>,
    /// The entries in contract order.
    pub handlers: Vec<RouteEntry>,
    /// `default_handler`.
    pub default_handler: Option<Spanned<String>>,
}

/// A retry policy (`retry_policy`, `default_retry_policy`, `descriptor.retry_policy`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RetryPolicy {
    /// `enabled` (default true).
    pub enabled: Option<bool>,
    /// `max_retries`.
    pub max_retries: Option<u64>,
    /// `backoff_strategy` (`fixed`, `linear`, `exponential`).
    pub backoff_strategy: Option<Spanned<String>>,
    /// `base_delay_ms`.
    pub base_delay_ms: Option<u64>,
    /// `max_delay_ms`.
    pub max_delay_ms: Option<u64>,
    /// `jitter_factor` (0..=1).
    pub jitter_factor: Option<Spanned<f64>>,
}

/// A circuit breaker (`circuit_breaker`, `default_circuit_breaker`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CircuitBreaker {
    /// `enabled` (default true).
    pub enabled: Option<bool>,
    /// `failure_threshold`.
    pub failure_threshold: Option<u64>,
    /// `success_threshold`.
    pub success_threshold: Option<u64>,
    /// `timeout_ms`: how long the breaker stays open.
    pub timeout_ms: Option<u64>,
    /// `half_open_requests`.
    pub half_open_requests: Option<u64>,
}

/// An `io_config` block of an effect operation.
#[derive(Clone, Debug, PartialEq)]
pub struct IoConfig {
    /// Where the block starts.
    pub loc: Loc,
    /// `handler_type` (`db`, `http`, `kafka`, `filesystem`).
    pub handler_type: Spanned<String>,
    /// `timeout_ms`.
    pub timeout_ms: Option<u64>,
    /// `query_template` (db).
    pub query_template: Option<Spanned<String>>,
    /// `query_params` (db: a list of `${input.x}` templates).
    pub query_params: Vec<Spanned<String>>,
    /// `method` (http).
    pub method: Option<Spanned<String>>,
    /// `operation` (db: `select`, `insert`, …; filesystem: `read`, `write`, …).
    pub operation: Option<Spanned<String>>,
    /// `body_template` (http).
    pub body_template: Option<Spanned<String>>,
    /// `read_only` (db).
    pub read_only: Option<Spanned<bool>>,
}

/// One `effect_operations.operations[]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct EffectOperation {
    /// Where the entry starts.
    pub loc: Loc,
    /// `operation_name`.
    pub name: Spanned<String>,
    /// `description`.
    pub description: Option<String>,
    /// `idempotent`.
    pub idempotent: Option<Spanned<bool>>,
    /// `io_config`.
    pub io_config: Option<IoConfig>,
    /// `retry_policy`.
    pub retry_policy: Option<(Loc, RetryPolicy)>,
    /// `circuit_breaker`.
    pub circuit_breaker: Option<CircuitBreaker>,
    /// `operation_timeout_ms`.
    pub timeout_ms: Option<u64>,
    /// `response_handling.fail_on_empty`.
    pub fail_on_empty: Option<Spanned<bool>>,
    /// `input_model` (onex extension).
    pub input_model: Option<ModelRef>,
    /// `output_model` (onex extension).
    pub output_model: Option<ModelRef>,
}

/// `effect_operations`.
#[derive(Clone, Debug, PartialEq)]
pub struct EffectOperations {
    /// Where the section starts.
    pub loc: Loc,
    /// The operations in contract order.
    pub operations: Vec<EffectOperation>,
    /// `default_retry_policy`.
    pub default_retry_policy: Option<RetryPolicy>,
    /// `default_circuit_breaker` (or `circuit_breaker`).
    pub default_circuit_breaker: Option<CircuitBreaker>,
}

/// A topic with where it was written.
pub type Topic = Spanned<String>;

/// `event_bus`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventBus {
    /// `subscribe_topics` (or `subscribe`).
    pub subscribe: Vec<Topic>,
    /// `publish_topics` (or `publish`).
    pub publish: Vec<Topic>,
    /// `dlq_topics`.
    pub dlq: Vec<Topic>,
}

/// `descriptor` (handler behaviour).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Descriptor {
    /// `purity` (`pure`, `impure`, `side_effecting`, …).
    pub purity: Option<Spanned<String>>,
    /// `idempotent`.
    pub idempotent: Option<bool>,
    /// `timeout_ms`.
    pub timeout_ms: Option<u64>,
    /// `retry_policy`.
    pub retry_policy: Option<RetryPolicy>,
    /// `circuit_breaker`.
    pub circuit_breaker: Option<CircuitBreaker>,
}

/// A parsed ONEX contract.
#[derive(Clone, Debug, PartialEq)]
pub struct Contract {
    /// The whole document (with `!include`s resolved), for sections read later.
    pub root: Node,
    /// What the document is.
    pub kind: DocumentKind,
    /// `node_type` as written.
    pub node_type: Option<Spanned<String>>,
    /// `name`, else `node_name`, else `contract_name`.
    pub name: Option<Spanned<String>>,
    /// `contract_version`.
    pub contract_version: Option<Spanned<Version>>,
    /// `node_version`.
    pub node_version: Option<Spanned<Version>>,
    /// `description`.
    pub description: Option<String>,
    /// `fingerprint` as declared.
    pub fingerprint: Option<Spanned<String>>,
    /// `input_model`.
    pub input_model: Option<ModelRef>,
    /// `output_model`.
    pub output_model: Option<ModelRef>,
    /// `handler_routing`.
    pub handler_routing: Option<HandlerRouting>,
    /// `effect_operations`.
    pub effect_operations: Option<EffectOperations>,
    /// `event_bus`.
    pub event_bus: EventBus,
    /// `descriptor`.
    pub descriptor: Option<Descriptor>,
    /// `definitions`, lowered to model definitions, in contract order.
    pub definitions: Vec<ModelDef>,
    /// The FSM block (`state_transitions` or `state_machine`), parsed by the reducer layer.
    pub fsm: Option<Node>,
    /// `workflow_coordination`, parsed by the orchestrator layer.
    pub workflow: Option<Node>,
    /// Top-level keys onex does not know, kept as written.
    pub unknown_keys: Vec<Spanned<String>>,
}

impl Contract {
    /// Reads a contract from its (include-resolved) YAML tree, recording every problem.
    ///
    /// Returns a contract even when errors were recorded, so later checks still run.
    pub fn from_node(root: Node, d: &mut Diagnostics) -> Option<Contract> {
        let top = Fields::new(&root, "contract", TOP_LEVEL_KEYS, Unknown::Warn, d)?;
        let unknown_keys = root
            .as_map()
            .unwrap_or_default()
            .iter()
            .filter_map(|(k, _)| {
                let text = k.scalar_text()?;
                (!TOP_LEVEL_KEYS.contains(&text)).then(|| Spanned::new(text.to_owned(), k.loc))
            })
            .collect();

        let node_type = top.str("node_type", d);
        let kind = classify(&top, node_type.as_ref(), d);
        let is_node = matches!(kind, DocumentKind::Node(_));

        let contract_version = match top.get("contract_version") {
            Some(v) => version(v, "contract_version", d),
            None if is_node => {
                d.push(
                    Diagnostic::error(
                        "missing-key",
                        root.loc,
                        "a node contract needs `contract_version`",
                    )
                    .with_help("add `contract_version: {major: 1, minor: 0, patch: 0}`"),
                );
                None
            }
            None => None,
        };
        let name = ["name", "node_name", "contract_name"]
            .iter()
            .find_map(|key| top.get(key).map(|v| (key, v)))
            .and_then(|(key, v)| string(v, key, d));

        let contract = Contract {
            kind,
            name,
            contract_version,
            node_version: top
                .get("node_version")
                .and_then(|v| version(v, "node_version", d)),
            description: top.str("description", d).map(|s| s.value),
            fingerprint: top.str("fingerprint", d),
            input_model: top
                .get("input_model")
                .and_then(|v| model_ref(v, "input_model", d)),
            output_model: top
                .get("output_model")
                .and_then(|v| model_ref(v, "output_model", d)),
            handler_routing: top
                .get("handler_routing")
                .and_then(|v| handler_routing(v, d)),
            effect_operations: top
                .get("effect_operations")
                .and_then(|v| effect_operations(v, d)),
            event_bus: top
                .get("event_bus")
                .map(|v| event_bus(v, d))
                .unwrap_or_default(),
            descriptor: top.get("descriptor").and_then(|v| descriptor(v, d)),
            definitions: top
                .get("definitions")
                .map(|v| schema::definitions(v, d))
                .unwrap_or_default(),
            fsm: top
                .get("state_transitions")
                .or_else(|| top.get("state_machine"))
                .cloned(),
            workflow: top.get("workflow_coordination").cloned(),
            node_type,
            unknown_keys,
            root: root.clone(),
        };
        Some(contract)
    }

    /// The node kind, when this is a node contract.
    pub fn node_kind(&self) -> Option<NodeKind> {
        match self.kind {
            DocumentKind::Node(kind) => Some(kind),
            _ => None,
        }
    }

    /// The definition of the model with this name, if the contract has one.
    pub fn definition(&self, name: &str) -> Option<&ModelDef> {
        self.definitions.iter().find(|m| m.name.value == name)
    }
}

fn classify(
    top: &Fields<'_>,
    node_type_value: Option<&Spanned<String>>,
    d: &mut Diagnostics,
) -> DocumentKind {
    if let Some(nt) = node_type_value {
        return match node_type(&nt.value) {
            Some(NodeType::Node(kind)) => DocumentKind::Node(kind),
            Some(NodeType::Workflow) => DocumentKind::Workflow,
            None => {
                let diag = Diagnostic::error(
                    "unknown-node-type",
                    nt.loc,
                    format!("unknown `node_type` `{}`", nt.value),
                );
                let upper = nt.value.to_ascii_uppercase();
                d.push(match crate::diag::did_you_mean(&upper, NODE_TYPES) {
                    Some(best) => diag.with_help(format!("did you mean `{best}`?")),
                    None => diag.with_help(
                        "use EFFECT_GENERIC, COMPUTE_GENERIC, REDUCER_GENERIC or ORCHESTRATOR_GENERIC",
                    ),
                });
                DocumentKind::Fragment
            }
        };
    }
    if top.get("handler_id").is_some() {
        DocumentKind::HandlerContract
    } else if top.get("db_repository").is_some() {
        DocumentKind::DbRepository
    } else if top.get("workflow_id").is_some() {
        DocumentKind::Workflow
    } else {
        DocumentKind::Fragment
    }
}

/// Reads a version: `{major, minor, patch}` or `"1.2.3"`.
pub fn version(node: &Node, what: &str, d: &mut Diagnostics) -> Option<Spanned<Version>> {
    if let Some(text) = node.scalar_text().filter(|_| node.as_map().is_none()) {
        let parts: Vec<Option<u64>> = text.split('.').map(|p| p.parse().ok()).collect();
        if let [Some(major), Some(minor), Some(patch)] = parts[..] {
            return Some(Spanned::new(
                Version {
                    major,
                    minor,
                    patch,
                },
                node.loc,
            ));
        }
        d.push(type_error(node, what, "a version").with_help(format!(
            "write `{what}: \"1.0.0\"` or `{what}: {{major: 1, minor: 0, patch: 0}}`"
        )));
        return None;
    }
    let f = Fields::new(
        node,
        what,
        &["major", "minor", "patch", "prerelease", "build"],
        Unknown::Deny,
        d,
    )?;
    let mut part = |key: &str| match f.u64(key, d) {
        Some(v) => Some(v.value),
        None if f.get(key).is_none() => {
            d.push(
                Diagnostic::error("missing-key", node.loc, format!("`{what}` needs `{key}`"))
                    .with_help(format!("`{what}` is `{{major: M, minor: m, patch: p}}`")),
            );
            None
        }
        None => None,
    };
    let (major, minor, patch) = (part("major"), part("minor"), part("patch"));
    Some(Spanned::new(
        Version {
            major: major?,
            minor: minor?,
            patch: patch?,
        },
        node.loc,
    ))
}

/// Reads a model reference (dotted string or mapping).
pub fn model_ref(node: &Node, what: &str, d: &mut Diagnostics) -> Option<ModelRef> {
    if let Some(text) = node.as_str() {
        let name = text.rsplit('.').next().unwrap_or(text);
        let module = text.rsplit_once('.').map(|(m, _)| m.to_owned());
        return Some(ModelRef {
            name: Spanned::new(name.to_owned(), node.loc),
            module,
            description: None,
        });
    }
    let f = Fields::new(
        node,
        what,
        &["name", "module", "description"],
        Unknown::Deny,
        d,
    )?;
    Some(ModelRef {
        name: f.required_str("name", what, d)?,
        module: f.str("module", d).map(|s| s.value),
        description: f.str("description", d).map(|s| s.value),
    })
}

const ROUTING_KEYS: &[&str] = &[
    "routing_strategy",
    "handlers",
    "default_handler",
    "version",
    "handler_dependencies",
    "execution_mode",
    "max_timeout_seconds",
    "partial_failure_handling",
    "aggregation_strategy",
];

const ROUTE_KEYS: &[&str] = &[
    "operation",
    "event_model",
    "output_model",
    "handler",
    "description",
    "idempotent",
    "event_type",
    "message_category",
    "output_events",
    "output_fields",
    "backend",
    "direct_handler",
    "dynamic_backend_field",
    "zero_arg_constructible",
    "state_decision_matrix",
    "state_transition",
    "timeout_evaluation",
];

fn handler_routing(node: &Node, d: &mut Diagnostics) -> Option<HandlerRouting> {
    let f = Fields::new(node, "handler_routing", ROUTING_KEYS, Unknown::Deny, d)?;
    let strategy = f
        .str("routing_strategy", d)
        .and_then(|s| match s.value.as_str() {
            "operation_match" => Some(Spanned::new(RoutingStrategy::OperationMatch, s.loc)),
            "payload_type_match" => Some(Spanned::new(RoutingStrategy::PayloadTypeMatch, s.loc)),
            other => {
                let diag = Diagnostic::error(
                    "unknown-routing-strategy",
                    s.loc,
                    format!("unknown `routing_strategy` `{other}`"),
                );
                let options = ["operation_match", "payload_type_match"];
                d.push(match crate::diag::did_you_mean(other, &options) {
                    Some(best) => diag.with_help(format!("did you mean `{best}`?")),
                    None => diag.with_help("use `operation_match` or `payload_type_match`"),
                });
                None
            }
        });
    let handlers = f
        .seq("handlers", d)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, entry)| route_entry(entry, i, d))
        .collect();
    let default_handler = match f.get("default_handler") {
        Some(v) if v.as_map().is_some() => Fields::new(
            v,
            "default_handler",
            &["name", "module", "handler_type"],
            Unknown::Deny,
            d,
        )
        .and_then(|h| h.str("name", d)),
        Some(v) => string(v, "default_handler", d),
        None => None,
    };
    Some(HandlerRouting {
        loc: node.loc,
        strategy,
        handlers,
        default_handler,
    })
}

fn route_entry(node: &Node, index: usize, d: &mut Diagnostics) -> Option<RouteEntry> {
    let section = format!("handler_routing.handlers[{index}]");
    let f = Fields::new(node, &section, ROUTE_KEYS, Unknown::Deny, d)?;
    let handler = match f.get("handler") {
        Some(h) if h.as_map().is_some() => Fields::new(
            h,
            "handler",
            &["name", "module", "handler_type"],
            Unknown::Deny,
            d,
        )
        .and_then(|h| h.str("name", d)),
        Some(h) => string(h, "handler", d),
        None => None,
    };
    Some(RouteEntry {
        loc: node.loc,
        operation: f.str("operation", d),
        event_model: f
            .get("event_model")
            .and_then(|v| model_ref(v, "event_model", d)),
        output_model: f
            .get("output_model")
            .and_then(|v| model_ref(v, "output_model", d)),
        handler,
        description: f.str("description", d).map(|s| s.value),
        idempotent: f.bool("idempotent", d).map(|b| b.value),
    })
}

const EFFECT_KEYS: &[&str] = &[
    "operations",
    "version",
    "subcontract_version",
    "subcontract_name",
    "execution_mode",
    "default_retry_policy",
    "default_circuit_breaker",
    "circuit_breaker",
    "observability",
    "description",
    "metadata",
];

const OPERATION_KEYS: &[&str] = &[
    "operation_name",
    "description",
    "idempotent",
    "io_config",
    "retry_policy",
    "circuit_breaker",
    "operation_timeout_ms",
    "response_handling",
    "metadata",
    "input_model",
    "output_model",
];

fn effect_operations(node: &Node, d: &mut Diagnostics) -> Option<EffectOperations> {
    let f = Fields::new(node, "effect_operations", EFFECT_KEYS, Unknown::Deny, d)?;
    let operations = f
        .seq("operations", d)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, op)| effect_operation(op, i, d))
        .collect();
    Some(EffectOperations {
        loc: node.loc,
        operations,
        default_retry_policy: f
            .get("default_retry_policy")
            .and_then(|v| retry_policy(v, "default_retry_policy", d)),
        default_circuit_breaker: f
            .get("default_circuit_breaker")
            .or_else(|| f.get("circuit_breaker"))
            .and_then(|v| circuit_breaker(v, "default_circuit_breaker", d)),
    })
}

fn effect_operation(node: &Node, index: usize, d: &mut Diagnostics) -> Option<EffectOperation> {
    let section = format!("effect_operations.operations[{index}]");
    let f = Fields::new(node, &section, OPERATION_KEYS, Unknown::Deny, d)?;
    let name = f.required_str("operation_name", &section, d);
    let op = EffectOperation {
        loc: node.loc,
        description: f.str("description", d).map(|s| s.value),
        idempotent: f.bool("idempotent", d),
        io_config: f.get("io_config").and_then(|v| io_config(v, d)),
        retry_policy: f
            .get("retry_policy")
            .and_then(|v| retry_policy(v, "retry_policy", d).map(|p| (v.loc, p))),
        circuit_breaker: f
            .get("circuit_breaker")
            .and_then(|v| circuit_breaker(v, "circuit_breaker", d)),
        timeout_ms: f.u64("operation_timeout_ms", d).map(|t| t.value),
        fail_on_empty: f.get("response_handling").and_then(|v| {
            Fields::new(v, "response_handling", &[], Unknown::Allow, d)?.bool("fail_on_empty", d)
        }),
        input_model: f
            .get("input_model")
            .and_then(|v| model_ref(v, "input_model", d)),
        output_model: f
            .get("output_model")
            .and_then(|v| model_ref(v, "output_model", d)),
        name: name?,
    };
    Some(op)
}

const IO_KEYS: &[&str] = &[
    "handler_type",
    "timeout_ms",
    // db
    "operation",
    "connection_name",
    "query_template",
    "query_params",
    "read_only",
    // http
    "method",
    "url_template",
    "headers",
    "body_template",
    "follow_redirects",
    "verify_ssl",
    // kafka
    "topic",
    "payload_template",
    "partition_key_template",
    "acks",
    "compression",
    // filesystem
    "file_path_template",
    "destination_path_template",
    "atomic",
    "create_dirs",
    "encoding",
    "mode",
    "security",
];

fn io_config(node: &Node, d: &mut Diagnostics) -> Option<IoConfig> {
    let f = Fields::new(node, "io_config", IO_KEYS, Unknown::Deny, d)?;
    let handler_type = f.required_str("handler_type", "io_config", d)?;
    if !["db", "http", "kafka", "filesystem"].contains(&handler_type.value.as_str()) {
        d.push(
            Diagnostic::error(
                "unknown-handler-type",
                handler_type.loc,
                format!("unknown `io_config.handler_type` `{}`", handler_type.value),
            )
            .with_help("use `db`, `http`, `kafka` or `filesystem`"),
        );
    }
    // `query_params` is a list of templates for db, a mapping of URL parameters for http.
    let query_params = match f.get("query_params") {
        Some(v) if v.as_seq().is_some() => f.strings("query_params", d),
        _ => Vec::new(),
    };
    Some(IoConfig {
        loc: node.loc,
        handler_type,
        timeout_ms: f.u64("timeout_ms", d).map(|t| t.value),
        query_template: f.str("query_template", d),
        query_params,
        method: f.str("method", d),
        operation: f.str("operation", d),
        body_template: f.str("body_template", d),
        read_only: f.bool("read_only", d),
    })
}

const RETRY_KEYS: &[&str] = &[
    "enabled",
    "max_retries",
    "backoff_strategy",
    "base_delay_ms",
    "max_delay_ms",
    "jitter_factor",
    "retryable_errors",
    "retry_on",
];

/// Reads a retry policy.
pub fn retry_policy(node: &Node, what: &str, d: &mut Diagnostics) -> Option<RetryPolicy> {
    let f = Fields::new(node, what, RETRY_KEYS, Unknown::Deny, d)?;
    let policy = RetryPolicy {
        enabled: f.bool("enabled", d).map(|b| b.value),
        max_retries: f.u64("max_retries", d).map(|v| v.value),
        backoff_strategy: f.str("backoff_strategy", d),
        base_delay_ms: f.u64("base_delay_ms", d).map(|v| v.value),
        max_delay_ms: f.u64("max_delay_ms", d).map(|v| v.value),
        jitter_factor: f.f64("jitter_factor", d),
    };
    if let Some(s) = &policy.backoff_strategy
        && !["fixed", "linear", "exponential", "constant"].contains(&s.value.as_str())
    {
        d.push(
            Diagnostic::error(
                "bad-policy",
                s.loc,
                format!("unknown `backoff_strategy` `{}`", s.value),
            )
            .with_help("use `fixed`, `linear` or `exponential`"),
        );
    }
    if let Some(j) = &policy.jitter_factor
        && !(0.0..=1.0).contains(&j.value)
    {
        d.push(
            Diagnostic::error(
                "bad-policy",
                j.loc,
                format!("`jitter_factor` must be within 0..=1, found {}", j.value),
            )
            .with_help("a jitter factor of 0.1 spreads retries by ±10%"),
        );
    }
    Some(policy)
}

const BREAKER_KEYS: &[&str] = &[
    "enabled",
    "failure_threshold",
    "success_threshold",
    "timeout_ms",
    "half_open_requests",
];

/// Reads a circuit breaker.
pub fn circuit_breaker(node: &Node, what: &str, d: &mut Diagnostics) -> Option<CircuitBreaker> {
    let f = Fields::new(node, what, BREAKER_KEYS, Unknown::Deny, d)?;
    Some(CircuitBreaker {
        enabled: f.bool("enabled", d).map(|b| b.value),
        failure_threshold: f.u64("failure_threshold", d).map(|v| v.value),
        success_threshold: f.u64("success_threshold", d).map(|v| v.value),
        timeout_ms: f.u64("timeout_ms", d).map(|v| v.value),
        half_open_requests: f.u64("half_open_requests", d).map(|v| v.value),
    })
}

const EVENT_BUS_KEYS: &[&str] = &[
    "subscribe_topics",
    "publish_topics",
    "dlq_topics",
    "subscribe",
    "publish",
    "planned_subscribe_topics",
    "version",
    "plugin_managed",
];

fn event_bus(node: &Node, d: &mut Diagnostics) -> EventBus {
    let Some(f) = Fields::new(node, "event_bus", EVENT_BUS_KEYS, Unknown::Deny, d) else {
        return EventBus::default();
    };
    let mut topics = |keys: &[&str]| -> Vec<Topic> {
        let mut out = Vec::new();
        for key in keys {
            for t in f.seq(key, d).unwrap_or_default() {
                out.extend(topic(t, key, d));
            }
        }
        out
    };
    EventBus {
        subscribe: topics(&["subscribe_topics", "subscribe"]),
        publish: topics(&["publish_topics", "publish"]),
        dlq: topics(&["dlq_topics"]),
    }
}

fn topic(node: &Node, what: &str, d: &mut Diagnostics) -> Option<Topic> {
    if node.as_map().is_some() {
        // `{topic, description, ...}`: the extra keys are documentation.
        let f = Fields::new(node, what, &[], Unknown::Allow, d)?;
        return f.required_str("topic", what, d);
    }
    string(node, what, d)
}

const DESCRIPTOR_KEYS: &[&str] = &[
    "node_archetype",
    "purity",
    "idempotent",
    "timeout_ms",
    "retry_policy",
    "circuit_breaker",
    "concurrency_policy",
    "observability_level",
    "isolation_policy",
    "runtime_profiles",
    "handler_kind",
    "qdrant_url",
];

fn descriptor(node: &Node, d: &mut Diagnostics) -> Option<Descriptor> {
    let f = Fields::new(node, "descriptor", DESCRIPTOR_KEYS, Unknown::Deny, d)?;
    Some(Descriptor {
        purity: f.str("purity", d),
        idempotent: f.bool("idempotent", d).map(|b| b.value),
        timeout_ms: f.u64("timeout_ms", d).map(|v| v.value),
        retry_policy: f
            .get("retry_policy")
            .and_then(|v| retry_policy(v, "retry_policy", d)),
        circuit_breaker: f
            .get("circuit_breaker")
            .and_then(|v| circuit_breaker(v, "circuit_breaker", d)),
    })
}
