// A numeric operator on a string field of the context model.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_context_numeric_on_string.yaml")]
pub struct Door;

fn main() {}
