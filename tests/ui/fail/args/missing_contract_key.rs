use onex_runtime::effect_node;

#[effect_node(relative_to = manifest)]
pub struct Greeter;

fn main() {}
