//! Reads `workflow_coordination.workflow_definition` into a [`Workflow`], checking each
//! value on its own and stopping at no problem. Graph-wide checks are in [`super::valid`].
//!
//! Like the Python reference (whose models ignore extra keys), keys onex does not read are
//! accepted: contracts carry many informational ones. A key that looks like a misspelling
//! of a key onex knows is a warning, since the setting it meant is silently not applied.
//!
//! Codes:
//!
//! | code | severity | finding |
//! |---|---|---|
//! | `workflow-shape` | error | a block, list or entry of the wrong shape (`nodes`, `edges`, `depends_on` not lists; a step or edge not a mapping; an edge without `from_node`/`to_node`; a non-string `depends_on` entry, `description` or `workflow_name`; a non-boolean `compensable`) |
//! | `workflow-step-id` | error | a missing, empty or non-string `node_id` (the step is dropped) |
//! | `workflow-step-node-type` | error | a missing, non-string or unknown `node_type` |
//! | `workflow-execution-mode` | error | an unknown `execution_mode`, or `workflow_metadata` and `coordination_rules` disagreeing |
//! | `workflow-failure-strategy` | error | an unknown `failure_recovery_strategy` |
//! | `workflow-rule` | error | a coordination rule of the wrong type or out of range |
//! | `workflow-unknown-key` | warning | a key onex does not know, close to one it does |

use crate::Contract;
use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::kind::{NODE_TYPES, NodeType, node_type};
use crate::read::Spanned;
use crate::yaml::{Loc, Node, Scalar};

use super::{Edge, ExecutionMode, FailureStrategy, Rules, Step, Workflow};

/// Keys of `workflow_coordination` (the block holds more than the workflow).
pub const COORDINATION_KEYS: &[&str] = &[
    "version",
    "subcontract_version",
    "workflow_definition",
    "lifecycle",
    "event_bus",
    "step_templates",
    "subscriptions",
    "publications",
];

/// Keys of `workflow_definition`.
pub const DEFINITION_KEYS: &[&str] =
    &["workflow_metadata", "execution_graph", "coordination_rules"];

/// Keys of `workflow_metadata`.
pub const METADATA_KEYS: &[&str] = &[
    "workflow_name",
    "workflow_version",
    "description",
    "execution_mode",
    "author",
    "tags",
    "documentation_url",
];

/// Keys of `execution_graph`.
pub const GRAPH_KEYS: &[&str] = &["nodes", "edges"];

/// Keys of an `execution_graph.nodes[]` entry.
pub const STEP_KEYS: &[&str] = &[
    "node_id",
    "node_name",
    "node_type",
    "target_node_type",
    "depends_on",
    "description",
    "metadata",
    "contract_ref",
    "step_config",
    "compensable",
];

/// Keys of an `execution_graph.edges[]` entry.
pub const EDGE_KEYS: &[&str] = &[
    "from_node",
    "to_node",
    "edge_type",
    "description",
    "condition",
    "metadata",
];

/// Keys of `coordination_rules`: those onex reads, then informational ones real contracts
/// write.
pub const RULE_KEYS: &[&str] = &[
    "execution_mode",
    "parallel_execution_allowed",
    "max_parallel_steps",
    "max_parallel_branches",
    "failure_recovery_strategy",
    "max_retries",
    "retry_backoff_ms",
    "retry_backoff_multiplier",
    "step_timeout_ms",
    "timeout_ms",
    "dependency_resolution_enabled",
    "detect_cycles",
    "fail_on_cycle",
    "allow_partial_completion",
    "min_required_steps_completion_percent",
    "resource_constraints",
    "emit_step_metrics",
    "emit_workflow_events",
    "emit_dependency_graph",
    "enable_load_balancing",
    "load_balance_strategy",
    "recovery_enabled",
    "checkpoint_enabled",
    "checkpoint_interval_ms",
    "state_persistence_enabled",
    "rollback_enabled",
];

