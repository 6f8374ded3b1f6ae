// A numeric comparison with a non-numeric operand (Python silently evaluates it as false).
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_bad_operand.yaml")]
pub struct Door;

fn main() {}
