// A `depends_on` entry naming no step (a typo: did you mean …?).
use onex_runtime::orchestrator_node;

#[orchestrator_node(contract = "workflow_unknown_dependency.yaml")]
pub struct Pipeline;

fn main() {}