/// Reads the workflow of `contract`; `None` (and no finding) when there is no
/// `workflow_coordination.workflow_definition.execution_graph`.
pub fn parse(contract: &Contract, d: &mut Diagnostics) -> Option<Workflow> {
    let coordination = contract.workflow.as_ref().filter(|n| !n.is_null())?;
    let definition = map(coordination, "workflow_coordination", COORDINATION_KEYS, d)
        .and_then(|c| field(c, "workflow_definition"))?;
    let definition = map(definition, "workflow_definition", DEFINITION_KEYS, d)?;
    let graph = map(
        field(definition, "execution_graph")?,
        "execution_graph",
        GRAPH_KEYS,
        d,
    );
    let metadata = field(definition, "workflow_metadata")
        .and_then(|m| map(m, "workflow_metadata", METADATA_KEYS, d));
    let rules_node = field(definition, "coordination_rules")
        .and_then(|r| map(r, "coordination_rules", RULE_KEYS, d));

    let name = metadata
        .and_then(|m| text(m, "workflow_name", "`workflow_metadata.workflow_name`", d))
        .or_else(|| contract.name.as_ref().map(|n| n.value.clone()))
        .unwrap_or_else(|| "workflow".to_owned());
    let mode = mode(metadata, rules_node, d);
    let rules = rules_node.map(|r| rules(r, d)).unwrap_or_default();

    let steps = graph
        .and_then(|g| list(g, "nodes", "`execution_graph.nodes`", d))
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, n)| step(n, i, d))
        .collect();
    let edges = graph
        .and_then(|g| list(g, "edges", "`execution_graph.edges`", d))
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, n)| edge(n, i, d))
        .collect();
    Some(Workflow {
        loc: definition.loc,
        name,
        mode,
        steps,
        edges,
        rules,
    })
}

/// The value of `key`, if present and not null.
fn field<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    node.get(key).filter(|v| !v.is_null())
}

fn shape(loc: Loc, message: String, help: impl Into<String>) -> Diagnostic {
    Diagnostic::error("workflow-shape", loc, message).with_help(help)
}

/// `node` as the mapping `section`: a non-mapping is an error, a key close to a known one a
/// warning.
fn map<'a>(node: &'a Node, section: &str, known: &[&str], d: &mut Diagnostics) -> Option<&'a Node> {
    if node.as_map().is_none() {
        d.push(shape(
            node.loc,
            format!("`{section}` must be a mapping, found {}", node.type_name()),
            format!("write `{section}` as a mapping of keys to values"),
        ));
        return None;
    }
    keys(node, section, known, d);
    Some(node)
}

/// Warns about each key of the mapping `node` that is not in `known` but close to a key that is.
fn keys(node: &Node, section: &str, known: &[&str], d: &mut Diagnostics) {
    for (key, _) in node.as_map().unwrap_or_default() {
        let Some(name) = key.scalar_text() else {
            continue;
        };
        if known.contains(&name) {
            continue;
        }
        if let Some(best) = did_you_mean(name, known) {
            d.push(
                Diagnostic::warning(
                    "workflow-unknown-key",
                    key.loc,
                    format!("unknown key `{name}` in `{section}` (ignored)"),
                )
                .with_help(format!("did you mean `{best}`?")),
            );
        }
    }
}

/// The items of the list `key` of `node`.
fn list<'a>(node: &'a Node, key: &str, what: &str, d: &mut Diagnostics) -> Option<&'a [Node]> {
    let value = field(node, key)?;
    let items = value.as_seq();
    if items.is_none() {
        d.push(shape(
            value.loc,
            format!("{what} must be a list, found {}", value.type_name()),
            format!("write {what} as a list (`- …` entries or `[…]`)"),
        ));
    }
    items
}

/// An optional string value.
fn text(node: &Node, key: &str, what: &str, d: &mut Diagnostics) -> Option<String> {
    let value = field(node, key)?;
    match value.as_str() {
        Some(s) => Some(s.to_owned()),
        None => {
            d.push(shape(
                value.loc,
                format!("{what} must be a string, found {}", value.type_name()),
                format!("write {what} as text (quote it if needed)"),
            ));
            None
        }
    }
}

fn step(node: &Node, i: usize, d: &mut Diagnostics) -> Option<Step> {
    let section = format!("execution_graph.nodes[{i}]");
    if node.as_map().is_none() {
        d.push(shape(
            node.loc,
            format!("`{section}` must be a mapping, found {}", node.type_name()),
            "write each step as a mapping: `- {node_id: fetch, node_type: EFFECT_GENERIC}`",
        ));
        return None;
    }
    keys(node, &section, STEP_KEYS, d);
    let id = step_id(node, &section, d);
    let who = match &id {
        Some(id) => format!("step `{}`", id.value),
        None => format!("`{section}`"),
    };
    let (node_type, kind) = step_type(node, &who, d);
    let depends_on = depends_on(node, &who, d);
    let description = text(
        node,
        "description",
        &format!("the `description` of {who}"),
        d,
    );
    let compensable = match field(node, "compensable") {
        None => false,
        Some(v) => match v.scalar() {
            Some(Scalar::Bool(b)) => b,
            _ => {
                d.push(shape(
                    v.loc,
                    format!(
                        "`compensable` of {who} must be a boolean, found {}",
                        v.type_name()
                    ),
                    "write `compensable: true` for a step with a compensation handler",
                ));
                false
            }
        },
    };
    Some(Step {
        id: id?,
        loc: node.loc,
        node_type,
        kind,
        depends_on,
        description,
        compensable,
    })
}

