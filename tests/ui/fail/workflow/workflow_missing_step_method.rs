// The `impl PipelineSteps` forgets step `enrich`: rustc's missing-item error, once, at the
// impl (the generated views and outputs are generic over the trait, so nothing cascades).
use onex_runtime::{OnexError, WorkflowContext, orchestrator_node};

#[orchestrator_node(contract = "workflow_missing_step_method.yaml")]
pub struct Pipeline;

use pipeline::ModelPipelineInput;

impl PipelineSteps for Pipeline {
    type Fetch = String;
    type Validate = bool;
    type Enrich = usize;
    type Store = ();

    async fn fetch(
        &self,
        input: &ModelPipelineInput,
        _cx: &WorkflowContext,
    ) -> Result<String, OnexError> {
        Ok(input.record_id.clone())
    }

    async fn compensate_fetch(
        &self,
        _input: &ModelPipelineInput,
        _output: &String,
        _cx: &WorkflowContext,
    ) -> Result<(), OnexError> {
        Ok(())
    }

    async fn validate(
        &self,
        _input: &ModelPipelineInput,
        deps: PipelineValidateDeps<'_>,
        _cx: &WorkflowContext,
    ) -> Result<bool, OnexError> {
        Ok(!deps.fetch.is_empty())
    }

    async fn store(
        &self,
        _input: &ModelPipelineInput,
        deps: PipelineStoreDeps<'_>,
        _cx: &WorkflowContext,
    ) -> Result<(), OnexError> {
        assert!(*deps.validate && *deps.enrich > 0);
        Ok(())
    }
}

fn main() {}
