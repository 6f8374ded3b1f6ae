//! PostgreSQL (feature `postgres`): a pooled, parameterized executor that returns rows as
//! typed JSON, with read-only queries, idempotency keys, transactions and health checks.
//!
//! [`PgPool`] runs on [`tokio_postgres`] with a [`deadpool_postgres`] pool. It is the
//! [`SqlExecutor`] behind declarative `db` operations, and what a hand-written PostgreSQL
//! effect node calls.
//!
//! ```no_run
//! use onex_runtime::postgres::{PgPool, PgSettings, PgStatement};
//! use serde_json::json;
//!
//! # async fn demo() -> Result<(), onex_runtime::OnexError> {
//! let settings = PgSettings::from_env()?.unwrap_or_else(PgSettings::local_default);
//! let pool = PgPool::new(settings)?; // no I/O yet
//!
//! let found = pool
//!     .query("find_user", "SELECT id, email FROM users WHERE id = $1", &[json!(7)], Some(1))
//!     .await?;
//! println!("{:?}", found.rows.first());
//!
//! let created = pool
//!     .execute(
//!         "create_user",
//!         "INSERT INTO users (email) VALUES ($1) RETURNING id",
//!         &[json!("ada@example.com")],
//!         Some("request-7f3a"), // run at most once for this key
//!     )
//!     .await?;
//! println!("{:?} (replayed: {})", created.value.rows.first(), created.replayed);
//!
//! let debit = "UPDATE accounts SET balance = balance - $1 WHERE id = $2";
//! let credit = "UPDATE accounts SET balance = balance + $1 WHERE id = $2";
//! let transfer = [
//!     PgStatement::new(debit, [json!("10.00"), json!(1)]),
//!     PgStatement::new(credit, [json!("10.00"), json!(2)]),
//! ];
//! pool.transaction("transfer", &transfer, None).await?; // both or neither
//! # Ok(()) }
//! ```
//!
//! # Parameters and rows
//!
//! Values are always sent as bind parameters, never spliced into the SQL. Each statement is
//! prepared through the connection's statement cache (a repeated statement costs one round
//! trip), and each JSON parameter is converted to the type the server expects for its
//! placeholder; a JSON value that does not fit is an [`ErrorCode::InvalidInput`] error
//! naming the operation, the placeholder (`$2`), the expected type and the JSON kind given
//! (never the value), with context keys `operation` and `parameter`. The table below lists
//! the conversions both ways. Parameters and result columns are checked when the statement
//! is prepared, before it runs, so a statement never writes and then fails on its result.
//!
//! | PostgreSQL type | JSON parameter accepted | column returned as |
//! |---|---|---|
//! | any, `NULL` | `null` | `null` |
//! | `bool` | boolean | boolean |
//! | `int2`, `int4`, `int8`, `oid` | integer-valued number in range, or a string of an integer | number |
//! | `float4`, `float8` | number, or a numeric string (`"NaN"`, `"Infinity"`) | number; `"NaN"`, `"Infinity"`, `"-Infinity"` as strings |
//! | `numeric` | number (its exact JSON digits) or decimal string | **string** of the exact decimal (`"12.50"`); cast `::float8` for a number |
//! | `text`, `varchar`, `bpchar`, `name`, `citext`, `xml`, enums | string | string |
//! | `uuid` | string | string |
//! | `timestamptz` | RFC 3339 string with offset | RFC 3339 string in UTC (`…Z`) |
//! | `timestamp`, `date`, `time` | ISO 8601 string | ISO 8601 string |
//! | `interval` | — (cast `$1::text::interval`) | ISO 8601 duration string |
//! | `json`, `jsonb` | any value | the value |
//! | `bytea` | base64 string or array of bytes | base64 string |
//! | arrays of the above | array (one dimension) | array (nested when multi-dimensional) |
//! | domains | as the base type | as the base type |
//! | others (`inet`, `money`, ranges, composites…) | error: cast `$1::text::inet` | error: cast `col::text` |
//!
//! # Read-only queries
//!
//! [`PgPool::query`] (and a [`SqlStatement`] with `read_only: true`) is for statements that
//! only read. What keeps them from writing, in order:
//!
//! 1. **The application's validator**, first: a node that runs SQL it did not write itself
//!    checks it before it reaches the pool (the `postgres_adapter` example's `SqlPolicy`
//!    parses it and refuses writes, several statements, row locks, `set_config`, `dblink`…).
//!    The checks below hold when that one is missing or wrong.
//! 2. **A lexical check, before anything is sent**: the statement's first keyword (after
//!    whitespace and `--` / `/* */` comments, in any case) must be `SELECT`, `WITH`,
//!    `VALUES`, `TABLE`, `SHOW`, `EXPLAIN`, or the statement must start with `(`; anything
//!    else (`DO`, `CALL`, `SET`, `COMMIT`, `INSERT`…) is an [`ErrorCode::SecurityViolation`]
//!    error (context `keyword`). These are the statements that could leave a read-only
//!    transaction or change the session from inside a single statement (a `DO` block or a
//!    procedure that sets `default_transaction_read_only = off` and commits). One statement
//!    only: the extended protocol refuses `SELECT 1; COMMIT`.
//! 3. **A read-only transaction, enforced by the server**: reads run on a second set of
//!    connections (same `max_size` and timeouts, opened on first use) whose sessions start
//!    with `default_transaction_read_only=on` (a start-up option, after any in the
//!    connection string), as one plain statement: no `BEGIN`/`COMMIT`, no extra command. Its
//!    transaction is read-only, so a write inside it fails with
//!    [`ErrorCode::SecurityViolation`] (SQLSTATE 25006): `WITH x AS (INSERT …) SELECT …`,
//!    `SELECT nextval(…)`, a function that writes, `SELECT … FOR UPDATE`.
//! 4. **A connection whose sessions stopped being read-only is closed at once**: a query
//!    can turn the session default off (`SELECT set_config('default_transaction_read_only',
//!    'off', false)`). It cannot write itself (its transaction started read-only), and
//!    PostgreSQL 14 and later report the change to the client with the query's result, so
//!    the task driving the connection sees it and closes the connection (a warning is
//!    logged, never the SQL or parameters); the pool discards closed connections. A read
//!    that stops before the end of its result (`max_rows` exceeded, an unreadable column)
//!    is not reused either, since the rest of its messages went unread.
//!
//! Limits of the default mode: (4) relies on the server reporting the setting; for a
//! server that does not (PostgreSQL 13 or older), reads fall back to `BEGIN READ ONLY …
//! COMMIT` on their connections, with a warning. The report is noticed when the task
//! driving the connection has handled it, which is before the query's result reaches its
//! caller except in one window: the task reads the result (report included), hands it over,
//! then sends any request already queued before it checks the setting. Another read queued
//! in those microseconds, on the same connection, by a caller able to run two reads in a
//! row, would run with the default off. For a guarantee that does not depend on timing,
//! [`PgSettings::with_read_only_transactions`] runs every read inside its own pipelined
//! `BEGIN READ ONLY … COMMIT` on the ordinary connections (no extra round trip, but two more
//! commands: about +60 µs per read on a development VM). Then no session setting matters,
//! a `DO` block could not `COMMIT` out of it, and `SET TRANSACTION READ WRITE` cannot
//! follow a query; the lexical check applies in both modes.
//!
//! `max_rows` turns a result larger than expected into an [`ErrorCode::InvalidInput`]
//! error, never a truncated result.
//!
//! # Errors
//!
//! Every error names the operation, and carries the context keys `operation`, `retryable`
//! (always [`ErrorCode::is_transient`] of its code, which is what the effect policies retry
//! and count against circuit breakers), `sqlstate` when the server reported one, and
//! `constraint`, `table`, `column`, `schema`, `datatype`, `hint` when it named them. Errors
//! in a transaction add `statement` (the failing statement's index). Messages never hold a
//! parameter value or the password: the server's `DETAIL` (which quotes key values) is left
//! out, and data-exception messages have their quoted values replaced by `"…"`.
//!
//! | failure | [`ErrorCode`] | transient |
//! |---|---|---|
//! | connection refused, closed or lost, I/O, connect timeout, pool wait timeout | `OperationFailed` | yes |
//! | `08…` connection exception, `53…` insufficient resources, `57P01`–`57P05` shutdown / cannot connect now, `58…`, `XX…` | `OperationFailed` | yes |
//! | `40001` serialization failure, `40P01` deadlock, `40003`, `55P03` lock not available, `55006` object in use | `OperationFailed` | yes |
//! | `57014` statement canceled (`statement_timeout`) | `Timeout` | yes |
//! | `0A000` "cached plan must not change result type" (a table changed under a cached statement; the connection's statement cache is cleared, and a single statement outside a transaction is run again at once) | `OperationFailed` | yes |
//! | `42501` insufficient privilege, `25006` write in a read-only transaction, `28…` authorization | `SecurityViolation` | no |
//! | `42…` syntax error, undefined table or column… | `InvalidInput` | no |
//! | `22…` data exception (invalid text, out of range, division by zero) | `Validation` | no |
//! | `23…` integrity: unique, foreign key, not null, check, exclusion (context `constraint`) | `InvalidInput` | no |
//! | any other SQLSTATE (`0A…`, `P0001` raised by a function, `25…`…) | `InvalidInput` | no |
//! | a parameter that does not fit, wrong parameter count, an unreadable column, `max_rows` exceeded | `InvalidInput` | no |
//! | TLS required by the server (this executor connects without TLS) | `InvalidInput` | no |
//! | idempotency key reused for a different request | `InvalidInput` | no |
//!
//! # Idempotency keys
//!
//! [`PgPool::execute`] and [`PgPool::transaction`] take an optional key. With one, the key,
//! the operation and a hash of the request (SQL and parameters) are claimed in
//! [`IDEMPOTENCY_TABLE`] (created in the connections' schema on first use) by the same
//! transaction that runs the statements, which also records their outcome. A later call with
//! the key returns that outcome with `replayed: true` and runs nothing; a concurrent call
//! waits for the first to finish. The same key for another operation or other SQL or
//! parameters is an [`ErrorCode::InvalidInput`] error ("idempotency key reused for a
//! different request"), not a silent replay. A failed write rolls its key back, so a retry
//! with the same key runs again. Keys stay until [`PgPool::purge_idempotency_keys`].
//!
//! # Pool and health
//!
//! The pool opens up to `max_size` write connections (default 16), each within the connect
//! timeout (default 2 s); a request waits up to the wait timeout (default 30 s) for a free
//! connection rather than failing. A connection that broke is discarded when it comes
//! back. A request abandoned half-way (its future dropped, as a policy timeout does) does
//! not hand its connection back: the connection is dropped and the server is asked to
//! cancel the running statement, so an abandoned transaction rolls back at once and no
//! later request waits behind it. Reads have their own set of up to `max_size` connections
//! (see [Read-only queries](#read-only-queries)), so up to `2 × max_size` can be open at
//! once (`max_size` with [`PgSettings::with_read_only_transactions`], whose reads use the
//! write connections). [`PgPool::health`] reports reachability, latency, server version and both sets'
//! status ([`PgPool::status`] for the write connections, [`PgPool::read_status`] for the read
//! ones); with `reconnect` it drops the idle connections of both first.
//!
//! Connections are made without TLS (a server that requires it is refused with a typed
//! error). Each connection caches the statements it prepared, one entry per distinct SQL
//! text, for its lifetime: fine for the fixed SQL of contracts, not for SQL built per
//! request.
//!
//! Each statement logs a `tracing` debug event (target `onex_runtime::postgres`) with the
//! operation, the row counts and the duration, inside a `postgres.query` /
//! `postgres.execute` / `postgres.transaction` span; parameter values are never logged.
//!
//! [`SqlStatement`]: crate::db::SqlStatement

