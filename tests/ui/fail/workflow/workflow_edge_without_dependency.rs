// An edge `fetch → store` whose target does not list `fetch` in `depends_on`.
use onex_runtime::orchestrator_node;

#[orchestrator_node(contract = "workflow_edge_without_dependency.yaml")]
pub struct Pipeline;

fn main() {}
