//! A contract that names no models: operations take and return untyped JSON.

use onex_runtime::{EffectContext, EffectNode, JsonValue, OnexError, effect_node};

#[effect_node(contract = "../contracts/untyped.yaml")]
pub struct Echo;

impl EchoHandler for Echo {
    async fn echo(&self, _ctx: &EffectContext, input: JsonValue) -> Result<JsonValue, OnexError> {
        Ok(input)
    }

    async fn ping(&self, _ctx: &EffectContext, _input: JsonValue) -> Result<JsonValue, OnexError> {
        Ok(JsonValue::from("pong"))
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    let request = br#"{"payload": {"operation": "echo", "anything": [1, 2, {"goes": true}]},
                       "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
                       "envelope_timestamp": "2026-11-20T12:30:45Z"}"#;
    let reply = rt
        .block_on(Echo.process_json(request))
        .expect("echo succeeds");
    assert_eq!(reply.payload["anything"][2]["goes"], true);
    assert_eq!(reply.payload_type.as_deref(), Some("JsonValue"));
    let info = <Echo as EffectNode>::CONTRACT;
    assert_eq!(info.operations[1].input_type, "JsonValue");
}
