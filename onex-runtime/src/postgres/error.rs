//! `tokio_postgres` and pool errors → [`OnexError`], by SQLSTATE (the mapping table is in the
//! [module documentation](super)).
//!
//! Every error names the operation (and, in a transaction, the failing statement's index),
//! carries the context keys `operation`, `retryable` and, when known, `sqlstate`,
//! `constraint`, `column`, `table`, `schema`, `datatype` and `statement`, and never includes
//! a parameter value or the password: server messages of the data-exception class (`22…`),
//! which quote the offending value, have their quoted parts replaced by `"…"`, and the
//! server's `DETAIL` (which quotes key values) is left out.

use std::error::Error as StdError;

use deadpool_postgres::{PoolError, TimeoutType};
use tokio_postgres::error::DbError;

use super::settings::PgSettings;
use crate::error::{ErrorCode, OnexError};

/// What failed: the operation, the statement's index in a transaction, and the settings
/// (for the target's name and the password to scrub).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scope<'a> {
    /// The operation running.
    pub(crate) operation: &'a str,
    /// The index of the statement in a transaction.
    pub(crate) statement: Option<usize>,
    /// The pool's settings.
    pub(crate) settings: &'a PgSettings,
}

impl<'a> Scope<'a> {
    /// A scope for a single statement.
    pub(crate) fn new(operation: &'a str, settings: &'a PgSettings) -> Self {
        Scope {
            operation,
            statement: None,
            settings,
        }
    }

    /// The same scope at statement `index` of a transaction.
    pub(crate) fn at(self, index: usize) -> Self {
        Scope {
            statement: Some(index),
            ..self
        }
    }

    /// An error with this scope's message prefix and context; `retryable` is the code's
    /// [`ErrorCode::is_transient`], so the effect policies and this flag always agree.
    pub(crate) fn error(&self, code: ErrorCode, text: &str) -> OnexError {
        let text = scrub(text, self.settings.password());
        let message = match self.statement {
            Some(i) => format!(
                "operation `{}`, statement index {i}: {text}",
                self.operation
            ),
            None => format!("operation `{}`: {text}", self.operation),
        };
        let retryable = code.is_transient();
        let mut err = OnexError::new(code, message)
            .with_context("operation", self.operation)
            .with_context("retryable", retryable);
        if let Some(i) = self.statement {
            err = err.with_context("statement", i);
        }
        err
    }

    /// Maps a driver error.
    pub(crate) fn pg(&self, e: &tokio_postgres::Error) -> OnexError {
        if let Some(db) = e.as_db_error() {
            return self.db(db);
        }
        let cause = StdError::source(e)
            .map(|c| format!(": {c}"))
            .unwrap_or_default();
        let target = self.settings.target();
        let shown = e.to_string();
        let (code, text) = if e.is_closed() {
            (
                ErrorCode::OperationFailed,
                format!("the connection to {target} was closed"),
            )
        } else if shown.starts_with("error connecting to server") {
            (
                ErrorCode::OperationFailed,
                format!("cannot connect to {target}{cause}"),
            )
        } else if shown.starts_with("timeout waiting for server") {
            (
                ErrorCode::OperationFailed,
                format!("timed out connecting to {target}"),
            )
        } else if shown.starts_with("error communicating with the server") {
            (
                ErrorCode::OperationFailed,
                format!("lost the connection to {target}{cause}"),
            )
        } else if shown.starts_with("error encoding message to server") {
            // A statement or value the protocol cannot carry (an embedded NUL byte): the
            // same request fails the same way every time.
            (
                ErrorCode::InvalidInput,
                format!("the statement cannot be sent to {target}{cause}"),
            )
        } else if shown.starts_with("authentication error") {
            (
                ErrorCode::SecurityViolation,
                format!("authentication to {target} failed{cause}"),
            )
        } else if shown.starts_with("error performing TLS handshake") {
            (
                ErrorCode::InvalidInput,
                format!(
                    "{target} requires TLS, which this executor does not support (sslmode){cause}"
                ),
            )
        } else if [
            "invalid configuration",
            "invalid connection string",
            "error serializing parameter",
            "error deserializing column",
            "expected ",
        ]
        .iter()
        .any(|prefix| shown.starts_with(prefix))
        {
            (ErrorCode::InvalidInput, format!("{shown}{cause}"))
        } else {
            (ErrorCode::OperationFailed, format!("{shown}{cause}"))
        };
        self.error(code, &text)
    }

    /// Maps an error the server reported.
    pub(crate) fn db(&self, db: &DbError) -> OnexError {
        let sqlstate = db.code().code();
        let (code, what) = if sqlstate == "0A000" && db.message().contains(STALE_PLAN) {
            // The connection's cached statement predates a schema change: preparing it again
            // fixes it, so this one is transient (and the pool drops its cached statements).
            (ErrorCode::OperationFailed, "stale cached statement")
        } else {
            classify(sqlstate)
        };
        let message = if sqlstate.starts_with("22") {
            redact_quoted(db.message())
        } else {
            db.message().to_owned()
        };
        let mut err = self
            .error(code, &format!("{what} (SQLSTATE {sqlstate}): {message}"))
            .with_context("sqlstate", sqlstate);
        for (key, value) in [
            ("constraint", db.constraint()),
            ("table", db.table()),
            ("column", db.column()),
            ("schema", db.schema()),
            ("datatype", db.datatype()),
            ("hint", db.hint()),
        ] {
            if let Some(value) = value {
                err = err.with_context(key, scrub(value, self.settings.password()));
            }
        }
        err
    }

