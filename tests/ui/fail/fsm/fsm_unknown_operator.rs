// An operator onex does not know, one typo away from a real one.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_unknown_operator.yaml")]
pub struct Door;

fn main() {}
