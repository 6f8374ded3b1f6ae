//! The scaffolds of `onex new KIND NAME`: for each kind a contract, a node with working
//! sample logic (no `todo!()`), and a test that passes as generated.
//!
//! | kind | contract | sample logic | test |
//! |---|---|---|---|
//! | effect | two operations over text records (`record.put`, `record.get`) | an in-memory store standing in for a database; a typed error for a missing key | JSON envelopes through `process_json`: write, overwrite, read, missing key, invalid input |
//! | compute | one operation, `ModelMeasurements` → `ModelSummary` | count, sum, mean, minimum and maximum; a typed error for non-finite values | `process_json`: a summary, an empty list rejected by the contract, a bad value |
//! | reducer | a job lifecycle (`queued → running → succeeded/failed`, retries guarded by `attempts less_than 3`, `cancel` from anywhere) | the state machine itself (generated) and a context helper | `FsmExecutor`: transitions, intents, a guard rejection, the terminal state |
//! | orchestrator | a text report workflow: `normalize`, then `count_words` and `count_characters` in parallel, then `report` | four steps | `WorkflowExecutor`: the plan's waves and a run's outputs |
//!
//! Templates hold markers replaced by the node's names: `@snake@` (the crate and contract
//! name), `@Node@` (the struct), `@module@` (the module the attribute generates) and
//! `@kebab@` (for topics). Contracts get their ONEX fingerprint inserted after
//! `contract_version`, so they start without drift.

use std::path::{Path, PathBuf};

use super::{Kind, NodeFiles, NodeNames};

/// `tokio` for the async tests of effect and orchestrator nodes.
pub const TOKIO_DEV_DEPENDENCY: &str =
    "tokio = { version = \"1\", features = [\"macros\", \"rt\"] }";

/// The files of a new `kind` node named `names`.
pub fn render(kind: Kind, names: &NodeNames) -> NodeFiles {
    let (contract, lib, test, description) = match kind {
        Kind::Effect => (EFFECT_CONTRACT, EFFECT_LIB, EFFECT_TEST, EFFECT_DESCRIPTION),
        Kind::Compute => (
            COMPUTE_CONTRACT,
            COMPUTE_LIB,
            COMPUTE_TEST,
            COMPUTE_DESCRIPTION,
        ),
        Kind::Reducer => (
            REDUCER_CONTRACT,
            REDUCER_LIB,
            REDUCER_TEST,
            REDUCER_DESCRIPTION,
        ),
        Kind::Orchestrator => (
            ORCHESTRATOR_CONTRACT,
            ORCHESTRATOR_LIB,
            ORCHESTRATOR_TEST,
            ORCHESTRATOR_DESCRIPTION,
        ),
    };
    let fill = |text: &str| {
        text.replace("@snake@", &names.snake)
            .replace("@Node@", &names.node)
            .replace("@module@", &names.module)
            .replace("@kebab@", &names.kebab)
    };
    let dev_dependencies = match kind {
        Kind::Effect | Kind::Orchestrator => vec![TOKIO_DEV_DEPENDENCY.to_owned()],
        Kind::Compute | Kind::Reducer => Vec::new(),
    };
    NodeFiles {
        files: vec![
            (
                PathBuf::from("src/lib.rs"),
                rewrap_docs(&wrap_uses(&fill(lib))).into_bytes(),
            ),
            (
                PathBuf::from("src/contract.yaml"),
                fingerprinted(&fill(contract)).into_bytes(),
            ),
            (
                PathBuf::from(format!("tests/{}.rs", names.snake)),
                rewrap_docs(&wrap_uses(&fill(test))).into_bytes(),
            ),
        ],
        notes: Vec::new(),
        dependencies: Vec::new(),
        dev_dependencies,
        description: fill(description),
    }
}

