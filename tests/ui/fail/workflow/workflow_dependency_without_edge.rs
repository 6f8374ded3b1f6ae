// With `edges` declared, a dependency that no edge matches.
use onex_runtime::orchestrator_node;

#[orchestrator_node(contract = "workflow_dependency_without_edge.yaml")]
pub struct Pipeline;

fn main() {}