    /// Maps a pool error.
    pub(crate) fn pool(&self, e: &PoolError) -> OnexError {
        let target = self.settings.target();
        match e {
            PoolError::Backend(e) => self.pg(e),
            PoolError::Timeout(TimeoutType::Wait) => self
                .error(
                    ErrorCode::OperationFailed,
                    &format!(
                        "no connection to {target} became free within {} ms (pool of {})",
                        self.settings.wait_timeout().unwrap_or_default().as_millis(),
                        self.settings.max_size()
                    ),
                )
                .with_context("timeout", "wait"),
            PoolError::Timeout(TimeoutType::Create) => self
                .error(
                    ErrorCode::OperationFailed,
                    &format!(
                        "connecting to {target} took longer than {} ms",
                        self.settings.connect_timeout().as_millis()
                    ),
                )
                .with_context("timeout", "connect"),
            PoolError::Timeout(TimeoutType::Recycle) => self
                .error(
                    ErrorCode::OperationFailed,
                    &format!("checking a pooled connection to {target} timed out"),
                )
                .with_context("timeout", "recycle"),
            PoolError::Closed => {
                self.error(ErrorCode::OperationFailed, "the connection pool is closed")
            }
            PoolError::NoRuntimeSpecified => self.error(
                ErrorCode::Internal,
                "the connection pool has no async runtime for its timeouts",
            ),
            PoolError::PostCreateHook(e) => self.error(
                ErrorCode::OperationFailed,
                &format!("preparing a new connection to {target} failed: {e}"),
            ),
        }
    }
}

/// What the server says when a prepared statement's result columns changed under it.
const STALE_PLAN: &str = "cached plan must not change result type";

/// True when an error says a cached prepared statement went stale (the table behind it
/// changed shape): the connection's statement cache must be cleared.
pub(crate) fn stale_statement(err: &OnexError) -> bool {
    *err.code() == ErrorCode::OperationFailed
        && err.context().get("sqlstate").and_then(|s| s.as_str()) == Some("0A000")
}

/// True when an error says its connection cannot be used again: lost or closed (no
/// SQLSTATE), or ended by the server (`08…`, `57P…` shutdown and termination, `XX…`, `58…`).
pub(crate) fn connection_broken(err: &OnexError) -> bool {
    if *err.code() != ErrorCode::OperationFailed {
        return false;
    }
    match err.context().get("sqlstate").and_then(|s| s.as_str()) {
        None => err.context().get("timeout").is_none(),
        Some(state) => ["08", "57P", "XX", "58"]
            .iter()
            .any(|prefix| state.starts_with(prefix)),
    }
}

/// The ONEX code for a SQLSTATE, and a short description of its class.
///
/// Transient codes ([`ErrorCode::OperationFailed`], [`ErrorCode::Timeout`]) only for failures
/// that may pass on a retry; every other SQL failure gets a permanent code, so the effect
/// policies neither retry it nor count it against a circuit breaker.
pub(crate) fn classify(sqlstate: &str) -> (ErrorCode, &'static str) {
    let class = sqlstate.get(..2).unwrap_or("");
    match (class, sqlstate) {
        (_, "57014") => (ErrorCode::Timeout, "statement canceled or timed out"),
        (_, "40001") => (ErrorCode::OperationFailed, "serialization failure"),
        (_, "40P01") => (ErrorCode::OperationFailed, "deadlock detected"),
        (_, "40003") => (ErrorCode::OperationFailed, "statement completion unknown"),
        (_, "55P03") => (ErrorCode::OperationFailed, "lock not available"),
        (_, "55006") => (ErrorCode::OperationFailed, "object in use"),
        (_, "25006") => (
            ErrorCode::SecurityViolation,
            "write in a read-only transaction",
        ),
        (_, "25P03") => (ErrorCode::OperationFailed, "idle-in-transaction timeout"),
        (_, "42501") => (ErrorCode::SecurityViolation, "insufficient privilege"),
        (_, "23505") => (ErrorCode::InvalidInput, "unique violation"),
        (_, "23503") => (ErrorCode::InvalidInput, "foreign key violation"),
        (_, "23502") => (ErrorCode::InvalidInput, "not-null violation"),
        (_, "23514") => (ErrorCode::InvalidInput, "check violation"),
        (_, "23P01") => (ErrorCode::InvalidInput, "exclusion violation"),
        ("08", _) => (ErrorCode::OperationFailed, "connection failure"),
        ("53", _) => (ErrorCode::OperationFailed, "insufficient resources"),
        ("57", _) => (ErrorCode::OperationFailed, "server unavailable"),
        ("58", _) => (ErrorCode::OperationFailed, "server system error"),
        ("XX", _) => (ErrorCode::OperationFailed, "internal server error"),
        ("28", _) => (ErrorCode::SecurityViolation, "authorization failed"),
        ("22", _) => (ErrorCode::Validation, "invalid data"),
        ("23", _) => (ErrorCode::InvalidInput, "integrity constraint violation"),
        ("42", _) => (ErrorCode::InvalidInput, "invalid statement"),
        _ => (
            ErrorCode::InvalidInput,
            "the database rejected the statement",
        ),
    }
}

