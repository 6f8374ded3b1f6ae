//! A node with definitions (inline enum, `$ref`, defaults, a secret field) routed by
//! `operation_match`, driven end to end through `process_json`.

use onex_runtime::{EffectContext, EffectNode, OnexError, effect_node};
use user_directory::{ModelAddress, ModelUserReply, ModelUserRequest, ModelUserRequestRole};

#[effect_node(contract = "../contracts/basic.yaml")]
pub struct UserDirectory {
    next_id: i64,
}

impl UserDirectoryHandler for UserDirectory {
    async fn user_create(
        &self,
        _ctx: &EffectContext,
        input: ModelUserRequest,
    ) -> Result<ModelUserReply, OnexError> {
        let city = input
            .address
            .as_ref()
            .map_or("nowhere", |a: &ModelAddress| a.city.as_str());
        Ok(ModelUserReply {
            id: self.next_id,
            summary: format!(
                "{} ({:?}, {} tags) from {city}",
                input.name,
                input.role,
                input.tags.len()
            ),
        })
    }

    async fn user_find(
        &self,
        _ctx: &EffectContext,
        input: user_directory::ModelFindRequest,
    ) -> Result<ModelUserReply, OnexError> {
        Ok(ModelUserReply {
            id: input.limit,
            summary: input.name,
        })
    }
}

fn envelope(payload: &str) -> Vec<u8> {
    format!(
        r#"{{"payload": {payload},
            "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
            "envelope_timestamp": "2026-11-20T12:30:45Z"}}"#
    )
    .into_bytes()
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    let node = UserDirectory { next_id: 7 };

    // Defaults fill `role` and `tags`; the `$ref`'d address is decoded and validated.
    let reply = rt
        .block_on(node.process_json(&envelope(
            r#"{"operation": "user.create", "name": "Ada", "password": "hunter2",
                "address": {"city": "London", "zip": "12345"}}"#,
        )))
        .expect("user.create succeeds");
    assert_eq!(reply.payload["id"], 7);
    assert_eq!(reply.payload["summary"], "Ada (Member, 0 tags) from London");

    // The second operation has its own input model, with a default `limit`.
    let reply = rt
        .block_on(node.process_json(&envelope(r#"{"operation": "user.find", "name": "Ada"}"#)))
        .expect("user.find succeeds");
    assert_eq!(reply.payload["id"], 10);
    assert_eq!(reply.payload["summary"], "Ada");

    // Constraints of nested models are checked before the handler runs.
    let err = rt
        .block_on(node.process_json(&envelope(
            r#"{"operation": "user.create", "name": "Ada", "password": "x",
                "address": {"city": "London", "zip": "nope"}}"#,
        )))
        .expect_err("a bad zip code is rejected");
    assert_eq!(err.code().as_str(), "ONEX_CORE_006_VALIDATION_ERROR");
    assert!(err.message().contains("address.zip"), "{}", err.message());

    // `extra: forbid` rejects unknown fields; unknown operations are typed errors.
    let err = rt
        .block_on(node.process_json(&envelope(
            r#"{"operation": "user.create", "name": "Ada", "password": "x", "nick": "a"}"#,
        )))
        .expect_err("unknown field");
    assert!(err.message().contains("nick"), "{}", err.message());
    let err = rt
        .block_on(node.process_json(&envelope(r#"{"operation": "user.delete"}"#)))
        .expect_err("unknown operation");
    assert!(err.message().contains("user.delete"), "{}", err.message());

    // The secret field never reaches `Debug`; the inline enum is a real Rust enum.
    let request = ModelUserRequest {
        name: "Ada".to_owned(),
        role: ModelUserRequestRole::Admin,
        age: Some(36),
        password: "hunter2".to_owned(),
        address: None,
        tags: Vec::new(),
    };
    let shown = format!("{request:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");

    // Generated metadata.
    assert_eq!(UserDirectoryOperation::ALL.len(), 2);
    assert_eq!(UserDirectoryOperation::UserFind.as_str(), "user.find");
    assert_eq!(
        "user.create".parse::<UserDirectoryOperation>().ok(),
        Some(UserDirectoryOperation::UserCreate)
    );
    let contract = <UserDirectory as EffectNode>::CONTRACT;
    assert_eq!(contract.name, "user_directory");
    assert_eq!(contract.contract_version.to_string(), "1.2.0");
    assert_eq!(contract.operations[1].input_type, "ModelFindRequest");
}
