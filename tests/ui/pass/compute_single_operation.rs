//! A compute contract without routing has one operation, `process` (handler method
//! `handle`); its models are the user's own Rust types, resolved by name.

use onex_runtime::{ComputeNode, Envelope, NodeKind, OnexError, RoutingStrategy, compute_node};
use serde::{Deserialize, Serialize};

/// The input model (the contract names `omnibase_demo.models.ModelCelsius`).
#[derive(Debug, Serialize, Deserialize)]
pub struct ModelCelsius {
    celsius: f64,
}

/// The output model.
#[derive(Debug, Serialize, Deserialize)]
pub struct ModelFahrenheit {
    fahrenheit: f64,
}

#[compute_node(contract = "../contracts/compute_single.yaml")]
pub struct TemperatureConverter;

impl TemperatureConverterHandler for TemperatureConverter {
    fn handle(&self, input: ModelCelsius) -> Result<ModelFahrenheit, OnexError> {
        Ok(ModelFahrenheit {
            fahrenheit: input.celsius * 9.0 / 5.0 + 32.0,
        })
    }
}

fn main() {
    // No `operation` field: every payload goes to `process`.
    let request = br#"{"payload": {"celsius": 100.0},
                       "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
                       "envelope_timestamp": "2026-11-20T12:30:45Z"}"#;
    let reply = TemperatureConverter
        .process_json(request)
        .expect("process succeeds");
    assert_eq!(reply.payload["fahrenheit"], 212.0);
    // Without a correlation id, the request's envelope id correlates the reply.
    assert_eq!(
        reply.correlation_id.unwrap().to_string(),
        "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80"
    );

    let err = TemperatureConverter
        .process_json(br#"{"payload": {"kelvin": 1.0}}"#)
        .expect_err("wrong shape");
    assert_eq!(err.code().as_str(), "ONEX_CORE_007_INVALID_INPUT");

    let reply = TemperatureConverter
        .process(Envelope::new(TemperatureConverterInput::Process(
            ModelCelsius { celsius: -40.0 },
        )))
        .expect("typed process");
    let TemperatureConverterOutput::Process(out) = reply.payload;
    assert_eq!(out.fahrenheit, -40.0);

    let contract = <TemperatureConverter as ComputeNode>::CONTRACT;
    assert_eq!(contract.kind, NodeKind::Compute);
    assert_eq!(contract.node_type, "compute");
    assert_eq!(contract.routing, RoutingStrategy::Single);
    assert_eq!(contract.operations[0].name, "process");
    assert_eq!(contract.operations[0].input_type, "ModelCelsius");
}
