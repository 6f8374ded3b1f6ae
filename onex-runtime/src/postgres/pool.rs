//! [`PgPool`]: the pool, and how one statement runs on it.

use std::fmt;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Object, Pool, Runtime};
use futures_util::TryStreamExt as _;
use serde_json::Value;
use tokio_postgres::{NoTls, Statement};
use tracing::Instrument as _;

use super::bind::{BindError, Param, to_param};
use super::error::{Scope, stale_statement};
use super::lease::Lease;
use super::read::{ReadOnlyConnect, check_read};
use super::rows::{Decoder, decode_row, plan_columns};
use super::settings::PgSettings;
use super::{Executed, PgStatement, PoolStatus};
use crate::db::{SqlColumn, SqlOutcome};
use crate::error::{ErrorCode, OnexError};

/// A pool of PostgreSQL connections that runs parameterized statements and returns rows as
/// typed JSON (see the [module documentation](super)).
///
/// Cheap to clone: clones share the connections. Creating it does no I/O; connections open
/// on first use, so a node can be built while the database is down.
#[derive(Clone)]
pub struct PgPool {
    inner: Arc<Inner>,
}

struct Inner {
    settings: PgSettings,
    /// The connections writes (and, with `read_only_transactions`, reads) run on.
    pool: Pool,
    /// The read connections (`default_transaction_read_only=on`), opened on first use.
    reads: Pool,
    /// Set when a read connection's server does not report `default_transaction_read_only`:
    /// reads then run in `BEGIN READ ONLY … COMMIT` on the read connections.
    untracked: Arc<AtomicBool>,
    /// Whether the idempotency table is known to exist in this pool's schema.
    idempotency_ready: AtomicBool,
}

impl PgPool {
    /// A pool for `settings`. Fails only on settings a pool cannot be built from; never
    /// connects.
    pub fn new(settings: PgSettings) -> Result<PgPool, OnexError> {
        let writes = Manager::from_config(
            settings.connection_config(),
            NoTls,
            ManagerConfig::default(),
        );
        let untracked = Arc::new(AtomicBool::new(false));
        let reads = Manager::from_connect(
            settings.read_connection_config(),
            ReadOnlyConnect::new(Arc::clone(&untracked)),
            ManagerConfig::default(),
        );
        Ok(PgPool {
            inner: Arc::new(Inner {
                pool: build_pool(&settings, writes)?,
                reads: build_pool(&settings, reads)?,
                settings,
                untracked,
                idempotency_ready: AtomicBool::new(false),
            }),
        })
    }

    /// The settings the pool was built with.
    pub fn settings(&self) -> &PgSettings {
        &self.inner.settings
    }

    /// The write connections' current size, idle connections and queued requests (the
    /// connections [`PgPool::execute`] and [`PgPool::transaction`] run on, and
    /// [`PgPool::query`] too with
    /// [`read_only_transactions`](PgSettings::with_read_only_transactions)).
    pub fn status(&self) -> PoolStatus {
        status_of(&self.inner.pool)
    }

    /// The read connections' current size, idle connections and queued requests (the
    /// connections [`PgPool::query`] runs on by default; each set has its own `max_size`).
    pub fn read_status(&self) -> PoolStatus {
        status_of(&self.inner.reads)
    }

    /// Runs a read-only statement and returns its rows.
    ///
    /// The statement must start with `SELECT`, `WITH`, `VALUES`, `TABLE`, `SHOW`,
    /// `EXPLAIN` or `(` (anything else is refused before it runs, with
    /// [`ErrorCode::SecurityViolation`]), and it runs in a read-only transaction, so it
    /// cannot write even if it is not the `SELECT` its caller believes: a write fails with
    /// [`ErrorCode::SecurityViolation`] (SQLSTATE 25006). By default it runs as one plain
    /// statement on a read connection (one whose transactions start read-only); with
    /// [`PgSettings::with_read_only_transactions`], inside a pipelined
    /// `BEGIN READ ONLY … COMMIT` (see the [module documentation](super#read-only-queries)).
    /// More than `max_rows` rows is an [`ErrorCode::InvalidInput`] error, never a truncated
    /// result. `rows_affected` is the number of rows returned.
    pub async fn query(
        &self,
        operation: &str,
        sql: &str,
        params: &[Value],
        max_rows: Option<usize>,
    ) -> Result<SqlOutcome, OnexError> {
        let scope = self.scope(operation);
        async {
            check_read(scope, sql)?;
            let transactions = self.inner.settings.read_only_transactions();
            let client = if transactions {
                self.client(scope).await?
            } else {
                self.read_client(scope).await?
            };
            // Read after the connection is made: its connector sets the flag first.
            let wrap = transactions || self.inner.untracked.load(Ordering::Acquire);
            let mut unfinished = false;
            let mut result = read(
                &client,
                scope,
                (sql, params),
                max_rows,
                wrap,
                &mut unfinished,
            )
            .await;
            if retry_stale(&client, &result) {
                result = read(
                    &client,
                    scope,
                    (sql, params),
                    max_rows,
                    wrap,
                    &mut unfinished,
                )
                .await;
            }
            if unfinished {
                // A plain read stopped before the end of its result (too many rows, an
                // unreadable column): the rest of its messages, which could still report a
                // changed session setting, are unread, so the connection is not reused.
                client.discard();
            } else {
                client.finish(&result);
            }
            result
        }
        .instrument(tracing::debug_span!("postgres.query", operation))
        .await
    }

