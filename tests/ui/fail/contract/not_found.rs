use onex_runtime::effect_node;

#[effect_node(contract = "contracts/greeter.yaml")]
pub struct Greeter;

fn main() {}
