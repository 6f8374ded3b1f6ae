use onex_runtime::effect_node;

#[effect_node(contract = "db_output_model.yaml")]
pub struct Node;

fn main() {}
