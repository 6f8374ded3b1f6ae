//! The scripted statistics of `main.rs`, with each decision asserted.

use circuit_breaker_compute::{
    CircuitBreakerDecider, CircuitBreakerDeciderInput, CircuitBreakerDeciderOutput,
    circuit_breaker_decider::{EnumBreakerState, ModelBreakerStats},
    script,
};
use onex_runtime::{ComputeNode, Envelope, ErrorCode, JsonValue, NodeKind, OnexError};

fn run(index: usize) -> Result<Envelope<JsonValue>, OnexError> {
    let step = &script::STEPS[index - 1];
    CircuitBreakerDecider.process_json(&script::envelope(index, step))
}

/// `(state, changed, allow_request, retry_after_ms)` of step `index` (1-based).
fn decision(index: usize) -> (String, bool, bool, Option<i64>) {
    let reply = run(index).unwrap_or_else(|e| panic!("step {index}: {e}"));
    let d = reply.payload;
    (
        d["state"].as_str().unwrap().to_owned(),
        d["changed"].as_bool().unwrap(),
        d["allow_request"].as_bool().unwrap(),
        d.get("retry_after_ms").and_then(JsonValue::as_i64),
    )
}

fn expect(
    state: &str,
    changed: bool,
    allow: bool,
    retry: Option<i64>,
) -> (String, bool, bool, Option<i64>) {
    (state.to_owned(), changed, allow, retry)
}

#[test]
fn the_scripted_breaker_goes_closed_open_half_open_closed() {
    assert_eq!(decision(1), expect("closed", false, true, None));
    assert_eq!(decision(2), expect("open", true, false, Some(30_000)));
    assert_eq!(decision(3), expect("open", false, false, Some(19_850)));
    assert_eq!(decision(4), expect("half_open", true, true, None));
    assert_eq!(decision(5), expect("half_open", false, true, None));
    assert_eq!(decision(6), expect("open", true, false, Some(29_960)));
    assert_eq!(decision(7), expect("half_open", true, true, None));
    assert_eq!(decision(8), expect("closed", true, true, None));
    assert_eq!(decision(9), expect("closed", false, true, None));
    assert_eq!(decision(10), expect("open", true, false, Some(5_000)));
}

#[test]
fn replies_explain_and_keep_the_correlation_id() {
    let reply = run(2).unwrap();
    assert_eq!(
        reply.payload["reason"],
        "6 failures in the last 10000 ms reach the threshold of 5"
    );
    assert_eq!(reply.payload["failure_rate"], 0.15);
    assert_eq!(
        reply.correlation_id.unwrap().to_string(),
        "5b1e2c3d-4f5a-4b6c-8d7e-000000000002"
    );
    assert_eq!(reply.target_tool.as_deref(), Some("gateway"));
    assert_eq!(reply.payload_type.as_deref(), Some("ModelBreakerDecision"));
    let reply = run(10).unwrap();
    assert_eq!(
        reply.payload["reason"],
        "a failure rate of 60% reaches the threshold of 50%"
    );
}

#[test]
fn bad_statistics_are_typed_errors() {
    let err = run(11).unwrap_err();
    assert_eq!(err.code(), &ErrorCode::InvalidInput);
    assert!(
        err.message().contains("5 failures out of 3 requests"),
        "{}",
        err.message()
    );
    assert_eq!(
        err.correlation_id().unwrap().to_string(),
        "5b1e2c3d-4f5a-4b6c-8d7e-000000000011"
    );

    let err = run(12).unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Validation);
    assert!(err.message().contains("window_ms"), "{}", err.message());
    assert!(err.message().contains("requests"), "{}", err.message());

    let err = run(13).unwrap_err();
    assert_eq!(err.code(), &ErrorCode::InvalidInput);
    assert!(err.message().contains("ajar"), "{}", err.message());
    assert_eq!(script::STEPS.len(), 13);
}

#[test]
fn the_typed_api_and_the_contract() {
    let stats = ModelBreakerStats {
        current_state: EnumBreakerState::Closed,
        window_ms: 1_000,
        requests: 0,
        failures: 0,
        consecutive_successes: 0,
        last_failure_age_ms: None,
        thresholds: None,
    };
    let reply = CircuitBreakerDecider
        .process(Envelope::new(CircuitBreakerDeciderInput::Process(stats)))
        .unwrap();
    let CircuitBreakerDeciderOutput::Process(decision) = reply.payload;
    assert_eq!(decision.state, EnumBreakerState::Closed);
    assert_eq!(decision.failure_rate, 0.0);

    let contract = <CircuitBreakerDecider as ComputeNode>::CONTRACT;
    assert_eq!(contract.kind, NodeKind::Compute);
    assert_eq!(contract.name, "circuit_breaker_decider");
    assert_eq!(contract.operations[0].input_type, "ModelBreakerStats");
}
