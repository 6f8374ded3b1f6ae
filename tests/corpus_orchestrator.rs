//! Every ORCHESTRATOR contract of the shared corpus (`../shared/onex-corpus/valid/nodes/`)
//! with an execution graph (six) compiles through `#[orchestrator_node]` unchanged, and runs
//! through the `WorkflowExecutor` in the order the Python reference computes for it.
//!
//! The contracts are read where they are, through `../../shared/` from this file (so this
//! test needs `../shared` beside the clone, as `.ci/run` does). Where a contract names its
//! input as a Python model (`input_model: {name: ModelScopeCheckCommand, module: …}`), the
//! Rust type of that name is written here, next to the attribute; the three contracts that
//! name none take `()`.
//!
//! Each step records when it started and ended in the node's [`Log`], and returns its start
//! position, which its dependents read through their typed `deps`. Every contract is checked
//! against its vectors, `../shared/onex-vectors/workflow/<stem>.json` (read at test time):
//!
//! - `PLAN` has the reference's steps and dependencies, its sequential order
//!   (`executor.get_execution_order.order`) and its waves (`executor.execute_parallel.waves`),
//!   which are also `_summary.json`'s `sequential_order` and `parallel_waves`;
//! - `PLAN.rules.mode` is the contract's declared mode (`declared_execution_mode`), and a run
//!   with the contract's own rules follows it: the recorded order is the sequential order in
//!   sequential mode, the recorded waves are the reference's waves in parallel mode;
//! - forced into the other mode, a run follows the reference's run in that mode
//!   (`executor.execute_sequential.emission_order`, `executor.execute_parallel.waves`).
//!
//! The other two ORCHESTRATOR contracts of the corpus with a workflow section,
//! `node_setup_orchestrator` and `node_cross_repo_validation_orchestrator`, have no
//! execution graph; they are the compile-fail case
//! `ui/corpus/orchestrators_without_an_execution_graph.rs`.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use onex_runtime::workflow::{ExecutionMode, WorkflowStatus};
use onex_runtime::{OnexError, OrchestratorNode, WorkflowContext, WorkflowExecutor, WorkflowStep};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// What the steps record, and what the reference says.

/// One event of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    Start(&'static str),
    End(&'static str),
}

/// What the steps of one node did, in the order they did it.
#[derive(Debug, Default)]
pub struct Log {
    events: Mutex<Vec<Event>>,
}

impl Log {
    /// Runs one step: records its start, waits a little (so the steps of one wave are all
    /// seen running before any of them ends), records its end. Returns the step's start
    /// position; `deps` are its dependencies' positions, which must be earlier.
    async fn step(&self, cx: &WorkflowContext, deps: &[usize]) -> Result<usize, OnexError> {
        let id = cx
            .step()
            .ok_or_else(|| OnexError::internal("a step context names its step"))?;
        let at = {
            let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
            events.push(Event::Start(id));
            events
                .iter()
                .filter(|e| matches!(e, Event::Start(_)))
                .count()
                - 1
        };
        if let Some(late) = deps.iter().find(|d| **d >= at) {
            return Err(OnexError::internal(format!(
                "`{id}` started at {at}, before a dependency (started at {late})"
            )));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Event::End(id));
        Ok(at)
    }

    fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The steps in the order they started.
    fn order(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Start(id) => Some(id.to_owned()),
                Event::End(_) => None,
            })
            .collect()
    }

    /// The waves that ran: each a maximal run of starts with no end between them (the steps
    /// that were running together). Sorted within a wave: the order in which concurrent steps
    /// are first polled is not part of the contract.
    fn waves(&self) -> Vec<Vec<String>> {
        let mut waves: Vec<Vec<String>> = Vec::new();
        let mut previous_was_start = false;
        for event in self.events() {
            match event {
                Event::Start(id) => {
                    match waves.last_mut() {
                        Some(wave) if previous_was_start => wave.push(id.to_owned()),
                        _ => waves.push(vec![id.to_owned()]),
                    }
                    previous_was_start = true;
                }
                Event::End(_) => previous_was_start = false,
            }
        }
        for wave in &mut waves {
            wave.sort();
        }
        waves
    }
}

