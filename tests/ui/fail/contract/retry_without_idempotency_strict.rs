use onex_runtime::effect_node;

#[effect_node(contract = "retry_without_idempotency_strict.yaml", strict)]
pub struct Node;

fn main() {}
