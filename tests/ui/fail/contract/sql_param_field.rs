use onex_runtime::effect_node;

#[effect_node(contract = "sql_param_field.yaml")]
pub struct Node;

fn main() {}
