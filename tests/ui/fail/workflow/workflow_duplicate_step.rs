// A step `node_id` declared twice.
use onex_runtime::orchestrator_node;

#[orchestrator_node(contract = "workflow_duplicate_step.yaml")]
pub struct Pipeline;

fn main() {}
