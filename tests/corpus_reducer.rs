//! Every REDUCER contract of the shared corpus (`../shared/onex-corpus/valid/nodes/`) through
//! `#[reducer_node]`: the seven with a state machine compile unchanged, and each is walked
//! along a realistic path (states, transition names, intent order, one rejection). The eighth,
//! core `node_compliance_report_reducer`, has no state machine; it is the compile-fail case
//! `ui/fail/fsm/corpus_compliance_report_reducer_has_no_fsm.rs`.
//!
//! The contracts are read where they are, through `../../shared/` from this file (so this
//! test needs `../shared` beside the clone, as `.ci/run` does). None of them defines its
//! context model in `definitions`: where a contract names a Python model
//! (`input_model: {name: ModelReducerInput, module: …}`) the Rust type of that name is
//! written here, in scope of the attribute; where it names none, the context type is given
//! with `context = …`. Each type holds the fields the contract's guards read, typed by what
//! the guard does: `min_length` fields are lists, `equals 0` and `less_than` fields are
//! counters, `is_present` fields are `Option`s.
//!
//! # Where onex deliberately differs from Python ONEX
//!
//! The Python reference evaluates `min_length`, `less_than` and six other operators as
//! always false (`../shared/onex-vectors/README.md`, "PYTHON OPERATOR GAP"). onex evaluates
//! every operator it accepts, typed. So transitions that can never fire in Python fire here
//! when their guard holds: `contract_registry_reducer` leaves `empty`, `node_graph_reducer`
//! reaches `wiring` through `registry_ready`, and `reducer_metrics_aggregator` collects and
//! retries. Each such step is marked "Python: never" below. The infra `state_machine`
//! contracts (two-token guards such as `node_id is_present`, `node_type is_valid`) do not
//! load in Python core at all; onex lowers them to `exists` and `in <validation.rules
//! valid_values>`.

use onex_runtime::{FsmError, FsmExecutor, FsmName, ReducerNode};

/// The intents of a transition, as contract names.
fn names<I: FsmName>(intents: &[I]) -> Vec<&'static str> {
    intents.iter().map(|i| i.as_str()).collect()
}

/// The facts the two node-graph reducers' guards read. The infra contract names this model
/// (`input_model: {name: ModelNodeGraphState, …}`), so `#[reducer_node]` picks it up by
/// name; the core contract names none and gets it through `context = …`.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct ModelNodeGraphState {
    /// Node definitions in the registry (`node_registry min_length 1`).
    pub node_registry: Vec<String>,
    /// Errors while loading the registry (`registry_errors equals 0`).
    pub registry_errors: u32,
    /// Nodes not wired yet (`unwired_nodes equals 0`).
    pub unwired_nodes: u32,
    /// Dependency cycles found (`circular_dependency_count equals 0`).
    pub circular_dependency_count: u32,
    /// Operations still in flight (`pending_operations equals 0`).
    pub pending_operations: u32,
}

/// core `contracts/runtime/contract_registry_reducer.yaml`: `empty → loading → ready`, with
/// `error` and retries; no terminal state (the registry lives as long as the runtime), so
/// the walk goes around its loop.
mod contract_registry {
    use super::*;
    use onex_runtime::reducer_node;

    /// What the registry knows when a trigger fires (the contract names no model).
    #[derive(Clone, Debug, Default)]
    pub struct RegistryFacts {
        /// Configured contract sources (`contract_sources min_length 1`).
        pub contract_sources: Vec<String>,
        /// Contracts loaded so far (`loaded_contracts min_length 1`).
        pub loaded_contracts: Vec<String>,
        /// Contracts that failed validation (`validation_errors equals 0`).
        pub validation_errors: u32,
        /// Automatic retries so far (`retry_count less_than 3`).
        pub retry_count: u32,
    }

