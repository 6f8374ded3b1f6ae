use onex_runtime::effect_node;

#[effect_node(contract = "not_a_node_contract.yaml")]
pub struct Node;

fn main() {}
