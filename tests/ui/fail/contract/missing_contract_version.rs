use onex_runtime::effect_node;

#[effect_node(contract = "missing_contract_version.yaml")]
pub struct Node;

fn main() {}