    #[reducer_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_core__contracts__runtime__contract_registry_reducer.yaml",
        context = RegistryFacts
    )]
    pub struct ContractRegistry;

    type S = ContractRegistryState;
    type T = ContractRegistryTrigger;

    #[test]
    fn shape() {
        let fsm = ContractRegistry::FSM;
        assert_eq!(fsm.name, "contract_registry_fsm");
        assert_eq!(fsm.states, &["empty", "loading", "ready", "error"]);
        assert!(fsm.terminal.is_empty());
        assert_eq!(S::INITIAL, S::Empty);
        assert_eq!(
            T::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            [
                "contracts_discovered",
                "validation_complete",
                "validation_failed",
                "contracts_changed",
                "retry_load"
            ]
        );
    }

    #[test]
    fn loads_fails_retries_and_reloads() {
        let mut fsm = FsmExecutor::new(ContractRegistry);
        let mut facts = RegistryFacts::default();

        // No contract source yet: the guard rejects, the state stays.
        assert_eq!(
            fsm.fire(T::ContractsDiscovered, &facts).unwrap_err(),
            FsmError::GuardRejected {
                state: "empty",
                trigger: "contracts_discovered",
                transition: "discover_contracts",
                to: "loading",
                failed: vec!["contract_sources min_length 1"],
            }
        );
        assert_eq!(fsm.state(), S::Empty);

        // Python: never (`min_length` is always false there, so Python stays in `empty`).
        facts.contract_sources = vec!["contracts/".into()];
        let t = fsm.fire(T::ContractsDiscovered, &facts).unwrap();
        assert_eq!((t.to, t.name), (S::Loading, "discover_contracts"));
        assert_eq!(
            names(t.intents),
            [
                "emit_loading_started",
                "start_loading_timer",
                "initialize_contract_buffers",
                "clear_validation_cache"
            ]
        );

        let t = fsm.fire(T::ValidationFailed, &facts).unwrap();
        assert_eq!((t.to, t.name), (S::Error, "fail_validation"));
        assert_eq!(
            names(t.intents),
            [
                "stop_loading_timer",
                "flush_contract_buffers",
                "log_validation_errors",
                "emit_validation_failed",
                "emit_error_event",
                "log_failure_details",
                "cleanup_partial_load"
            ]
        );

        // Python: never (`less_than`).
        facts.retry_count = 1;
        let t = fsm.fire(T::RetryLoad, &facts).unwrap();
        assert_eq!((t.to, t.name), (S::Loading, "retry_loading"));
        assert_eq!(
            names(t.intents),
            [
                "clear_error_state",
                "increment_retry_counter",
                "emit_retry_started",
                "start_loading_timer",
                "initialize_contract_buffers",
                "clear_validation_cache"
            ]
        );

        // Validated, but nothing loaded: `loaded_contracts min_length 1` fails; with a
        // validation error as well, both conditions are reported, in declaration order.
        facts.validation_errors = 2;
        let Err(FsmError::GuardRejected { failed, .. }) = fsm.fire(T::ValidationComplete, &facts)
        else {
            panic!("expected a guard rejection")
        };
        assert_eq!(
            failed,
            [
                "validation_errors equals 0",
                "loaded_contracts min_length 1"
            ]
        );

        // Python: never (`min_length`).
        facts.validation_errors = 0;
        facts.loaded_contracts = vec!["node_a".into(), "node_b".into()];
        let t = fsm.fire(T::ValidationComplete, &facts).unwrap();
        assert_eq!((t.to, t.name), (S::Ready, "complete_validation"));
        assert_eq!(
            names(t.intents),
            [
                "stop_loading_timer",
                "flush_contract_buffers",
                "persist_registry_state",
                "emit_registry_ready",
                "emit_ready_event",
                "update_registry_index",
                "enable_contract_queries"
            ]
        );

        // Around the loop: a change reloads.
        let t = fsm.fire(T::ContractsChanged, &facts).unwrap();
        assert_eq!(
            (t.from, t.to, t.name),
            (S::Ready, S::Loading, "reload_contracts")
        );
        assert_eq!(
            names(t.intents)[..4],
            [
                "disable_contract_queries",
                "snapshot_current_state",
                "snapshot_previous_state",
                "emit_reload_started"
            ]
        );

        // Retries are exhausted at 3: `error` waits for an operator (`force_reload`, an
        // operation of the contract, not a transition).
        fsm.fire(T::ValidationFailed, &facts).unwrap();
        facts.retry_count = 3;
        assert!(matches!(
            fsm.fire(T::RetryLoad, &facts),
            Err(FsmError::GuardRejected {
                transition: "retry_loading",
                ..
            })
        ));
        assert_eq!(fsm.state(), S::Error);
        assert!(!fsm.is_terminal());
        assert_eq!((fsm.taken(), fsm.rejected()), (6, 3));
    }
}

