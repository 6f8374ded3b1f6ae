// An `execution_mode` that is not sequential, parallel or batch.
use onex_runtime::orchestrator_node;

#[orchestrator_node(contract = "workflow_unknown_execution_mode.yaml")]
pub struct Pipeline;

fn main() {}
