// A terminal state has no way out: an explicit transition out of one is an error.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_terminal_exit.yaml")]
pub struct Door;

fn main() {}