fn step_id(node: &Node, section: &str, d: &mut Diagnostics) -> Option<Spanned<String>> {
    let bad = |loc: Loc, message: String| {
        Diagnostic::error("workflow-step-id", loc, message).with_help(
            "give each step a `node_id`: a unique name such as `fetch_data` (it names the step's handler method)",
        )
    };
    let Some(value) = field(node, "node_id") else {
        d.push(bad(node.loc, format!("`{section}` has no `node_id`")));
        return None;
    };
    match value.as_str() {
        Some(s) if s.trim().is_empty() => {
            d.push(bad(
                value.loc,
                format!("`{section}` has an empty `node_id`"),
            ));
            None
        }
        Some(s) => Some(Spanned::new(s.to_owned(), value.loc)),
        None => {
            d.push(bad(
                value.loc,
                format!(
                    "`node_id` of `{section}` must be a string, found {}",
                    value.type_name()
                ),
            ));
            None
        }
    }
}

fn step_type(
    node: &Node,
    who: &str,
    d: &mut Diagnostics,
) -> (Option<Spanned<String>>, Option<crate::kind::NodeKind>) {
    let error =
        |loc: Loc, message: String| Diagnostic::error("workflow-step-node-type", loc, message);
    const KINDS: &str = "EFFECT_GENERIC, COMPUTE_GENERIC, REDUCER_GENERIC or ORCHESTRATOR_GENERIC";
    let Some(value) = field(node, "node_type") else {
        d.push(
            error(node.loc, format!("{who} has no `node_type`"))
                .with_help(format!("add `node_type: …`, one of {KINDS}")),
        );
        return (None, None);
    };
    let Some(spelling) = value.as_str() else {
        d.push(
            error(
                value.loc,
                format!(
                    "`node_type` of {who} must be a string, found {}",
                    value.type_name()
                ),
            )
            .with_help(format!("write one of {KINDS}")),
        );
        return (None, None);
    };
    let written = Spanned::new(spelling.to_owned(), value.loc);
    match node_type(spelling) {
        Some(NodeType::Node(kind)) => (Some(written), Some(kind)),
        Some(NodeType::Workflow) => {
            d.push(
                error(
                    value.loc,
                    format!(
                        "{who} has `node_type: {spelling}`, the workflow document dialect, not a node kind"
                    ),
                )
                .with_help("a step that runs another workflow is `ORCHESTRATOR_GENERIC`"),
            );
            (Some(written), None)
        }
        None => {
            let diagnostic = error(
                value.loc,
                format!("{who} has unknown `node_type` `{spelling}`"),
            );
            d.push(
                match did_you_mean(&spelling.to_ascii_uppercase(), NODE_TYPES) {
                    Some(best) => diagnostic.with_help(format!("did you mean `{best}`?")),
                    None => diagnostic.with_help(format!("use {KINDS}")),
                },
            );
            (Some(written), None)
        }
    }
}

fn depends_on(node: &Node, who: &str, d: &mut Diagnostics) -> Vec<Spanned<String>> {
    let Some(value) = field(node, "depends_on") else {
        return Vec::new();
    };
    let Some(items) = value.as_seq() else {
        let example = value.scalar_text().unwrap_or("fetch");
        d.push(shape(
            value.loc,
            format!(
                "`depends_on` of {who} must be a list of step ids, found {}",
                value.type_name()
            ),
            format!("write `depends_on: [{example}]`"),
        ));
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item.as_str() {
            Some(s) => Some(Spanned::new(s.to_owned(), item.loc)),
            None => {
                d.push(shape(
                    item.loc,
                    format!(
                        "entries of `depends_on` of {who} must be step ids (strings), found {}",
                        item.type_name()
                    ),
                    "list the `node_id`s of the steps this one runs after",
                ));
                None
            }
        })
        .collect()
}

