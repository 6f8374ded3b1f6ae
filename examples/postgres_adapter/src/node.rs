//! [`PostgresAdapter`]: the EFFECT node, declared from `contract.yaml` next to this file.

use std::collections::BTreeMap;

use onex_runtime::db::{SqlColumn, SqlOutcome, SqlRow};
use onex_runtime::postgres::{PgPool, PgSettings, PgStatement};
use onex_runtime::{EffectContext, JsonValue, OnexError, effect_node};

use self::postgres_adapter::{
    ModelColumn, ModelExecuteRequest, ModelExecuteResult, ModelHealthRequest, ModelHealthResult,
    ModelPoolStatus, ModelQueryRequest, ModelQueryResult, ModelTransactionRequest,
    ModelTransactionResult,
};
use crate::sql::{Access, SqlPolicy};

/// The PostgreSQL adapter: runs parameterized SQL (reads, writes, atomic transactions) on a
/// connection pool and reports the database's health.
///
/// `#[effect_node(contract = "contract.yaml")]` generates, beside this struct, the module
/// `postgres_adapter` (the contract's models), `PostgresAdapterOperation`,
/// `PostgresAdapterInput` / `PostgresAdapterOutput`, the `PostgresAdapterHandler` trait
/// implemented below, and `impl EffectNode`, whose `dispatch` wraps each handler call in
/// the operation's policies (timeout, retries for `query` and `health`, a circuit breaker
/// per operation).
///
/// Every statement passes the [`SqlPolicy`] before it reaches the pool; values are only ever
/// bound parameters. `Debug` shows the connection with its password redacted.
///
/// ```
/// use onex_runtime::EffectNode;
/// use onex_runtime::postgres::{PgPool, PgSettings};
/// use postgres_adapter::PostgresAdapter;
///
/// let settings = PgSettings::parse("postgres://app:s3cret@db.internal/orders")?;
/// let adapter = PostgresAdapter::new(PgPool::new(settings)?); // no I/O yet
/// assert!(!format!("{adapter:?}").contains("s3cret"));
/// assert_eq!(<PostgresAdapter as EffectNode>::CONTRACT.operations.len(), 4);
/// # Ok::<(), onex_runtime::OnexError>(())
/// ```
#[effect_node(contract = "contract.yaml")]
#[derive(Clone, Debug)]
pub struct PostgresAdapter {
    /// The connections.
    pool: PgPool,
    /// What each operation may run.
    sql: SqlPolicy,
}

impl PostgresAdapter {
    /// An adapter on `pool` with the default [`SqlPolicy`].
    pub fn new(pool: PgPool) -> Self {
        PostgresAdapter {
            pool,
            sql: SqlPolicy::default(),
        }
    }

    /// An adapter for the database the environment names: `ONEX_POSTGRES_URL`, else
    /// `DATABASE_URL`, else a local server ([`PgSettings::local_default`]:
    /// `host=127.0.0.1 port=5432 user=postgres dbname=test`). Does no I/O.
    ///
    /// # Errors
    ///
    /// [`ErrorCode::InvalidInput`](onex_runtime::ErrorCode::InvalidInput) when the variable
    /// holds no valid connection string (the error names the variable, never its value).
    pub fn from_env() -> Result<Self, OnexError> {
        let settings = PgSettings::from_env()?.unwrap_or_else(PgSettings::local_default);
        Ok(PostgresAdapter::new(PgPool::new(settings)?))
    }

