// A `matches` pattern that is not a valid regular expression.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_bad_pattern.yaml")]
pub struct Door;

fn main() {}
