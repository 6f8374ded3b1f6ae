// Step `fetch` declares its output `type Fetch = String` but its method returns a `u64`.
use onex_runtime::{OnexError, WorkflowContext, orchestrator_node};

#[orchestrator_node(contract = "workflow_wrong_step_output.yaml")]
pub struct Pipeline;

impl PipelineSteps for Pipeline {
    type Fetch = String;
    type Store = ();

    async fn fetch(&self, _input: &(), _cx: &WorkflowContext) -> Result<u64, OnexError> {
        Ok(42)
    }

    async fn store(
        &self,
        _input: &(),
        deps: PipelineStoreDeps<'_>,
        _cx: &WorkflowContext,
    ) -> Result<(), OnexError> {
        assert!(!deps.fetch.is_empty());
        Ok(())
    }
}

fn main() {}