/// core `contracts/runtime/node_graph_reducer.yaml`: `initializing → wiring → running →
/// draining → stopped`, with wildcard `fatal_error`/`timeout` to `stopped`.
mod core_node_graph {
    use super::*;
    use onex_runtime::reducer_node;

    #[reducer_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_core__contracts__runtime__node_graph_reducer.yaml",
        context = ModelNodeGraphState
    )]
    pub struct NodeGraph;

    type S = NodeGraphState;
    type T = NodeGraphTrigger;

    #[test]
    fn wires_runs_drains_and_stops() {
        let mut fsm = FsmExecutor::new(NodeGraph);
        let mut facts = ModelNodeGraphState {
            node_registry: vec!["compute".into(), "effect".into()],
            unwired_nodes: 3,
            ..ModelNodeGraphState::default()
        };
        // Python: never (`node_registry min_length 1`): there only the wildcards leave
        // `initializing`.
        let t = fsm.fire(T::RegistryReady, &facts).unwrap();
        assert_eq!((t.to, t.name), (S::Wiring, "registry_ready"));
        assert_eq!(
            names(t.intents),
            [
                "log_initialization_complete",
                "emit_wiring_started",
                "snapshot_registry_state",
                "resolve_node_dependencies",
                "establish_node_connections",
                "validate_connection_graph"
            ]
        );

        // Three nodes still unwired: rejected.
        assert_eq!(
            fsm.fire(T::WiringComplete, &facts).unwrap_err(),
            FsmError::GuardRejected {
                state: "wiring",
                trigger: "wiring_complete",
                transition: "wiring_complete",
                to: "running",
                failed: vec!["unwired_nodes equals 0"],
            }
        );
        facts.unwired_nodes = 0;
        let t = fsm.fire(T::WiringComplete, &facts).unwrap();
        assert_eq!(t.to, S::Running);
        assert_eq!(
            names(t.intents),
            [
                "finalize_wiring",
                "log_wiring_statistics",
                "emit_graph_running",
                "log_graph_topology",
                "activate_all_nodes",
                "start_health_monitoring",
                "emit_graph_ready_event"
            ]
        );

        let t = fsm.fire(T::ShutdownRequested, &facts).unwrap();
        assert_eq!((t.to, t.name), (S::Draining, "shutdown_requested"));
        facts.pending_operations = 2;
        assert!(fsm.fire(T::DrainComplete, &facts).is_err());
        facts.pending_operations = 0;
        let t = fsm.fire(T::DrainComplete, &facts).unwrap();
        assert_eq!((t.to, t.name), (S::Stopped, "drain_complete"));
        assert_eq!(
            names(t.intents),
            [
                "force_complete_remaining_work",
                "log_drain_statistics",
                "persist_final_state",
                "emit_graph_stopped",
                "release_all_resources",
                "disconnect_all_nodes",
                "emit_graph_stopped_event",
                "cleanup_graph_state"
            ]
        );
        assert!(fsm.is_terminal());
    }

    #[test]
    fn wildcards_stop_from_any_state_even_stopped() {
        let facts = ModelNodeGraphState::default();
        let t = NodeGraph
            .reduce(S::Initializing, T::FatalError, &facts)
            .unwrap();
        assert_eq!((t.to, t.name), (S::Stopped, "fatal_error"));
        assert_eq!(
            names(t.intents),
            [
                "log_initialization_complete",
                "log_fatal_error",
                "emit_fatal_error_alert",
                "capture_error_diagnostics",
                "emergency_resource_cleanup",
                "release_all_resources",
                "disconnect_all_nodes",
                "emit_graph_stopped_event",
                "cleanup_graph_state"
            ]
        );
        // Terminal states are not enforced at run time (as in Python): the entry actions
        // run again, which the contract requires to be idempotent.
        let t = NodeGraph.reduce(S::Stopped, T::Timeout, &facts).unwrap();
        assert_eq!(
            (t.from, t.to, t.name),
            (S::Stopped, S::Stopped, "handle_timeout")
        );
        // No exact transition and no wildcard: a typed `NoTransition`.
        assert_eq!(
            NodeGraph
                .reduce(S::Running, T::DrainComplete, &facts)
                .unwrap_err(),
            FsmError::NoTransition {
                state: "running",
                trigger: "drain_complete"
            }
        );
    }
}

