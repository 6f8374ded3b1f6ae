// A step whose `node_type` is not a node kind (a typo: did you mean …?).
use onex_runtime::orchestrator_node;

#[orchestrator_node(contract = "workflow_unknown_node_type.yaml")]
pub struct Pipeline;

fn main() {}
