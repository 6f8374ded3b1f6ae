use onex_runtime::effect_node;

#[effect_node(contract = greeter_yaml)]
pub struct Greeter;

fn main() {}
