use onex_runtime::effect_node;

#[effect_node(contract = "/etc/onex/greeter.yaml")]
pub struct Greeter;

fn main() {}
