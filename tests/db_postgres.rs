//! Declarative `db` operations against a real PostgreSQL (127.0.0.1:5432, database `test`,
//! trust auth): the node in `db/user_store.yaml` has no handler code; its SQL comes from the
//! contract and runs on an `onex_runtime::postgres::PgPool`. Each test works in a schema of
//! its own, dropped at the end.
//!
//! `cargo test -p onex-tests --test db_postgres -- --ignored`

use onex_runtime::db::{SqlExecutor, SqlSource};
use onex_runtime::postgres::{PgPool, PgSettings};
use onex_runtime::{EffectNode, ErrorCode, OnexError, effect_node};
use serde_json::{Value, json};

/// Users, from SQL in the contract only.
#[effect_node(contract = "db/user_store.yaml")]
pub struct UserStore {
    pool: PgPool,
}

impl SqlSource for UserStore {
    fn sql_executor(&self) -> &dyn SqlExecutor {
        &self.pool
    }
}

/// A schema of the test's own, with the `users` table; dropped on drop.
struct Schema {
    admin: PgPool,
    name: String,
}

impl Schema {
    async fn new(test: &str) -> (Schema, UserStore) {
        let name = format!("onex_decl_{test}_{}", std::process::id());
        let admin = PgPool::new(PgSettings::local_default()).expect("settings");
        let ddl = [
            format!("DROP SCHEMA IF EXISTS {name} CASCADE"),
            format!("CREATE SCHEMA {name}"),
            format!(
                "CREATE TABLE {name}.users (id bigserial PRIMARY KEY, email text NOT NULL, display_name text NOT NULL, age int4)"
            ),
        ];
        for sql in &ddl {
            admin
                .execute("setup", sql, &[], None)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        let pool = PgPool::new(PgSettings::local_default().with_search_path(&name)).expect("pool");
        (Schema { admin, name }, UserStore { pool })
    }

    /// Every row, in id order.
    async fn rows(&self) -> Vec<Value> {
        let sql = format!(
            "SELECT email, display_name, age FROM {}.users ORDER BY id",
            self.name
        );
        let out = self
            .admin
            .query("check", &sql, &[], None)
            .await
            .expect("read back");
        out.rows.into_iter().map(Value::Object).collect()
    }

    async fn drop(self) {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        let _ = self.admin.execute("teardown", &sql, &[], None).await;
    }
}

fn envelope(payload: Value) -> Vec<u8> {
    json!({
        "payload": payload,
        "envelope_id": onex_runtime::Uuid::new_v4(),
        "envelope_timestamp": "2026-11-21T08:00:00Z",
    })
    .to_string()
    .into_bytes()
}

async fn call(node: &UserStore, payload: Value) -> Result<Value, OnexError> {
    node.process_json(&envelope(payload))
        .await
        .map(|reply| reply.payload)
}

#[tokio::test]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn crud_through_envelopes_runs_the_contracts_sql() {
    let (schema, node) = Schema::new("crud").await;
    let created = call(
        &node,
        json!({"operation": "create_user", "email": "ada@example.com", "display_name": "Ada", "age": 36}),
    )
    .await
    .expect("create");
    assert_eq!(created["rows_affected"], 1);
    let id = created["rows"][0]["id"]
        .as_i64()
        .expect("a bigserial id as a JSON number");
    assert_eq!(created["rows"][0]["age"], 36);

    let found = call(
        &node,
        json!({"operation": "find_by_email", "email": "ada@example.com"}),
    )
    .await
    .expect("find");
    assert_eq!(found["rows"].as_array().map(Vec::len), Some(1));
    assert_eq!(found["rows"][0]["display_name"], "Ada");

    let renamed = call(
        &node,
        json!({"operation": "rename_user", "id": id, "display_name": "Ada L."}),
    )
    .await
    .expect("rename");
    assert_eq!(renamed["rows"][0]["display_name"], "Ada L.");

    let missing = call(
        &node,
        json!({"operation": "rename_user", "id": id + 1000, "display_name": "x"}),
    )
    .await
    .expect_err("fail_on_empty: no such user");
    assert_eq!(missing.code(), &ErrorCode::OperationFailed);
    assert!(missing.message().contains("rename_user"), "{missing}");

    let deleted = call(&node, json!({"operation": "delete_user", "id": id}))
        .await
        .expect("delete");
    assert_eq!(deleted["rows_affected"], 1);
    assert!(schema.rows().await.is_empty());
    schema.drop().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn injection_payloads_are_only_ever_values() {
    let (schema, node) = Schema::new("inject").await;
    let payloads = [
        "' OR '1'='1",
        "'; DROP TABLE users; --",
        "1; DELETE FROM users",
        "admin'--",
        "\\'; TRUNCATE users; --",
        "$$; DROP TABLE users; $$",
        "x' UNION SELECT email, display_name, age FROM users --",
    ];
    for (i, payload) in payloads.iter().enumerate() {
        call(
            &node,
            json!({"operation": "create_user", "email": payload, "display_name": payload, "age": i}),
        )
        .await
        .unwrap_or_else(|e| panic!("{payload}: {e}"));
    }
    // Stored verbatim, the table intact.
    let rows = schema.rows().await;
    let emails: Vec<&str> = rows.iter().filter_map(|r| r["email"].as_str()).collect();
    assert_eq!(emails, payloads);
    // A payload in a WHERE value matches only itself.
    for payload in payloads {
        let found = call(
            &node,
            json!({"operation": "find_by_email", "email": payload}),
        )
        .await
        .expect("find");
        assert_eq!(found["rows"].as_array().map(Vec::len), Some(1), "{payload}");
    }
    // A payload where the database wants an integer is a typed error, not SQL.
    let err = call(
        &node,
        json!({"operation": "create_user", "email": "e", "display_name": "d", "age": "1 OR 1=1"}),
    )
    .await
    .expect_err("not an int4");
    assert_eq!(err.code(), &ErrorCode::InvalidInput);
    assert!(err.message().contains("create_user"), "{err}");
    assert!(err.message().contains("$3"), "{err}");
    assert_eq!(
        schema.rows().await.len(),
        payloads.len(),
        "nothing half-written"
    );
    schema.drop().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn a_read_only_operation_cannot_write() {
    let (schema, node) = Schema::new("readonly").await;
    let err = call(
        &node,
        json!({"operation": "sneaky_count", "email": "mallory@example.com"}),
    )
    .await
    .expect_err("read_only: true");
    assert_eq!(err.code(), &ErrorCode::SecurityViolation, "{err}");
    assert!(err.message().contains("sneaky_count"), "{err}");
    assert!(schema.rows().await.is_empty(), "nothing written");
    schema.drop().await;
}
