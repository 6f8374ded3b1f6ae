//! Idempotency keys: a keyed write runs at most once, and its outcome is replayed after.
//!
//! The key, the operation and a hash of the request (its statements' SQL and parameters) are
//! inserted into [`IDEMPOTENCY_TABLE`](super::IDEMPOTENCY_TABLE) in the same transaction as
//! the write, with `INSERT … ON CONFLICT DO NOTHING`. A concurrent request with the same key
//! blocks on that insert until the first transaction ends: if it committed, the recorded
//! outcome is returned (`replayed: true`); if it rolled back (the write failed), the key is
//! free again and the write runs.

use std::sync::atomic::Ordering;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Executed;
use super::IDEMPOTENCY_TABLE;
use super::error::Scope;
use super::pool::{PgPool, run_statement};
use crate::db::SqlOutcome;
use crate::error::{ErrorCode, OnexError};
use deadpool_postgres::Object;

/// Creates the table unless it exists, under an advisory lock so that concurrent first
/// writers do not race on the catalog (one round trip: both statements in one batch).
const CREATE_TABLE: &str = "SELECT pg_advisory_xact_lock(hashtext('onex_idempotency_keys:' || \
     coalesce(current_schema(), ''))); \
     CREATE TABLE IF NOT EXISTS onex_idempotency_keys (\
     key text PRIMARY KEY, \
     operation text NOT NULL, \
     request_hash text NOT NULL, \
     result jsonb, \
     created_at timestamptz NOT NULL DEFAULT now())";

/// Claims a key (blocks while another transaction holds it).
const CLAIM: &str = "INSERT INTO onex_idempotency_keys (key, operation, request_hash) \
     VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING RETURNING key";

/// Reads what a key recorded.
const LOOKUP: &str =
    "SELECT operation, request_hash, result FROM onex_idempotency_keys WHERE key = $1";

/// Records the outcome of a claimed key.
const RECORD: &str = "UPDATE onex_idempotency_keys SET result = $2 WHERE key = $1";

/// Deletes keys older than a number of seconds.
const PURGE: &str = "DELETE FROM onex_idempotency_keys \
     WHERE created_at < now() - make_interval(secs => $1::float8)";

impl PgPool {
    /// Creates the idempotency table ([`IDEMPOTENCY_TABLE`](super::IDEMPOTENCY_TABLE)) in the
    /// connections' schema unless it exists. Keyed writes do this on first use; call it at
    /// start-up to fail early when the role may not create tables.
    pub async fn ensure_idempotency_table(&self) -> Result<(), OnexError> {
        self.ensure_table(self.scope("ensure_idempotency_table"))
            .await
    }

    /// Deletes idempotency keys recorded more than `older_than` ago, returning how many.
    ///
    /// Keys are kept until deleted; a request retried after its key was purged runs again.
    pub async fn purge_idempotency_keys(
        &self,
        older_than: std::time::Duration,
    ) -> Result<u64, OnexError> {
        let scope = self.scope("purge_idempotency_keys");
        self.ensure_table(scope).await?;
        let client = self.client(scope).await?;
        let result = async {
            let statement = client.prepare_cached(PURGE).await?;
            client
                .execute(&statement, &[&older_than.as_secs_f64()])
                .await
        }
        .await
        .map_err(|e| scope.pg(&e));
        client.finish(&result);
        result
    }

    async fn ensure_table(&self, scope: Scope<'_>) -> Result<(), OnexError> {
        let client = self.client(scope).await?;
        let result = client
            .batch_execute(CREATE_TABLE)
            .await
            .map_err(|e| scope.pg(&e));
        client.finish(&result);
        result?;
        self.idempotency_ready().store(true, Ordering::Release);
        Ok(())
    }

    /// Runs `statements` at most once for `key` (see the module documentation). `many`
    /// tells a transaction (statement indexes in errors) from a single execute; it is part
    /// of the request's hash.
    pub(super) async fn keyed(
        &self,
        scope: Scope<'_>,
        key: &str,
        many: bool,
        statements: &[(&str, &[Value])],
    ) -> Result<Executed<Vec<SqlOutcome>>, OnexError> {
        let hash = request_hash(many, statements);
        if !self.idempotency_ready().load(Ordering::Acquire) {
            self.ensure_table(scope).await?;
        }
        match self.keyed_once(scope, key, &hash, many, statements).await {
            // The table was dropped since it was created: create it again, once.
            Err(e)
                if e.context().get("sqlstate") == Some(&Value::from("42P01"))
                    && e.message().contains(IDEMPOTENCY_TABLE) =>
            {
                self.idempotency_ready().store(false, Ordering::Release);
                self.ensure_table(scope).await?;
                self.keyed_once(scope, key, &hash, many, statements).await
            }
            other => other,
        }
    }

    async fn keyed_once(
        &self,
        scope: Scope<'_>,
        key: &str,
        hash: &str,
        many: bool,
        statements: &[(&str, &[Value])],
    ) -> Result<Executed<Vec<SqlOutcome>>, OnexError> {
        let mut client = self.client(scope).await?;
        let result = claim_and_run(&mut client, scope, key, hash, many, statements).await;
        client.finish(&result);
        result
    }
}

