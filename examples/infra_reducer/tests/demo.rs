//! The scripted day of `src/main.rs`, with every decision asserted: the state after each
//! trigger, the transition taken and its intents, the rejections, and the terminal end.
//! Then one envelope round trip through `FsmExecutor::process_json`.

use infra_reducer::{
    ModelServiceObservation, ServiceLifecycle, ServiceLifecycleIntent as I,
    ServiceLifecycleState as S, ServiceLifecycleTrigger as T, observation,
};
use onex_runtime::{FsmError, FsmExecutor, ReducerNode};
use serde_json::json;

/// What the health checks saw: `(retry_count, consecutive_failures, latency_ms)`.
fn seen(retries: i64, failures: i64, latency: Option<f64>) -> ModelServiceObservation {
    let mut o = observation("db");
    o.retry_count = retries;
    o.consecutive_failures = failures;
    o.latency_ms = latency;
    o
}

/// One step of the script and what the reducer must decide.
enum Expect {
    /// The transition named so, to that state, emitting those intents.
    Took(&'static str, S, &'static [I]),
    /// The named transition's guard failed on these conditions; the state stays.
    Rejected(&'static str, &'static [&'static str]),
    /// No transition for the trigger in the current state; the state stays.
    NoTransition,
}

#[test]
fn the_scripted_day_decides_as_the_contract_says() {
    use Expect::{NoTransition, Rejected, Took};
    let script: Vec<(T, ModelServiceObservation, Expect)> = vec![
        (
            T::Start,
            seen(0, 0, None),
            Took("start", S::Starting, &[I::LaunchService, I::StartProbe]),
        ),
        // `retry_start` (priority 10) wins over `give_up_start` while retries are left.
        (
            T::HealthFailed,
            seen(0, 1, None),
            Took(
                "retry_start",
                S::Starting,
                &[I::RestartService, I::StartProbe],
            ),
        ),
        (
            T::HealthFailed,
            seen(1, 2, None),
            Took(
                "retry_start",
                S::Starting,
                &[I::RestartService, I::StartProbe],
            ),
        ),
        (
            T::HealthOk,
            seen(2, 0, Some(12.0)),
            Took("first_check_ok", S::Healthy, &[I::ClearAlert]),
        ),
        // 90 ms is not slow enough.
        (
            T::HealthSlow,
            seen(0, 0, Some(90.0)),
            Rejected("slow_down", &["latency_ms greater_than 250"]),
        ),
        (
            T::HealthSlow,
            seen(0, 0, Some(480.0)),
            Took("slow_down", S::Degraded, &[I::RaiseWarning]),
        ),
        (
            T::HealthOk,
            seen(0, 0, Some(15.0)),
            Took("recover", S::Healthy, &[I::ClearAlert]),
        ),
        (
            T::HealthFailed,
            seen(0, 1, None),
            Took("first_failure", S::Degraded, &[I::RaiseWarning]),
        ),
        // Two failures in a row: `collapse` (priority 10) is not eligible yet, so the
        // default edge `still_degraded` is taken (a self-loop: its entry action runs again).
        (
            T::HealthFailed,
            seen(0, 2, None),
            Took(
                "still_degraded",
                S::Degraded,
                &[I::RecordFailure, I::RaiseWarning],
            ),
        ),
        (
            T::HealthFailed,
            seen(0, 3, None),
            Took("collapse", S::Failed, &[I::Alert]),
        ),
        // Out of retries: stays failed.
        (
            T::Restart,
            seen(3, 3, None),
            Rejected("restart", &["retry_count less_than 3"]),
        ),
        // `failed` has an exit action, so leaving it clears the alert first.
        (
            T::Restart,
            seen(1, 3, None),
            Took(
                "restart",
                S::Starting,
                &[I::ClearAlert, I::RestartService, I::StartProbe],
            ),
        ),
        (
            T::HealthOk,
            seen(1, 0, Some(20.0)),
            Took("first_check_ok", S::Healthy, &[I::ClearAlert]),
        ),
        // The wildcard `stop` fires from any state.
        (
            T::Stop,
            seen(0, 0, None),
            Took("stop", S::Stopped, &[I::DrainConnections, I::NotifyStopped]),
        ),
        // `stopped` is terminal: nothing starts it again.
        (T::Start, seen(0, 0, None), NoTransition),
    ];

    let mut fsm = FsmExecutor::new(ServiceLifecycle);
    assert_eq!(fsm.state(), S::Unknown);
    for (step, (trigger, observation, expect)) in script.into_iter().enumerate() {
        let from = fsm.state();
        let outcome = fsm.fire(trigger, &observation);
        match (expect, outcome) {
            (Took(name, to, intents), Ok(t)) => {
                assert_eq!((t.from, t.to, t.name), (from, to, name), "step {step}");
                assert_eq!(t.intents, intents, "step {step}");
                assert_eq!(fsm.state(), to, "step {step}");
            }
            (
                Rejected(name, conditions),
                Err(FsmError::GuardRejected {
                    transition, failed, ..
                }),
            ) => {
                assert_eq!(
                    (transition, failed.as_slice()),
                    (name, conditions),
                    "step {step}"
                );
                assert_eq!(fsm.state(), from, "step {step}");
            }
            (NoTransition, Err(FsmError::NoTransition { state, trigger: t })) => {
                assert_eq!((state, t), (from.as_str(), trigger.as_str()), "step {step}");
                assert_eq!(fsm.state(), from, "step {step}");
            }
            (_, outcome) => panic!("step {step}: {from} --{trigger}--> unexpected {outcome:?}"),
        }
    }
    assert_eq!(fsm.state(), S::Stopped);
    assert!(fsm.is_terminal());
    assert_eq!((fsm.taken(), fsm.rejected()), (12, 3));
    assert_eq!(fsm.history().count(), 12);
    assert_eq!(
        fsm.history().last().map(|h| h.transition.as_ref()),
        Some("stop")
    );
}

#[test]
fn the_contract_is_embedded() {
    let fsm = ServiceLifecycle::FSM;
    assert_eq!(fsm.name, "service_lifecycle_fsm");
    assert_eq!(fsm.initial, "unknown");
    assert_eq!(fsm.terminal, &["stopped"]);
    assert_eq!(S::ALL.len(), 6);
    assert_eq!(ServiceLifecycle::CONTRACT.name, "service_lifecycle");
    // One intent per action name, entry/exit actions first (`clear_alert` is both).
    assert_eq!(
        fsm.intents,
        &[
            "start_probe",
            "clear_alert",
            "raise_warning",
            "alert",
            "notify_stopped",
            "launch_service",
            "restart_service",
            "record_failure",
            "drain_connections"
        ]
    );
    // Terminal states are not enforced at run time: the wildcard `stop` re-enters `stopped`.
    let t = ServiceLifecycle
        .reduce(S::Stopped, T::Stop, &observation("db"))
        .expect("the wildcard fires");
    assert_eq!((t.from, t.to), (S::Stopped, S::Stopped));
}

#[test]
fn envelopes_round_trip_through_the_executor() {
    let envelope = |payload: serde_json::Value| {
        serde_json::to_vec(&json!({
            "payload": payload,
            "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
            "envelope_timestamp": "2026-11-20T12:30:45Z",
            "correlation_id": "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
        }))
        .expect("an envelope serializes")
    };
    let mut fsm = FsmExecutor::new(ServiceLifecycle);

    // A trigger the contract does not declare: an invalid-input error listing the declared
    // ones, with the correlation id; the state stays.
    let err = fsm
        .process_json(&envelope(
            json!({"trigger": "strat", "context": {"service": "db"}}),
        ))
        .unwrap_err();
    assert_eq!(err.code().as_str(), "ONEX_CORE_007_INVALID_INPUT");
    assert!(err.message().contains("strat"), "{}", err.message());
    assert!(err.message().contains("start"), "{}", err.message());
    assert_eq!(
        err.correlation_id().map(|c| c.to_string()).as_deref(),
        Some("6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b")
    );
    assert_eq!(fsm.state(), S::Unknown);

    // A good one: the reply carries the transition and its intents by contract name, and
    // keeps the correlation id. `retry_count` and `consecutive_failures` take the
    // contract's defaults.
    let reply = fsm
        .process_json(&envelope(
            json!({"trigger": "start", "context": {"service": "db", "region": "eu-west-1"}}),
        ))
        .expect("start is accepted");
    assert_eq!(reply.payload["from_state"], "unknown");
    assert_eq!(reply.payload["to_state"], "starting");
    assert_eq!(reply.payload["transition_name"], "start");
    assert_eq!(
        reply.payload["intents"],
        json!(["launch_service", "start_probe"])
    );
    assert_eq!(
        reply.correlation_id.map(|c| c.to_string()).as_deref(),
        Some("6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b")
    );
    assert_eq!(fsm.state(), S::Starting);
}
