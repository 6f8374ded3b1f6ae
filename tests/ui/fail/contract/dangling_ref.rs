use onex_runtime::effect_node;

#[effect_node(contract = "dangling_ref.yaml")]
pub struct Node;

fn main() {}