fn edge(node: &Node, i: usize, d: &mut Diagnostics) -> Option<Edge> {
    let section = format!("execution_graph.edges[{i}]");
    if node.as_map().is_none() {
        d.push(shape(
            node.loc,
            format!("`{section}` must be a mapping, found {}", node.type_name()),
            "write each edge as `- {from_node: fetch, to_node: transform}`",
        ));
        return None;
    }
    keys(node, &section, EDGE_KEYS, d);
    let mut end = |key: &str| {
        let Some(value) = field(node, key) else {
            d.push(shape(
                node.loc,
                format!("`{section}` has no `{key}`"),
                "an edge names two steps: `{from_node: fetch, to_node: transform}`",
            ));
            return None;
        };
        match value.as_str() {
            Some(s) => Some(Spanned::new(s.to_owned(), value.loc)),
            None => {
                d.push(shape(
                    value.loc,
                    format!(
                        "`{key}` of `{section}` must be a step id (a string), found {}",
                        value.type_name()
                    ),
                    format!("write the `node_id` of a step as `{key}`"),
                ));
                None
            }
        }
    };
    let from = end("from_node");
    let to = end("to_node");
    Some(Edge {
        loc: node.loc,
        from: from?,
        to: to?,
    })
}

/// Reads one `execution_mode` declaration.
fn one_mode(node: &Node, section: &str, d: &mut Diagnostics) -> Option<Spanned<ExecutionMode>> {
    let value = field(node, "execution_mode")?;
    let names = ExecutionMode::ALL.map(ExecutionMode::as_str);
    let Some(spelling) = value.as_str() else {
        d.push(
            Diagnostic::error(
                "workflow-execution-mode",
                value.loc,
                format!(
                    "`{section}.execution_mode` must be a string, found {}",
                    value.type_name()
                ),
            )
            .with_help(format!("write one of: {}", names.join(", "))),
        );
        return None;
    };
    if let Some(mode) = ExecutionMode::from_name(spelling) {
        return Some(Spanned::new(mode, value.loc));
    }
    let diagnostic = Diagnostic::error(
        "workflow-execution-mode",
        value.loc,
        format!("unknown execution mode `{spelling}` in `{section}.execution_mode`"),
    );
    d.push(match did_you_mean(&spelling.to_ascii_lowercase(), &names) {
        Some(best) => diagnostic.with_help(format!("did you mean `{best}`?")),
        None => diagnostic.with_help(format!("the execution modes are: {}", names.join(", "))),
    });
    None
}

/// Resolves the execution mode (see [`Workflow::mode`]).
fn mode(metadata: Option<&Node>, rules: Option<&Node>, d: &mut Diagnostics) -> ExecutionMode {
    let declared = metadata.and_then(|m| one_mode(m, "workflow_metadata", d));
    let infra = rules.and_then(|r| one_mode(r, "coordination_rules", d));
    if let (Some(declared), Some(infra)) = (&declared, &infra)
        && declared.value != infra.value
    {
        d.push(
            Diagnostic::error(
                "workflow-execution-mode",
                infra.loc,
                format!(
                    "`coordination_rules.execution_mode` is `{}` but `workflow_metadata.execution_mode` (at {}) is `{}`",
                    infra.value.as_str(),
                    declared.loc,
                    declared.value.as_str()
                ),
            )
            .with_help("declare the execution mode once, or make both declarations agree"),
        );
    }
    let parallel = rules
        .and_then(|r| field(r, "parallel_execution_allowed"))
        .and_then(|v| match v.scalar() {
            Some(Scalar::Bool(b)) => Some(b),
            _ => {
                d.push(rule_type(v, "parallel_execution_allowed", "a boolean"));
                None
            }
        });
    match (declared.or(infra), parallel) {
        (Some(mode), _) => mode.value,
        (None, Some(true)) => ExecutionMode::Parallel,
        (None, _) => ExecutionMode::Sequential,
    }
}

fn rule_type(value: &Node, key: &str, expected: &str) -> Diagnostic {
    Diagnostic::error(
        "workflow-rule",
        value.loc,
        format!(
            "`coordination_rules.{key}` must be {expected}, found {}",
            value.type_name()
        ),
    )
    .with_help(format!("write `{key}` as {expected}"))
}

