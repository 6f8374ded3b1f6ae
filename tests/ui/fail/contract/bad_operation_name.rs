use onex_runtime::effect_node;

#[effect_node(contract = "bad_operation_name.yaml")]
pub struct Node;

fn main() {}
