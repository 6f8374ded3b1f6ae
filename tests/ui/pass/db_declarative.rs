//! Declarative `db` operations: no handler method for them, the SQL runs on the node's
//! `SqlSource` with the `query_params` bound in order; a `db` operation without a
//! `query_template` stays a handler method. Lint-clean under `deny(warnings, missing_docs)`.

#![deny(warnings, missing_docs, missing_debug_implementations, unused_results)]

use std::sync::Mutex;

use onex_runtime::db::{SqlExecutor, SqlOutcome, SqlSource, SqlStatement};
use onex_runtime::{EffectContext, EffectNode, OnexError, async_trait, effect_node};

/// Records every statement and answers with one row.
#[derive(Debug, Default)]
pub struct Recorder {
    seen: Mutex<Vec<(String, String, Vec<serde_json::Value>, bool)>>,
}

#[async_trait]
impl SqlExecutor for Recorder {
    async fn run(&self, statement: SqlStatement<'_>) -> Result<SqlOutcome, OnexError> {
        let mut row = serde_json::Map::new();
        let _ = row.insert("id".to_owned(), serde_json::json!(7));
        self.seen.lock().unwrap().push((
            statement.operation.to_owned(),
            statement.sql.to_owned(),
            statement.params,
            statement.read_only,
        ));
        Ok(SqlOutcome { rows: vec![row], rows_affected: 1, columns: Vec::new() })
    }
}

/// The node: its SQL runs on `db`.
#[derive(Debug, Default)]
#[effect_node(contract = "../contracts/db_user_store.yaml")]
pub struct UserStore {
    db: Recorder,
}

impl SqlSource for UserStore {
    fn sql_executor(&self) -> &dyn SqlExecutor {
        &self.db
    }
}

impl UserStoreHandler for UserStore {
    async fn purge(
        &self,
        _ctx: &EffectContext,
        _input: user_store::ModelFind,
    ) -> Result<user_store::ModelCreated, OnexError> {
        Ok(user_store::ModelCreated { rows: Vec::new(), rows_affected: Some(0), note: None })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let node = UserStore::default();
    let ctx = EffectContext::new(onex_runtime::Uuid::new_v4());
    let out = node
        .dispatch(
            &ctx,
            UserStoreInput::FindByEmail(user_store::ModelFind {
                email: "ada@example.com".to_owned(),
                min_age: None,
            }),
        )
        .await
        .unwrap();
    let UserStoreOutput::FindByEmail(users) = out else { panic!("wrong output") };
    assert_eq!(users.rows_affected, 1);
    assert_eq!(users.rows[0]["id"], 7);

    let out = node
        .dispatch(
            &ctx,
            UserStoreInput::CreateUser(user_store::ModelNewUser {
                email: "bob@example.com".to_owned(),
                age: 41,
            }),
        )
        .await
        .unwrap();
    assert!(matches!(out, UserStoreOutput::CreateUser(_)));
    let _ = node.dispatch(&ctx, UserStoreInput::Purge(user_store::ModelFind { email: String::new(), min_age: None })).await.unwrap();

    let seen = node.db.seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "purge is hand-written: no SQL recorded");
    assert_eq!(seen[0].0, "find_by_email");
    assert_eq!(seen[0].2, vec![serde_json::json!("ada@example.com"), serde_json::Value::Null]);
    assert!(seen[0].3, "operation: select is read-only");
    assert_eq!(seen[1].1, "INSERT INTO users (email, age) VALUES ($1, $2) RETURNING id");
    assert_eq!(seen[1].2, vec![serde_json::json!("bob@example.com"), serde_json::json!(41)]);
    assert!(!seen[1].3);
}
