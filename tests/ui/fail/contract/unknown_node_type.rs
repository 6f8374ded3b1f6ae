use onex_runtime::effect_node;

#[effect_node(contract = "unknown_node_type.yaml")]
pub struct Node;

fn main() {}