/// core `examples/contracts/reducer_metrics_aggregator.yaml`: `idle → collecting →
/// validating → aggregating → completed`, a retry loop back to `collecting`, and wildcard
/// `error_occurred`/`timeout` to `failed`.
mod metrics_aggregator {
    use super::*;
    use onex_runtime::reducer_node;

    /// What the aggregator knows (the contract names no model).
    #[derive(Clone, Debug, Default)]
    pub struct MetricsFacts {
        /// Configured sources (`data_sources min_length 1`).
        pub data_sources: Vec<String>,
        /// Metrics collected (`collected_metrics min_length 10`).
        pub collected_metrics: Vec<f64>,
        /// Validation retries so far (`retry_count less_than 3`).
        pub retry_count: u8,
    }

    #[reducer_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_core__examples__contracts__reducer_metrics_aggregator.yaml",
        context = MetricsFacts
    )]
    pub struct MetricsAggregator;

    type S = MetricsAggregatorState;
    type T = MetricsAggregatorTrigger;

    #[test]
    fn collects_retries_aggregates_and_completes() {
        let mut fsm = FsmExecutor::new(MetricsAggregator);
        let mut facts = MetricsFacts {
            data_sources: vec!["prometheus".into()],
            collected_metrics: vec![1.0; 4],
            retry_count: 0,
        };
        // Python: never (`min_length`).
        let t = fsm.fire(T::CollectMetrics, &facts).unwrap();
        assert_eq!((t.to, t.name), (S::Collecting, "start_collection"));
        assert_eq!(
            names(t.intents),
            [
                "emit_collection_started",
                "start_collection_timer",
                "initialize_metric_buffers"
            ]
        );
        // Four metrics are not enough.
        assert_eq!(
            fsm.fire(T::CollectionComplete, &facts).unwrap_err(),
            FsmError::GuardRejected {
                state: "collecting",
                trigger: "collection_complete",
                transition: "complete_collection",
                to: "validating",
                failed: vec!["collected_metrics min_length 10"],
            }
        );
        // Python: never (`min_length`).
        facts.collected_metrics = vec![1.0; 12];
        let t = fsm.fire(T::CollectionComplete, &facts).unwrap();
        assert_eq!(
            names(t.intents),
            [
                "stop_collection_timer",
                "flush_metric_buffers",
                "snapshot_collected_metrics",
                "start_validation"
            ]
        );
        // Python: never (`less_than`): a failed validation collects again.
        let t = fsm.fire(T::ValidationFailed, &facts).unwrap();
        assert_eq!(
            (t.from, t.to, t.name),
            (S::Validating, S::Collecting, "validation_failed_retry")
        );
        assert_eq!(
            names(t.intents),
            [
                "log_validation_results",
                "increment_retry_counter",
                "start_collection_timer",
                "initialize_metric_buffers"
            ]
        );
        fsm.fire(T::CollectionComplete, &facts).unwrap();
        let t = fsm.fire(T::ValidationSuccess, &facts).unwrap();
        assert_eq!((t.to, t.name), (S::Aggregating, "validation_passed"));
        let t = fsm.fire(T::AggregationSuccess, &facts).unwrap();
        assert_eq!((t.to, t.name), (S::Completed, "aggregation_complete"));
        assert_eq!(
            names(t.intents),
            [
                "finalize_aggregation",
                "release_aggregation_buffers",
                "persist_final_results",
                "emit_metrics_to_monitoring",
                "emit_completion_event",
                "cleanup_resources"
            ]
        );
        assert!(fsm.is_terminal());
        assert_eq!(
            fsm.history().map(|h| h.to.as_str()).collect::<Vec<_>>(),
            [
                "collecting",
                "validating",
                "collecting",
                "validating",
                "aggregating",
                "completed"
            ]
        );
    }

    #[test]
    fn exhausted_retries_wait_for_the_error_wildcard() {
        let facts = MetricsFacts {
            retry_count: 3,
            ..MetricsFacts::default()
        };
        assert!(matches!(
            MetricsAggregator.reduce(S::Validating, T::ValidationFailed, &facts),
            Err(FsmError::GuardRejected { failed, .. }) if failed == ["retry_count less_than 3"]
        ));
        let t = MetricsAggregator
            .reduce(S::Validating, T::ErrorOccurred, &facts)
            .unwrap();
        assert_eq!((t.to, t.name), (S::Failed, "handle_error"));
        assert_eq!(
            names(t.intents),
            [
                "log_validation_results",
                "log_error_details",
                "emit_error_alert",
                "emit_failure_event",
                "rollback_partial_aggregation",
                "cleanup_resources"
            ]
        );
        assert!(t.to.is_terminal());
    }
}

