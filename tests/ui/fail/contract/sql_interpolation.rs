use onex_runtime::effect_node;

#[effect_node(contract = "sql_interpolation.yaml")]
pub struct Node;

fn main() {}
