// Two distinct step ids that become the same Rust names (`FetchData` / `fetch_data`).
use onex_runtime::orchestrator_node;

#[orchestrator_node(contract = "workflow_step_name_collision.yaml")]
pub struct Pipeline;

fn main() {}