mod bind;
mod error;
mod health;
mod idempotency;
mod lease;
mod numeric;
mod pool;
mod read;
mod rows;
mod settings;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use pool::PgPool;
pub use settings::PgSettings;

use crate::db::{SqlExecutor, SqlOutcome, SqlStatement};
#[cfg(doc)]
use crate::error::ErrorCode;
use crate::error::OnexError;

/// The table idempotency keys are recorded in, in the connections' schema:
/// `onex_idempotency_keys(key text primary key, operation text not null, request_hash text
/// not null, result jsonb, created_at timestamptz not null default now())`.
pub const IDEMPOTENCY_TABLE: &str = "onex_idempotency_keys";

/// One statement of a [`PgPool::transaction`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PgStatement {
    /// The SQL, with `$1..$n` placeholders.
    pub sql: String,
    /// The parameters, in placeholder order.
    pub params: Vec<Value>,
}

impl PgStatement {
    /// A statement from its SQL and parameters.
    ///
    /// ```
    /// use onex_runtime::postgres::PgStatement;
    /// use serde_json::json;
    ///
    /// let s = PgStatement::new("DELETE FROM t WHERE id = $1", [json!(4)]);
    /// assert_eq!(s.params, vec![json!(4)]);
    /// ```
    pub fn new(sql: impl Into<String>, params: impl IntoIterator<Item = Value>) -> Self {
        PgStatement {
            sql: sql.into(),
            params: params.into_iter().collect(),
        }
    }
}

