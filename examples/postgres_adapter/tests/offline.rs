//! What the adapter does without a database: it is built without I/O, refuses bad
//! statements before connecting, reports an unreachable server as unhealthy (an answer, not
//! an error), fails requests with typed transient errors, and never shows the password.
//!
//! Nothing listens on 127.0.0.1:1, so every connection attempt is refused at once. (This is
//! the only test binary whose requests fail transiently, and it sends one request per
//! operation, so no circuit breaker opens here.)

mod support;

use onex_runtime::postgres::{PgPool, PgSettings};
use onex_runtime::{EffectNode, ErrorCode};
use postgres_adapter::PostgresAdapter;
use serde_json::json;
use support::{call, fails, ok};

const PASSWORD: &str = "pa55-w0rd-never-shown";

fn down() -> PostgresAdapter {
    let settings = PgSettings::parse(&format!(
        "postgres://app:{PASSWORD}@127.0.0.1:1/orders?connect_timeout=1"
    ))
    .expect("a valid connection string");
    PostgresAdapter::new(PgPool::new(settings).expect("a pool (no I/O)"))
}

#[tokio::test]
async fn an_unreachable_database_is_unhealthy_not_an_error() {
    let adapter = down();
    for reconnect in [false, true] {
        let health = ok(
            &adapter,
            json!({"operation": "health", "reconnect": reconnect}),
        )
        .await;
        assert_eq!(health["healthy"], false, "{health}");
        assert_eq!(health["database"], "database orders at 127.0.0.1:1");
        let error = health["error"].as_str().expect("a reason");
        assert!(error.contains("127.0.0.1:1"), "{error}");
        assert!(health.get("server_version").is_none(), "{health}");
        assert_eq!(health["pool"]["max_size"], 16);
        assert_eq!(health["pool"]["size"], 0);
        assert!(health["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
        assert!(!health.to_string().contains(PASSWORD));
    }
}

#[tokio::test]
async fn requests_fail_with_typed_transient_errors_naming_the_operation() {
    let adapter = down();
    // `query` is idempotent: the contract's policy retries it twice before giving up.
    let err = fails(
        &adapter,
        json!({"operation": "query", "sql": "SELECT $1::int AS n", "params": [1]}),
        ErrorCode::OperationFailed,
    )
    .await;
    assert!(err.code().is_transient());
    assert_eq!(err.context().get("attempts"), Some(&3.into()), "{err:?}");
    assert!(err.message().contains("127.0.0.1:1"), "{err:?}");

    // `execute` and `transaction` write: they run once, never retried.
    for payload in [
        json!({"operation": "execute", "sql": "DELETE FROM t WHERE id = $1", "params": [1]}),
        json!({"operation": "transaction", "statements": [
            {"sql": "INSERT INTO t (id) VALUES ($1)", "params": [1]},
            {"sql": "DELETE FROM t WHERE id = $1", "params": [2]}
        ]}),
    ] {
        let err = fails(&adapter, payload, ErrorCode::OperationFailed).await;
        assert_eq!(err.context().get("attempts"), None, "{err:?}");
        let shown = format!("{err} {err:?} {}", serde_json::to_string(&err).unwrap());
        assert!(!shown.contains(PASSWORD), "{shown}");
    }
}

#[tokio::test]
async fn bad_statements_are_refused_before_any_connection() {
    // Each of these would fail on connecting if it got that far; the policy answers first,
    // with a code that is not transient (the host dead-letters it at once, the breaker
    // does not count it).
    let adapter = down();
    let cases = [
        (
            json!({"operation": "query", "sql": "DROP TABLE users"}),
            ErrorCode::SecurityViolation,
            "statement_kind",
        ),
        (
            json!({"operation": "query", "sql": "SELECT 1; DELETE FROM users WHERE true"}),
            ErrorCode::SecurityViolation,
            "multiple_statements",
        ),
        (
            json!({"operation": "query", "sql": "WITH d AS (DELETE FROM users WHERE true RETURNING *) SELECT * FROM d"}),
            ErrorCode::SecurityViolation,
            "write_in_read",
        ),
        (
            json!({"operation": "query", "sql": "SELEC * FROM users"}),
            ErrorCode::InvalidInput,
            "parse",
        ),
        (
            json!({"operation": "query", "sql": "SELECT * FROM users WHERE id = $1"}),
            ErrorCode::InvalidInput,
            "parameter_count",
        ),
        (
            json!({"operation": "execute", "sql": "SELECT * FROM users"}),
            ErrorCode::SecurityViolation,
            "statement_kind",
        ),
        (
            json!({"operation": "execute", "sql": "DELETE FROM users"}),
            ErrorCode::SecurityViolation,
            "unfiltered_write",
        ),
        (
            json!({"operation": "execute", "sql": "SELECT pg_terminate_backend(1)"}),
            ErrorCode::SecurityViolation,
            "statement_kind",
        ),
        (
            json!({"operation": "execute", "sql": "INSERT INTO log SELECT pg_read_file('/etc/passwd')"}),
            ErrorCode::SecurityViolation,
            "denied_function",
        ),
        (
            json!({"operation": "transaction", "statements": [
                {"sql": "INSERT INTO users (id) VALUES ($1)", "params": [1]},
                {"sql": "TRUNCATE users"}
            ]}),
            ErrorCode::SecurityViolation,
            "statement_kind",
        ),
    ];
    for (payload, code, rule) in cases {
        let shown = payload.to_string();
        let err = fails(&adapter, payload, code).await;
        assert_eq!(
            err.context().get("rule"),
            Some(&rule.into()),
            "{shown}: {err:?}"
        );
        assert!(err.context().get("hint").is_some(), "{err:?}");
        assert!(!err.code().is_transient());
    }
    // The transaction's refusal names the statement.
    let err = call(
        &adapter,
        json!({"operation": "transaction", "statements": [
            {"sql": "INSERT INTO users (id) VALUES ($1)", "params": [1]},
            {"sql": "GRANT ALL ON users TO public"}
        ]}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.context().get("statement"), Some(&1.into()));
    assert!(
        err.message()
            .starts_with("operation `transaction`, statement index 1 (of 2): `GRANT`"),
        "{err:?}"
    );
    // The pool never opened a connection.
    assert_eq!(adapter.pool().status().size, 0);
}

#[tokio::test]
async fn the_contract_rejects_what_it_constrains_before_the_policy() {
    let adapter = down();
    let long = format!("SELECT '{}'", "x".repeat(10_000));
    for payload in [
        json!({"operation": "query", "sql": ""}),
        json!({"operation": "query", "sql": long}),
        json!({"operation": "query", "sql": "SELECT 1", "max_rows": 0}),
        json!({"operation": "transaction", "statements": []}),
        json!({"operation": "execute", "sql": "DELETE FROM t WHERE id = 1", "idempotency_key": ""}),
    ] {
        let shown = payload.to_string();
        let err = call(&adapter, payload).await.unwrap_err();
        assert_eq!(*err.code(), ErrorCode::Validation, "{shown}: {err:?}");
    }
    let err = call(&adapter, json!({"operation": "drop_everything"}))
        .await
        .unwrap_err();
    assert_eq!(*err.code(), ErrorCode::UnsupportedOperation);
}

#[test]
fn the_password_never_shows() {
    let adapter = down();
    let shown = format!(
        "{adapter:?} {:?} {} {}",
        adapter.pool(),
        adapter.pool().settings(),
        adapter.pool().settings().redacted()
    );
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(
        shown.contains("postgres://app:***@127.0.0.1:1/orders"),
        "{shown}"
    );
    // A connection string that does not parse is not quoted back either.
    let err = PgSettings::parse(&format!("postgres://app:{PASSWORD}@[::1/orders"))
        .expect_err("an unclosed IPv6 bracket");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");
}

/// Building the adapter from the environment does no I/O: with or without the variables
/// set, `from_env` returns an adapter (a bad value would be a typed error naming the
/// variable, which the runtime's `PgSettings::from_lookup` tests cover).
#[test]
fn from_env_builds_without_io() {
    match PostgresAdapter::from_env() {
        Ok(adapter) => assert_eq!(adapter.pool().status().size, 0),
        Err(err) => assert_eq!(*err.code(), ErrorCode::InvalidInput),
    }
    assert_eq!(
        <PostgresAdapter as EffectNode>::CONTRACT.name,
        "postgres_adapter"
    );
}
