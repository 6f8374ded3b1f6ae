// `#[reducer_node]` on a REDUCER contract without a state machine.
use onex_runtime::reducer_node;

#[reducer_node(contract = "reducer_without_state_machine.yaml")]
pub struct Door;

fn main() {}
