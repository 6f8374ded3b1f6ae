//! The quickstart's node: `UserDirectory`, an EFFECT node declared from `contract.yaml`,
//! and how it is hosted ([`serve`]).
//!
//! `main.rs` serves it from an event bus and sends it JSON envelopes; `tests/demo.rs` sends
//! the same requests (the constants in [`requests`]) and checks the replies.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use onex_runtime::bus::EventBus;
use onex_runtime::host::{HostConfig, NodeHost};
use onex_runtime::{EffectContext, ErrorCode, OnexError, effect_node};
use tokio::sync::Mutex;

use user_directory::{ModelCreateUser, ModelGetUser, ModelListUsers, ModelUser, ModelUserPage};

/// A user directory kept in memory (the stand-in for a database).
///
/// The attribute reads `contract.yaml` (next to this file) at compile time and generates,
/// beside this struct: the module `user_directory` (the contract's models, `CONTRACT` and
/// topic constants), `UserDirectoryOperation`, `UserDirectoryInput` / `UserDirectoryOutput`,
/// the `UserDirectoryHandler` trait implemented below, and `impl EffectNode`.
#[effect_node(contract = "contract.yaml")]
#[derive(Default)]
pub struct UserDirectory {
    /// Users by username.
    users: Mutex<BTreeMap<String, ModelUser>>,
}

impl UserDirectoryHandler for UserDirectory {
    async fn user_create(
        &self,
        _ctx: &EffectContext,
        input: ModelCreateUser,
    ) -> Result<ModelUser, OnexError> {
        // `input` has already passed the contract's constraints (length, pattern, range).
        // A real directory would hash and store `input.api_token`; this one drops it.
        let mut users = self.users.lock().await;
        if users.contains_key(&input.username) {
            return Err(OnexError::new(
                ErrorCode::OperationFailed,
                format!("username '{}' is already taken", input.username),
            )
            .with_context("username", input.username));
        }
        let user = ModelUser {
            id: users.len() as i64 + 1,
            username: input.username,
            email: input.email,
            age: input.age,
        };
        users.insert(user.username.clone(), user.clone());
        Ok(user)
    }

    async fn user_get(
        &self,
        _ctx: &EffectContext,
        input: ModelGetUser,
    ) -> Result<ModelUser, OnexError> {
        let users = self.users.lock().await;
        users.get(&input.username).cloned().ok_or_else(|| {
            OnexError::new(
                ErrorCode::OperationFailed,
                format!("no user named '{}'", input.username),
            )
            .with_context("username", input.username)
        })
    }

    async fn user_list(
        &self,
        _ctx: &EffectContext,
        input: ModelListUsers,
    ) -> Result<ModelUserPage, OnexError> {
        let users = self.users.lock().await;
        // `limit` has a contract default (20) and bounds 1..=100, so it is a plain i64 here.
        let limit = usize::try_from(input.limit).unwrap_or(usize::MAX);
        Ok(ModelUserPage {
            users: users.values().take(limit).cloned().collect(),
            total: users.len() as i64,
        })
    }
}

/// The host settings of the quickstart: the defaults ([`HostConfig::default`]) except that a
/// transiently failing envelope is delivered at most 3 times (not 5) before it is
/// dead-lettered, and shutdown waits at most 10 s (not 30 s) for in-flight envelopes.
pub fn host_config() -> HostConfig {
    HostConfig {
        max_deliver: 3,
        drain_timeout: Duration::from_secs(10),
        ..HostConfig::default()
    }
}

/// Starts a [`NodeHost`] serving a fresh [`UserDirectory`] from `bus`, whichever bus it is:
/// the host subscribes to the contract's `subscribe_topics` and answers on its
/// `publish_topics`, the requester's reply address and its `dlq_topics`.
///
/// # Errors
///
/// Those of [`NodeHostBuilder::start`](onex_runtime::host::NodeHostBuilder::start): an
/// invalid topic in the contract. An unreachable bus is not an error: the host reports it
/// in its health and keeps trying.
pub async fn serve(bus: Arc<dyn EventBus>) -> Result<NodeHost, OnexError> {
    NodeHost::builder(bus)
        .config(host_config())
        .effect(UserDirectory::default())
        .start()
        .await
}

/// The JSON envelopes the quickstart sends, as a bus or an HTTP gateway would deliver them.
///
/// Only `payload` is required; the rest of the ONEX envelope takes its defaults. Each request
/// carries a fixed `correlation_id` so the reply can be matched to it. (The demo also gives
/// each one a fresh `envelope_id` as it sends it; see `src/demo.rs`.)
pub mod requests {
    /// `user.create` for Ada: valid.
    pub const CREATE_ADA: &[u8] = br#"{
        "correlation_id": "0b7e4a52-1c3d-4e5f-8a9b-000000000001",
        "source_tool": "quickstart",
        "payload": {
            "operation": "user.create",
            "username": "ada",
            "email": "ada@example.org",
            "age": 36,
            "api_token": "tok_live_4f9a1c2e7b3d"
        }
    }"#;

    /// `user.create` for Grace, without the optional age: valid.
    pub const CREATE_GRACE: &[u8] = br#"{
        "correlation_id": "0b7e4a52-1c3d-4e5f-8a9b-000000000002",
        "payload": {
            "operation": "user.create",
            "username": "grace",
            "email": "grace@example.org",
            "api_token": "tok_live_9d8c7b6a5f4e"
        }
    }"#;

    /// `user.get` for Ada.
    pub const GET_ADA: &[u8] = br#"{
        "correlation_id": "0b7e4a52-1c3d-4e5f-8a9b-000000000003",
        "payload": {"operation": "user.get", "username": "ada"}
    }"#;

    /// `user.list` without `limit` (the contract's default applies).
    pub const LIST: &[u8] = br#"{
        "correlation_id": "0b7e4a52-1c3d-4e5f-8a9b-000000000004",
        "payload": {"operation": "user.list"}
    }"#;

    /// Not JSON: the closing braces are missing.
    pub const MALFORMED: &[u8] = br#"{
        "correlation_id": "0b7e4a52-1c3d-4e5f-8a9b-000000000005",
        "payload": {"operation": "user.get", "username": "ada""#;

    /// An operation the contract does not declare.
    pub const UNKNOWN_OPERATION: &[u8] = br#"{
        "correlation_id": "0b7e4a52-1c3d-4e5f-8a9b-000000000006",
        "payload": {"operation": "user.delete", "username": "ada"}
    }"#;

    /// Well-formed, but every field breaks a constraint of `ModelCreateUser`.
    pub const INVALID_CREATE: &[u8] = br#"{
        "correlation_id": "0b7e4a52-1c3d-4e5f-8a9b-000000000007",
        "payload": {
            "operation": "user.create",
            "username": "Bo",
            "email": "bo-at-example",
            "age": 7,
            "api_token": "short"
        }
    }"#;

    /// `user.get` for someone who is not there: the handler's own error.
    pub const GET_MISSING: &[u8] = br#"{
        "correlation_id": "0b7e4a52-1c3d-4e5f-8a9b-000000000008",
        "payload": {"operation": "user.get", "username": "linus"}
    }"#;
}
