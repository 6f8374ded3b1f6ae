//! An orchestrator in a crate that denies warnings and missing docs, declared in a module
//! without the prelude and with the names a sloppy expansion might pick up shadowed: every
//! generated item is documented, lint-clean and spelled with full paths.

#![deny(
    warnings,
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms
)]
#![deny(
    unused_qualifications,
    unreachable_pub,
    trivial_casts,
    trivial_numeric_casts,
    unused_results,
    single_use_lifetimes,
    unused_lifetimes,
    let_underscore_drop,
    unused_import_braces,
    variant_size_differences,
    meta_variable_misuse,
    non_ascii_idents,
    unit_bindings,
    redundant_lifetimes,
    unused_macro_rules
)]

/// An orchestrator without the prelude.
pub mod hygiene {
    #![no_implicit_prelude]

    /// Everything a sloppy expansion might pick up from the prelude, shadowed.
    macro_rules! shadow {
        (structs: $($s:ident)*; traits: $($t:ident)*; modules: $($m:ident)*) => {
            $(
                /// Shadows a prelude name.
                #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy)]
                pub struct $s;
            )*
            $(
                /// Shadows a prelude trait.
                pub trait $t {}
            )*
            $(
                /// Shadows a crate name.
                pub mod $m {}
            )*
        };
    }

    shadow! {
        structs: Result Option Box String Vec Ok Err Some None;
        traits: Send Sync Clone Copy Debug Default Iterator Into ToString PartialEq FnOnce Future;
        modules: serde serde_json core std
    }

    /// Fetches, validates and enriches in parallel, stores.
    #[::onex_runtime::orchestrator_node(contract = "../contracts/pipeline.yaml")]
    #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy)]
    pub struct Pipeline;
}

use hygiene::pipeline::ModelPipelineInput;
use hygiene::{
    Pipeline, PipelineOutputs, PipelineStep, PipelineSteps, PipelineStoreDeps,
    PipelineValidateDeps,
};
use onex_runtime::workflow::{ExecutionMode, FailureStrategy};
use onex_runtime::{OnexError, OrchestratorNode, StepOutputs, WorkflowContext, WorkflowStep};

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
        Ok(format!("record {}", input.record_id))
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

    async fn enrich(
        &self,
        _input: &ModelPipelineInput,
        deps: hygiene::PipelineEnrichDeps<'_>,
        _cx: &WorkflowContext,
    ) -> Result<usize, OnexError> {
        Ok(deps.fetch.len())
    }

    async fn store(
        &self,
        _input: &ModelPipelineInput,
        deps: PipelineStoreDeps<'_>,
        _cx: &WorkflowContext,
    ) -> Result<(), OnexError> {
        assert!(*deps.validate);
        assert_eq!(*deps.enrich, "record 42".len());
        Ok(())
    }
}

fn main() {
    let plan = <Pipeline as OrchestratorNode>::PLAN;
    assert_eq!(plan.name, "record_pipeline");
    assert_eq!(plan.rules.mode, ExecutionMode::Parallel);
    assert_eq!(plan.rules.failure_strategy, FailureStrategy::Compensate);
    assert_eq!(plan.rules.max_parallel_steps, Some(2));
    assert_eq!(
        plan.waves,
        &[
            &[PipelineStep::Fetch][..],
            &[PipelineStep::Validate, PipelineStep::Enrich][..],
            &[PipelineStep::Store][..],
        ]
    );
    assert_eq!(plan.step(PipelineStep::Store).depends_on.len(), 2);
    assert!(plan.step(PipelineStep::Fetch).compensable);
    assert_eq!(<PipelineStep as WorkflowStep>::ALL.len(), 4);
    assert_eq!(PipelineStep::from_name("enrich"), Some(PipelineStep::Enrich));
    assert_eq!(PipelineStep::Store.index(), 3);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outputs = PipelineOutputs::default();
    let input = ModelPipelineInput {
        record_id: "42".to_owned(),
    };
    let cx = WorkflowContext::new(onex_runtime::Uuid::nil(), plan.name);
    for step in plan.order {
        runtime
            .block_on(Pipeline.run_step(*step, &input, &outputs, &cx))
            .unwrap();
    }
    assert!(outputs.is_done(PipelineStep::Store));
    assert_eq!(outputs.fetch().map(String::as_str), Some("record 42"));
    assert_eq!(
        outputs.to_json(PipelineStep::Enrich).unwrap().unwrap(),
        serde_json::json!(9)
    );
}