/// What a write returned, and whether it was replayed from its idempotency key rather than
/// run.
#[derive(Clone, Debug, PartialEq)]
pub struct Executed<T> {
    /// The outcome (the recorded one when `replayed`).
    pub value: T,
    /// True when an earlier call with the same idempotency key ran the write.
    pub replayed: bool,
}

/// The result of [`PgPool::health`].
#[derive(Clone, Debug, PartialEq)]
pub struct PgHealth {
    /// Whether the database answered.
    pub healthy: bool,
    /// How long the check took (waiting for a connection included).
    pub latency: Duration,
    /// The server's `server_version`, when it answered.
    pub server_version: Option<String>,
    /// Why it is unhealthy (never with credentials).
    pub error: Option<String>,
    /// The write connections, after the check ([`PgPool::status`]).
    pub pool: PoolStatus,
    /// The read connections, after the check ([`PgPool::read_status`]).
    pub read_pool: PoolStatus,
}

/// A snapshot of the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PoolStatus {
    /// The most connections it opens.
    pub max_size: usize,
    /// Connections open now.
    pub size: usize,
    /// Open connections that are idle.
    pub available: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
}

#[async_trait::async_trait]
impl SqlExecutor for PgPool {
    /// A `read_only` statement runs like [`PgPool::query`] (no row limit); any other as a
    /// plain [`PgPool::execute`] without idempotency key.
    async fn run(&self, statement: SqlStatement<'_>) -> Result<SqlOutcome, OnexError> {
        if statement.read_only {
            self.query(statement.operation, statement.sql, &statement.params, None)
                .await
        } else {
            self.execute(statement.operation, statement.sql, &statement.params, None)
                .await
                .map(|executed| executed.value)
        }
    }
}