    /// Runs a statement that may write, in its own transaction, and returns what it returned
    /// (`RETURNING` rows) and the number of rows it inserted, updated or deleted.
    ///
    /// With an `idempotency_key`, the statement runs at most once per key: the first call
    /// records its outcome with the key in the same transaction, and later calls with the
    /// same key return that outcome with `replayed: true` without running it again (see
    /// the [module documentation](super)).
    pub async fn execute(
        &self,
        operation: &str,
        sql: &str,
        params: &[Value],
        idempotency_key: Option<&str>,
    ) -> Result<Executed<SqlOutcome>, OnexError> {
        let scope = self.scope(operation);
        async {
            if let Some(key) = idempotency_key {
                let statements = [(sql, params)];
                let executed = self.keyed(scope, key, false, &statements).await?;
                let value = executed.value.into_iter().next().ok_or_else(|| {
                    scope.error(ErrorCode::Internal, "the recorded outcome is empty")
                })?;
                return Ok(Executed {
                    value,
                    replayed: executed.replayed,
                });
            }
            let client = self.client(scope).await?;
            let mut result = run_statement(&*client, scope, sql, params).await;
            if retry_stale(&client, &result) {
                // The statement failed before running, so nothing was written.
                result = run_statement(&*client, scope, sql, params).await;
            }
            client.finish(&result);
            Ok(Executed {
                value: result?,
                replayed: false,
            })
        }
        .instrument(tracing::debug_span!("postgres.execute", operation))
        .await
    }

    /// Runs statements in one transaction: all of them, or (at the first failure, which
    /// names its index as `statement`) none.
    ///
    /// With an `idempotency_key`, as for [`PgPool::execute`].
    pub async fn transaction(
        &self,
        operation: &str,
        statements: &[PgStatement],
        idempotency_key: Option<&str>,
    ) -> Result<Executed<Vec<SqlOutcome>>, OnexError> {
        let scope = self.scope(operation);
        let statements: Vec<(&str, &[Value])> = statements
            .iter()
            .map(|s| (s.sql.as_str(), s.params.as_slice()))
            .collect();
        async {
            if let Some(key) = idempotency_key {
                return self.keyed(scope, key, true, &statements).await;
            }
            let mut client = self.client(scope).await?;
            let result = all_or_nothing(&mut client, scope, &statements).await;
            client.finish(&result);
            Ok(Executed {
                value: result?,
                replayed: false,
            })
        }
        .instrument(tracing::debug_span!("postgres.transaction", operation))
        .await
    }

    /// The error scope of an operation.
    pub(super) fn scope<'a>(&'a self, operation: &'a str) -> Scope<'a> {
        Scope::new(operation, &self.inner.settings)
    }

    /// A connection from the pool (waiting up to the wait timeout for one to free up), for
    /// one request: [`Lease::finish`] hands it back.
    pub(super) async fn client(&self, scope: Scope<'_>) -> Result<Lease, OnexError> {
        self.inner
            .pool
            .get()
            .await
            .map(Lease::new)
            .map_err(|e| scope.pool(&e))
    }

    /// A read connection (opened with `default_transaction_read_only=on`), for one request.
    async fn read_client(&self, scope: Scope<'_>) -> Result<Lease, OnexError> {
        self.inner
            .reads
            .get()
            .await
            .map(Lease::new)
            .map_err(|e| scope.pool(&e))
    }

    /// The underlying deadpool pool (the write connections).
    pub(super) fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// The read connections' deadpool pool.
    pub(super) fn read_pool(&self) -> &Pool {
        &self.inner.reads
    }

