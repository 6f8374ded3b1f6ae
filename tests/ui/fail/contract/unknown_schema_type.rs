use onex_runtime::effect_node;

#[effect_node(contract = "unknown_schema_type.yaml")]
pub struct Node;

fn main() {}
