// `is_valid` (infra dialect) needs a `validation.rules` entry with `valid_values` for the field.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_is_valid_without_rule.yaml")]
pub struct Door;

fn main() {}