/// `text` with every `use a::{…};` and `impl A for B {` line longer than rustfmt's 100
/// columns broken as rustfmt breaks it, so that long node names still give rustfmt-clean
/// sources.
pub fn wrap_uses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches('\n');
        let list = (bare.starts_with("use ") || bare.starts_with("pub use "))
            .then(|| bare.split_once('{'))
            .flatten()
            .and_then(|(head, rest)| Some((head, rest.strip_suffix("};")?)));
        if bare.len() > 100
            && let Some(rest) = bare.strip_prefix("impl ")
            && let Some((header, "")) = rest.split_once(" {")
            && let Some((tr, ty)) = header.split_once(" for ")
        {
            out.push_str(&impl_header(tr, ty));
            out.push('\n');
            continue;
        }
        match list {
            Some((head, items)) if bare.len() > 100 => {
                out.push_str(head);
                out.push_str("{\n");
                let mut current = String::new();
                for item in items.split(", ") {
                    let piece = format!("{item},");
                    if !current.is_empty() && 4 + current.len() + 1 + piece.len() > 100 {
                        out.push_str("    ");
                        out.push_str(&current);
                        out.push('\n');
                        current.clear();
                    }
                    if !current.is_empty() {
                        current.push(' ');
                    }
                    current.push_str(&piece);
                }
                if !current.is_empty() {
                    out.push_str("    ");
                    out.push_str(&current);
                    out.push('\n');
                }
                out.push_str("};\n");
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// `text` with its doc comments' paragraphs re-filled to 100 columns (the node's names make
/// the template's lines longer or shorter). Paragraphs are runs of `//!` or `///` lines with
/// the same indentation between blank comment lines; code blocks and list items are left as
/// they are.
pub fn rewrap_docs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut paragraph: Vec<&str> = Vec::new();
    let mut prefix = String::new();
    let mut fenced = false;
    let flush = |out: &mut String, paragraph: &mut Vec<&str>, prefix: &str| {
        if !paragraph.is_empty() {
            super::port::wrap(out, prefix, prefix, &paragraph.join(" "));
            paragraph.clear();
        }
    };
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let marker = ["//! ", "/// "]
            .into_iter()
            .find(|m| trimmed.starts_with(m));
        let body = marker.map(|m| &trimmed[m.len()..]);
        match (marker, body) {
            (Some(marker), Some(body))
                if !fenced && !body.starts_with("```") && !body.starts_with("- ") =>
            {
                let this = format!("{indent}{marker}");
                if this != prefix {
                    flush(&mut out, &mut paragraph, &prefix);
                    prefix = this;
                }
                paragraph.push(body);
            }
            _ => {
                flush(&mut out, &mut paragraph, &prefix);
                if body.is_some_and(|b| b.starts_with("```")) {
                    fenced = !fenced;
                }
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    flush(&mut out, &mut paragraph, &prefix);
    out
}

/// `impl Trait for Type {` as rustfmt writes it: on one line when it fits in 100 columns,
/// else with `for Type` on its own line and the brace below.
pub fn impl_header(tr: &str, ty: &str) -> String {
    let line = format!("impl {tr} for {ty} {{");
    if line.len() <= 100 {
        line
    } else {
        format!("impl {tr}\n    for {ty}\n{{")
    }
}

/// `text` with its ONEX fingerprint declared (inserted after `contract_version`). The
/// templates always parse; should one not, it is returned as it is and `onex validate`
/// reports the problem.
pub fn fingerprinted(text: &str) -> String {
    let loaded =
        onex_contracts::load_source(Path::new("contract.yaml"), "contract.yaml", text.to_owned());
    match loaded.fingerprint {
        Some(fp) => crate::rewrite::rewrite(text, &fp).map_or_else(|_| text.to_owned(), |(t, _)| t),
        None => text.to_owned(),
    }
}

const EFFECT_DESCRIPTION: &str =
    "An ONEX EFFECT node declared from its YAML contract: text records by key";

const EFFECT_CONTRACT: &str = r##"# @snake@: an EFFECT node (it talks to the outside world), created by `onex new effect`.
#
# `#[effect_node(contract = "contract.yaml")]` in lib.rs reads this file while the crate
# compiles: each model under `definitions` becomes a Rust struct with a `validate()`, each
# operation under `handler_routing` a method of the `@Node@Handler` trait. Add an operation
# here and `cargo build` asks for its method; `onex validate` checks this file on its own.
name: @snake@
node_type: EFFECT_GENERIC
contract_version: {major: 1, minor: 0, patch: 0}
node_version: {major: 1, minor: 0, patch: 0}
description: Stores text records by key and fetches them back (in memory, standing in for a database).

handler_routing:
  # The payload's `operation` field picks the handler.
  routing_strategy: operation_match
  handlers:
    - operation: record.put
      event_model: ModelPutRecord
      output_model: ModelRecord
      description: Stores a record under its key; each write of a key bumps its version.
    - operation: record.get
      event_model: ModelGetRecord
      output_model: ModelRecord
      description: Fetches the record stored under a key.

# A node host serves the node from these topics (see onex_runtime::host::NodeHost).
event_bus:
  subscribe_topics:
    - onex.cmd.@kebab@.put-record.v1
    - onex.cmd.@kebab@.get-record.v1
  publish_topics:
    - onex.evt.@kebab@.record-stored.v1
  dlq_topics:
    - onex.dlq.@kebab@.failed.v1

definitions:
  ModelPutRecord:
    type: object
    description: A record to store.
    properties:
      key:
        type: string
        min_length: 1
        max_length: 128
        description: The record's key.
      value:
        type: string
        description: The text to store.
    required: [key, value]

  ModelGetRecord:
    type: object
    description: The key of a record to fetch.
    properties:
      key: {type: string, min_length: 1, description: The record's key.}
    required: [key]

  ModelRecord:
    type: object
    description: A stored record.
    properties:
      key: {type: string}
      value: {type: string}
      version: {type: integer, ge: 1, description: "1 for the first write of a key, one more per write."}
    required: [key, value, version]
"##;

const EFFECT_LIB: &str = r##"//! `@Node@`: an ONEX EFFECT node declared from `contract.yaml` (created by `onex new effect`).
//!
//! An effect node talks to the outside world. This one keeps text records in memory, where
//! a real node would use a database or an API; the contract says what it accepts and
//! returns, and this file says what it does.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use onex_runtime::{EffectContext, ErrorCode, OnexError, effect_node};

use self::@module@::{ModelGetRecord, ModelPutRecord, ModelRecord};

/// Text records, by key.
///
/// The attribute reads `contract.yaml` (next to this file) at compile time and generates,
/// beside this struct: the module `@module@` (the contract's models, `CONTRACT` and topic
/// constants), `@Node@Operation`, `@Node@Input` / `@Node@Output`, the `@Node@Handler`
/// trait implemented below, and `impl EffectNode` (`process_json` and friends).
#[effect_node(contract = "contract.yaml")]
#[derive(Debug, Default)]
pub struct @Node@ {
    /// The records, by key (a database would live here).
    records: Mutex<BTreeMap<String, ModelRecord>>,
}

impl @Node@Handler for @Node@ {
    async fn record_put(
        &self,
        _ctx: &EffectContext,
        input: ModelPutRecord,
    ) -> Result<ModelRecord, OnexError> {
        // `input` has already passed the contract's constraints (a key of 1 to 128 characters).
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        let version = records.get(&input.key).map_or(1, |old| old.version + 1);
        let record = ModelRecord {
            key: input.key,
            value: input.value,
            version,
        };
        records.insert(record.key.clone(), record.clone());
        Ok(record)
    }

    async fn record_get(
        &self,
        _ctx: &EffectContext,
        input: ModelGetRecord,
    ) -> Result<ModelRecord, OnexError> {
        let records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        records.get(&input.key).cloned().ok_or_else(|| {
            OnexError::new(
                ErrorCode::OperationFailed,
                format!("no record under the key '{}'", input.key),
            )
            .with_context("key", input.key)
        })
    }
}
"##;

const EFFECT_TEST: &str = r##"//! `@Node@` answers ONEX JSON envelopes as its contract says.

use onex_runtime::{EffectNode, ErrorCode};

use @snake@::@Node@;

#[tokio::test]
async fn stores_and_fetches_records() {
    let node = @Node@::default();

    let put = br#"{"payload": {"operation": "record.put", "key": "greeting", "value": "hello"}}"#;
    let reply = node.process_json(put).await.unwrap();
    assert_eq!(reply.payload["key"], "greeting");
    assert_eq!(reply.payload["version"], 1);

    let again = br#"{"payload": {"operation": "record.put", "key": "greeting", "value": "hi"}}"#;
    let reply = node.process_json(again).await.unwrap();
    assert_eq!(reply.payload["version"], 2);

    let get = br#"{"correlation_id": "0b7e4a52-1c3d-4e5f-8a9b-000000000001",
                   "payload": {"operation": "record.get", "key": "greeting"}}"#;
    let reply = node.process_json(get).await.unwrap();
    assert_eq!(reply.payload["value"], "hi");
    // A reply keeps the request's correlation id.
    assert_eq!(
        reply.correlation_id.map(|id| id.to_string()).as_deref(),
        Some("0b7e4a52-1c3d-4e5f-8a9b-000000000001")
    );
}

#[tokio::test]
async fn failures_are_typed_errors() {
    let node = @Node@::default();

    // The handler's own error.
    let missing = br#"{"payload": {"operation": "record.get", "key": "nobody"}}"#;
    let err = node.process_json(missing).await.unwrap_err();
    assert_eq!(*err.code(), ErrorCode::OperationFailed);
    assert!(err.message().contains("nobody"), "{err}");

    // The contract's constraints (an empty key), checked before the handler runs.
    let empty = br#"{"payload": {"operation": "record.put", "key": "", "value": "x"}}"#;
    let err = node.process_json(empty).await.unwrap_err();
    assert_eq!(*err.code(), ErrorCode::Validation);

    // An operation the contract does not declare.
    let unknown = br#"{"payload": {"operation": "record.delete", "key": "greeting"}}"#;
    assert!(node.process_json(unknown).await.is_err());
}
"##;

const COMPUTE_DESCRIPTION: &str =
    "An ONEX COMPUTE node declared from its YAML contract: summary statistics of measurements";

const COMPUTE_CONTRACT: &str = r##"# @snake@: a COMPUTE node (a pure transformation), created by `onex new compute`.
#
# `#[compute_node(contract = "contract.yaml")]` in lib.rs reads this file while the crate
# compiles. Same input, same output: no I/O, no clock, no state (`descriptor.purity: pure`;
# a side-effecting compute contract is a compile error). With `input_model` and
# `output_model` and no routing, the node has one operation, handled by `handle`.
name: @snake@
node_type: COMPUTE_GENERIC
contract_version: {major: 1, minor: 0, patch: 0}
node_version: {major: 1, minor: 0, patch: 0}
description: Summarizes a list of measurements (count, sum, mean, minimum and maximum).
descriptor:
  node_archetype: compute
  purity: pure
  idempotent: true
input_model: ModelMeasurements
output_model: ModelSummary
event_bus:
  subscribe_topics: [onex.cmd.@kebab@.summarize.v1]
  publish_topics: [onex.evt.@kebab@.summarized.v1]

definitions:
  ModelMeasurements:
    type: object
    description: The measurements to summarize.
    properties:
      values:
        type: array
        items: {type: number}
        min_length: 1
        description: At least one measurement.
      unit: {type: string, default: "", description: "The measurements' unit, echoed back."}
    required: [values]

  ModelSummary:
    type: object
    description: Summary statistics of the measurements.
    properties:
      count: {type: integer, ge: 1}
      sum: {type: number}
      mean: {type: number}
      min: {type: number}
      max: {type: number}
      unit: {type: string}
    required: [count, sum, mean, min, max, unit]
"##;

const COMPUTE_LIB: &str = r##"//! `@Node@`: an ONEX COMPUTE node declared from `contract.yaml` (created by `onex new compute`).
//!
//! A compute node is a pure function of its input: this one summarizes measurements.

use onex_runtime::{ErrorCode, OnexError, compute_node};

use self::@module@::{ModelMeasurements, ModelSummary};

/// Summary statistics of measurements. It holds nothing: every input carries all it needs.
///
/// The attribute reads `contract.yaml` (next to this file) at compile time and generates,
/// beside this struct: the module `@module@` (the contract's models, `CONTRACT` and topic
/// constants), `@Node@Operation`, `@Node@Input` / `@Node@Output`, the `@Node@Handler`
/// trait implemented below, and `impl ComputeNode` (`process_json` and friends).
#[compute_node(contract = "contract.yaml")]
#[derive(Clone, Copy, Debug, Default)]
pub struct @Node@;

impl @Node@Handler for @Node@ {
    /// The contract has one operation (`process`, no routing), so one method: `handle`.
    fn handle(&self, input: ModelMeasurements) -> Result<ModelSummary, OnexError> {
        // The contract guarantees at least one value; JSON cannot carry NaN or infinities,
        // but a sum can still overflow to infinity.
        let sum: f64 = input.values.iter().sum();
        if !sum.is_finite() {
            return Err(OnexError::new(
                ErrorCode::InvalidInput,
                "the measurements' sum is not a finite number",
            )
            .with_context("count", input.values.len()));
        }
        let count = input.values.len();
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for &value in &input.values {
            min = min.min(value);
            max = max.max(value);
        }
        Ok(ModelSummary {
            count: i64::try_from(count).unwrap_or(i64::MAX),
            sum,
            mean: sum / count as f64,
            min,
            max,
            unit: input.unit,
        })
    }
}
"##;

const COMPUTE_TEST: &str = r##"//! `@Node@` answers ONEX JSON envelopes as its contract says.

use onex_runtime::{ComputeNode, ErrorCode};

use @snake@::@Node@;

#[test]
fn summarizes_measurements() {
    let request = br#"{"payload": {"values": [3.0, 1.5, 4.5], "unit": "ms"}}"#;
    let node = @Node@;
    let reply = node.process_json(request).unwrap();
    assert_eq!(reply.payload["count"], 3);
    assert_eq!(reply.payload["sum"], 9.0);
    assert_eq!(reply.payload["mean"], 3.0);
    assert_eq!(reply.payload["min"], 1.5);
    assert_eq!(reply.payload["max"], 4.5);
    assert_eq!(reply.payload["unit"], "ms");
}

#[test]
fn bad_input_is_a_typed_error() {
    // `min_length: 1` in the contract: checked before the handler runs.
    let node = @Node@;
    let empty = br#"{"payload": {"values": []}}"#;
    let err = node.process_json(empty).unwrap_err();
    assert_eq!(*err.code(), ErrorCode::Validation);

    // The handler's own error: the sum overflows.
    let huge = br#"{"payload": {"values": [1e308, 1e308]}}"#;
    let err = node.process_json(huge).unwrap_err();
    assert_eq!(*err.code(), ErrorCode::InvalidInput);

    // Not a list of numbers.
    let words = br#"{"payload": {"values": ["one"]}}"#;
    assert!(node.process_json(words).is_err());
}
"##;

const REDUCER_DESCRIPTION: &str =
    "An ONEX REDUCER node declared from its YAML contract: a job lifecycle state machine";

const REDUCER_CONTRACT: &str = r##"# @snake@: a REDUCER node (a state machine), created by `onex new reducer`.
#
# `#[reducer_node(contract = "contract.yaml")]` in lib.rs turns the machine below into
# `@Node@State`, `@Node@Trigger`, `@Node@Intent` and a generated `reduce` (a `match` on state
# and trigger). Guards are checked against `ModelJobContext` at compile time: a typo in a
# field name is a build error pointing at this file. A reducer decides the next state and
# the intents to emit; it never performs them.
name: @snake@
node_type: REDUCER_GENERIC
contract_version: {major: 1, minor: 0, patch: 0}
node_version: {major: 1, minor: 0, patch: 0}
description: Tracks a job through its lifecycle, with up to three retries.
input_model: ModelJobContext

definitions:
  ModelJobContext:
    type: object
    description: What is known about the job when a trigger fires.
    properties:
      job_id: {type: string, min_length: 1, description: The job.}
      attempts: {type: integer, ge: 0, default: 0, description: Runs started so far.}
    required: [job_id]

state_transitions:
  state_machine_name: @snake@_lifecycle
  description: queued -> running -> succeeded, or failed and retried; cancelled from anywhere.
  initial_state: queued
  states:
    - state_name: queued
      description: Waiting to run.
    - state_name: running
      description: Running.
      entry_actions: [start_timer]
      exit_actions: [stop_timer]
    - state_name: failed
      description: The last run failed.
      entry_actions: [alert]
    - state_name: succeeded
      description: Done.
      is_terminal: true
      entry_actions: [notify_done]
    - state_name: cancelled
      description: Cancelled on purpose.
      is_terminal: true
  transitions:
    - transition_name: start
      from_state: queued
      to_state: running
      trigger: start
      actions:
        - action_name: reserve_worker
    - transition_name: finish
      from_state: running
      to_state: succeeded
      trigger: finish
    - transition_name: fail
      from_state: running
      to_state: failed
      trigger: fail
    - transition_name: retry
      from_state: failed
      to_state: running
      trigger: retry
      conditions:
        - condition_name: retries_left
          expression: attempts less_than 3
      actions:
        - action_name: reserve_worker
    - transition_name: cancel
      from_state: "*"
      to_state: cancelled
      trigger: cancel
      actions:
        - action_name: release_worker
"##;

const REDUCER_LIB: &str = r##"//! `@Node@`: an ONEX REDUCER node declared from `contract.yaml` (created by `onex new reducer`).
//!
//! The whole node is the contract: states, triggers, guards and actions. Drive it with an
//! `FsmExecutor` (it keeps the current state and a history), or serve it from a node host.
//!
//! ```
//! use @snake@::{@Node@, @Node@State, @Node@Trigger, context};
//! use onex_runtime::FsmExecutor;
//!
//! let mut job = FsmExecutor::new(@Node@);
//! let t = job.fire(@Node@Trigger::Start, &context("job-1", 1)).unwrap();
//! assert_eq!(t.to, @Node@State::Running);
//! ```

use onex_runtime::reducer_node;

pub use self::@module@::ModelJobContext;

/// The job lifecycle (no fields: the state lives in the executor).
///
/// The attribute reads `contract.yaml` (next to this file) at compile time and generates,
/// beside this struct: the module `@module@` (the context model and `CONTRACT`),
/// `@Node@State`, `@Node@Trigger`, `@Node@Intent` and `impl ReducerNode`.
#[reducer_node(contract = "contract.yaml")]
#[derive(Clone, Copy, Debug, Default)]
pub struct @Node@;

/// The guard context of `job_id` after `attempts` runs started.
pub fn context(job_id: &str, attempts: i64) -> ModelJobContext {
    ModelJobContext {
        job_id: job_id.to_owned(),
        attempts,
    }
}
"##;

const REDUCER_TEST: &str = r##"//! `@Node@` moves as its contract says.

use onex_runtime::{FsmError, FsmExecutor};

use @snake@::{@Node@, @Node@Intent as I, @Node@State as S, @Node@Trigger as T, context};

#[test]
fn runs_fails_retries_and_succeeds() {
    let mut job = FsmExecutor::new(@Node@);
    assert_eq!(job.state(), S::Queued);

    let t = job.fire(T::Start, &context("job-1", 0)).unwrap();
    assert_eq!((t.to, t.name), (S::Running, "start"));
    // Transition actions first, then the entry actions of the new state.
    assert_eq!(t.intents, [I::ReserveWorker, I::StartTimer]);

    let t = job.fire(T::Fail, &context("job-1", 1)).unwrap();
    assert_eq!(t.to, S::Failed);
    assert_eq!(t.intents, [I::StopTimer, I::Alert]);

    let t = job.fire(T::Retry, &context("job-1", 1)).unwrap();
    assert_eq!(t.to, S::Running);

    let t = job.fire(T::Finish, &context("job-1", 2)).unwrap();
    assert_eq!(t.to, S::Succeeded);
    assert!(job.state().is_terminal());
}

#[test]
fn guards_and_wildcards() {
    let mut job = FsmExecutor::new(@Node@);
    job.fire(T::Start, &context("job-2", 0)).unwrap();
    job.fire(T::Fail, &context("job-2", 3)).unwrap();

    // `attempts less_than 3` fails: the transition is refused and the state stays.
    let err = job.fire(T::Retry, &context("job-2", 3)).unwrap_err();
    assert!(matches!(err, FsmError::GuardRejected { .. }), "{err:?}");
    assert_eq!(job.state(), S::Failed);

    // No `finish` from `failed`.
    assert!(job.fire(T::Finish, &context("job-2", 3)).is_err());

    // `cancel` leaves any state (`from_state: "*"`).
    let t = job.fire(T::Cancel, &context("job-2", 3)).unwrap();
    assert_eq!(t.to, S::Cancelled);
    assert_eq!(t.intents, [I::ReleaseWorker]);
}
"##;

const ORCHESTRATOR_DESCRIPTION: &str =
    "An ONEX ORCHESTRATOR node declared from its YAML contract: a text report workflow";

const ORCHESTRATOR_CONTRACT: &str = r##"# @snake@: an ORCHESTRATOR node (a workflow of steps), created by `onex new orchestrator`.
#
# `#[orchestrator_node(contract = "contract.yaml")]` in lib.rs reads the workflow below while
# the crate compiles: the step enum, the `@Node@Steps` trait (one output type and one
# `async fn` per step), the typed views of each step's dependencies and the plan (order,
# parallel waves, rules) are generated; a cycle or a dangling `depends_on` is a build error
# here. Real steps usually call other nodes through typed clients (EffectClient,
# ComputeClient, ReducerClient); these compute locally.
name: @snake@
node_type: ORCHESTRATOR_GENERIC
contract_version: {major: 1, minor: 0, patch: 0}
node_version: {major: 1, minor: 0, patch: 0}
description: Normalizes a text, counts its words and characters in parallel, and reports both.
input_model: ModelText

definitions:
  ModelText:
    type: object
    description: The workflow's input.
    properties:
      text: {type: string, description: The text to report on.}
    required: [text]

  ModelTextReport:
    type: object
    description: What the workflow reports.
    properties:
      words: {type: integer, ge: 0}
      characters: {type: integer, ge: 0}
    required: [words, characters]

workflow_coordination:
  workflow_definition:
    workflow_metadata:
      workflow_name: @snake@_report
      execution_mode: parallel
      description: normalize, then both counts at once, then the report.
    execution_graph:
      nodes:
        - node_id: normalize
          node_type: COMPUTE_GENERIC
          description: Collapses runs of whitespace and trims the text.
        - node_id: count_words
          node_type: COMPUTE_GENERIC
          description: Counts the words of the normalized text.
          depends_on: [normalize]
        - node_id: count_characters
          node_type: COMPUTE_GENERIC
          description: Counts the characters of the normalized text.
          depends_on: [normalize]
        - node_id: report
          node_type: COMPUTE_GENERIC
          description: Puts both counts in one report.
          depends_on: [count_words, count_characters]
    coordination_rules:
      failure_recovery_strategy: fail_fast
      step_timeout_ms: 1000
      timeout_ms: 5000
"##;

const ORCHESTRATOR_LIB: &str = r##"//! `@Node@`: an ONEX ORCHESTRATOR node declared from `contract.yaml` (created by
//! `onex new orchestrator`).
//!
//! The contract holds the workflow (steps, dependencies, execution mode, timeouts); this
//! file holds what each step does. Run it with `WorkflowExecutor::new(@Node@).run(input)`.

use onex_runtime::{OnexError, WorkflowContext, orchestrator_node};

use self::@module@::{ModelText, ModelTextReport};

/// The text report workflow.
///
/// The attribute reads `contract.yaml` (next to this file) at compile time and generates,
/// beside this struct: the module `@module@` (the contract's models and `CONTRACT`),
/// `@Node@Step`, the `@Node@Steps` trait implemented below, one `@Node@…Deps` view per step
/// with dependencies, `@Node@Outputs` and `impl OrchestratorNode` (whose `PLAN` was computed
/// from the contract at compile time).
#[orchestrator_node(contract = "contract.yaml")]
#[derive(Clone, Copy, Debug, Default)]
pub struct @Node@;

impl @Node@Steps for @Node@ {
    type Normalize = String;
    type CountWords = u64;
    type CountCharacters = u64;
    type Report = ModelTextReport;

    async fn normalize(
        &self,
        input: &ModelText,
        _cx: &WorkflowContext,
    ) -> Result<String, OnexError> {
        Ok(input.text.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    async fn count_words(
        &self,
        _input: &ModelText,
        deps: @Node@CountWordsDeps<'_>,
        _cx: &WorkflowContext,
    ) -> Result<u64, OnexError> {
        Ok(deps.normalize.split(' ').filter(|w| !w.is_empty()).count() as u64)
    }

    async fn count_characters(
        &self,
        _input: &ModelText,
        deps: @Node@CountCharactersDeps<'_>,
        _cx: &WorkflowContext,
    ) -> Result<u64, OnexError> {
        Ok(deps.normalize.chars().count() as u64)
    }

    async fn report(
        &self,
        _input: &ModelText,
        deps: @Node@ReportDeps<'_>,
        _cx: &WorkflowContext,
    ) -> Result<ModelTextReport, OnexError> {
        let count = |n: u64| {
            i64::try_from(n).map_err(|_| OnexError::internal(format!("{n} does not fit a report")))
        };
        Ok(ModelTextReport {
            words: count(*deps.count_words)?,
            characters: count(*deps.count_characters)?,
        })
    }
}
"##;

const ORCHESTRATOR_TEST: &str = r##"//! `@Node@` plans and runs its workflow as its contract says.

use onex_runtime::{OrchestratorNode, WorkflowExecutor};

use @snake@::@module@::ModelText;
use @snake@::{@Node@, @Node@Step as Step};

#[test]
fn the_plan_comes_from_the_contract() {
    let plan = <@Node@ as OrchestratorNode>::PLAN;
    assert_eq!(
        plan.waves,
        [
            &[Step::Normalize][..],
            &[Step::CountWords, Step::CountCharacters][..],
            &[Step::Report][..],
        ]
    );
}

#[tokio::test]
async fn reports_words_and_characters() {
    let input = ModelText {
        text: "  the quick\n brown   fox ".to_owned(),
    };
    let executor = WorkflowExecutor::new(@Node@);
    let run = executor.run(input).await.unwrap();
    let normalized = run.outputs.normalize().map(String::as_str);
    assert_eq!(normalized, Some("the quick brown fox"));
    let report = run.outputs.report().unwrap();
    assert_eq!((report.words, report.characters), (4, 19));
}
"##;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every template contract loads without errors or warnings, with its fingerprint.
    #[test]
    fn contracts_are_clean() {
        let names = NodeNames::new("sample_node").unwrap();
        for kind in Kind::ALL {
            let files = render(kind, &names);
            let (_, contract) = files
                .files
                .iter()
                .find(|(p, _)| p.ends_with("contract.yaml"))
                .unwrap();
            let text = String::from_utf8(contract.clone()).unwrap();
            assert!(!text.contains('@'), "{kind}: a marker is left");
            let loaded =
                onex_contracts::load_source(Path::new("contract.yaml"), "contract.yaml", text);
            let rendered: Vec<String> = loaded
                .diagnostics
                .iter()
                .map(|d| loaded.render(d))
                .collect();
            assert!(rendered.is_empty(), "{kind}: {rendered:#?}");
            let contract = loaded.contract.unwrap();
            assert_eq!(contract.node_kind(), Some(kind.node_kind()));
            assert!(contract.fingerprint.is_some(), "{kind}: no fingerprint");
            for (path, bytes) in &files.files {
                let text = String::from_utf8(bytes.clone()).unwrap();
                assert!(
                    !text.contains('@'),
                    "{kind}: a marker is left in {}",
                    path.display()
                );
                assert!(!text.contains("todo!"), "{kind}: {}", path.display());
            }
        }
    }
}