/// infra `nodes/node_node_graph_reducer/contract.yaml`: the core node-graph machine again,
/// with `input_model: {name: ModelNodeGraphState, module: …}`, so the context is the type of
/// that name in scope. Its declared fingerprint was copied from the core contract and has
/// drifted: the macro warns (a `deprecated` lint on the contract literal), allowed here.
#[allow(deprecated)]
mod infra_node_graph {
    use super::*;
    use onex_runtime::reducer_node;

    #[reducer_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_infra__src__omnibase_infra__nodes__node_node_graph_reducer__contract.yaml"
    )]
    pub struct InfraNodeGraph;

    type S = InfraNodeGraphState;
    type T = InfraNodeGraphTrigger;

    #[test]
    fn the_context_is_the_named_model_and_the_walk_matches_core() {
        let _: fn(&<InfraNodeGraph as ReducerNode>::Context) -> &ModelNodeGraphState = |c| c;
        let contract = InfraNodeGraph::CONTRACT;
        assert_eq!(contract.name, "node_node_graph_reducer");
        assert!(contract.fingerprint_drifted());

        let mut fsm = FsmExecutor::new(InfraNodeGraph);
        let mut facts = ModelNodeGraphState::default();
        // Empty registry: rejected on `node_registry min_length 1` (Python: always).
        assert!(matches!(
            fsm.fire(T::RegistryReady, &facts),
            Err(FsmError::GuardRejected { failed, .. }) if failed == ["node_registry min_length 1"]
        ));
        facts.node_registry = vec!["compute".into()];
        let path = [
            (T::RegistryReady, S::Wiring),
            (T::WiringComplete, S::Running),
            (T::ShutdownRequested, S::Draining),
            (T::DrainComplete, S::Stopped),
        ];
        for (trigger, to) in path {
            assert_eq!(fsm.fire(trigger, &facts).unwrap().to, to);
        }
        assert!(fsm.is_terminal());
        assert_eq!(
            fsm.history()
                .map(|h| h.transition.as_ref())
                .collect::<Vec<_>>(),
            [
                "registry_ready",
                "wiring_complete",
                "shutdown_requested",
                "drain_complete"
            ]
        );
    }

    /// The JSON wire form reaches the same typed context.
    #[test]
    fn envelopes_round_trip() {
        let mut fsm = FsmExecutor::new(InfraNodeGraph);
        let envelope = |payload: &str| {
            format!(
                r#"{{"payload": {payload},
                    "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
                    "envelope_timestamp": "2026-11-20T12:30:45Z"}}"#
            )
        };
        let err = fsm
            .process_json(envelope(r#"{"trigger": "registry_redy", "context": {}}"#).as_bytes())
            .unwrap_err();
        assert_eq!(err.code().as_str(), "ONEX_CORE_007_INVALID_INPUT");
        let reply = fsm
            .process_json(
                envelope(
                    r#"{"trigger": "registry_ready", "context": {"node_registry": ["a"],
                        "registry_errors": 0, "unwired_nodes": 0,
                        "circular_dependency_count": 0, "pending_operations": 0}}"#,
                )
                .as_bytes(),
            )
            .unwrap();
        assert_eq!(reply.payload["to_state"], "wiring");
        assert_eq!(reply.payload["intents"][0], "log_initialization_complete");
    }
}

