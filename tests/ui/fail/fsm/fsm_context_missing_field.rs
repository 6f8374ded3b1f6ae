// A guard reads a field the `definitions` context model does not have.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_context_missing_field.yaml")]
pub struct Door;

fn main() {}