/// An integer rule at least `min` (and at most `max`).
fn int_rule(
    rules: &Node,
    key: &str,
    min: i64,
    max: u64,
    d: &mut Diagnostics,
) -> Option<Spanned<u64>> {
    let value = field(rules, key)?;
    let Some(Scalar::Int(n)) = value.scalar() else {
        d.push(rule_type(value, key, "an integer"));
        return None;
    };
    let fits = u64::try_from(n).ok().filter(|&u| n >= min && u <= max);
    if fits.is_none() {
        let limit = if n < min {
            format!("at least {min}")
        } else {
            format!("at most {max}")
        };
        let help = match key {
            "max_parallel_steps" | "max_parallel_branches" => {
                format!("use `{key}: 1` to run one step at a time, or remove it for no limit")
            }
            "step_timeout_ms" | "timeout_ms" => {
                format!(
                    "a timeout is a positive number of milliseconds; remove `{key}` for no timeout"
                )
            }
            _ => format!("write `{key}` as a whole number, {limit}"),
        };
        d.push(
            Diagnostic::error(
                "workflow-rule",
                value.loc,
                format!("`coordination_rules.{key}` is {n}; it must be {limit}"),
            )
            .with_help(help),
        );
    }
    fits.map(|u| Spanned::new(u, value.loc))
}

fn rules(node: &Node, d: &mut Diagnostics) -> Rules {
    let mut rules = Rules::default();
    let u32_max = u64::from(u32::MAX);
    let steps = int_rule(node, "max_parallel_steps", 1, u32_max, d);
    let branches = int_rule(node, "max_parallel_branches", 1, u32_max, d);
    if let (Some(steps), Some(branches)) = (&steps, &branches)
        && steps.value != branches.value
    {
        d.push(
            Diagnostic::error(
                "workflow-rule",
                branches.loc,
                format!(
                    "`coordination_rules.max_parallel_branches` is {} but `max_parallel_steps` (at {}) is {}",
                    branches.value, steps.loc, steps.value
                ),
            )
            .with_help("`max_parallel_branches` is another name for `max_parallel_steps`: keep one"),
        );
    }
    rules.max_parallel_steps = steps.or(branches).and_then(|s| u32::try_from(s.value).ok());
    if let Some(value) = field(node, "failure_recovery_strategy") {
        rules.failure_strategy_loc = Some(value.loc);
        rules.failure_strategy = failure_strategy(value, d).unwrap_or_default();
    }
    if let Some(n) = int_rule(node, "max_retries", 0, u32_max, d) {
        rules.max_retries = u32::try_from(n.value).unwrap_or(u32::MAX);
    }
    if let Some(n) = int_rule(node, "retry_backoff_ms", 0, u64::MAX, d) {
        rules.retry_backoff_ms = n.value;
    }
    if let Some(m) = multiplier(node, d) {
        rules.retry_backoff_multiplier = m;
    }
    rules.step_timeout_ms = int_rule(node, "step_timeout_ms", 1, u64::MAX, d).map(|s| s.value);
    rules.timeout_ms = int_rule(node, "timeout_ms", 1, u64::MAX, d).map(|s| s.value);
    rules
}

fn failure_strategy(value: &Node, d: &mut Diagnostics) -> Option<FailureStrategy> {
    let names = FailureStrategy::ALL.map(FailureStrategy::as_str);
    let Some(spelling) = value.as_str() else {
        d.push(
            Diagnostic::error(
                "workflow-failure-strategy",
                value.loc,
                format!(
                    "`coordination_rules.failure_recovery_strategy` must be a string, found {}",
                    value.type_name()
                ),
            )
            .with_help(format!("write one of: {}", names.join(", "))),
        );
        return None;
    };
    let found = FailureStrategy::from_name(spelling);
    if found.is_none() {
        let diagnostic = Diagnostic::error(
            "workflow-failure-strategy",
            value.loc,
            format!(
                "unknown failure recovery strategy `{spelling}` in `coordination_rules.failure_recovery_strategy`"
            ),
        );
        d.push(match did_you_mean(&spelling.to_ascii_lowercase(), &names) {
            Some(best) => diagnostic.with_help(format!("did you mean `{best}`?")),
            None => diagnostic.with_help(format!("the strategies are: {}", names.join(", "))),
        });
    }
    found
}

fn multiplier(rules: &Node, d: &mut Diagnostics) -> Option<f64> {
    let key = "retry_backoff_multiplier";
    let value = field(rules, key)?;
    let m = match value.scalar() {
        Some(Scalar::Int(i)) => i as f64,
        Some(Scalar::Float(f)) => f,
        _ => {
            d.push(rule_type(value, key, "a number"));
            return None;
        }
    };
    if m.is_finite() && m >= 1.0 {
        return Some(m);
    }
    d.push(
        Diagnostic::error(
            "workflow-rule",
            value.loc,
            format!(
                "`coordination_rules.{key}` is {}; it must be a finite number of at least 1.0",
                value.scalar_text().unwrap_or_default()
            ),
        )
        .with_help("each retry waits the previous delay times the multiplier: use 1.0 for a constant delay, 2.0 to double it"),
    );
    None
}
