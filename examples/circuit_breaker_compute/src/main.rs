//! `cargo run -p circuit_breaker_compute`: a pure COMPUTE node deciding a circuit breaker's
//! state, driven with a scripted series of failure statistics.
//!
//! Each step is a JSON envelope in, a JSON reply (or a typed `OnexError`) out, through
//! `ComputeNode::process_json`: what a bus consumer would call. No runtime, no I/O.

use circuit_breaker_compute::{CircuitBreakerDecider, script};
use onex_runtime::{ComputeNode, JsonValue};

fn main() {
    let contract = <CircuitBreakerDecider as ComputeNode>::CONTRACT;
    println!(
        "{} ({:?} node, contract {}, fingerprint {})",
        contract.name, contract.kind, contract.contract_version, contract.fingerprint
    );
    println!("{}\n", contract.description);

    let node = CircuitBreakerDecider;
    for (i, step) in script::STEPS.iter().enumerate() {
        let n = i + 1;
        println!("{n:>2}. {}", step.title);
        println!("    stats    {}", compact(step.payload));
        match node.process_json(&script::envelope(n, step)) {
            Ok(reply) => {
                let d = &reply.payload;
                let state = d["state"].as_str().unwrap_or("?");
                let from = if d["changed"] == JsonValue::Bool(true) {
                    format!("from {}", current_state(step.payload))
                } else {
                    "unchanged".to_owned()
                };
                let allow = if d["allow_request"] == JsonValue::Bool(true) {
                    "requests allowed"
                } else {
                    "requests refused"
                };
                let retry = match d.get("retry_after_ms") {
                    Some(ms) => format!(", retry after {ms} ms"),
                    None => String::new(),
                };
                let rate = d["failure_rate"].as_f64().unwrap_or_default();
                println!("    decision {state} ({from}; {allow}, failure rate {rate:.2}{retry})");
                println!("    why      {}", d["reason"].as_str().unwrap_or_default());
            }
            Err(e) => println!("    error    {}: {}", e.code(), e.message()),
        }
    }
}

/// The payload on one line.
fn compact(payload: &str) -> String {
    serde_json::from_str::<JsonValue>(payload)
        .map_or_else(|_| payload.to_owned(), |v| v.to_string())
}

/// The `current_state` a step's statistics report.
fn current_state(payload: &str) -> String {
    serde_json::from_str::<JsonValue>(payload)
        .ok()
        .and_then(|v| v["current_state"].as_str().map(str::to_owned))
        .unwrap_or_default()
}
