// A step that depends on itself: the shortest cycle.
use onex_runtime::orchestrator_node;

#[orchestrator_node(contract = "workflow_self_dependency.yaml")]
pub struct Pipeline;

fn main() {}
