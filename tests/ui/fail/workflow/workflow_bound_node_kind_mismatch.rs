// A compute node bound to a step the contract declares `EFFECT_GENERIC`: a compile-time
// (const evaluation) error that names the step's `node_type` in the contract.
use onex_runtime::{JsonValue, OnexError, WorkflowContext, compute_node, orchestrator_node};

#[compute_node(contract = "workflow_bound_node_kind_mismatch_scorer.yaml")]
pub struct Scorer;

impl ScorerHandler for Scorer {
    fn handle(&self, input: JsonValue) -> Result<JsonValue, OnexError> {
        Ok(input)
    }
}

#[orchestrator_node(contract = "workflow_bound_node_kind_mismatch.yaml", bind(fetch = Scorer))]
pub struct Pipeline;

impl PipelineSteps for Pipeline {
    type Fetch = ();
    type Score = ();

    async fn fetch(&self, _input: &(), _cx: &WorkflowContext) -> Result<(), OnexError> {
        Ok(())
    }

    async fn score(
        &self,
        _input: &(),
        _deps: PipelineScoreDeps<'_>,
        _cx: &WorkflowContext,
    ) -> Result<(), OnexError> {
        Ok(())
    }
}

fn main() {}
