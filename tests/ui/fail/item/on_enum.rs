use onex_runtime::effect_node;

#[effect_node(contract = "../greeter.yaml")]
pub enum Greeter {
    Formal,
    Casual,
}

fn main() {}
