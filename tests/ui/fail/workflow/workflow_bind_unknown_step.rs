// `bind` names a step the workflow does not have (a typo: did you mean …?). The step names
// are checked before the bound type is looked at.
use onex_runtime::orchestrator_node;

/// The type bound to the misspelled step.
pub struct FetchAdapter;

#[orchestrator_node(contract = "workflow_bind_unknown_step.yaml", bind(fetch_recrod = FetchAdapter))]
pub struct Pipeline;

fn main() {}