    /// Replaces the SQL policy.
    #[must_use]
    pub fn with_policy(mut self, policy: SqlPolicy) -> Self {
        self.sql = policy;
        self
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The SQL policy.
    pub fn policy(&self) -> &SqlPolicy {
        &self.sql
    }

    /// Checks one statement, logging a refusal (without the statement's text, which may
    /// hold values).
    fn check(
        &self,
        operation: &str,
        access: Access,
        sql: &str,
        params: usize,
    ) -> Result<(), OnexError> {
        self.sql
            .check(operation, access, sql, params)
            .inspect_err(refused)
    }
}

/// Logs a statement the policy refused: a security violation as a warning, a malformed one
/// at debug level.
fn refused(error: &OnexError) {
    let context = error.context();
    let rule = context
        .get("rule")
        .and_then(JsonValue::as_str)
        .unwrap_or("");
    let operation = context
        .get("operation")
        .and_then(JsonValue::as_str)
        .unwrap_or("");
    if *error.code() == onex_runtime::ErrorCode::SecurityViolation {
        tracing::warn!(operation, rule, "statement refused by the SQL policy");
    } else {
        tracing::debug!(operation, rule, "statement refused by the SQL policy");
    }
}

impl PostgresAdapterHandler for PostgresAdapter {
    async fn query(
        &self,
        _ctx: &EffectContext,
        input: ModelQueryRequest,
    ) -> Result<ModelQueryResult, OnexError> {
        let operation = PostgresAdapterOperation::Query.as_str();
        self.check(operation, Access::Read, &input.sql, input.params.len())?;
        // `max_rows` is 1..=100 000 (the contract's bounds, checked when the input was decoded).
        let max_rows = usize::try_from(input.max_rows).unwrap_or(usize::MAX);
        let outcome = self
            .pool
            .query(operation, &input.sql, &input.params, Some(max_rows))
            .await?;
        Ok(ModelQueryResult {
            row_count: count(outcome.rows.len() as u64),
            columns: outcome.columns.into_iter().map(column).collect(),
            rows: outcome.rows.into_iter().map(row).collect(),
        })
    }

    async fn execute(
        &self,
        _ctx: &EffectContext,
        input: ModelExecuteRequest,
    ) -> Result<ModelExecuteResult, OnexError> {
        let operation = PostgresAdapterOperation::Execute.as_str();
        self.check(operation, Access::Write, &input.sql, input.params.len())?;
        let executed = self
            .pool
            .execute(
                operation,
                &input.sql,
                &input.params,
                input.idempotency_key.as_deref(),
            )
            .await?;
        Ok(written(executed.value, executed.replayed))
    }

    async fn transaction(
        &self,
        _ctx: &EffectContext,
        input: ModelTransactionRequest,
    ) -> Result<ModelTransactionResult, OnexError> {
        let operation = PostgresAdapterOperation::Transaction.as_str();
        // Every statement is checked before the first one runs.
        self.sql
            .check_all(
                operation,
                Access::ReadWrite,
                input
                    .statements
                    .iter()
                    .map(|s| (s.sql.as_str(), s.params.len())),
            )
            .inspect_err(refused)?;
        let statements: Vec<PgStatement> = input
            .statements
            .into_iter()
            .map(|s| PgStatement {
                sql: s.sql,
                params: s.params,
            })
            .collect();
        let executed = self
            .pool
            .transaction(operation, &statements, input.idempotency_key.as_deref())
            .await?;
        Ok(ModelTransactionResult {
            results: executed
                .value
                .into_iter()
                .map(|outcome| written(outcome, executed.replayed))
                .collect(),
            replayed: executed.replayed,
        })
    }

    async fn health(
        &self,
        _ctx: &EffectContext,
        input: ModelHealthRequest,
    ) -> Result<ModelHealthResult, OnexError> {
        // An unreachable database is an answer (`healthy: false` and why), not an error.
        let health = self.pool.health(input.reconnect).await;
        Ok(ModelHealthResult {
            healthy: health.healthy,
            latency_ms: health.latency.as_secs_f64() * 1e3,
            server_version: health.server_version,
            database: self.pool.settings().target(),
            pool: ModelPoolStatus {
                max_size: count(health.pool.max_size as u64),
                size: count(health.pool.size as u64),
                available: count(health.pool.available as u64),
                waiting: count(health.pool.waiting as u64),
            },
            error: health.error,
        })
    }
}

/// A count as the models' integer.
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn column(c: SqlColumn) -> ModelColumn {
    ModelColumn {
        name: c.name,
        r#type: c.type_name,
    }
}

fn row(r: SqlRow) -> BTreeMap<String, JsonValue> {
    r.into_iter().collect()
}

/// What a write returned.
fn written(outcome: SqlOutcome, replayed: bool) -> ModelExecuteResult {
    ModelExecuteResult {
        rows_affected: count(outcome.rows_affected),
        rows: outcome.rows.into_iter().map(row).collect(),
        replayed,
    }
}
