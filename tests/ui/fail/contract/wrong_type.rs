use onex_runtime::effect_node;

#[effect_node(contract = "wrong_type.yaml")]
pub struct Node;

fn main() {}
