// Three ORCHESTRATOR contracts of the corpus declare no workflow (their logic lives in Python
// handlers): infra `node_setup_orchestrator`, core `node_cross_repo_validation_orchestrator`
// (`requires_workflow_definition: false`) and core `node_compliance_orchestrator`
// (`node_type: orchestrator`). `#[orchestrator_node]` cannot plan a workflow from them and
// says so at the start of each contract, one error per node.
use onex_runtime::orchestrator_node;

#[orchestrator_node(
    contract = "../../../../shared/onex-corpus/valid/nodes/omnibase_infra__src__omnibase_infra__nodes__node_setup_orchestrator__contract.yaml"
)]
pub struct SetupOrchestrator;

#[orchestrator_node(
    contract = "../../../../shared/onex-corpus/valid/nodes/omnibase_core__src__omnibase_core__contracts__validation__node_cross_repo_validation_orchestrator.yaml"
)]
pub struct CrossRepoValidationOrchestrator;

#[orchestrator_node(
    contract = "../../../../shared/onex-corpus/valid/nodes/omnibase_core__src__omnibase_core__nodes__node_compliance_orchestrator__contract.yaml"
)]
pub struct ComplianceOrchestrator;

fn main() {}
