//! Node kinds and the `node_type` spellings that map to them (DESIGN.md §4.2).

use std::fmt;

/// The four ONEX node kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKind {
    /// Talks to the outside world.
    Effect,
    /// A pure transformation.
    Compute,
    /// A finite-state machine.
    Reducer,
    /// A workflow DAG.
    Orchestrator,
}

impl NodeKind {
    /// All kinds.
    pub const ALL: [NodeKind; 4] = [
        NodeKind::Effect,
        NodeKind::Compute,
        NodeKind::Reducer,
        NodeKind::Orchestrator,
    ];

    /// Lower-case name (`effect`).
    pub const fn as_str(self) -> &'static str {
        match self {
            NodeKind::Effect => "effect",
            NodeKind::Compute => "compute",
            NodeKind::Reducer => "reducer",
            NodeKind::Orchestrator => "orchestrator",
        }
    }

    /// The attribute macro that declares nodes of this kind.
    pub const fn macro_name(self) -> &'static str {
        match self {
            NodeKind::Effect => "effect_node",
            NodeKind::Compute => "compute_node",
            NodeKind::Reducer => "reducer_node",
            NodeKind::Orchestrator => "orchestrator_node",
        }
    }
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a `node_type` value means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeType {
    /// A node of this kind.
    Node(NodeKind),
    /// The `workflow` dialect: parses, but is not a node contract.
    Workflow,
}

/// Every accepted `node_type` spelling, for "did you mean" hints.
pub const NODE_TYPES: &[&str] = &[
    "EFFECT_GENERIC",
    "COMPUTE_GENERIC",
    "REDUCER_GENERIC",
    "ORCHESTRATOR_GENERIC",
    "EFFECT",
    "COMPUTE",
    "REDUCER",
    "ORCHESTRATOR",
    "TOOL",
    "AGENT",
    "GATEWAY",
    "VALIDATOR",
    "WORKFLOW",
    "TRANSFORMER",
    "AGGREGATOR",
    "FUNCTION",
    "MODEL",
    "PLUGIN",
    "SCHEMA",
    "NODE",
    "SERVICE",
];

/// Maps a `node_type` spelling to its kind; `None` for an unknown spelling.
///
/// ```
/// use onex_contracts::kind::{node_type, NodeKind, NodeType};
/// assert_eq!(node_type("EFFECT_GENERIC"), Some(NodeType::Node(NodeKind::Effect)));
/// assert_eq!(node_type("reducer"), Some(NodeType::Node(NodeKind::Reducer)));
/// assert_eq!(node_type("GATEWAY"), Some(NodeType::Node(NodeKind::Orchestrator)));
/// assert_eq!(node_type("workflow"), Some(NodeType::Workflow));
/// assert_eq!(node_type("EFECT"), None);
/// ```
pub fn node_type(spelling: &str) -> Option<NodeType> {
    let upper = spelling.to_ascii_uppercase();
    let kind = match upper.strip_suffix("_GENERIC").unwrap_or(&upper) {
        "EFFECT" | "TOOL" | "AGENT" => NodeKind::Effect,
        "COMPUTE" | "TRANSFORMER" | "AGGREGATOR" | "FUNCTION" | "MODEL" | "PLUGIN" | "SCHEMA"
        | "NODE" | "SERVICE" => NodeKind::Compute,
        "REDUCER" => NodeKind::Reducer,
        "ORCHESTRATOR" | "GATEWAY" | "VALIDATOR" => NodeKind::Orchestrator,
        // Lower-case `workflow` is the workflow dialect; upper-case WORKFLOW a node type.
        "WORKFLOW" if spelling == "workflow" => return Some(NodeType::Workflow),
        "WORKFLOW" => NodeKind::Orchestrator,
        _ => return None,
    };
    Some(NodeType::Node(kind))
}
