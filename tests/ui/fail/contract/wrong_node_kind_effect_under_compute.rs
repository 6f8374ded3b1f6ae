use onex_runtime::compute_node;

// An effect contract with a side-effecting descriptor: the kind mismatch is the error (the
// purity rule of compute contracts does not apply to it).
#[compute_node(contract = "wrong_node_kind_effect_under_compute.yaml")]
pub struct Mailer;

fn main() {}
