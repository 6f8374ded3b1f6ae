// A state declared twice.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_duplicate_state.yaml")]
pub struct Door;

fn main() {}
