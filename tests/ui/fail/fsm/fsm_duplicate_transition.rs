// Two transitions for the same `(from, trigger, priority)`: which one wins would depend on declaration order.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_duplicate_transition.yaml")]
pub struct Door;

fn main() {}