/// A step's check of its input: `field` must not be empty.
fn required(value: &str, field: &str) -> Result<(), OnexError> {
    if value.is_empty() {
        Err(
            OnexError::validation(format!("`{field}` must not be empty"))
                .with_context("field", field),
        )
    } else {
        Ok(())
    }
}

/// A node whose steps record into a [`Log`].
trait Recording: OrchestratorNode {
    fn log(&self) -> &Log;
}

/// The reference's vectors for the corpus contract `stem`.
fn vectors(stem: &str) -> Value {
    let path = format!(
        "{}/../../shared/onex-vectors/workflow/{stem}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {path}: {e}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("a list of strings: {v}"))
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap_or_else(|| panic!("a string: {s}"))
                .to_owned()
        })
        .collect()
}

fn lists(v: &Value) -> Vec<Vec<String>> {
    v.as_array()
        .unwrap_or_else(|| panic!("a list of lists: {v}"))
        .iter()
        .map(strings)
        .collect()
}

fn ids<S: WorkflowStep>(steps: &[S]) -> Vec<String> {
    steps.iter().map(|s| s.as_str().to_owned()).collect()
}

/// Sorted within each wave (see [`Log::waves`]).
fn sorted(mut waves: Vec<Vec<String>>) -> Vec<Vec<String>> {
    for wave in &mut waves {
        wave.sort();
    }
    waves
}

/// Runs `executor` to completion; returns what its steps recorded.
async fn run<N: Recording>(executor: WorkflowExecutor<N>, input: N::Input) -> WorkflowExecutor<N> {
    let run = executor
        .run(input)
        .await
        .unwrap_or_else(|f| panic!("{}: {}\n{}", N::PLAN.name, f.error, f.trace));
    assert_eq!(run.trace.status, WorkflowStatus::Completed);
    assert_eq!(
        run.trace.steps_with("completed").len(),
        N::PLAN.steps.len(),
        "{}",
        run.trace
    );
    executor
}

/// Checks node `N` (made fresh by `node`, run with `input`) against the vectors of `stem`.
async fn conforms<N: Recording>(stem: &str, node: fn() -> N, input: fn() -> N::Input) {
    let v = vectors(stem);
    let plan = N::PLAN;
    assert_eq!(
        v["contract"],
        format!("valid/nodes/{stem}.yaml"),
        "the vectors of another contract"
    );

    // The plan, computed at compile time, is the reference's.
    assert_eq!(plan.name, v["workflow_name"], "{stem}");
    let declared: Vec<(String, Vec<String>)> = plan
        .steps
        .iter()
        .map(|s| (s.id.to_owned(), ids(s.depends_on)))
        .collect();
    let reference: Vec<(String, Vec<String>)> = v["contract_binding"]["bound_nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{stem}: bound_nodes"))
        .iter()
        .map(|n| {
            let id = n["node_id"].as_str().unwrap_or_default().to_owned();
            (id, strings(&n["depends_on"]))
        })
        .collect();
    assert_eq!(declared, reference, "{stem}: steps and dependencies");
    let sequential = strings(&v["executor"]["get_execution_order"]["order"]);
    let waves = lists(&v["executor"]["execute_parallel"]["waves"]);
    // The digest (`_summary.json`) says the same.
    let summary = vectors("_summary");
    let digest = summary["corpus"]
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|d| d["file"] == format!("workflow/{stem}.json"))
        })
        .unwrap_or_else(|| panic!("{stem} is missing from _summary.json"));
    assert_eq!(strings(&digest["sequential_order"]), sequential, "{stem}");
    assert_eq!(lists(&digest["parallel_waves"]), waves, "{stem}");
    assert_eq!(ids(plan.order), sequential, "{stem}: PLAN.order");
    let plan_waves: Vec<Vec<String>> = plan.waves.iter().map(|w| ids(w)).collect();
    assert_eq!(plan_waves, waves, "{stem}: PLAN.waves");

    // The declared mode, and a run with the contract's own rules.
    let modes = &v["declared_execution_mode"];
    let mode = modes["workflow_metadata.execution_mode"]
        .as_str()
        .or_else(|| modes["coordination_rules.execution_mode"].as_str())
        .unwrap_or_else(|| panic!("{stem}: no declared mode"));
    assert_eq!(plan.rules.mode.as_str(), mode, "{stem}");
    let executor = run(WorkflowExecutor::new(node()), input()).await;
    match plan.rules.mode {
        ExecutionMode::Sequential | ExecutionMode::Batch => {
            assert_eq!(executor.node().log().order(), sequential, "{stem}: order");
        }
        ExecutionMode::Parallel => {
            assert_eq!(
                executor.node().log().waves(),
                sorted(waves.clone()),
                "{stem}: waves"
            );
        }
    }

    // Both modes, whatever the contract declares.
    let executor = run(
        WorkflowExecutor::new(node()).with_mode(ExecutionMode::Sequential),
        input(),
    )
    .await;
    let emitted = strings(&v["executor"]["execute_sequential"]["emission_order"]);
    assert_eq!(
        executor.node().log().order(),
        emitted,
        "{stem}: sequential run"
    );
    let executor = run(
        WorkflowExecutor::new(node())
            .with_mode(ExecutionMode::Parallel)
            .with_max_parallel_steps(None),
        input(),
    )
    .await;
    assert_eq!(
        executor.node().log().waves(),
        sorted(waves),
        "{stem}: parallel run"
    );
}