    /// The flag recording that the idempotency table exists.
    pub(super) fn idempotency_ready(&self) -> &AtomicBool {
        &self.inner.idempotency_ready
    }
}

impl fmt::Debug for PgPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgPool")
            .field("settings", &self.inner.settings)
            .field("status", &self.status())
            .finish()
    }
}

/// A deadpool pool of `manager`'s connections, sized and timed by `settings`.
fn build_pool(settings: &PgSettings, manager: Manager) -> Result<Pool, OnexError> {
    Pool::builder(manager)
        .max_size(settings.max_size())
        .wait_timeout(settings.wait_timeout())
        .create_timeout(Some(settings.connect_timeout()))
        .recycle_timeout(Some(settings.connect_timeout()))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| {
            OnexError::new(
                ErrorCode::InvalidInput,
                format!(
                    "cannot build a connection pool for {}: {e}",
                    settings.target()
                ),
            )
        })
}

/// A deadpool pool's status.
fn status_of(pool: &Pool) -> PoolStatus {
    let s = pool.status();
    PoolStatus {
        max_size: s.max_size,
        size: s.size,
        available: s.available,
        waiting: s.waiting,
    }
}

/// When `result` failed on a stale cached statement, clears the connection's statement
/// cache and returns true: the caller runs the statement once more (only where the failure
/// left nothing half done: a single statement in its own transaction).
fn retry_stale<T>(client: &Object, result: &Result<T, OnexError>) -> bool {
    let stale = matches!(result, Err(e) if stale_statement(e));
    if stale {
        client.statement_cache.clear();
    }
    stale
}

/// Runs a read-only statement: alone (on a read connection, whose transactions start
/// read-only), or with `wrap` in `BEGIN READ ONLY … COMMIT`, the three pipelined.
///
/// `unfinished` is set when a plain read failed before reading its whole response (an
/// error the server did not report: too many rows, an unreadable column, a lost
/// connection).
async fn read(
    client: &Object,
    scope: Scope<'_>,
    (sql, params): (&str, &[Value]),
    max_rows: Option<usize>,
    wrap: bool,
    unfinished: &mut bool,
) -> Result<SqlOutcome, OnexError> {
    let prepared = prepare(client, scope, sql, params).await?;
    let started = Instant::now();
    let rows = if wrap {
        // `join3` polls in order, and each future sends its messages on its first poll, so
        // the server receives BEGIN, the statement and COMMIT in that order, in one flight.
        let begin = client.batch_execute("BEGIN READ ONLY");
        let run = collect(client, scope, &prepared, max_rows);
        let commit = client.batch_execute("COMMIT");
        let (begin, run, commit) = futures_util::future::join3(begin, run, commit).await;
        begin.map_err(|e| scope.pg(&e))?;
        let (rows, _) = run?;
        commit.map_err(|e| scope.pg(&e))?;
        rows
    } else {
        let run = collect(client, scope, &prepared, max_rows).await;
        *unfinished = matches!(&run, Err(e) if e.context().get("sqlstate").is_none());
        run?.0
    };
    let outcome = SqlOutcome {
        rows_affected: rows.len() as u64,
        rows,
        columns: prepared.columns(),
    };
    trace(scope, &outcome, started);
    Ok(outcome)
}

/// Runs statements in one transaction; the first failure rolls it back (when the
/// transaction is dropped) and names the statement's index.
async fn all_or_nothing(
    client: &mut Object,
    scope: Scope<'_>,
    statements: &[(&str, &[Value])],
) -> Result<Vec<SqlOutcome>, OnexError> {
    let tx = client.transaction().await.map_err(|e| scope.pg(&e))?;
    let mut outcomes = Vec::with_capacity(statements.len());
    for (i, (sql, params)) in statements.iter().enumerate() {
        outcomes.push(run_statement(&tx, scope.at(i), sql, params).await?);
    }
    tx.commit().await.map_err(|e| scope.pg(&e))?;
    Ok(outcomes)
}

/// A statement prepared (through the connection's statement cache) with its parameters
/// converted and its columns' decoders chosen.
pub(super) struct Prepared {
    statement: Statement,
    params: Vec<Param>,
    plan: Vec<(SqlColumn, Decoder)>,
}

impl Prepared {
    fn columns(&self) -> Vec<SqlColumn> {
        self.plan.iter().map(|(c, _)| c.clone()).collect()
    }
}

