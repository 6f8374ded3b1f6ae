// `bind` names a type that no node attribute declared.
use onex_runtime::{OnexError, WorkflowContext, orchestrator_node};

/// A plain struct, not a node.
pub struct Fetcher;

#[orchestrator_node(contract = "workflow_bind_not_a_node.yaml", bind(fetch = Fetcher))]
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
