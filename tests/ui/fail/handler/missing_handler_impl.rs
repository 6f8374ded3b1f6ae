use onex_runtime::effect_node;

// No `impl GreeterHandler for Greeter`.
#[effect_node(contract = "../greeter.yaml")]
pub struct Greeter;

fn main() {}
