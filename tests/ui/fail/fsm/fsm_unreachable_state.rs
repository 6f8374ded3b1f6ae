// A state no path from the initial state leads to.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_unreachable_state.yaml")]
pub struct Door;

fn main() {}
