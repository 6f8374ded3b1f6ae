//! The read connections: opened with `default_transaction_read_only=on`, and closed the
//! moment the server reports that setting changed; and the lexical check that keeps
//! statements which could leave a read-only transaction off them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use deadpool_postgres::Connect;
use tokio::task::JoinHandle;
use tokio_postgres::tls::NoTlsStream;
use tokio_postgres::{AsyncMessage, Client, Config, Connection, Error, NoTls, Socket};

use super::error::Scope;
use crate::error::{ErrorCode, OnexError};

/// The setting the read connections start with, and watch.
const READ_ONLY_SETTING: &str = "default_transaction_read_only";

/// The first keywords a read may start with (after whitespace and comments); `(` too.
const READ_KEYWORDS: [&str; 6] = ["SELECT", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN"];

/// Opens read connections and drives each in a task of its own, which closes the
/// connection as soon as the server reports `default_transaction_read_only` is no longer
/// `on` (PostgreSQL 14 and later report it whenever it changes).
pub(crate) struct ReadOnlyConnect {
    /// Set when a server did not report the setting at start-up (PostgreSQL 13 and
    /// older): a change could not be noticed, so reads fall back to `BEGIN READ ONLY`.
    untracked: Arc<AtomicBool>,
}

impl ReadOnlyConnect {
    /// A connector that sets `untracked` when a server does not report the setting.
    pub(crate) fn new(untracked: Arc<AtomicBool>) -> Self {
        ReadOnlyConnect { untracked }
    }
}

impl Connect for ReadOnlyConnect {
    fn connect(
        &self,
        pg_config: &Config,
    ) -> Pin<Box<dyn Future<Output = Result<(Client, JoinHandle<()>), Error>> + Send + '_>> {
        let config = pg_config.clone();
        Box::pin(async move {
            let (client, connection) = config.connect(NoTls).await?;
            let watched = connection.parameter(READ_ONLY_SETTING).is_some();
            if !watched {
                self.untracked.store(true, Ordering::Release);
                tracing::warn!(
                    target: "onex_runtime::postgres",
                    "the server does not report {READ_ONLY_SETTING} (PostgreSQL 13 or older): \
                     reads run in BEGIN READ ONLY transactions"
                );
            }
            let driver = Driver {
                connection: Some(connection),
                watched,
            };
            Ok((client, tokio::spawn(driver)))
        })
    }
}

/// Drives one read connection: reads the server's messages and writes the client's
/// requests, and checks `default_transaction_read_only` after every step.
struct Driver {
    /// The connection; `None` once closed.
    connection: Option<Connection<Socket, NoTlsStream>>,
    /// Whether the server reports the setting (else there is nothing to check).
    watched: bool,
}

impl Driver {
    /// Whether the connection's sessions still start read-only.
    fn still_read_only(&self) -> bool {
        match &self.connection {
            Some(connection) if self.watched => {
                connection.parameter(READ_ONLY_SETTING) == Some("on")
            }
            _ => true,
        }
    }
}

impl Future for Driver {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let Some(connection) = self.connection.as_mut() else {
                return Poll::Ready(());
            };
            let polled = connection.poll_message(cx);
            if !self.still_read_only() {
                // Dropping the connection closes the socket and the client's request
                // channel: nothing more runs on it, and the pool discards the client
                // (`is_closed`) instead of handing it out again.
                self.connection = None;
                tracing::warn!(
                    target: "onex_runtime::postgres",
                    "a read connection's {READ_ONLY_SETTING} was turned off by a statement; \
                     the connection was closed"
                );
                return Poll::Ready(());
            }
            match polled {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(AsyncMessage::Notice(notice)))) => {
                    // The notice's text may quote data: only its severity and code.
                    tracing::debug!(
                        target: "onex_runtime::postgres",
                        severity = notice.severity(),
                        sqlstate = notice.code().code(),
                        "notice on a read connection"
                    );
                }
                Poll::Ready(Some(Ok(_))) => {}
                Poll::Ready(Some(Err(e))) => {
                    tracing::debug!(
                        target: "onex_runtime::postgres",
                        error = %e,
                        "a read connection ended"
                    );
                    self.connection = None;
                    return Poll::Ready(());
                }
                Poll::Ready(None) => {
                    self.connection = None;
                    return Poll::Ready(());
                }
            }
        }
    }
}

