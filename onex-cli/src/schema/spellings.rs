//! Schemas of the value sets onex-contracts defines as data (`node_type` spellings, execution
//! modes, failure strategies, default factories), built from that data so they cannot drift.

use std::borrow::Cow;

use onex_contracts::kind::NODE_TYPES;
use onex_contracts::workflow::{ExecutionMode as Mode, FailureStrategy as Strategy};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

/// The base names of the node types (`EFFECT`, `TOOL`, …): [`NODE_TYPES`] without the
/// `_GENERIC` suffix, in order, without duplicates.
fn bases() -> Vec<&'static str> {
    let mut out: Vec<&str> = Vec::new();
    for name in NODE_TYPES {
        let base = name.strip_suffix("_GENERIC").unwrap_or(name);
        if !out.contains(&base) {
            out.push(base);
        }
    }
    out
}

/// The spellings offered for completion: [`NODE_TYPES`], then the lower-case kinds.
fn canonical(with_workflow: bool) -> Vec<String> {
    let mut out: Vec<String> = NODE_TYPES.iter().map(|s| (*s).to_owned()).collect();
    out.extend(
        onex_contracts::NodeKind::ALL
            .iter()
            .map(|k| k.as_str().to_owned()),
    );
    if with_workflow {
        out.push("workflow".to_owned());
    }
    out
}

/// Every accepted spelling, case-insensitively: a base name with an optional `_GENERIC`.
/// JSON Schema regexes have no case-insensitive flag, so each letter is a class (`[Ee]`).
fn any_case_pattern() -> String {
    let class = |word: &str| -> String {
        word.chars()
            .map(|c| {
                if c.is_ascii_alphabetic() {
                    format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
                } else {
                    c.to_string()
                }
            })
            .collect()
    };
    let alternatives: Vec<String> = bases().iter().map(|b| class(b)).collect();
    format!("^(?:{})(?:{})?$", alternatives.join("|"), class("_GENERIC"))
}

const NODE_TYPE_HELP: &str = "The node kind. EFFECT_GENERIC (talks to the outside world), \
COMPUTE_GENERIC (pure transformation), REDUCER_GENERIC (state machine), ORCHESTRATOR_GENERIC \
(workflow); the lower-case kinds; or another ONEX node type mapped to its kind: TOOL and AGENT \
are effects; GATEWAY, VALIDATOR and WORKFLOW orchestrators; TRANSFORMER, AGGREGATOR, FUNCTION, \
MODEL, PLUGIN, SCHEMA, NODE and SERVICE computes. Spellings are case-insensitive and take an \
optional _GENERIC suffix.";

/// `node_type` at the top level: a node kind spelling, or `workflow` (the workflow dialect).
pub struct NodeType;

impl JsonSchema for NodeType {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("NodeType")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let description = format!(
            "{NODE_TYPE_HELP} Lower-case `workflow` marks a workflow dialect document \
             (workflow_id, nodes, event_flow), which is not a node contract."
        );
        json_schema!({
            "description": description,
            "type": "string",
            "anyOf": [
                {"enum": canonical(true)},
                {"pattern": any_case_pattern()}
            ]
        })
    }
}

/// `node_type` of a workflow step: a node kind spelling (not the `workflow` dialect).
pub struct StepNodeType;

impl JsonSchema for StepNodeType {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("StepNodeType")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let description = format!(
            "{NODE_TYPE_HELP} A step that runs another workflow is ORCHESTRATOR_GENERIC \
             (lower-case `workflow` is not a node kind)."
        );
        json_schema!({
            "description": description,
            "type": "string",
            "anyOf": [
                {"enum": canonical(false)},
                {"pattern": any_case_pattern()}
            ],
            "not": {"const": "workflow"}
        })
    }
}

/// A version written as `"major.minor.patch"`.
pub struct VersionText;

impl JsonSchema for VersionText {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("VersionText")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A version as `\"major.minor.patch\"`, e.g. \"1.0.0\".",
            "type": "string",
            "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$"
        })
    }
}

/// `default_factory`: the factories onex knows.
pub struct DefaultFactory;

impl JsonSchema for DefaultFactory {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("DefaultFactory")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A factory for the default value: `dict` (an empty map), `list` \
                (an empty list), `uuid4` (a new UUID), `datetime.now`/`utcnow` (the current \
                time).",
            "type": "string",
            "enum": onex_contracts::schema::FACTORIES
        })
    }
}

/// `execution_mode` of a workflow.
pub struct ExecutionMode;

impl JsonSchema for ExecutionMode {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("ExecutionMode")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = Mode::ALL.iter().map(|m| m.as_str()).collect();
        json_schema!({
            "description": "How the workflow's steps run: `sequential` (one at a time, in \
                dependency order), `parallel` (in waves of steps whose dependencies are done), \
                `batch`.",
            "type": "string",
            "enum": names
        })
    }
}

/// `failure_recovery_strategy` of a workflow.
pub struct FailureStrategy;

impl JsonSchema for FailureStrategy {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("FailureStrategy")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = Strategy::ALL.iter().map(|s| s.as_str()).collect();
        json_schema!({
            "description": "What happens when a step fails: `fail_fast` (stop, the default), \
                `retry` (retry the step, then fail), `continue` (go on with the steps that do \
                not depend on it), `compensate` (undo the completed compensable steps in \
                reverse order, then fail).",
            "type": "string",
            "enum": names
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_strip_the_suffix_once() {
        let bases = bases();
        assert!(bases.contains(&"EFFECT") && bases.contains(&"SERVICE"));
        assert!(bases.iter().all(|b| !b.ends_with("_GENERIC")));
        assert_eq!(bases.len(), 17, "{bases:?}");
    }

    #[test]
    fn pattern_is_case_insensitive_by_classes() {
        let p = any_case_pattern();
        assert!(p.starts_with("^(?:[Ee][Ff][Ff][Ee][Cc][Tt]|"), "{p}");
        assert!(p.ends_with("(?:_[Gg][Ee][Nn][Ee][Rr][Ii][Cc])?$"), "{p}");
    }
}
