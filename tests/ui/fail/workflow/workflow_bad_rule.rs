// A coordination rule out of range: `max_parallel_steps: 0` would never run a step.
use onex_runtime::orchestrator_node;

#[orchestrator_node(contract = "workflow_bad_rule.yaml")]
pub struct Pipeline;

fn main() {}
