use onex_runtime::effect_node;

#[effect_node(contract = "wrong_node_kind.yaml")]
pub struct Node;

fn main() {}
