// A transition's `to_state` names no state: the error points at it, with a did-you-mean.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_unknown_state.yaml")]
pub struct Door;

fn main() {}
