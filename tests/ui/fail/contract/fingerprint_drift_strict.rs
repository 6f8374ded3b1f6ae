use onex_runtime::effect_node;

#[effect_node(contract = "fingerprint_drift_strict.yaml", strict)]
pub struct Node;

fn main() {}