// ---------------------------------------------------------------------------------------
// The six orchestrators.

/// core `contracts/runtime/runtime_orchestrator.yaml`: the runtime's startup as a chain,
/// `contract_loader → contract_registry → node_graph → event_bus_wiring`, sequential. The
/// contract names no input model.
mod core_runtime {
    use super::*;
    use onex_runtime::orchestrator_node;

    #[orchestrator_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_core__contracts__runtime__runtime_orchestrator.yaml"
    )]
    #[derive(Default)]
    pub struct CoreRuntime {
        log: Log,
    }

    impl Recording for CoreRuntime {
        fn log(&self) -> &Log {
            &self.log
        }
    }

    impl CoreRuntimeSteps for CoreRuntime {
        type ContractLoader = usize;
        type ContractRegistry = usize;
        type NodeGraph = usize;
        type EventBusWiring = usize;

        async fn contract_loader(&self, _: &(), cx: &WorkflowContext) -> Result<usize, OnexError> {
            self.log.step(cx, &[]).await
        }

        async fn contract_registry(
            &self,
            _: &(),
            deps: CoreRuntimeContractRegistryDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.contract_loader]).await
        }

        async fn node_graph(
            &self,
            _: &(),
            deps: CoreRuntimeNodeGraphDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.contract_registry]).await
        }

        async fn event_bus_wiring(
            &self,
            _: &(),
            deps: CoreRuntimeEventBusWiringDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.node_graph]).await
        }
    }

    #[tokio::test]
    async fn runs_in_the_reference_order() {
        assert_eq!(CoreRuntimeStep::ALL.len(), 4);
        conforms(
            "omnibase_core__contracts__runtime__runtime_orchestrator",
            CoreRuntime::default,
            || (),
        )
        .await;
    }
}

/// core `examples/contracts/orchestrator_data_pipeline.yaml`: the corpus's one parallel
/// workflow, a diamond then a fan-out (`fetch → {validate, enrich} → aggregate → quality →
/// {persist, notify}`), five waves. No input model.
mod data_pipeline {
    use super::*;
    use onex_runtime::orchestrator_node;
    use onex_runtime::workflow::FailureStrategy;