/// Prepares `sql` (one round trip the first time per connection, none after), converts the
/// parameters to the placeholders' types and checks every result column can be read, all
/// before anything runs.
pub(super) async fn prepare<C: GenericClient>(
    client: &C,
    scope: Scope<'_>,
    sql: &str,
    params: &[Value],
) -> Result<Prepared, OnexError> {
    let statement = client.prepare_cached(sql).await.map_err(|e| scope.pg(&e))?;
    let types = statement.params();
    if types.len() != params.len() {
        return Err(scope
            .error(
                ErrorCode::InvalidInput,
                &format!(
                    "the statement has {} placeholder(s) but {} parameter(s) were given",
                    types.len(),
                    params.len()
                ),
            )
            .with_context("placeholders", types.len())
            .with_context("parameters", params.len()));
    }
    let params = types
        .iter()
        .zip(params)
        .enumerate()
        .map(|(i, (ty, value))| {
            to_param(ty, value).map_err(|e| bind_error(scope, i + 1, value, &e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let plan = plan_columns(statement.columns()).map_err(|(column, ty)| {
        scope
            .error(
                ErrorCode::InvalidInput,
                &format!(
                    "column `{column}` has PostgreSQL type {ty}, which cannot be returned as \
                     JSON; cast it in the SQL (`{column}::text`)"
                ),
            )
            .with_context("column", column)
            .with_context("type", ty)
    })?;
    Ok(Prepared {
        statement,
        params,
        plan,
    })
}

/// The error for a parameter that cannot be bound.
fn bind_error(scope: Scope<'_>, n: usize, value: &Value, e: &BindError) -> OnexError {
    let text = match e {
        BindError::Mismatch { expected, detail } => {
            format!("parameter ${n} expects PostgreSQL type {expected} but got {detail}")
        }
        BindError::Unsupported { expected } => format!(
            "parameter ${n} has PostgreSQL type {expected}, which cannot be bound from JSON; \
             cast the placeholder in the SQL (`${n}::text::{expected}`)"
        ),
    };
    scope
        .error(ErrorCode::InvalidInput, &text)
        .with_context("parameter", format!("${n}"))
        .with_context("expected", e.expected())
        .with_context("given", super::bind::json_kind(value))
}

/// Runs a prepared statement and reads its rows (at most `max_rows`), returning them with
/// the command's row count.
async fn collect<C: GenericClient>(
    client: &C,
    scope: Scope<'_>,
    prepared: &Prepared,
    max_rows: Option<usize>,
) -> Result<(Vec<crate::db::SqlRow>, Option<u64>), OnexError> {
    let stream = client
        .query_raw(&prepared.statement, prepared.params.iter())
        .await
        .map_err(|e| scope.pg(&e))?;
    let mut stream = pin!(stream);
    let mut rows = Vec::new();
    while let Some(row) = stream.try_next().await.map_err(|e| scope.pg(&e))? {
        if let Some(limit) = max_rows
            && rows.len() >= limit
        {
            return Err(scope
                .error(
                    ErrorCode::InvalidInput,
                    &format!("the query returned more than {limit} rows (max_rows)"),
                )
                .with_context("max_rows", limit));
        }
        let decoded = decode_row(&row, &prepared.plan).map_err(|(column, why)| {
            scope
                .error(
                    ErrorCode::InvalidInput,
                    &format!(
                        "column `{column}` could not be read ({why}); cast it in the SQL \
                         (`{column}::text`)"
                    ),
                )
                .with_context("column", column)
        })?;
        rows.push(decoded);
    }
    Ok((rows, stream.rows_affected()))
}

/// Prepares and runs one statement that may write; `rows_affected` is the command's count.
pub(super) async fn run_statement<C: GenericClient>(
    client: &C,
    scope: Scope<'_>,
    sql: &str,
    params: &[Value],
) -> Result<SqlOutcome, OnexError> {
    let prepared = prepare(client, scope, sql, params).await?;
    let started = Instant::now();
    let (rows, count) = collect(client, scope, &prepared, None).await?;
    let outcome = SqlOutcome {
        rows_affected: count.unwrap_or(rows.len() as u64),
        rows,
        columns: prepared.columns(),
    };
    trace(scope, &outcome, started);
    Ok(outcome)
}

/// The debug event of one statement: operation, duration, sizes; never parameter values.
fn trace(scope: Scope<'_>, outcome: &SqlOutcome, started: Instant) {
    tracing::debug!(
        target: "onex_runtime::postgres",
        operation = scope.operation,
        statement = scope.statement,
        rows = outcome.rows.len(),
        rows_affected = outcome.rows_affected,
        elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "statement ran"
    );
}
