use onex_runtime::effect_node;

#[effect_node(contract = "unknown_key_in_typed_section.yaml")]
pub struct Node;

fn main() {}
