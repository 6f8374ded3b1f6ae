// Validation collects every problem: one build reports all of them, each at its own line.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_many_errors_collected.yaml")]
pub struct Door;

fn main() {}
