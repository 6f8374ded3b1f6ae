// An orchestrator contract whose workflow declares no execution graph.
use onex_runtime::orchestrator_node;

#[orchestrator_node(contract = "workflow_no_execution_graph.yaml")]
pub struct Pipeline;

fn main() {}
