use onex_runtime::effect_node;

#[effect_node(contrct = "../greeter.yaml")]
pub struct Greeter;

fn main() {}
