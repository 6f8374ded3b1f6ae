// Three steps depending on each other in a ring: the cycle is named in execution order.
use onex_runtime::orchestrator_node;

#[orchestrator_node(contract = "workflow_cycle.yaml")]
pub struct Pipeline;

fn main() {}
