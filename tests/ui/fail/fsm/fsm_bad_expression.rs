// A condition is exactly `field operator value`: four tokens is malformed.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_bad_expression.yaml")]
pub struct Door;

fn main() {}
