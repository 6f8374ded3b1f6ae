use onex_runtime::effect_node;

#[effect_node(contract = "wrong_node_kind_compute_under_effect.yaml")]
pub struct PriceCalculator;

fn main() {}
