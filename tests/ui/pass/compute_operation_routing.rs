//! A compute node with two operations routed by the payload's `operation` field, driven
//! through `process_json`: typed replies, validation before the handler, a handler's own
//! error, and a panicking handler turned into a typed error while the node keeps serving.

#![deny(warnings, missing_docs)]

use onex_runtime::{ComputeNode, Envelope, ErrorCode, NodeKind, OnexError, compute_node};
use text_metrics::{ModelMeasure, ModelText};

/// Pure text functions.
#[compute_node(contract = "../contracts/compute_text.yaml")]
pub struct TextMetrics;

impl TextMetricsHandler for TextMetrics {
    fn text_measure(&self, input: ModelText) -> Result<ModelMeasure, OnexError> {
        if input.text == "boom" {
            panic!("the measuring tape snapped");
        }
        Ok(ModelMeasure {
            words: input.text.split_whitespace().count() as i64,
            chars: input.text.chars().count() as i64,
        })
    }

    fn text_normalize(&self, input: ModelText) -> Result<ModelText, OnexError> {
        let text = input.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            return Err(OnexError::new(
                ErrorCode::OperationFailed,
                "nothing but whitespace",
            ));
        }
        Ok(ModelText { text })
    }
}

const CORRELATION: &str = "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b";

fn envelope(payload: &str) -> Vec<u8> {
    format!(
        r#"{{"payload": {payload},
            "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
            "envelope_timestamp": "2026-11-20T12:30:45Z",
            "correlation_id": "{CORRELATION}"}}"#
    )
    .into_bytes()
}

fn main() {
    let node = TextMetrics;

    // Operation routing: each payload reaches its own handler.
    let reply = node
        .process_json(&envelope(
            r#"{"operation": "text.measure", "text": "the quick  brown fox"}"#,
        ))
        .expect("text.measure succeeds");
    assert_eq!(reply.payload["words"], 4);
    assert_eq!(reply.payload["chars"], 20);
    assert_eq!(reply.payload_type.as_deref(), Some("ModelMeasure"));
    assert_eq!(reply.correlation_id.unwrap().to_string(), CORRELATION);
    assert_eq!(
        reply.causation_id().unwrap().to_string(),
        "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80"
    );

    let reply = node
        .process_json(&envelope(
            r#"{"operation": "text.normalize", "text": "  the quick \n brown   fox "}"#,
        ))
        .expect("text.normalize succeeds");
    assert_eq!(reply.payload["text"], "the quick brown fox");
    assert_eq!(reply.payload_type.as_deref(), Some("ModelText"));

    // The contract's constraints are checked before the handler runs.
    let err = node
        .process_json(&envelope(r#"{"operation": "text.measure", "text": ""}"#))
        .expect_err("an empty text is rejected");
    assert_eq!(err.code(), &ErrorCode::Validation);
    assert_eq!(err.correlation_id().unwrap().to_string(), CORRELATION);

    // Unknown operations and the handler's own errors are typed.
    let err = node
        .process_json(&envelope(r#"{"operation": "text.reverse", "text": "abc"}"#))
        .expect_err("unknown operation");
    assert_eq!(err.code(), &ErrorCode::UnsupportedOperation);
    let err = node
        .process_json(&envelope(
            r#"{"operation": "text.normalize", "text": "   "}"#,
        ))
        .expect_err("the handler's error");
    assert_eq!(err.code(), &ErrorCode::OperationFailed);
    assert_eq!(err.correlation_id().unwrap().to_string(), CORRELATION);

    // A panicking handler is a typed error, and the node keeps serving. (The panic hook
    // still runs; a quiet one keeps this expected panic out of the test output.)
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let err = node
        .process_json(&envelope(
            r#"{"operation": "text.measure", "text": "boom"}"#,
        ))
        .expect_err("the handler panics");
    std::panic::set_hook(hook);
    assert_eq!(err.code(), &ErrorCode::HandlerExecution);
    assert!(
        err.message().contains("the measuring tape snapped"),
        "{}",
        err.message()
    );
    assert_eq!(err.context()["operation"], "text.measure");
    assert_eq!(err.correlation_id().unwrap().to_string(), CORRELATION);
    let reply = node
        .process_json(&envelope(
            r#"{"operation": "text.measure", "text": "still here"}"#,
        ))
        .expect("the node still serves");
    assert_eq!(reply.payload["words"], 2);

    // The typed API and the generated dispatch.
    let reply = node
        .process(Envelope::new(TextMetricsInput::TextNormalize(ModelText {
            text: " a  b ".to_owned(),
        })))
        .expect("typed process");
    let TextMetricsOutput::TextNormalize(text) = reply.payload else {
        panic!("wrong output variant");
    };
    assert_eq!(text.text, "a b");
    let output = node
        .dispatch(TextMetricsInput::TextMeasure(ModelText {
            text: "x".to_owned(),
        }))
        .expect("dispatch");
    assert_eq!(output.operation(), TextMetricsOperation::TextMeasure);

    // Generated metadata: the kind is COMPUTE.
    let contract = <TextMetrics as ComputeNode>::CONTRACT;
    assert_eq!(contract.kind, NodeKind::Compute);
    assert_eq!(contract.node_type, "COMPUTE_GENERIC");
    assert_eq!(contract.operations.len(), 2);
    assert_eq!(TextMetricsOperation::ALL.len(), 2);
    assert_eq!(
        text_metrics::TOPIC_ONEX_EVT_TEXT_METRICS_MEASURED_V1,
        "onex.evt.text-metrics.measured.v1"
    );
}
