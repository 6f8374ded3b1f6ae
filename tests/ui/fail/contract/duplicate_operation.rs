use onex_runtime::effect_node;

#[effect_node(contract = "duplicate_operation.yaml")]
pub struct Node;

fn main() {}
