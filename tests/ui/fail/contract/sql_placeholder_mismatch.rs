use onex_runtime::effect_node;

#[effect_node(contract = "sql_placeholder_mismatch.yaml")]
pub struct Node;

fn main() {}
