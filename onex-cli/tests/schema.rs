//! `onex schema`: the JSON Schema of the contract format is valid draft-07, stable
//! (snapshot), accepts every corpus contract, and agrees with onex-contracts on what it
//! rejects (unknown keys in strict sections, wrong types, node type spellings).

mod common;

use std::path::{Path, PathBuf};

use common::{corpus, onex, stderr, stdout};
use serde_json::{Value, json};

fn schema() -> Value {
    onex_cli::schema::schema().to_value()
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft7::new(&schema()).unwrap()
}

/// A YAML document as JSON, through onex's own YAML layer (YAML 1.2 core schema), the way
/// an editor's YAML extension sees it (tags such as `!include` are not followed).
fn yaml_to_json(text: &str) -> Value {
    let node = onex_contracts::yaml::parse(text).unwrap_or_else(|e| panic!("{e:?}"));
    onex_contracts::schema::to_json(&node)
}

/// The schema's complaints about `instance`, one line each (empty when it is valid).
fn problems(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// True when onex-contracts reports an error for the contract `text`.
fn onex_rejects(text: &str) -> bool {
    onex_contracts::load_source(Path::new("t.yaml"), "t.yaml", text.to_owned()).has_errors()
}

/// The `.yaml`/`.yml` files directly in `dir`, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    files
}

const HEADER: &str = "name: probe
node_type: EFFECT_GENERIC
contract_version: {major: 1, minor: 0, patch: 0}
input_model: pkg.models.ModelIn
output_model: pkg.models.ModelOut
";

/// [`HEADER`] followed by `snippet`; a top-level key the snippet sets replaces the header's
/// (a key may not appear twice).
fn contract(snippet: &str) -> String {
    let keys: Vec<&str> = snippet
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split(':').next())
        .collect();
    let header: String = HEADER
        .lines()
        .filter(|l| !keys.iter().any(|k| l.starts_with(&format!("{k}:"))))
        .map(|l| format!("{l}\n"))
        .collect();
    format!("{header}{snippet}")
}

#[test]
fn schema_is_valid_draft07() {
    let schema = schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    jsonschema::meta::validate(&schema).unwrap();
    // Every definition is used, through the reference form draft-07 editors resolve.
    let text = onex_cli::schema::to_json();
    for (name, _) in schema["definitions"].as_object().unwrap() {
        assert!(
            text.contains(&format!("\"#/definitions/{name}\"")),
            "`{name}` is never referenced"
        );
    }
    // Each key carries help for the editor's hover.
    for key in [
        "node_type",
        "contract_version",
        "effect_operations",
        "state_machine",
    ] {
        let description = schema["properties"][key]["description"].as_str().unwrap();
        assert!(
            !description.is_empty() && !description.contains('\n'),
            "{key}"
        );
    }
}

#[test]
fn cli_prints_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let output = onex(dir.path()).arg("schema").output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let text = stdout(&output);
    assert_eq!(text, onex_cli::schema::to_json());
    let again = onex(dir.path()).arg("schema").output().unwrap();
    assert_eq!(stdout(&again), text, "the output is deterministic");
    let parsed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed, schema());
    insta::assert_snapshot!("contract_schema", text);
}

