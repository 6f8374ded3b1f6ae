// A `failure_recovery_strategy` onex does not know.
use onex_runtime::orchestrator_node;

#[orchestrator_node(contract = "workflow_unknown_failure_strategy.yaml")]
pub struct Pipeline;

fn main() {}