    #[orchestrator_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_core__examples__contracts__orchestrator_data_pipeline.yaml"
    )]
    #[derive(Default)]
    pub struct DataPipeline {
        log: Log,
    }

    impl Recording for DataPipeline {
        fn log(&self) -> &Log {
            &self.log
        }
    }

    impl DataPipelineSteps for DataPipeline {
        type FetchRawData = usize;
        type ValidateSchema = usize;
        type EnrichData = usize;
        type AggregateMetrics = usize;
        type QualityCheck = usize;
        type PersistResults = usize;
        type SendNotification = usize;

        async fn fetch_raw_data(&self, _: &(), cx: &WorkflowContext) -> Result<usize, OnexError> {
            self.log.step(cx, &[]).await
        }

        async fn validate_schema(
            &self,
            _: &(),
            deps: DataPipelineValidateSchemaDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.fetch_raw_data]).await
        }

        async fn enrich_data(
            &self,
            _: &(),
            deps: DataPipelineEnrichDataDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.fetch_raw_data]).await
        }

        async fn aggregate_metrics(
            &self,
            _: &(),
            deps: DataPipelineAggregateMetricsDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log
                .step(cx, &[*deps.validate_schema, *deps.enrich_data])
                .await
        }

        async fn quality_check(
            &self,
            _: &(),
            deps: DataPipelineQualityCheckDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.aggregate_metrics]).await
        }

        async fn persist_results(
            &self,
            _: &(),
            deps: DataPipelinePersistResultsDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.quality_check]).await
        }

        async fn send_notification(
            &self,
            _: &(),
            deps: DataPipelineSendNotificationDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.quality_check]).await
        }
    }

    #[tokio::test]
    async fn runs_in_the_reference_waves() {
        let rules = DataPipeline::PLAN.rules;
        assert_eq!(rules.mode, ExecutionMode::Parallel);
        assert_eq!(rules.max_parallel_steps, Some(4));
        assert_eq!(rules.failure_strategy, FailureStrategy::Retry);
        assert_eq!(rules.max_retries, 3);
        conforms(
            "omnibase_core__examples__contracts__orchestrator_data_pipeline",
            DataPipeline::default,
            || (),
        )
        .await;
    }
}

/// infra `contracts/runtime/runtime_orchestrator.yaml`: infra's copy of the runtime chain
/// (its loader metadata differs). No input model. Its declared fingerprint is core's, so it
/// has drifted: the macro warns (a `deprecated` lint on the contract literal), allowed here.
#[allow(deprecated)]
mod infra_runtime {
    use super::*;
    use onex_runtime::orchestrator_node;

    #[orchestrator_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_infra__contracts__runtime__runtime_orchestrator.yaml"
    )]
    #[derive(Default)]
    pub struct InfraRuntime {
        log: Log,
    }

    impl Recording for InfraRuntime {
        fn log(&self) -> &Log {
            &self.log
        }
    }

    impl InfraRuntimeSteps for InfraRuntime {
        type ContractLoader = usize;
        type ContractRegistry = usize;
        type NodeGraph = usize;
        type EventBusWiring = usize;

        async fn contract_loader(&self, _: &(), cx: &WorkflowContext) -> Result<usize, OnexError> {
            self.log.step(cx, &[]).await
        }

        async fn contract_registry(
            &self,
            _: &(),
            deps: InfraRuntimeContractRegistryDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.contract_loader]).await
        }

        async fn node_graph(
            &self,
            _: &(),
            deps: InfraRuntimeNodeGraphDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.contract_registry]).await
        }

        async fn event_bus_wiring(
            &self,
            _: &(),
            deps: InfraRuntimeEventBusWiringDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.node_graph]).await
        }
    }

    #[tokio::test]
    async fn runs_in_the_reference_order() {
        assert!(InfraRuntime::CONTRACT.fingerprint_drifted());
        conforms(
            "omnibase_infra__contracts__runtime__runtime_orchestrator",
            InfraRuntime::default,
            || (),
        )
        .await;
    }
}

/// infra `nodes/node_registration_orchestrator/contract.yaml`: a seven-step chain from the
/// introspection event to the published outcome, in sequential mode set under
/// `coordination_rules` (not `workflow_metadata`), retrying failed steps. Its input is the
/// Python model `ModelOrchestratorInput`.
mod registration {
    use super::*;
    use onex_runtime::orchestrator_node;
    use onex_runtime::workflow::FailureStrategy;

    /// The Python `ModelOrchestratorInput` (`omnibase_infra.nodes.node_registration_orchestrator
    /// .models`): the introspection event and the workflow configuration.
    #[derive(Clone, Debug, Default, serde::Deserialize)]
    pub struct ModelOrchestratorInput {
        /// The node announcing itself.
        pub node_id: String,
        /// The triggering event (`node-introspection`, `runtime-tick`, …) as received.
        pub event: serde_json::Value,
    }

