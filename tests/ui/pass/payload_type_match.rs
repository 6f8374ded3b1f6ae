//! `routing_strategy: payload_type_match`: the envelope's `payload_type` names the input
//! model; each handler entry may name its own output model.

use node_registry::{ModelAck, ModelNodeRegistered, ModelNodeRetired, ModelRetiredAck};
use onex_runtime::{EffectContext, EffectNode, OnexError, RoutingStrategy, effect_node};

#[effect_node(contract = "../contracts/payload_type_match.yaml")]
pub struct NodeRegistry;

impl NodeRegistryHandler for NodeRegistry {
    async fn model_node_registered(
        &self,
        _ctx: &EffectContext,
        input: ModelNodeRegistered,
    ) -> Result<ModelAck, OnexError> {
        Ok(ModelAck {
            accepted: input.capabilities.is_some_and(|c| !c.is_empty()),
        })
    }

    async fn model_node_retired(
        &self,
        _ctx: &EffectContext,
        input: ModelNodeRetired,
    ) -> Result<ModelRetiredAck, OnexError> {
        Ok(ModelRetiredAck {
            farewell: format!(
                "{} retired: {}",
                input.node_id,
                input.reason.unwrap_or_default()
            ),
        })
    }
}

fn envelope(payload_type: &str, payload: &str) -> Vec<u8> {
    format!(
        r#"{{"payload": {payload}, "payload_type": "{payload_type}",
            "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
            "envelope_timestamp": "2026-11-20T12:30:45Z"}}"#
    )
    .into_bytes()
}

const NODE: &str = "7d4e0a3c-1b2f-4c5d-8e9f-0a1b2c3d4e5f";

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    let reply = rt
        .block_on(NodeRegistry.process_json(&envelope(
            "ModelNodeRegistered",
            &format!(r#"{{"node_id": "{NODE}", "capabilities": ["postgres"]}}"#),
        )))
        .expect("registration succeeds");
    assert_eq!(reply.payload["accepted"], true);
    assert_eq!(reply.payload_type.as_deref(), Some("ModelAck"));

    let reply = rt
        .block_on(NodeRegistry.process_json(&envelope(
            "ModelNodeRetired",
            &format!(r#"{{"node_id": "{NODE}", "reason": "old"}}"#),
        )))
        .expect("retirement succeeds");
    assert_eq!(reply.payload["farewell"], format!("{NODE} retired: old"));
    assert_eq!(reply.payload_type.as_deref(), Some("ModelRetiredAck"));

    let err = rt
        .block_on(NodeRegistry.process_json(&envelope("ModelNodeRenamed", "{}")))
        .expect_err("an unknown payload type is rejected");
    assert!(
        err.message().contains("ModelNodeRenamed"),
        "{}",
        err.message()
    );

    assert_eq!(
        <NodeRegistry as EffectNode>::CONTRACT.routing,
        RoutingStrategy::PayloadTypeMatch
    );
}
