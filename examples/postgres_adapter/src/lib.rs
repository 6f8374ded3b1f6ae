//! The reference PostgreSQL adapter: an ONEX EFFECT node in front of one database.
//!
//! [`PostgresAdapter`] is declared from `src/contract.yaml` with
//! `#[effect_node(contract = "contract.yaml")]`. It has four operations:
//!
//! | operation | runs | policies |
//! |---|---|---|
//! | `query` | one read (`SELECT`, `WITH … SELECT`, `VALUES`) on a read-only connection; rows as typed JSON | idempotent: retried twice on transient faults |
//! | `execute` | one `INSERT`, `UPDATE` or `DELETE`; an `idempotency_key` makes a redelivery replay the first result | runs once |
//! | `transaction` | a list of statements, all or none | runs once |
//! | `health` | `SELECT 1` and the server version; `healthy: false` with the reason when the database is down | idempotent |
//!
//! Each operation has its own circuit breaker (five transient failures in a row open it for
//! two seconds). Statements pass the [`SqlPolicy`](sql::SqlPolicy) before they reach the
//! database, and values are only ever bound parameters. The connection string comes from
//! `ONEX_POSTGRES_URL` (or `DATABASE_URL`), never from the contract, and is redacted
//! wherever it is shown.
//!
//! ```
//! use onex_runtime::{EffectNode, ErrorCode};
//! use onex_runtime::postgres::{PgPool, PgSettings};
//! use postgres_adapter::PostgresAdapter;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), onex_runtime::OnexError> {
//! // Nothing listens on port 1: the database is "down".
//! let settings = PgSettings::parse("postgres://app:s3cret@127.0.0.1:1/orders")?;
//! let adapter = PostgresAdapter::new(PgPool::new(settings)?);
//!
//! // Unhealthy is an answer, not an error.
//! let reply = adapter
//!     .process_json(br#"{"payload": {"operation": "health"}}"#)
//!     .await?;
//! assert_eq!(reply.payload["healthy"], false);
//! assert_eq!(reply.payload["database"], "database orders at 127.0.0.1:1");
//! assert!(!reply.payload.to_string().contains("s3cret"));
//!
//! // A statement outside `query`'s allow-list is refused before any connection is made.
//! let err = adapter
//!     .process_json(br#"{"payload": {"operation": "query", "sql": "DROP TABLE users"}}"#)
//!     .await
//!     .unwrap_err();
//! assert_eq!(*err.code(), ErrorCode::SecurityViolation);
//! assert!(err.message().starts_with("operation `query`: "));
//! # Ok(()) }
//! ```

mod node;
pub mod sql;

pub use node::{
    PostgresAdapter, PostgresAdapterHandler, PostgresAdapterInput, PostgresAdapterOperation,
    PostgresAdapterOutput, postgres_adapter,
};