/// Refuses, before it runs, a read whose first keyword is not one a query starts with:
/// `SELECT`, `WITH`, `VALUES`, `TABLE`, `SHOW`, `EXPLAIN` or `(`, after whitespace and
/// `--` / `/* */` comments, in any case. What it keeps off the read connections are the
/// statements that can end a transaction or change the session from inside one statement
/// (`DO`, `CALL`, `SET`, `COMMIT`, …).
pub(crate) fn check_read(scope: Scope<'_>, sql: &str) -> Result<(), OnexError> {
    match first_keyword(sql) {
        Some("(") => Ok(()),
        Some(word) if READ_KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word)) => Ok(()),
        found => {
            let shown = match found {
                Some(word) if word.len() <= 32 => format!("`{}`", word.to_ascii_uppercase()),
                Some(_) => "a long word".to_owned(),
                None => "no keyword".to_owned(),
            };
            Err(scope
                .error(
                    ErrorCode::SecurityViolation,
                    &format!(
                        "a read-only query must start with SELECT, WITH, VALUES, TABLE, SHOW, \
                         EXPLAIN or `(`, and this one starts with {shown}"
                    ),
                )
                .with_context(
                    "keyword",
                    found
                        .filter(|w| w.len() <= 32)
                        .map(str::to_ascii_uppercase)
                        .unwrap_or_default(),
                ))
        }
    }
}

/// The first keyword of `sql` (ASCII letters and `_`), or `"("`, after whitespace and
/// comments (`--` to the end of the line, `/* */` nested as PostgreSQL nests them); `None`
/// when `sql` starts with anything else or has nothing but whitespace and comments.
fn first_keyword(sql: &str) -> Option<&str> {
    let bytes = sql.as_bytes();
    let mut i = 0;
    loop {
        match bytes.get(i..) {
            Some([b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c', ..]) => i += 1,
            Some([b'-', b'-', ..]) => {
                i += 2;
                while let Some(&b) = bytes.get(i) {
                    i += 1;
                    if b == b'\n' || b == b'\r' {
                        break;
                    }
                }
            }
            Some([b'/', b'*', ..]) => {
                i += 2;
                let mut depth = 1usize;
                while depth > 0 {
                    match bytes.get(i..) {
                        Some([b'/', b'*', ..]) => {
                            depth += 1;
                            i += 2;
                        }
                        Some([b'*', b'/', ..]) => {
                            depth -= 1;
                            i += 2;
                        }
                        Some([_, ..]) => i += 1,
                        // An unterminated comment: the server refuses it anyway.
                        _ => return None,
                    }
                }
            }
            Some([b'(', ..]) => return Some("("),
            Some([b, ..]) if b.is_ascii_alphabetic() || *b == b'_' => {
                let end = bytes[i..]
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'$'))
                    .map_or(bytes.len(), |n| i + n);
                return sql.get(i..end);
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postgres::PgSettings;

    #[test]
    fn first_keywords() {
        assert_eq!(first_keyword("SELECT 1"), Some("SELECT"));
        assert_eq!(first_keyword("  \n\tselect* from t"), Some("select"));
        assert_eq!(
            first_keyword("-- note\nWITH x AS (SELECT 1) TABLE x"),
            Some("WITH")
        );
        assert_eq!(
            first_keyword("/* a /* nested */ comment */ values (1)"),
            Some("values")
        );
        assert_eq!(first_keyword("/**/(SELECT 1)"), Some("("));
        assert_eq!(first_keyword("DO $$ BEGIN END $$"), Some("DO"));
        assert_eq!(first_keyword("call p()"), Some("call"));
        assert_eq!(first_keyword("-- only a comment"), None);
        assert_eq!(first_keyword("/* unterminated"), None);
        assert_eq!(first_keyword(""), None);
        assert_eq!(first_keyword("\"select\" 1"), None);
        assert_eq!(
            first_keyword("/* x */-- y\r\n  SHOW search_path"),
            Some("SHOW")
        );
    }

    #[test]
    fn only_queries_pass() {
        let settings = PgSettings::local_default();
        let scope = Scope::new("read", &settings);
        for sql in [
            "SELECT 1",
            "with x as (select 1) select * from x",
            "VALUES (1)",
            "TABLE t",
            "SHOW search_path",
            "EXPLAIN SELECT 1",
            "(SELECT 1) UNION (SELECT 2)",
            "/* SET */ -- CALL\n SELECT 1",
        ] {
            assert!(check_read(scope, sql).is_ok(), "{sql}");
        }
        for (sql, keyword) in [
            (
                "DO $$ BEGIN SET default_transaction_read_only = off; COMMIT; END $$",
                "DO",
            ),
            ("call p()", "CALL"),
            (
                "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
                "SET",
            ),
            ("/* SELECT */ COMMIT", "COMMIT"),
            ("INSERT INTO t VALUES (1)", "INSERT"),
            ("-- SELECT", ""),
        ] {
            let err = check_read(scope, sql).expect_err(sql);
            assert_eq!(err.code(), ErrorCode::SecurityViolation, "{sql}");
            assert!(err.message().contains("operation `read`"), "{err}");
            assert_eq!(
                err.context().get("keyword"),
                Some(&serde_json::json!(keyword)),
                "{sql}"
            );
            assert_eq!(
                err.context().get("retryable"),
                Some(&serde_json::json!(false))
            );
        }
    }
}
