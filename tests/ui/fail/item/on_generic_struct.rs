use onex_runtime::effect_node;

#[effect_node(contract = "../greeter.yaml")]
pub struct Greeter<P> {
    pool: P,
}

fn main() {}
