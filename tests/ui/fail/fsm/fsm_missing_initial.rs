// The state machine has no `initial_state`.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_missing_initial.yaml")]
pub struct Door;

fn main() {}
