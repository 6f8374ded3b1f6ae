use onex_runtime::effect_node;

#[effect_node(contract = "duplicate_yaml_key.yaml")]
pub struct Node;

fn main() {}
