// Validation collects every problem: one build reports all of them, each at its own line.
use onex_runtime::orchestrator_node;

#[orchestrator_node(contract = "workflow_many_errors_collected.yaml")]
pub struct Pipeline;

fn main() {}
