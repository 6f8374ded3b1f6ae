use onex_runtime::effect_node;

#[effect_node(contract = "include_escape.yaml")]
pub struct Node;

fn main() {}