    #[orchestrator_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_infra__src__omnibase_infra__nodes__node_registration_orchestrator__contract.yaml"
    )]
    #[derive(Default)]
    pub struct Registration {
        log: Log,
    }

    impl Recording for Registration {
        fn log(&self) -> &Log {
            &self.log
        }
    }

    impl RegistrationSteps for Registration {
        type ReceiveIntrospection = usize;
        type ReadProjection = usize;
        type EvaluateTimeout = usize;
        type ComputeIntents = usize;
        type ExecutePostgresRegistration = usize;
        type AggregateResults = usize;
        type PublishOutcome = usize;

        async fn receive_introspection(
            &self,
            input: &ModelOrchestratorInput,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            required(&input.node_id, "node_id")?;
            if !input.event.is_object() {
                return Err(OnexError::validation("`event` must be an object"));
            }
            self.log.step(cx, &[]).await
        }

        async fn read_projection(
            &self,
            _: &ModelOrchestratorInput,
            deps: RegistrationReadProjectionDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.receive_introspection]).await
        }

        async fn evaluate_timeout(
            &self,
            _: &ModelOrchestratorInput,
            deps: RegistrationEvaluateTimeoutDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.read_projection]).await
        }

        async fn compute_intents(
            &self,
            _: &ModelOrchestratorInput,
            deps: RegistrationComputeIntentsDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.evaluate_timeout]).await
        }

        async fn execute_postgres_registration(
            &self,
            _: &ModelOrchestratorInput,
            deps: RegistrationExecutePostgresRegistrationDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.compute_intents]).await
        }

        async fn aggregate_results(
            &self,
            _: &ModelOrchestratorInput,
            deps: RegistrationAggregateResultsDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log
                .step(cx, &[*deps.execute_postgres_registration])
                .await
        }

        async fn publish_outcome(
            &self,
            _: &ModelOrchestratorInput,
            deps: RegistrationPublishOutcomeDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.aggregate_results]).await
        }
    }

    #[tokio::test]
    async fn runs_in_the_reference_order() {
        let rules = Registration::PLAN.rules;
        assert_eq!(rules.failure_strategy, FailureStrategy::Retry);
        assert_eq!(rules.max_retries, 3);
        conforms(
            "omnibase_infra__src__omnibase_infra__nodes__node_registration_orchestrator__contract",
            Registration::default,
            || ModelOrchestratorInput {
                node_id: "node-7".to_owned(),
                event: serde_json::json!({"event_type": "platform.node-introspection"}),
            },
        )
        .await;
    }
}

/// infra `nodes/node_runtime_orchestrator/contract.yaml`: the runtime chain as a node, whose
/// input is the Python model `ModelRuntimeContractConfig`. Its declared fingerprint has
/// drifted too (warning allowed, as above).
#[allow(deprecated)]
mod node_runtime {
    use super::*;
    use onex_runtime::orchestrator_node;

    /// The Python `ModelRuntimeContractConfig`
    /// (`omnibase_infra.runtime.models.model_runtime_contract_config`): where the runtime
    /// finds its contracts.
    #[derive(Clone, Debug, Default, serde::Deserialize)]
    pub struct ModelRuntimeContractConfig {
        /// The contracts directory.
        pub contracts_dir: String,
        /// Glob patterns of contracts to skip.
        pub exclude_patterns: Vec<String>,
    }