/// One attempt of a keyed write on `client` (see the module documentation).
async fn claim_and_run(
    client: &mut Object,
    scope: Scope<'_>,
    key: &str,
    hash: &str,
    many: bool,
    statements: &[(&str, &[Value])],
) -> Result<Executed<Vec<SqlOutcome>>, OnexError> {
    let pg = |e: tokio_postgres::Error| scope.pg(&e);
    let tx = client.transaction().await.map_err(pg)?;
    let claim = tx.prepare_cached(CLAIM).await.map_err(pg)?;
    let claimed = tx
        .query_opt(&claim, &[&key, &scope.operation, &hash])
        .await
        .map_err(pg)?;
    if claimed.is_none() {
        let lookup = tx.prepare_cached(LOOKUP).await.map_err(pg)?;
        let row = tx.query_opt(&lookup, &[&key]).await.map_err(pg)?;
        tx.rollback().await.map_err(pg)?;
        let Some(row) = row else {
            return Err(scope
                .error(
                    ErrorCode::OperationFailed,
                    "the idempotency key was deleted while it was being read; retry",
                )
                .with_context("idempotency_key", key));
        };
        let operation: String = row.try_get(0).map_err(pg)?;
        let recorded_hash: String = row.try_get(1).map_err(pg)?;
        let result: Option<Value> = row.try_get(2).map_err(pg)?;
        if operation != scope.operation || recorded_hash != hash {
            return Err(scope
                .error(
                    ErrorCode::InvalidInput,
                    "idempotency key reused for a different request",
                )
                .with_context("idempotency_key", key)
                .with_context("recorded_operation", operation));
        }
        let outcomes = result
            .and_then(|r| serde_json::from_value(r).ok())
            .ok_or_else(|| {
                scope
                    .error(
                        ErrorCode::Internal,
                        "the outcome recorded for the idempotency key is missing or unreadable",
                    )
                    .with_context("idempotency_key", key)
            })?;
        tracing::debug!(
            target: "onex_runtime::postgres",
            operation = scope.operation,
            "replayed an idempotent write"
        );
        return Ok(Executed {
            value: outcomes,
            replayed: true,
        });
    }
    let mut outcomes = Vec::with_capacity(statements.len());
    for (i, (sql, params)) in statements.iter().enumerate() {
        let at = if many { scope.at(i) } else { scope };
        outcomes.push(run_statement(&tx, at, sql, params).await?);
    }
    let recorded = serde_json::to_value(&outcomes)
        .map_err(|e| scope.error(ErrorCode::Internal, &format!("encoding the outcome: {e}")))?;
    let record = tx.prepare_cached(RECORD).await.map_err(pg)?;
    tx.execute(&record, &[&key, &recorded]).await.map_err(pg)?;
    tx.commit().await.map_err(pg)?;
    Ok(Executed {
        value: outcomes,
        replayed: false,
    })
}

/// A hex SHA-256 of the request: its kind, and each statement's SQL and parameters (objects
/// with their keys sorted, so key order does not matter).
pub(crate) fn request_hash(many: bool, statements: &[(&str, &[Value])]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(if many {
        b"transaction\0"
    } else {
        b"execute\0\0\0\0\0"
    });
    for (sql, params) in statements {
        hasher.update((sql.len() as u64).to_be_bytes());
        hasher.update(sql.as_bytes());
        hasher.update((params.len() as u64).to_be_bytes());
        for p in *params {
            canonical(p, &mut hasher);
        }
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Feeds a value to the hasher with a type tag, lengths, and objects' keys in order.
fn canonical(value: &Value, hasher: &mut Sha256) {
    let text = |hasher: &mut Sha256, tag: u8, s: &str| {
        hasher.update([tag]);
        hasher.update((s.len() as u64).to_be_bytes());
        hasher.update(s.as_bytes());
    };
    match value {
        Value::Null => hasher.update([0]),
        Value::Bool(b) => hasher.update([1, u8::from(*b)]),
        Value::Number(n) => text(hasher, 2, &n.to_string()),
        Value::String(s) => text(hasher, 3, s),
        Value::Array(items) => {
            hasher.update([4]);
            hasher.update((items.len() as u64).to_be_bytes());
            for item in items {
                canonical(item, hasher);
            }
        }
        Value::Object(map) => {
            hasher.update([5]);
            hasher.update((map.len() as u64).to_be_bytes());
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for k in keys {
                text(hasher, 3, k);
                canonical(&map[k.as_str()], hasher);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_sql_names_the_public_table() {
        for sql in [CREATE_TABLE, CLAIM, LOOKUP, RECORD, PURGE] {
            assert!(sql.contains(IDEMPOTENCY_TABLE), "{sql}");
        }
    }

    #[test]
    fn hashes_tell_requests_apart() {
        let p1 = [json!(1), json!("a")];
        let p2 = [json!(1), json!("b")];
        let base = request_hash(false, &[("INSERT $1, $2", &p1)]);
        assert_eq!(base.len(), 64);
        assert_eq!(base, request_hash(false, &[("INSERT $1, $2", &p1)]));
        assert_ne!(base, request_hash(false, &[("INSERT $1, $2", &p2)]));
        assert_ne!(base, request_hash(false, &[("INSERT $1,  $2", &p1)]));
        assert_ne!(base, request_hash(true, &[("INSERT $1, $2", &p1)]));
        // Lengths keep statement boundaries apart.
        let empty: [Value; 0] = [];
        assert_ne!(
            request_hash(true, &[("ab", &empty), ("c", &empty)]),
            request_hash(true, &[("a", &empty), ("bc", &empty)])
        );
        assert_ne!(
            request_hash(false, &[("x", &[json!("1")])]),
            request_hash(false, &[("x", &[json!(1)])])
        );
    }

    #[test]
    fn object_key_order_does_not_matter() {
        let a: Value = serde_json::from_str(r#"{"x": 1, "y": [true, null]}"#).expect("json");
        let b: Value = serde_json::from_str(r#"{"y": [true, null], "x": 1}"#).expect("json");
        assert_eq!(
            request_hash(false, &[("q", &[a])]),
            request_hash(false, &[("q", &[b])])
        );
    }
}
