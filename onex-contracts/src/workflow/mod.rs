//! The workflow of an orchestrator contract (`workflow_coordination.workflow_definition`),
//! lowered to an IR that code generation, the runtime and the `onex` command share
//! (DESIGN.md §4.5).
//!
//! - [`parse`] reads the block into a [`Workflow`], checking each value on its own (shapes,
//!   step ids, node types, execution mode, coordination rules);
//! - [`valid`] checks the graph as a whole (unique ids, dependencies that exist, no cycles,
//!   `edges` that agree with `depends_on`, ids that become distinct Rust names);
//! - [`plan`] computes the execution plan: [`Workflow::order`] and [`Workflow::waves`].
//!
//! # Ordering semantics (the Python reference, `../shared/onex-vectors/workflow/`)
//!
//! The graph is the `depends_on` lists: a step runs after every step it depends on. An
//! entry naming no step is skipped (and reported by [`valid`]); an entry repeated counts
//! once; a duplicated `node_id` resolves to its first declaration.
//!
//! - **Sequential and batch** ([`Workflow::order`]): Kahn's algorithm whose ready set is a
//!   min-heap keyed by declaration index. Each time a step finishes, the ready step declared
//!   first runs next; this is *not* wave by wave. Declared `join(right, left)`,
//!   `right(root)`, `left(root)`, `root`, `loner` run as `root, right, left, join, loner`.
//! - **Parallel** ([`Workflow::waves`]): each wave is every remaining step whose
//!   dependencies all ran in earlier waves, in declaration order. The same graph runs as
//!   `[root, loner], [right, left], [join]`.
//!
//! On a cyclic graph both return what they could order: the steps neither in a cycle nor
//! after one. Both are iterative, linear in the size of the graph (plus the heap's log).

pub mod parse;
pub mod plan;
pub mod valid;

use std::collections::HashMap;

use crate::kind::NodeKind;
use crate::read::Spanned;
use crate::yaml::Loc;

/// How the steps of a workflow run (`execution_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExecutionMode {
    /// One step at a time, in [`Workflow::order`].
    Sequential,
    /// Wave by wave ([`Workflow::waves`]), the steps of a wave together.
    Parallel,
    /// Like sequential (the Python reference runs batch workflows in the same order).
    Batch,
}

impl ExecutionMode {
    /// Every mode.
    pub const ALL: [ExecutionMode; 3] = [
        ExecutionMode::Sequential,
        ExecutionMode::Parallel,
        ExecutionMode::Batch,
    ];

    /// The contract spelling (`sequential`, `parallel`, `batch`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ExecutionMode::Sequential => "sequential",
            ExecutionMode::Parallel => "parallel",
            ExecutionMode::Batch => "batch",
        }
    }

    /// The mode with this contract spelling.
    pub fn from_name(name: &str) -> Option<ExecutionMode> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// What happens when a step fails (`failure_recovery_strategy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FailureStrategy {
    /// Stop the workflow at the first failure (the default).
    #[default]
    FailFast,
    /// Retry the step (`max_retries`, with backoff), then fail.
    Retry,
    /// Record the failure and go on with the steps that do not depend on it.
    Continue,
    /// Undo the completed compensable steps in reverse order (saga), then fail.
    Compensate,
}

impl FailureStrategy {
    /// Every strategy.
    pub const ALL: [FailureStrategy; 4] = [
        FailureStrategy::FailFast,
        FailureStrategy::Retry,
        FailureStrategy::Continue,
        FailureStrategy::Compensate,
    ];

    /// The contract spelling (`fail_fast`, `retry`, `continue`, `compensate`).
    pub const fn as_str(self) -> &'static str {
        match self {
            FailureStrategy::FailFast => "fail_fast",
            FailureStrategy::Retry => "retry",
            FailureStrategy::Continue => "continue",
            FailureStrategy::Compensate => "compensate",
        }
    }

    /// The strategy with this contract spelling.
    pub fn from_name(name: &str) -> Option<FailureStrategy> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// A whole workflow.
