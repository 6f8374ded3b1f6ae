//! What the integration tests share: the admin connection, a schema per test, the adapter in
//! it, and sending it JSON envelopes.

#![allow(dead_code)] // Each test binary uses part of it.

use onex_runtime::postgres::{PgPool, PgSettings};
use onex_runtime::{EffectNode, ErrorCode, JsonValue, OnexError};
use postgres_adapter::PostgresAdapter;
use serde_json::json;
use tokio_postgres::{Client, NoTls};

/// The server the ignored tests need.
pub const SERVER: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test";

/// An admin connection, outside the adapter: creates and drops schemas and tables, reads
/// what the adapter wrote, terminates backends.
pub async fn admin() -> Client {
    let (client, connection) = tokio_postgres::connect(SERVER, NoTls)
        .await
        .expect("PostgreSQL at 127.0.0.1:5432 (database `test`, user `postgres`, trust auth)");
    tokio::spawn(async move {
        // The connection ends when the client is dropped (or the server goes away).
        let _ = connection.await;
    });
    client
}

/// A schema of its own for one test, recreated empty (a schema left over by an earlier,
/// failed run is dropped first).
pub struct TestSchema {
    /// The admin connection.
    pub admin: Client,
    /// The schema's name.
    pub name: String,
}

impl TestSchema {
    /// Creates `pa_test_<test>` and runs `ddl` in it (tables, seed rows).
    pub async fn new(test: &str, ddl: &str) -> TestSchema {
        let admin = admin().await;
        let name = format!("pa_test_{test}");
        admin
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}; \
                 SET search_path = {name}; {ddl}"
            ))
            .await
            .expect("create the test schema");
        TestSchema { admin, name }
    }

    /// Settings for a pool whose connections work in this schema.
    pub fn settings(&self) -> PgSettings {
        PgSettings::local_default().with_search_path(&self.name)
    }

    /// An adapter working in this schema.
    pub fn adapter(&self) -> PostgresAdapter {
        PostgresAdapter::new(PgPool::new(self.settings()).expect("a pool"))
    }

    /// The first column of the first row of `sql`, as text (`count(*)::text`, …).
    pub async fn scalar(&self, sql: &str) -> String {
        let row = self
            .admin
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        row.get::<_, Option<String>>(0).unwrap_or_default()
    }

    /// Drops the schema (the test passed; a failed test leaves it for a look, and the next
    /// run drops it).
    pub async fn drop(self) {
        self.admin
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
            .await
            .expect("drop the test schema");
    }
}

/// Sends `payload` to the adapter as a JSON envelope (`process_json`, as a host would) and
/// returns the reply's payload or the typed error.
pub async fn call(adapter: &PostgresAdapter, payload: JsonValue) -> Result<JsonValue, OnexError> {
    let envelope = json!({ "payload": payload });
    let bytes = serde_json::to_vec(&envelope).expect("encode the envelope");
    adapter
        .process_json(&bytes)
        .await
        .map(|reply| reply.payload)
}

/// [`call`], expecting a reply.
pub async fn ok(adapter: &PostgresAdapter, payload: JsonValue) -> JsonValue {
    let shown = payload.to_string();
    call(adapter, payload)
        .await
        .unwrap_or_else(|e| panic!("{shown}: {e:?}"))
}

/// [`call`], expecting an error with `code` naming `operation` (in its message and its
/// context).
pub async fn fails(adapter: &PostgresAdapter, payload: JsonValue, code: ErrorCode) -> OnexError {
    let shown = payload.to_string();
    let operation = payload["operation"].as_str().unwrap_or_default().to_owned();
    let err = match call(adapter, payload).await {
        Ok(reply) => panic!("{shown}: expected {code}, got the reply {reply}"),
        Err(err) => err,
    };
    assert_eq!(*err.code(), code, "{shown}: {err:?}");
    assert_names(&err, &operation);
    err
}

/// Asserts that an error names `operation` in its message and its context.
pub fn assert_names(err: &OnexError, operation: &str) {
    assert!(
        err.message()
            .starts_with(&format!("operation `{operation}`")),
        "{err:?}"
    );
    assert_eq!(
        err.context().get("operation"),
        Some(&JsonValue::from(operation)),
        "{err:?}"
    );
}
