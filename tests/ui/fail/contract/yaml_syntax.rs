use onex_runtime::effect_node;

#[effect_node(contract = "yaml_syntax.yaml")]
pub struct Node;

fn main() {}