    #[orchestrator_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_infra__src__omnibase_infra__nodes__node_runtime_orchestrator__contract.yaml"
    )]
    #[derive(Default)]
    pub struct NodeRuntime {
        log: Log,
    }

    impl Recording for NodeRuntime {
        fn log(&self) -> &Log {
            &self.log
        }
    }

    impl NodeRuntimeSteps for NodeRuntime {
        type ContractLoader = usize;
        type ContractRegistry = usize;
        type NodeGraph = usize;
        type EventBusWiring = usize;

        async fn contract_loader(
            &self,
            input: &ModelRuntimeContractConfig,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            required(&input.contracts_dir, "contracts_dir")?;
            for pattern in &input.exclude_patterns {
                required(pattern, "exclude_patterns")?;
            }
            self.log.step(cx, &[]).await
        }

        async fn contract_registry(
            &self,
            _: &ModelRuntimeContractConfig,
            deps: NodeRuntimeContractRegistryDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.contract_loader]).await
        }

        async fn node_graph(
            &self,
            _: &ModelRuntimeContractConfig,
            deps: NodeRuntimeNodeGraphDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.contract_registry]).await
        }

        async fn event_bus_wiring(
            &self,
            _: &ModelRuntimeContractConfig,
            deps: NodeRuntimeEventBusWiringDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.node_graph]).await
        }
    }

    #[tokio::test]
    async fn runs_in_the_reference_order() {
        assert_eq!(
            <NodeRuntime as OrchestratorNode>::CONTRACT.name,
            "node_runtime_orchestrator",
            "the node's contract name, not the workflow's"
        );
        assert!(NodeRuntime::CONTRACT.fingerprint_drifted());
        conforms(
            "omnibase_infra__src__omnibase_infra__nodes__node_runtime_orchestrator__contract",
            NodeRuntime::default,
            || ModelRuntimeContractConfig {
                contracts_dir: "./contracts".to_owned(),
                exclude_patterns: vec!["**/_*.y*ml".to_owned()],
            },
        )
        .await;
    }
}

/// infra `nodes/node_scope_workflow_orchestrator/contract.yaml`: read a plan file, extract
/// its scope, write a manifest; sequential, fail fast, no retries. Its input is the Python
/// model `ModelScopeCheckCommand`.
mod scope_workflow {
    use super::*;
    use onex_runtime::orchestrator_node;

    /// The Python `ModelScopeCheckCommand`
    /// (`omnibase_infra.nodes.node_scope_workflow_orchestrator.models.model_scope_check_command`):
    /// which plan to check, and where the manifest goes.
    #[derive(Clone, Debug, Default, serde::Deserialize)]
    pub struct ModelScopeCheckCommand {
        /// The plan file to read.
        pub plan_path: String,
        /// Where to write the scope manifest.
        pub manifest_path: String,
    }

    #[orchestrator_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_infra__src__omnibase_infra__nodes__node_scope_workflow_orchestrator__contract.yaml"
    )]
    #[derive(Default)]
    pub struct ScopeWorkflow {
        log: Log,
    }

    impl Recording for ScopeWorkflow {
        fn log(&self) -> &Log {
            &self.log
        }
    }

    impl ScopeWorkflowSteps for ScopeWorkflow {
        type ReadFile = usize;
        type ExtractScope = usize;
        type WriteManifest = usize;

        async fn read_file(
            &self,
            input: &ModelScopeCheckCommand,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            required(&input.plan_path, "plan_path")?;
            self.log.step(cx, &[]).await
        }

        async fn extract_scope(
            &self,
            _: &ModelScopeCheckCommand,
            deps: ScopeWorkflowExtractScopeDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            self.log.step(cx, &[*deps.read_file]).await
        }

        async fn write_manifest(
            &self,
            input: &ModelScopeCheckCommand,
            deps: ScopeWorkflowWriteManifestDeps<'_>,
            cx: &WorkflowContext,
        ) -> Result<usize, OnexError> {
            required(&input.manifest_path, "manifest_path")?;
            self.log.step(cx, &[*deps.extract_scope]).await
        }
    }

    #[tokio::test]
    async fn runs_in_the_reference_order() {
        let rules = ScopeWorkflow::PLAN.rules;
        assert_eq!(rules.max_retries, 0);
        assert_eq!(rules.timeout, Some(Duration::from_millis(15_000)));
        conforms(
            "omnibase_infra__src__omnibase_infra__nodes__node_scope_workflow_orchestrator__contract",
            ScopeWorkflow::default,
            || ModelScopeCheckCommand {
                plan_path: "docs/plan.md".to_owned(),
                manifest_path: "scope.json".to_owned(),
            },
        )
        .await;
    }
}
