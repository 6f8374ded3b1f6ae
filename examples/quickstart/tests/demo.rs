//! Runs the quickstart's requests through the node in-process and checks every outcome, so the
//! demo printed by `cargo run -p quickstart` cannot silently rot.

use onex_runtime::{EffectNode, Envelope, ErrorCode, JsonValue, NodeInput, OnexError};
use quickstart::{
    UserDirectory, UserDirectoryInput, UserDirectoryOutput, requests, user_directory,
};
use serde_json::json;

/// The correlation id of request `n` (onex-runtime does not re-export `Uuid`, so ids are
/// compared as text).
fn correlation(n: u8) -> Option<String> {
    Some(format!("0b7e4a52-1c3d-4e5f-8a9b-{n:012}"))
}

fn text(id: Option<impl ToString>) -> Option<String> {
    id.map(|id| id.to_string())
}

async fn ok(node: &UserDirectory, request: &[u8], n: u8) -> Envelope<JsonValue> {
    let reply = node
        .process_json(request)
        .await
        .unwrap_or_else(|e| panic!("request {n} failed: {e}"));
    assert_eq!(text(reply.correlation_id), correlation(n), "request {n}");
    assert!(
        reply.causation_id().is_some(),
        "request {n}: causation recorded"
    );
    reply
}

async fn err(node: &UserDirectory, request: &[u8]) -> OnexError {
    match node.process_json(request).await {
        Ok(reply) => panic!("expected an error, got {:?}", reply.payload),
        Err(e) => e,
    }
}

#[test]
fn contract_metadata() {
    let contract = <UserDirectory as EffectNode>::CONTRACT;
    assert_eq!(contract.name, "user_directory");
    assert_eq!(contract.node_type, "EFFECT_GENERIC");
    assert!(!contract.fingerprint_drifted(), "{}", contract.fingerprint);
    assert_eq!(contract.declared_fingerprint, Some(contract.fingerprint));
    let ops: Vec<_> = contract.operations.iter().map(|op| op.name).collect();
    assert_eq!(ops, ["user.create", "user.get", "user.list"]);
    assert_eq!(
        contract.publish_topics,
        ["onex.evt.user-directory.user-created.v1"]
    );
    assert_eq!(contract.subscribe_topics.len(), 3);
    assert_eq!(user_directory::SUBSCRIBE_TOPICS, contract.subscribe_topics);
}

/// The demo's sequence, in the demo's order (the node keeps state between requests).
#[tokio::test]
async fn demo_sequence() {
    let node = UserDirectory::default();

    let ada = json!({"id": 1, "username": "ada", "email": "ada@example.org", "age": 36});
    let created = ok(&node, requests::CREATE_ADA, 1).await;
    assert_eq!(
        created.payload, ada,
        "the reply never carries the api token"
    );
    assert_eq!(created.payload_type.as_deref(), Some("ModelUser"));

    let grace = json!({"id": 2, "username": "grace", "email": "grace@example.org"});
    assert_eq!(ok(&node, requests::CREATE_GRACE, 2).await.payload, grace);

    assert_eq!(ok(&node, requests::GET_ADA, 3).await.payload, ada);

    let list = ok(&node, requests::LIST, 4).await;
    assert_eq!(list.payload, json!({"users": [ada, grace], "total": 2}));
    assert_eq!(list.payload_type.as_deref(), Some("ModelUserPage"));

    let e = err(&node, requests::MALFORMED).await;
    assert_eq!(*e.code(), ErrorCode::InvalidInput);
    assert!(e.message().contains("malformed JSON"), "{}", e.message());
    assert_eq!(e.correlation_id(), None);

    let e = err(&node, requests::UNKNOWN_OPERATION).await;
    assert_eq!(*e.code(), ErrorCode::UnsupportedOperation);
    assert_eq!(e.message(), "unsupported operation 'user.delete'");
    assert_eq!(text(e.correlation_id()), correlation(6));
    assert_eq!(
        e.context()["supported"],
        json!(["user.create", "user.get", "user.list"])
    );

    let e = err(&node, requests::INVALID_CREATE).await;
    assert_eq!(*e.code(), ErrorCode::Validation);
    assert_eq!(text(e.correlation_id()), correlation(7));
    let fields: Vec<&str> = e.context()["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["username", "username", "email", "age", "api_token"]
    );

    let e = err(&node, requests::GET_MISSING).await;
    assert_eq!(*e.code(), ErrorCode::OperationFailed);
    assert_eq!(e.message(), "no user named 'linus'");
    assert_eq!(text(e.correlation_id()), correlation(8));

    // The rejected requests changed nothing.
    let list = ok(&node, requests::LIST, 4).await;
    assert_eq!(list.payload["total"], 2);

    // The typed path (step 9 of the demo).
    let reply = node
        .process(Envelope::new(UserDirectoryInput::UserList(
            user_directory::ModelListUsers { limit: 1 },
        )))
        .await
        .unwrap();
    match reply.payload {
        UserDirectoryOutput::UserList(page) => {
            assert_eq!(page.total, 2);
            assert_eq!(page.users.len(), 1);
            assert_eq!(page.users[0].username, "ada");
        }
        other => panic!("unexpected output {other:?}"),
    }
}

#[tokio::test]
async fn duplicate_username_is_the_handlers_error() {
    let node = UserDirectory::default();
    ok(&node, requests::CREATE_ADA, 1).await;
    let e = err(&node, requests::CREATE_ADA).await;
    assert_eq!(*e.code(), ErrorCode::OperationFailed);
    assert_eq!(e.message(), "username 'ada' is already taken");
    assert_eq!(text(e.correlation_id()), correlation(1));
}

#[test]
fn debug_redacts_the_api_token() {
    let envelope = Envelope::<JsonValue>::from_json(requests::CREATE_ADA).unwrap();
    let input = UserDirectoryInput::decode(None, envelope.payload).unwrap();
    let shown = format!("{input:?}");
    assert!(shown.contains("api_token: \"<redacted>\""), "{shown}");
    assert!(!shown.contains("tok_live"), "{shown}");
}
