use onex_runtime::effect_node;

#[effect_node(contract = "name_collision_after_case_conversion.yaml")]
pub struct Node;

fn main() {}
