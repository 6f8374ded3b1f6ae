// An integer field compared with a literal that is not an integer.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_context_literal_type.yaml")]
pub struct Door;

fn main() {}
