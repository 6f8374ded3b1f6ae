// `initial_state` names no state: did-you-mean over the declared states.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_initial_not_a_state.yaml")]
pub struct Door;

fn main() {}