#[derive(Clone, Debug, PartialEq)]
pub struct Workflow {
    /// Where `workflow_definition` starts.
    pub loc: Loc,
    /// `workflow_metadata.workflow_name`, else the contract's name, else `workflow`.
    pub name: String,
    /// The resolved execution mode: `workflow_metadata.execution_mode`, else
    /// `coordination_rules.execution_mode`, else `parallel` when
    /// `coordination_rules.parallel_execution_allowed` is true, else `sequential`.
    pub mode: ExecutionMode,
    /// `execution_graph.nodes`, in declaration order (duplicated ids kept).
    pub steps: Vec<Step>,
    /// `execution_graph.edges` (empty when absent).
    pub edges: Vec<Edge>,
    /// `coordination_rules`, defaults filled in.
    pub rules: Rules,
}

/// One step (an `execution_graph.nodes[]` entry).
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// `node_id`, located at its value.
    pub id: Spanned<String>,
    /// Where the step's mapping starts.
    pub loc: Loc,
    /// `node_type` as written.
    pub node_type: Option<Spanned<String>>,
    /// The kind `node_type` names (`EFFECT_GENERIC` → effect); `None` when missing or unknown.
    pub kind: Option<NodeKind>,
    /// `depends_on`, as written (duplicates kept).
    pub depends_on: Vec<Spanned<String>>,
    /// `description`.
    pub description: Option<String>,
    /// `compensable: true` (an onex extension): the step has a compensation handler, run
    /// in reverse order when the `compensate` strategy unwinds a failed workflow.
    pub compensable: bool,
}

/// One `execution_graph.edges[]` entry: `from` runs before `to`.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// Where the edge's mapping starts.
    pub loc: Loc,
    /// `from_node`.
    pub from: Spanned<String>,
    /// `to_node`.
    pub to: Spanned<String>,
}

/// `coordination_rules`, with defaults for what is not written.
#[derive(Clone, Debug, PartialEq)]
pub struct Rules {
    /// `max_parallel_steps` (or the infra alias `max_parallel_branches`); `None` = no limit.
    pub max_parallel_steps: Option<u32>,
    /// `failure_recovery_strategy` (default `fail_fast`).
    pub failure_strategy: FailureStrategy,
    /// Where `failure_recovery_strategy` is written, when it is.
    pub failure_strategy_loc: Option<Loc>,
    /// `max_retries` (default 0).
    pub max_retries: u32,
    /// `retry_backoff_ms`: the delay before the first retry (default 1000).
    pub retry_backoff_ms: u64,
    /// `retry_backoff_multiplier`: each further delay is the previous one times this
    /// (default 2.0, at least 1.0).
    pub retry_backoff_multiplier: f64,
    /// `step_timeout_ms`: the limit for each step; `None` = none.
    pub step_timeout_ms: Option<u64>,
    /// `timeout_ms`: the limit for the whole workflow; `None` = none.
    pub timeout_ms: Option<u64>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            max_parallel_steps: None,
            failure_strategy: FailureStrategy::FailFast,
            failure_strategy_loc: None,
            max_retries: 0,
            retry_backoff_ms: 1000,
            retry_backoff_multiplier: 2.0,
            step_timeout_ms: None,
            timeout_ms: None,
        }
    }
}

impl Workflow {
    /// The index of the first step with this id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.id.value == id)
    }

    /// The first step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id.value == id)
    }

    /// The steps `step` depends on: each id resolved to its first declaration, in order of
    /// first mention, repeats and ids naming no step left out (empty for an index out of
    /// range).
    pub fn dependencies(&self, step: usize) -> Vec<usize> {
        let mut out = Vec::new();
        for entry in self.steps.get(step).map_or(&[][..], |s| &s.depends_on) {
            if let Some(i) = self.index_of(&entry.value)
                && !out.contains(&i)
            {
                out.push(i);
            }
        }
        out
    }

    /// Step id → index of its first declaration.
    pub(crate) fn index(&self) -> HashMap<&str, usize> {
        let mut index = HashMap::with_capacity(self.steps.len());
        for (i, s) in self.steps.iter().enumerate() {
            index.entry(s.id.as_str()).or_insert(i);
        }
        index
    }
}
