// An execution graph without steps: there would be nothing to run (and no step enum).
use onex_runtime::orchestrator_node;

#[orchestrator_node(contract = "workflow_no_steps.yaml")]
pub struct Pipeline;

fn main() {}
