// An edge whose `to_node` names no step (a typo: did you mean …?).
use onex_runtime::orchestrator_node;

#[orchestrator_node(contract = "workflow_edge_unknown_step.yaml")]
pub struct Pipeline;

fn main() {}