/// infra `nodes/node_registration_reducer/contract.yaml` (the `state_machine` dialect): no
/// transition names (onex names them `{from}_to_{to}_on_{trigger}`), two-token guards
/// `node_id is_present` and `node_type is_valid` (membership in the contract's
/// `validation.rules` `valid_values`), no terminal state (`complete` and `failed` reset).
mod registration {
    use super::*;
    use onex_runtime::reducer_node;

    /// The contract's `input_model` by name: the introspection event's fields the guards
    /// read.
    #[derive(Clone, Debug, Default)]
    pub struct ModelReducerInput {
        /// The node's identity (`node_id is_present`).
        pub node_id: Option<String>,
        /// Its kind (`node_type is_valid`: effect, compute, reducer or orchestrator).
        pub node_type: Option<String>,
    }

    #[reducer_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_infra__src__omnibase_infra__nodes__node_registration_reducer__contract.yaml"
    )]
    pub struct Registration;

    type S = RegistrationState;
    type T = RegistrationTrigger;

    fn event(node_id: Option<&str>, node_type: &str) -> ModelReducerInput {
        ModelReducerInput {
            node_id: node_id.map(Into::into),
            node_type: Some(node_type.into()),
        }
    }

    #[test]
    fn registers_resets_and_reregisters() {
        assert_eq!(Registration::FSM.name, "registration_fsm");
        assert!(Registration::FSM.terminal.is_empty());
        let mut fsm = FsmExecutor::new(Registration);

        // A nameless node of an unknown kind: both guards fail.
        assert_eq!(
            fsm.fire(T::IntrospectionReceived, &event(None, "gateway"))
                .unwrap_err(),
            FsmError::GuardRejected {
                state: "idle",
                trigger: "introspection_received",
                transition: "idle_to_pending_on_introspection_received",
                to: "pending",
                failed: vec!["node_id is_present", "node_type is_valid"],
            }
        );
        let ok = event(Some("node-42"), "effect");
        let t = fsm.fire(T::IntrospectionReceived, &ok).unwrap();
        assert_eq!(
            (t.to, t.name),
            (S::Pending, "idle_to_pending_on_introspection_received")
        );
        assert_eq!(
            names(t.intents),
            ["build_postgres_intent", "emit_postgres_intent"]
        );
        let t = fsm.fire(T::PostgresConfirmed, &ok).unwrap();
        assert_eq!(
            (t.to, t.name),
            (S::Complete, "pending_to_complete_on_postgres_confirmed")
        );
        assert_eq!(names(t.intents), ["mark_postgres_confirmed"]);
        let t = fsm.fire(T::Reset, &ok).unwrap();
        assert_eq!((t.to, names(t.intents)), (S::Idle, vec!["clear_state"]));

        // Re-registration fails validation, and resets from `failed`.
        let t = fsm.fire(T::ValidationFailed, &ok).unwrap();
        assert_eq!(
            (t.to, names(t.intents)),
            (S::Failed, vec!["record_validation_failure"])
        );
        assert_eq!(
            fsm.fire(T::PostgresConfirmed, &ok).unwrap_err(),
            FsmError::NoTransition {
                state: "failed",
                trigger: "postgres_confirmed"
            }
        );
        assert_eq!(fsm.fire(T::Reset, &ok).unwrap().to, S::Idle);
        for kind in ["compute", "reducer", "orchestrator"] {
            let to = Registration
                .reduce(S::Idle, T::IntrospectionReceived, &event(Some("n"), kind))
                .unwrap()
                .to;
            assert_eq!(to, S::Pending, "{kind}");
        }
    }
}

/// infra `nodes/node_routing_score_reducer/contract.yaml` (`state_machine` dialect): no
/// guards, no terminal state; `tracking` and `graduated` loop on `outcome_received`. Its
/// `input_model` is `ModelRoutingOutcome`, which no guard reads, so any type of that name
/// serves.
mod routing_score {
    use super::*;
    use onex_runtime::reducer_node;

