use onex_runtime::compute_node;

#[compute_node(contract = "compute_side_effecting.yaml")]
pub struct AuditWriter;

fn main() {}
