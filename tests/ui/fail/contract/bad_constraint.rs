use onex_runtime::effect_node;

#[effect_node(contract = "bad_constraint.yaml")]
pub struct Node;

fn main() {}