    /// The routing outcome event. No guard reads it, so the test needs none of its fields.
    #[derive(Clone, Copy, Debug, Default)]
    pub struct ModelRoutingOutcome;

    #[reducer_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_infra__src__omnibase_infra__nodes__node_routing_score_reducer__contract.yaml"
    )]
    pub struct RoutingScore;

    type S = RoutingScoreState;
    type T = RoutingScoreTrigger;

    #[test]
    fn tracks_graduates_and_degraduates() {
        let outcome = ModelRoutingOutcome;
        let mut fsm = FsmExecutor::new(RoutingScore);
        // Nothing tracked yet: graduating is not a transition from `idle`.
        assert_eq!(
            fsm.fire(T::ModelGraduated, &outcome).unwrap_err(),
            FsmError::NoTransition {
                state: "idle",
                trigger: "model_graduated"
            }
        );
        let path = [
            (
                T::OutcomeReceived,
                S::Tracking,
                "idle_to_tracking_on_outcome_received",
            ),
            (
                T::OutcomeReceived,
                S::Tracking,
                "tracking_to_tracking_on_outcome_received",
            ),
            (
                T::ModelGraduated,
                S::Graduated,
                "tracking_to_graduated_on_model_graduated",
            ),
            (
                T::OutcomeReceived,
                S::Graduated,
                "graduated_to_graduated_on_outcome_received",
            ),
            (
                T::ModelDegraduated,
                S::Tracking,
                "graduated_to_tracking_on_model_degraduated",
            ),
        ];
        for (trigger, to, name) in path {
            let t = fsm.fire(trigger, &outcome).unwrap();
            assert_eq!((t.to, t.name), (to, name));
            // The contract declares no actions: no intents.
            assert!(t.intents.is_empty());
        }
        assert!(!fsm.is_terminal());
        assert_eq!(RoutingScore::FSM.intents, &[] as &[&str]);
    }
}

/// infra `nodes/node_scope_workflow_reducer/contract.yaml` (`state_machine` dialect): a
/// linear workflow `pending → reading_file → extracting → writing → complete`, `error` to
/// `failed` from each working state; no guards, no actions, `persistence_enabled: false`.
mod scope_workflow {
    use super::*;
    use onex_runtime::reducer_node;

    /// The contract's `input_model` by name. No guard reads it, so the test needs none of
    /// its fields.
    #[derive(Clone, Copy, Debug, Default)]
    pub struct ModelReducerInput;

    #[reducer_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_infra__src__omnibase_infra__nodes__node_scope_workflow_reducer__contract.yaml"
    )]
    pub struct ScopeWorkflow;

    type S = ScopeWorkflowState;
    type T = ScopeWorkflowTrigger;

    #[test]
    fn runs_to_complete() {
        assert!(!ScopeWorkflow::FSM.persistence);
        assert_eq!(ScopeWorkflow::FSM.terminal, &["complete", "failed"]);
        let input = ModelReducerInput;
        let mut fsm = FsmExecutor::new(ScopeWorkflow);
        // The workflow has not started: no error to record.
        assert!(matches!(
            fsm.fire(T::Error, &input),
            Err(FsmError::NoTransition {
                state: "pending",
                trigger: "error"
            })
        ));
        for (trigger, to) in [
            (T::CmdReceived, S::ReadingFile),
            (T::FileReadComplete, S::Extracting),
            (T::ScopeExtracted, S::Writing),
            (T::ManifestWritten, S::Complete),
        ] {
            assert_eq!(fsm.fire(trigger, &input).unwrap().to, to);
        }
        assert!(fsm.is_terminal());
        assert_eq!(
            fsm.history().last().map(|h| h.transition.as_ref()),
            Some("writing_to_complete_on_manifest_written")
        );
    }

    #[test]
    fn fails_from_each_working_state() {
        let input = ModelReducerInput;
        for from in [S::ReadingFile, S::Extracting, S::Writing] {
            let t = ScopeWorkflow.reduce(from, T::Error, &input).unwrap();
            assert_eq!(t.to, S::Failed);
            assert!(t.to.is_terminal());
            assert_eq!(t.name, format!("{from}_to_failed_on_error"));
        }
    }
}
