// `*` is a source ("from any state"), never a target.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_wildcard_target.yaml")]
pub struct Door;

fn main() {}
