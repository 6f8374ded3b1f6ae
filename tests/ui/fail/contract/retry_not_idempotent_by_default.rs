use onex_runtime::effect_node;

#[effect_node(contract = "retry_not_idempotent_by_default.yaml")]
pub struct Node;

fn main() {}