/// Replaces every double-quoted part of a message by `"…"` (data-exception messages quote
/// the value they could not take, which may be a secret).
pub(crate) fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut parts = message.split('"');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let mut inside = true;
    for part in parts {
        if inside {
            out.push_str("\"…\"");
        } else {
            out.push_str(part);
        }
        inside = !inside;
    }
    out
}

/// `text` with every occurrence of the password replaced by `***`.
pub(crate) fn scrub(text: &str, password: Option<&[u8]>) -> String {
    match password.map(String::from_utf8_lossy) {
        Some(p) if !p.is_empty() && text.contains(p.as_ref()) => text.replace(p.as_ref(), "***"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn classification() {
        for (state, code) in [
            ("08006", ErrorCode::OperationFailed),
            ("57P01", ErrorCode::OperationFailed),
            ("57P03", ErrorCode::OperationFailed),
            ("53300", ErrorCode::OperationFailed),
            ("40001", ErrorCode::OperationFailed),
            ("40P01", ErrorCode::OperationFailed),
            ("57014", ErrorCode::Timeout),
            ("42P01", ErrorCode::InvalidInput),
            ("42601", ErrorCode::InvalidInput),
            ("42501", ErrorCode::SecurityViolation),
            ("22P02", ErrorCode::Validation),
            ("23505", ErrorCode::InvalidInput),
            ("23503", ErrorCode::InvalidInput),
            ("25006", ErrorCode::SecurityViolation),
            ("P0001", ErrorCode::InvalidInput),
            ("0A000", ErrorCode::InvalidInput),
        ] {
            assert_eq!(classify(state).0, code, "{state}");
        }
        // Permanent SQL failures are never transient: no retry, no breaker count.
        for state in [
            "42P01", "22P02", "23505", "25006", "42501", "P0001", "2BP01",
        ] {
            assert!(!classify(state).0.is_transient(), "{state}");
        }
        for state in ["08006", "57P01", "40001", "40P01", "53300", "57014"] {
            assert!(classify(state).0.is_transient(), "{state}");
        }
    }

    #[test]
    fn quoted_values_are_redacted() {
        assert_eq!(
            redact_quoted("invalid input syntax for type integer: \"hunter2\""),
            "invalid input syntax for type integer: \"…\""
        );
        assert_eq!(
            redact_quoted("value \"99999999999\" is out of range for type integer"),
            "value \"…\" is out of range for type integer"
        );
        assert_eq!(redact_quoted("division by zero"), "division by zero");
    }

    #[test]
    fn scope_messages_and_context() {
        let settings = PgSettings::parse("postgres://u:hunter2@h/db").expect("parses");
        let scope = Scope::new("save", &settings).at(2);
        let err = scope.error(ErrorCode::InvalidInput, "bad hunter2 thing");
        assert_eq!(
            err.message(),
            "operation `save`, statement index 2: bad *** thing"
        );
        assert_eq!(err.context().get("statement"), Some(&json!(2)));
        assert_eq!(err.context().get("retryable"), Some(&json!(false)));
        assert_eq!(err.context().get("operation"), Some(&json!("save")));

        let err = Scope::new("save", &settings).pool(&PoolError::Timeout(TimeoutType::Wait));
        assert_eq!(err.code(), ErrorCode::OperationFailed);
        assert_eq!(err.context().get("retryable"), Some(&json!(true)));
        assert_eq!(err.context().get("timeout"), Some(&json!("wait")));
        assert!(
            err.message().contains("database db at h:5432"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn broken_connections() {
        let settings = PgSettings::local_default();
        let scope = Scope::new("op", &settings);
        let lost = scope.error(ErrorCode::OperationFailed, "lost");
        assert!(connection_broken(&lost));
        let killed = lost.clone().with_context("sqlstate", "57P01");
        assert!(connection_broken(&killed));
        let deadlock = lost.clone().with_context("sqlstate", "40P01");
        assert!(!connection_broken(&deadlock));
        let waited = scope.pool(&PoolError::Timeout(TimeoutType::Wait));
        assert!(!connection_broken(&waited));
        let invalid = scope.error(ErrorCode::InvalidInput, "bad");
        assert!(!connection_broken(&invalid));
    }

    #[test]
    fn scrubbing() {
        assert_eq!(scrub("a pw b pw", Some(b"pw")), "a *** b ***");
        assert_eq!(scrub("a pw", None), "a pw");
        assert_eq!(scrub("a pw", Some(b"")), "a pw");
    }
}
