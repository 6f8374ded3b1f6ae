//! Envelope routing through generated code: payload-type routing with a model shared by
//! several operations must round-trip, and each failure mode is a typed error.

use onex_runtime::{EffectContext, EffectNode, NodeInput, OnexError, effect_node};

#[effect_node(contract = "routing/registry.yaml")]
pub struct Registry;

impl RegistryHandler for Registry {
    async fn register(
        &self,
        _: &EffectContext,
        i: registry::ModelRegister,
    ) -> Result<registry::ModelAck, OnexError> {
        Ok(registry::ModelAck {
            op: format!("register {}", i.node_id),
        })
    }
    async fn deregister(
        &self,
        _: &EffectContext,
        i: registry::ModelNodeRef,
    ) -> Result<registry::ModelAck, OnexError> {
        Ok(registry::ModelAck {
            op: format!("deregister {}", i.node_id),
        })
    }
    async fn ping(
        &self,
        _: &EffectContext,
        i: registry::ModelNodeRef,
    ) -> Result<registry::ModelAck, OnexError> {
        Ok(registry::ModelAck {
            op: format!("ping {}", i.node_id),
        })
    }
}

fn decode(
    payload_type: Option<&str>,
    payload: serde_json::Value,
) -> Result<RegistryInput, OnexError> {
    RegistryInput::decode(payload_type, payload)
}

#[test]
fn shared_models_round_trip_through_the_operation_field() {
    for input in [
        RegistryInput::Register(registry::ModelRegister {
            node_id: "n1".into(),
        }),
        RegistryInput::Deregister(registry::ModelNodeRef {
            node_id: "n1".into(),
        }),
        RegistryInput::Ping(registry::ModelNodeRef {
            node_id: "n1".into(),
        }),
    ] {
        let wire = input.encode().unwrap();
        let back = decode(Some(input.payload_type()), wire.clone()).unwrap();
        assert_eq!(back.operation(), input.operation(), "{wire}");
    }
    // The unique model carries no `operation` field: its payload_type is enough.
    let wire = RegistryInput::Register(registry::ModelRegister {
        node_id: "n".into(),
    })
    .encode()
    .unwrap();
    assert!(wire.get("operation").is_none(), "{wire}");
}

#[test]
fn routing_failures_are_typed() {
    let shared = decode(Some("ModelNodeRef"), serde_json::json!({"node_id": "n"})).unwrap_err();
    assert_eq!(shared.code().as_str(), "ONEX_CORE_007_INVALID_INPUT");
    assert!(
        shared
            .message()
            .contains("several operations (deregister, ping)"),
        "{}",
        shared.message()
    );

    let unknown = decode(Some("ModelNope"), serde_json::json!({"node_id": "n"})).unwrap_err();
    assert_eq!(
        unknown.code().as_str(),
        "ONEX_CORE_084_UNSUPPORTED_OPERATION"
    );
    assert!(
        unknown.message().contains("ModelRegister, ModelNodeRef"),
        "{}",
        unknown.message()
    );

    let bad_op = decode(
        None,
        serde_json::json!({"operation": "nope", "node_id": "n"}),
    )
    .unwrap_err();
    assert_eq!(
        bad_op.code().as_str(),
        "ONEX_CORE_084_UNSUPPORTED_OPERATION"
    );

    // `extra: forbid` on ModelNodeRef: the `operation` key is removed before decoding...
    assert!(
        decode(
            Some("ModelNodeRef"),
            serde_json::json!({"operation": "ping", "node_id": "n"})
        )
        .is_ok()
    );
    // ...but any other unknown key is still rejected.
    let extra = decode(
        Some("ModelNodeRef"),
        serde_json::json!({"operation": "ping", "node_id": "n", "x": 1}),
    )
    .unwrap_err();
    assert!(
        extra.message().contains("unknown field `x`"),
        "{}",
        extra.message()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn envelopes_route_by_payload_type() {
    let request = br#"{"payload": {"node_id": "n7"}, "payload_type": "ModelRegister",
        "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80", "envelope_timestamp": "2026-11-20T12:30:45Z",
        "correlation_id": "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"}"#;
    let reply = Registry.process_json(request).await.unwrap();
    assert_eq!(reply.payload["op"], "register n7");
    assert_eq!(reply.payload_type.as_deref(), Some("ModelAck"));
    assert_eq!(
        reply.correlation_id.unwrap().to_string(),
        "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
    );

    let invalid = br#"{"payload": {"node_id": ""}, "payload_type": "ModelRegister",
        "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80", "envelope_timestamp": "2026-11-20T12:30:45Z"}"#;
    let err = Registry.process_json(invalid).await.unwrap_err();
    assert_eq!(err.code().as_str(), "ONEX_CORE_006_VALIDATION_ERROR");
    assert!(
        err.message().contains("node_id must not be empty"),
        "{}",
        err.message()
    );

    let malformed = Registry.process_json(b"{not json").await.unwrap_err();
    assert_eq!(malformed.code().as_str(), "ONEX_CORE_007_INVALID_INPUT");
}
