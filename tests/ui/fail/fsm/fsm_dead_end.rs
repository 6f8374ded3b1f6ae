// A non-terminal state with no transition out: the machine would be stuck there.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_dead_end.yaml")]
pub struct Door;

fn main() {}
