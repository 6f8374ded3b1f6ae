// `failure_recovery_strategy: compensate` with no `compensable` step is a warning; `strict` makes it an error.
use onex_runtime::orchestrator_node;

#[orchestrator_node(contract = "workflow_compensate_nothing_strict.yaml", strict)]
pub struct Pipeline;

fn main() {}
