use onex_runtime::effect_node;

#[effect_node(contract = "db_not_generated_strict.yaml", strict)]
pub struct Node;

fn main() {}
