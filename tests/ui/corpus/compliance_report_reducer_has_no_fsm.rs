// The corpus's `node_compliance_report_reducer` is a REDUCER contract without a state
// machine (its logic lives in a Python handler): `#[reducer_node]` cannot generate a reducer
// from it and says so at the contract's first line.
use onex_runtime::reducer_node;

#[reducer_node(
    contract = "../../../../shared/onex-corpus/valid/nodes/omnibase_core__src__omnibase_core__nodes__node_compliance_report_reducer__contract.yaml"
)]
pub struct ComplianceReportReducer;

fn main() {}