#[test]
fn cli_writes_the_schema_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let output = onex(dir.path())
        .args(["schema", "--output", "onex-contract.schema.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "", "nothing on stdout when writing a file");
    let written = std::fs::read_to_string(dir.path().join("onex-contract.schema.json")).unwrap();
    assert_eq!(written, onex_cli::schema::to_json());

    let output = onex(dir.path())
        .args(["schema", "-o", "no-such-dir/schema.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).starts_with("error: cannot write `no-such-dir/schema.json`: "),
        "{}",
        stderr(&output)
    );
}

#[test]
fn every_corpus_contract_validates() {
    let Some(corpus) = corpus() else { return };
    let validator = validator();
    let mut checked = 0;
    let mut failures = Vec::new();
    for sub in [
        "valid/nodes",
        "valid/other",
        "valid/includes",
        "valid/includes/subcontracts",
    ] {
        for path in yaml_files(&corpus.join(sub)) {
            let text = std::fs::read_to_string(&path).unwrap();
            let found = problems(&validator, &yaml_to_json(&text));
            if !found.is_empty() {
                failures.push(format!("{}:\n  {}", path.display(), found.join("\n  ")));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let nodes = yaml_files(&corpus.join("valid/nodes")).len();
    assert!(
        nodes >= 38,
        "expected the corpus's node contracts, found {nodes}"
    );
    assert_eq!(
        checked,
        nodes + 9,
        "nodes, 7 other documents and 2 include files"
    );
}

/// Contracts the schema and onex both reject, each with why.
const REJECTED: &[(&str, &str)] = &[
    (
        "unknown key in an effect operation (strict)",
        "effect_operations:\n  operations:\n    - operation_name: get\n      operation_nam: typo\n",
    ),
    (
        "unknown key in io_config (strict)",
        "effect_operations:\n  operations:\n    - operation_name: get\n      io_config: {handler_type: kafka, topik: x}\n",
    ),
    (
        "a section that is neither a mapping nor an !include",
        "event_bus: onex.evt.probe.done.v1\n",
    ),
    (
        "unknown key in handler_routing (strict)",
        "handler_routing: {routing_strategy: operation_match, handler: []}\n",
    ),
    (
        "unknown key in a state (strict)",
        "node_type: REDUCER_GENERIC\nstate_transitions:\n  initial_state: a\n  states:\n    - {state_name: a, colour: red}\n",
    ),
    (
        "unknown key in a model field (strict)",
        "definitions:\n  M:\n    properties:\n      f: {type: string, max_len: 3}\n",
    ),
    (
        "unknown key in contract_version (strict)",
        "contract_version: {major: 1, minor: 0, patch: 0, rc: 1}\n",
    ),
    ("contract_version as a number", "contract_version: 3\n"),
    ("contract_version as a boolean", "contract_version: true\n"),
    (
        "contract_version as a list",
        "contract_version: [1, 0, 0]\n",
    ),
    (
        "contract_version as a two-part string",
        "contract_version: \"1.0\"\n",
    ),
    (
        "contract_version without patch",
        "contract_version: {major: 1, minor: 0}\n",
    ),
    (
        "contract_version with a negative part",
        "contract_version: {major: -1, minor: 0, patch: 0}\n",
    ),
    ("node_version as a number", "node_version: 1.5\n"),
    ("an unknown node_type", "node_type: EFECT_GENERIC\n"),
    ("description as a list", "description: [a, b]\n"),
    (
        "an unknown routing strategy",
        "handler_routing: {routing_strategy: round_robin}\n",
    ),
    (
        "an unknown io handler type",
        "effect_operations:\n  operations:\n    - operation_name: get\n      io_config: {handler_type: ftp}\n",
    ),
    (
        "a non-boolean db read_only",
        "effect_operations:\n  operations:\n    - operation_name: get\n      io_config: {handler_type: db, read_only: maybe}\n",
    ),
    (
        "SQL with ${...} interpolation",
        "effect_operations:\n  operations:\n    - operation_name: get\n      io_config: {handler_type: db, query_template: \"SELECT ${input.id}\"}\n",
    ),
    (
        "an http POST without a body",
        "effect_operations:\n  operations:\n    - operation_name: send\n      io_config: {handler_type: http, method: post}\n",
    ),
    (
        "jitter_factor above 1",
        "effect_operations:\n  default_retry_policy: {jitter_factor: 1.5}\n",
    ),
    (
        "an unknown backoff strategy",
        "effect_operations:\n  default_retry_policy: {backoff_strategy: random}\n",
    ),
    (
        "a routing entry with neither operation nor event_model",
        "handler_routing:\n  routing_strategy: operation_match\n  handlers:\n    - description: nothing\n",
    ),
    (
        "a state machine without states",
        "node_type: REDUCER_GENERIC\nstate_transitions: {initial_state: a, states: []}\n",
    ),
    (
        "a state machine without initial_state",
        "node_type: REDUCER_GENERIC\nstate_machine:\n  states:\n    - {state_name: a}\n",
    ),
    (
        "both state machine blocks",
        "node_type: REDUCER_GENERIC\nstate_transitions:\n  initial_state: a\n  states: [{state_name: a}]\nstate_machine:\n  initial_state: a\n  states: [{state_name: a}]\n",
    ),
    (
        "an unknown model field type",
        "definitions:\n  M:\n    properties:\n      f: {type: strng}\n",
    ),
    (
        "a model field without a type",
        "definitions:\n  M:\n    properties:\n      f: {description: untyped}\n",
    ),
    (
        "an empty enum",
        "definitions:\n  Colour: {type: string, enum: []}\n",
    ),
    (
        "an unknown extra policy",
        "definitions:\n  M: {extra: strict}\n",
    ),
    (
        "an unknown default factory",
        "definitions:\n  M:\n    properties:\n      f: {type: array, default_factory: set}\n",
    ),
    (
        "a topic entry without topic",
        "event_bus:\n  publish_topics:\n    - {description: where}\n",
    ),
    (
        "a workflow step without node_type",
        "node_type: ORCHESTRATOR_GENERIC\nworkflow_coordination:\n  workflow_definition:\n    execution_graph:\n      nodes:\n        - {node_id: fetch}\n",
    ),
    (
        "a workflow step of the workflow dialect",
        "node_type: ORCHESTRATOR_GENERIC\nworkflow_coordination:\n  workflow_definition:\n    execution_graph:\n      nodes:\n        - {node_id: fetch, node_type: workflow}\n",
    ),
    (
        "an unknown execution mode",
        "node_type: ORCHESTRATOR_GENERIC\nworkflow_coordination:\n  workflow_definition:\n    workflow_metadata: {execution_mode: eventually}\n    execution_graph: {nodes: [{node_id: a, node_type: compute}]}\n",
    ),
    (
        "max_parallel_steps of 0",
        "node_type: ORCHESTRATOR_GENERIC\nworkflow_coordination:\n  workflow_definition:\n    coordination_rules: {max_parallel_steps: 0}\n    execution_graph: {nodes: [{node_id: a, node_type: compute}]}\n",
    ),
    (
        "an unknown failure strategy",
        "node_type: ORCHESTRATOR_GENERIC\nworkflow_coordination:\n  workflow_definition:\n    coordination_rules: {failure_recovery_strategy: shrug}\n    execution_graph: {nodes: [{node_id: a, node_type: compute}]}\n",
    ),
];

#[test]
fn invalid_snippets_are_rejected_by_both() {
    let validator = validator();
    for (why, snippet) in REJECTED {
        let text = contract(snippet);
        assert!(
            validator.iter_errors(&yaml_to_json(&text)).next().is_some(),
            "the schema accepts {why}:\n{text}"
        );
        assert!(onex_rejects(&text), "onex accepts {why}:\n{text}");
    }
    // The snippets' errors are their own: the headers alone are fine.
    for kind in ["EFFECT_GENERIC", "REDUCER_GENERIC", "ORCHESTRATOR_GENERIC"] {
        let text = HEADER.replace("EFFECT_GENERIC", kind);
        assert!(validator.is_valid(&yaml_to_json(&text)), "{text}");
        assert!(!onex_rejects(&text), "{text}");
    }
    // A node contract needs `contract_version`; the workflow dialect does not.
    let missing = "name: probe\nnode_type: COMPUTE_GENERIC\ninput_model: a.M\noutput_model: a.N\n";
    assert!(!validator.is_valid(&yaml_to_json(missing)));
    assert!(onex_rejects(missing));
    let dialect = "workflow_id: flow\nnode_type: workflow\nnodes: [a, b]\n";
    assert!(validator.is_valid(&yaml_to_json(dialect)));
    assert!(!onex_rejects(dialect));
}

#[test]
fn accepted_shapes_are_accepted_by_both() {
    let validator = validator();
    let cases = [
        // Lenient top level: unknown keys are warnings.
        "x_custom_block: {anything: [1, 2]}\n",
        // Versions as strings, model references as mappings, mixed-case node types.
        "node_version: \"2.1.0\"\n",
        "input_model: {name: ModelIn, module: pkg.models}\n",
        "node_type: Effect_generic\n",
        // Topics as strings or entries with extra documentation keys.
        "event_bus:\n  subscribe_topics: [onex.cmd.probe.run.v1]\n  publish_topics:\n    - {topic: onex.evt.probe.done.v1, description: done, payload_schema: X}\n",
        // Workflow sections are lenient.
        "node_type: ORCHESTRATOR_GENERIC\nworkflow_coordination:\n  lifecycle: {x: 1}\n  workflow_definition:\n    execution_graph:\n      nodes:\n        - {node_id: a, node_type: compute, depends_on: [], custom: 1}\n",
        // Model definitions with pydantic spellings and nested item types.
        "definitions:\n  M:\n    type: object\n    extra: forbid\n    required: [ids]\n    properties:\n      ids: {type: list, items: uuid}\n      tags: {type: dict, value_type: {type: array, item_type: str}}\n      kind: {type: enum, enum: [a, b], default: a}\n      when: {type: [string, \"null\"], format: date-time}\n",
        // A section or entry may be an `!include` (an editor sees the file name).
        "node_type: REDUCER_GENERIC\nstate_transitions: !include fsm.yaml\n",
        "effect_operations:\n  operations:\n    - !include parts/get.yml\n",
        // Dependencies in both shapes.
        "dependencies: {required: [db], optional: [cache]}\n",
        "dependencies:\n  - {name: db, type: service, module: pkg.db}\n",
    ];
    for snippet in cases {
        let text = contract(snippet);
        let found = problems(&validator, &yaml_to_json(&text));
        assert!(found.is_empty(), "{text}\n{}", found.join("\n"));
        if !text.contains("!include") {
            assert!(!onex_rejects(&text), "onex rejects:\n{text}");
        }
    }
}

#[test]
fn node_type_spellings_agree_with_onex() {
    use onex_contracts::kind::{NODE_TYPES, NodeType, node_type};
    let validator = validator();
    let mut spellings: Vec<String> = vec![
        "workflow".into(),
        "Workflow".into(),
        "EFECT".into(),
        "GENERIC".into(),
        "_GENERIC".into(),
        "effect_node".into(),
        "EFFECT GENERIC".into(),
        " effect".into(),
        String::new(),
    ];
    for name in NODE_TYPES {
        let base = name.strip_suffix("_GENERIC").unwrap_or(name);
        let title = format!("{}{}", &base[..1], base[1..].to_ascii_lowercase());
        for word in [base.to_owned(), base.to_ascii_lowercase(), title] {
            for suffix in ["", "_GENERIC", "_generic", "_Generic", "GENERIC"] {
                spellings.push(format!("{word}{suffix}"));
            }
        }
    }
    for spelling in spellings {
        let top = json!({"node_type": spelling, "contract_version": "1.0.0"});
        let onex_top = node_type(&spelling).is_some();
        assert_eq!(validator.is_valid(&top), onex_top, "node_type `{spelling}`");
        let step = json!({"workflow_coordination": {"workflow_definition": {"execution_graph": {
            "nodes": [{"node_id": "a", "node_type": spelling}]}}}});
        let onex_step = matches!(node_type(&spelling), Some(NodeType::Node(_)));
        assert_eq!(
            validator.is_valid(&step),
            onex_step,
            "step node_type `{spelling}`"
        );
    }
}

/// Every mapping of every corpus node contract, with one unknown key added: the schema
/// rejects the document exactly when onex does (strict sections), and accepts it where onex
/// only warns or ignores (the top level, workflow blocks, free-form values). The mutated
/// document is fed to onex as JSON, which is YAML.
#[test]
fn unknown_keys_agree_with_onex_everywhere_in_the_corpus() {
    let Some(corpus) = corpus() else { return };
    let validator = validator();
    let mut disagreements = Vec::new();
    // One mutation per position (list indices collapsed) across the corpus keeps it quick.
    let mut shapes = std::collections::BTreeSet::new();
    let mut strict = 0;
    let mut lenient = 0;
    for path in yaml_files(&corpus.join("valid/nodes")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let doc = yaml_to_json(&text);
        assert!(validator.is_valid(&doc));
        for pointer in mapping_pointers(&doc, String::new()) {
            if !shapes.insert(shape(&pointer)) {
                continue;
            }
            let mut mutated = doc.clone();
            mutated
                .pointer_mut(&pointer)
                .and_then(Value::as_object_mut)
                .unwrap()
                .insert("QQQQ".into(), json!(1));
            let by_schema = !validator.is_valid(&mutated);
            let by_onex = onex_rejects(&serde_json::to_string(&mutated).unwrap());
            if by_schema != by_onex {
                disagreements.push(format!(
                    "{} at `{pointer}`: schema rejects {by_schema}, onex rejects {by_onex}",
                    path.file_name().unwrap().to_string_lossy()
                ));
            }
            if by_onex {
                strict += 1;
            } else {
                lenient += 1;
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    assert!(
        strict > 80 && lenient > 80,
        "strict {strict}, lenient {lenient}"
    );
}

/// JSON pointers of every object in `value` (the root included).
fn mapping_pointers(value: &Value, at: String) -> Vec<String> {
    let mut out = Vec::new();
    match value {
        Value::Object(map) => {
            out.push(at.clone());
            for (k, v) in map {
                out.extend(mapping_pointers(v, format!("{at}/{}", escape(k))));
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                out.extend(mapping_pointers(v, format!("{at}/{i}")));
            }
        }
        _ => {}
    }
    out
}

/// Every scalar of every corpus node contract, replaced with a list: the schema rejects the
/// document exactly when onex does (a key onex type-checks), and accepts it where onex keeps
/// the value without reading it, except for the differences listed in [`known_difference`].
#[test]
fn wrong_types_agree_with_onex_everywhere_in_the_corpus() {
    let Some(corpus) = corpus() else { return };
    let validator = validator();
    let mut disagreements = Vec::new();
    // One mutation per position (list indices collapsed) across the corpus keeps it quick.
    let mut shapes = std::collections::BTreeSet::new();
    let mut typed = 0;
    let mut untyped = 0;
    for path in yaml_files(&corpus.join("valid/nodes")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let doc = yaml_to_json(&text);
        for pointer in scalar_pointers(&doc, String::new()) {
            if !shapes.insert(shape(&pointer)) {
                continue;
            }
            let mut mutated = doc.clone();
            *mutated.pointer_mut(&pointer).unwrap() = json!([[1]]);
            let by_schema = !validator.is_valid(&mutated);
            let by_onex = onex_rejects(&serde_json::to_string(&mutated).unwrap());
            if by_schema != by_onex && known_difference(&pointer, by_schema).is_none() {
                disagreements.push(format!(
                    "{} at `{pointer}`: schema rejects {by_schema}, onex rejects {by_onex}",
                    path.file_name().unwrap().to_string_lossy()
                ));
            }
            if by_onex {
                typed += 1;
            } else {
                untyped += 1;
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    assert!(
        typed > 200 && untyped > 200,
        "typed {typed}, untyped {untyped}"
    );
}

/// Where the schema knowingly differs from onex about a value's type, and why.
fn known_difference(pointer: &str, schema_rejects: bool) -> Option<&'static str> {
    let parts: Vec<&str> = pointer.split('/').skip(1).collect();
    match (schema_rejects, parts.as_slice()) {
        (true, ["node_name" | "contract_name"]) => Some(
            "onex reads the first of name, node_name, contract_name; the schema types all three",
        ),
        (true, ["capabilities" | "dependencies", ..]) => {
            Some("onex keeps them uninterpreted; the schema checks the shapes DESIGN.md 4.1 names")
        }
        (false, ["definitions", _, "properties", _, "default"]) => {
            Some("onex checks a default against the field's type; the schema does not")
        }
        _ => None,
    }
}

/// JSON pointers of every scalar in `value`.
fn scalar_pointers(value: &Value, at: String) -> Vec<String> {
    match value {
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| scalar_pointers(v, format!("{at}/{}", escape(k))))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .flat_map(|(i, v)| scalar_pointers(v, format!("{at}/{i}")))
            .collect(),
        _ => vec![at],
    }
}

/// A JSON pointer with list indices collapsed to `[]`: one mutation per shape keeps the
/// tests quick.
fn shape(pointer: &str) -> String {
    pointer
        .split('/')
        .map(|s| if s.parse::<usize>().is_ok() { "[]" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// A key as a JSON pointer segment.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
