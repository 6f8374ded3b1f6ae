//! The adapter against a real PostgreSQL (127.0.0.1:5432, database `test`, user `postgres`,
//! trust auth), always through envelopes. Ignored by default:
//!
//! ```text
//! cargo test -p postgres_adapter --test postgres -- --ignored
//! ```
//!
//! Each test works in a schema of its own (`pa_test_<name>`), created and dropped with an
//! admin connection outside the adapter.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use onex_runtime::bus::{BusMessage, EventBus, InMemoryBus};
use onex_runtime::host::{ERROR_PAYLOAD_TYPE, NodeHost};
use onex_runtime::postgres::PgPool;
use onex_runtime::{Envelope, ErrorCode, JsonValue};
use postgres_adapter::PostgresAdapter;
use postgres_adapter::postgres_adapter::SUBSCRIBE_TOPICS;
use serde_json::json;
use support::{TestSchema, assert_names, call, fails, ok};

#[tokio::test]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn crud_through_envelopes_with_typed_rows() {
    let schema = TestSchema::new(
        "crud",
        "CREATE TABLE users (
            id int PRIMARY KEY, name text NOT NULL, email text, score numeric(6, 2),
            active bool NOT NULL DEFAULT true, tags text[], profile jsonb, ratio float8,
            created timestamptz NOT NULL DEFAULT now())",
    )
    .await;
    let adapter = schema.adapter();

    // Create.
    let created = ok(
        &adapter,
        json!({
            "operation": "execute",
            "sql": "INSERT INTO users (id, name, email, score, tags, profile, ratio)
                    VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created",
            "params": [1, "ada", "ada@example.org", "12.50", ["math", "engines"], {"lang": "en"}, 0.25]
        }),
    )
    .await;
    assert_eq!(created["rows_affected"], 1);
    assert_eq!(created["replayed"], false);
    assert_eq!(created["rows"][0]["id"], 1);
    assert!(
        created["rows"][0]["created"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    ok(
        &adapter,
        json!({"operation": "execute", "sql": "INSERT INTO users (id, name) VALUES ($1, $2)", "params": [2, "grace"]}),
    )
    .await;

    // Read: every column comes back as typed JSON.
    let read = ok(
        &adapter,
        json!({
            "operation": "query",
            "sql": "SELECT id, name, email, score, active, tags, profile, ratio, created FROM users WHERE id = $1",
            "params": [1]
        }),
    )
    .await;
    assert_eq!(read["row_count"], 1);
    let row = &read["rows"][0];
    assert_eq!(row["id"], 1);
    assert_eq!(row["name"], "ada");
    assert_eq!(row["email"], "ada@example.org");
    assert_eq!(row["score"], "12.50", "numeric keeps its exact digits");
    assert_eq!(row["active"], true);
    assert_eq!(row["tags"], json!(["math", "engines"]));
    assert_eq!(row["profile"], json!({"lang": "en"}));
    assert_eq!(row["ratio"], 0.25);
    assert!(row["created"].as_str().is_some_and(|t| t.ends_with('Z')));
    let types: Vec<(&str, &str)> = read["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or(""),
                c["type"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        types,
        [
            ("id", "int4"),
            ("name", "text"),
            ("email", "text"),
            ("score", "numeric"),
            ("active", "bool"),
            ("tags", "text[]"),
            ("profile", "jsonb"),
            ("ratio", "float8"),
            ("created", "timestamptz"),
        ]
    );

    // Update.
    let updated = ok(
        &adapter,
        json!({"operation": "execute", "sql": "UPDATE users SET email = $1 WHERE id = $2", "params": ["grace@example.org", 2]}),
    )
    .await;
    assert_eq!(updated["rows_affected"], 1);
    assert_eq!(updated["rows"], json!([]));

    // `max_rows` is a limit, not a truncation.
    let err = fails(
        &adapter,
        json!({"operation": "query", "sql": "SELECT id FROM users", "max_rows": 1}),
        ErrorCode::InvalidInput,
    )
    .await;
    assert!(err.message().contains("more than 1 rows"), "{err:?}");

    // Delete.
    let deleted = ok(
        &adapter,
        json!({"operation": "execute", "sql": "DELETE FROM users WHERE id = $1 RETURNING name", "params": [1]}),
    )
    .await;
    assert_eq!(deleted["rows_affected"], 1);
    assert_eq!(deleted["rows"], json!([{"name": "ada"}]));
    let left = ok(
        &adapter,
        json!({"operation": "query", "sql": "SELECT id, email FROM users ORDER BY id"}),
    )
    .await;
    assert_eq!(
        left["rows"],
        json!([{"id": 2, "email": "grace@example.org"}])
    );

    // Health, with the server's version and the pool.
    let health = ok(&adapter, json!({"operation": "health"})).await;
    assert_eq!(health["healthy"], true, "{health}");
    assert!(health["server_version"].as_str().is_some());
    assert!(health.get("error").is_none());
    assert_eq!(health["database"], "database test at 127.0.0.1:5432");
    // Three requests at once open three connections; `reconnect` drops the idle ones and
    // the check opens one fresh connection.
    let sleep = json!({"operation": "query", "sql": "SELECT pg_sleep(0.05)::text AS slept"});
    let (a, b, c) = tokio::join!(
        call(&adapter, sleep.clone()),
        call(&adapter, sleep.clone()),
        call(&adapter, sleep)
    );
    a.and(b).and(c).expect("three concurrent queries");
    assert!(
        adapter.pool().read_status().size >= 3,
        "{:?}",
        adapter.pool().read_status()
    );
    let fresh = ok(&adapter, json!({"operation": "health", "reconnect": true})).await;
    assert_eq!(fresh["healthy"], true, "{fresh}");
    assert_eq!(
        fresh["pool"]["size"], 1,
        "reconnect dropped the idle connections: {fresh}"
    );
    schema.drop().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn a_transaction_that_fails_midway_leaves_nothing() {
    let schema = TestSchema::new(
        "transaction",
        "CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL,
            balance numeric(12, 2) NOT NULL CHECK (balance >= 0))",
    )
    .await;
    let adapter = schema.adapter();
    let count = "SELECT count(*)::text FROM accounts";
    let insert = "INSERT INTO accounts (id, owner, balance) VALUES ($1, $2, $3)";

    // The third statement breaks the primary key: the first two are rolled back.
    let err = fails(
        &adapter,
        json!({"operation": "transaction", "statements": [
            {"sql": insert, "params": [1, "ada", "100.00"]},
            {"sql": insert, "params": [2, "grace", "50.00"]},
            {"sql": insert, "params": [1, "again", "1.00"]}
        ]}),
        ErrorCode::InvalidInput,
    )
    .await;
    assert_eq!(err.context().get("statement"), Some(&2.into()), "{err:?}");
    assert_eq!(
        err.context().get("sqlstate"),
        Some(&"23505".into()),
        "{err:?}"
    );
    assert_eq!(schema.scalar(count).await, "0");

    // A value of the wrong type in the middle: rolled back too.
    fails(
        &adapter,
        json!({"operation": "transaction", "statements": [
            {"sql": insert, "params": [1, "ada", "100.00"]},
            {"sql": insert, "params": ["two", "grace", "50.00"]}
        ]}),
        ErrorCode::InvalidInput,
    )
    .await;
    // A table that does not exist, and a refused statement (which stops everything before
    // the first statement runs).
    fails(
        &adapter,
        json!({"operation": "transaction", "statements": [
            {"sql": insert, "params": [1, "ada", "100.00"]},
            {"sql": "UPDATE no_such_table SET x = 1 WHERE true"}
        ]}),
        ErrorCode::InvalidInput,
    )
    .await;
    fails(
        &adapter,
        json!({"operation": "transaction", "statements": [
            {"sql": insert, "params": [1, "ada", "100.00"]},
            {"sql": "DROP TABLE accounts"}
        ]}),
        ErrorCode::SecurityViolation,
    )
    .await;
    assert_eq!(schema.scalar(count).await, "0");

    // All of them, or none: the committed case.
    let done = ok(
        &adapter,
        json!({"operation": "transaction", "statements": [
            {"sql": insert, "params": [1, "ada", "100.00"]},
            {"sql": insert, "params": [2, "grace", "50.00"]},
            {"sql": "SELECT balance FROM accounts WHERE id = $1 FOR UPDATE", "params": [1]},
            {"sql": "UPDATE accounts SET balance = balance - $1 WHERE id = $2 RETURNING balance", "params": ["30.00", 1]}
        ]}),
    )
    .await;
    let results = done["results"].as_array().expect("results");
    assert_eq!(results.len(), 4);
    assert_eq!(results[2]["rows"], json!([{"balance": "100.00"}]));
    assert_eq!(results[3]["rows"], json!([{"balance": "70.00"}]));
    assert_eq!(schema.scalar(count).await, "2");

    // A check violation in the second half of a transfer undoes the first half.
    fails(
        &adapter,
        json!({"operation": "transaction", "statements": [
            {"sql": "UPDATE accounts SET balance = balance + $1 WHERE id = $2", "params": ["500.00", 2]},
            {"sql": "UPDATE accounts SET balance = balance - $1 WHERE id = $2", "params": ["500.00", 1]}
        ]}),
        ErrorCode::InvalidInput,
    )
    .await;
    assert_eq!(
        schema
            .scalar("SELECT string_agg(balance::text, ',' ORDER BY id) FROM accounts")
            .await,
        "70.00,50.00"
    );
    schema.drop().await;
}

/// Classic SQL-injection payloads. In a parameter they are plain values; spliced into the
/// SQL text they give either a read (`query` cannot write), a refused second statement, or
/// SQL that does not parse.
const PAYLOADS: &[&str] = &[
    "' OR '1'='1",
    "' OR 1=1 --",
    "'; DROP TABLE users; --",
    "1; DELETE FROM users",
    "admin'--",
    "admin' #",
    "admin'/*",
    "\\'; DROP TABLE users; --",
    "\\\\'; DELETE FROM users WHERE true; --",
    "' UNION SELECT usename, passwd FROM pg_shadow --",
    "'||(SELECT pg_sleep(0.1))||'",
    "\u{2bc} OR \u{2bc}1\u{2bc}=\u{2bc}1",
    "\u{ff07}; DROP TABLE users; --",
    "\u{2019}; DROP TABLE users; --",
    "$$; DROP TABLE users; $$",
    "$1",
    "%00' OR 1=1 --",
    "\0' OR 1=1 --",
    "\" OR \"\"=\"",
    "') OR ('1'='1",
    "'; COPY users TO PROGRAM 'rm -rf /'; --",
    "'; SET ROLE postgres; --",
    "'; SELECT pg_terminate_backend(pg_backend_pid()); --",
    "E'\\x27 OR 1=1",
    "/**/OR/**/1=1",
    "${input.name}",
    "\u{feff}' OR 1=1 --",
];

#[tokio::test]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn sql_injection_changes_nothing() {
    let schema = TestSchema::new(
        "injection",
        "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, email text);
         INSERT INTO users VALUES (1, 'ada', 'ada@example.org'), (2, 'grace', NULL), (3, 'admin', 'root@example.org');
         CREATE TABLE log (id serial PRIMARY KEY, note text, n int);
         CREATE TABLE canary (alive bool); INSERT INTO canary VALUES (true);",
    )
    .await;
    let adapter = schema.adapter();
    let checksum = "SELECT count(*) || ':' || md5(string_agg(id || '|' || name || '|' || \
                    coalesce(email, '∅'), ',' ORDER BY id)) FROM users";
    let before = schema.scalar(checksum).await;
    let mut long = "' OR '1'='1".repeat(400);
    long.push_str("; DROP TABLE users; --");
    let payloads: Vec<String> = PAYLOADS
        .iter()
        .map(|p| (*p).to_owned())
        .chain([long])
        .collect();
    assert!(payloads.len() >= 15);

    let mut logged = 0;
    for payload in &payloads {
        let p = payload.as_str();
        // In a text parameter of a read: matched literally, nothing found.
        let found = text(
            &adapter,
            json!({"operation": "query", "sql": "SELECT id FROM users WHERE name = $1 OR email = $2", "params": [p, p]}),
            p,
        )
        .await;
        if let Some(found) = found {
            assert_eq!(found["row_count"], 0, "{p:?}");
        }
        // In an integer parameter: a typed error naming the placeholder, never run.
        let err = fails(
            &adapter,
            json!({"operation": "query", "sql": "SELECT id FROM users WHERE id = $1", "params": [p]}),
            ErrorCode::InvalidInput,
        )
        .await;
        assert_eq!(
            err.context().get("parameter"),
            Some(&"$1".into()),
            "{p:?}: {err:?}"
        );
        // (`$1` is also how the message names the placeholder.)
        assert!(
            p == "$1" || !err.message().contains(p),
            "the value is not echoed: {err:?}"
        );

        // In every parameter of an update: no row matches, none changes.
        for params in [json!([p, "nobody"]), json!(["x", p])] {
            let updated = text(
                &adapter,
                json!({"operation": "execute", "sql": "UPDATE users SET email = $1 WHERE name = $2", "params": params}),
                p,
            )
            .await;
            if let Some(updated) = updated {
                assert_eq!(updated["rows_affected"], 0, "{p:?}");
            }
        }
        // In an insert: stored byte for byte.
        let inserted = text(
            &adapter,
            json!({"operation": "execute", "sql": "INSERT INTO log (note) VALUES ($1) RETURNING note", "params": [p]}),
            p,
        )
        .await;
        if let Some(inserted) = inserted {
            assert_eq!(inserted["rows"][0]["note"], p, "stored verbatim");
            logged += 1;
        }
        // In the integer parameter of an insert, and inside a transaction: refused whole.
        fails(
            &adapter,
            json!({"operation": "execute", "sql": "INSERT INTO log (note, n) VALUES ($1, $2)", "params": ["ok", p]}),
            ErrorCode::InvalidInput,
        )
        .await;
        fails(
            &adapter,
            json!({"operation": "transaction", "statements": [
                {"sql": "INSERT INTO log (note) VALUES ($1)", "params": ["half"]},
                {"sql": "UPDATE users SET email = $1 WHERE id = $2", "params": ["x", p]}
            ]}),
            ErrorCode::InvalidInput,
        )
        .await;

        // Spliced into the SQL text of a read (what string interpolation would do): a
        // read, a refused second statement, or SQL that does not parse; never a write.
        let spliced = format!("SELECT id FROM users WHERE name = '{p}'");
        match call(&adapter, json!({"operation": "query", "sql": spliced})).await {
            Ok(_) => {}
            Err(err) => {
                assert!(
                    matches!(
                        err.code(),
                        ErrorCode::SecurityViolation
                            | ErrorCode::InvalidInput
                            | ErrorCode::Validation
                    ),
                    "{p:?}: {err:?}"
                );
                assert_names(&err, "query");
            }
        }
        // Spliced into a write, a payload that closes the string and stacks a statement
        // is refused before anything runs. (A spliced tautology, `' OR '1'='1`, would make
        // a valid write of every row: no validator can tell, which is why values go in
        // `params`.)
        if p.starts_with("';") || p.starts_with("\\';") {
            let spliced = format!("UPDATE users SET email = 'x' WHERE name = '{p}'");
            let err = fails(
                &adapter,
                json!({"operation": "execute", "sql": spliced}),
                ErrorCode::SecurityViolation,
            )
            .await;
            assert_eq!(
                err.context().get("rule"),
                Some(&"multiple_statements".into()),
                "{p:?}"
            );
        }
    }
    // The stacked `DROP TABLE` is refused as a second statement, by name.
    let err = fails(
        &adapter,
        json!({"operation": "query", "sql": "SELECT id FROM users WHERE name = ''; DROP TABLE users; --'"}),
        ErrorCode::SecurityViolation,
    )
    .await;
    assert_eq!(
        err.context().get("rule"),
        Some(&"multiple_statements".into())
    );

    assert_eq!(schema.scalar(checksum).await, before, "users unchanged");
    assert_eq!(
        schema.scalar("SELECT alive::text FROM canary").await,
        "true"
    );
    assert_eq!(
        schema.scalar("SELECT count(*)::text FROM log").await,
        logged.to_string(),
        "only the verbatim inserts, none of the refused ones"
    );
    assert_eq!(
        schema
            .scalar("SELECT count(*)::text FROM log WHERE note = 'half'")
            .await,
        "0"
    );
    schema.drop().await;
}

/// Sends a request with `payload` in a text parameter: the reply, or `None` for a payload
/// holding a NUL byte, which PostgreSQL text cannot hold (checked: a typed data error
/// naming the operation).
async fn text(adapter: &PostgresAdapter, request: JsonValue, payload: &str) -> Option<JsonValue> {
    if !payload.contains('\0') {
        return Some(ok(adapter, request).await);
    }
    let err = fails(adapter, request, ErrorCode::Validation).await;
    assert_eq!(
        err.context().get("sqlstate"),
        Some(&"22021".into()),
        "{err:?}"
    );
    None
}

#[tokio::test]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn a_redelivered_execute_with_the_same_key_writes_once() {
    let schema = TestSchema::new(
        "idempotency",
        "CREATE TABLE payments (id serial PRIMARY KEY, account int NOT NULL, amount numeric NOT NULL)",
    )
    .await;
    let adapter = schema.adapter();
    let count = "SELECT count(*)::text FROM payments";
    let pay = |key: &str, amount: &str| {
        json!({
            "operation": "execute",
            "sql": "INSERT INTO payments (account, amount) VALUES ($1, $2) RETURNING id",
            "params": [7, amount],
            "idempotency_key": key
        })
    };

    let first = ok(&adapter, pay("pay-1", "9.99")).await;
    let again = ok(&adapter, pay("pay-1", "9.99")).await;
    assert_eq!(first["replayed"], false);
    assert_eq!(again["replayed"], true);
    assert_eq!(again["rows"], first["rows"], "the first result, replayed");
    assert_eq!(schema.scalar(count).await, "1");

    // The same key for a different request is a mistake, not a replay.
    let err = fails(&adapter, pay("pay-1", "1000.00"), ErrorCode::InvalidInput).await;
    assert!(err.message().contains("reused"), "{err:?}");
    assert_eq!(schema.scalar(count).await, "1");

    // Redelivered concurrently: one runs, the others wait for it and replay its result.
    let racing = join_all((0..8).map(|_| call(&adapter, pay("pay-2", "5.00")))).await;
    let replays = racing
        .iter()
        .map(|r| r.as_ref().map(|reply| reply["replayed"] == true))
        .collect::<Result<Vec<_>, _>>()
        .expect("all succeed");
    assert_eq!(replays.iter().filter(|r| !**r).count(), 1, "{replays:?}");
    assert_eq!(schema.scalar(count).await, "2");

    // A transaction with a key too.
    let transfer = json!({"operation": "transaction", "idempotency_key": "batch-1", "statements": [
        {"sql": "INSERT INTO payments (account, amount) VALUES ($1, $2)", "params": [1, "-3.00"]},
        {"sql": "INSERT INTO payments (account, amount) VALUES ($1, $2)", "params": [2, "3.00"]}
    ]});
    assert_eq!(ok(&adapter, transfer.clone()).await["replayed"], false);
    let replayed = ok(&adapter, transfer).await;
    assert_eq!(replayed["replayed"], true);
    assert_eq!(replayed["results"][1]["replayed"], true);
    assert_eq!(schema.scalar(count).await, "4");

    // Through a host: the same envelope delivered twice (a client retrying after a lost
    // reply publishes it again; the bus sees two messages).
    let bus: Arc<dyn EventBus> = Arc::new(InMemoryBus::new());
    let host = NodeHost::builder(Arc::clone(&bus))
        .effect(adapter)
        .start()
        .await
        .expect("the host starts");
    let envelope = Envelope::new(pay("pay-3", "12.00"))
        .with_correlation_id(onex_runtime::Uuid::new_v4())
        .to_json()
        .expect("encode");
    let topic = SUBSCRIBE_TOPICS[0];
    let mut replies = Vec::new();
    for _ in 0..2 {
        let reply = bus
            .request(
                BusMessage::new(topic, envelope.clone()),
                Duration::from_secs(10),
            )
            .await
            .expect("a reply");
        let reply = Envelope::<JsonValue>::from_json(&reply.payload).expect("an envelope");
        assert_ne!(
            reply.payload_type.as_deref(),
            Some(ERROR_PAYLOAD_TYPE),
            "{reply:?}"
        );
        replies.push(reply.payload["replayed"].clone());
    }
    assert_eq!(replies, [json!(false), json!(true)]);
    assert_eq!(schema.scalar(count).await, "5");
    let report = host.shutdown().await;
    assert_eq!(report.stats[0].succeeded, 2);
    schema.drop().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn pool_exhaustion_queues_rather_than_fails() {
    let schema = TestSchema::new("pool", "").await;
    let adapter =
        PostgresAdapter::new(PgPool::new(schema.settings().with_max_size(2)).expect("a pool"));
    let pool = adapter.pool().clone();
    let most_waiting = Arc::new(AtomicUsize::new(0));
    let most_open = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (pool, most_waiting, most_open) = (
            pool.clone(),
            Arc::clone(&most_waiting),
            Arc::clone(&most_open),
        );
        tokio::spawn(async move {
            loop {
                let status = pool.read_status(); // `query` runs on the read connections
                most_waiting.fetch_max(status.waiting, Ordering::SeqCst);
                most_open.fetch_max(status.size, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let replies = join_all((0..32).map(|n| {
        call(
            &adapter,
            json!({"operation": "query", "sql": "SELECT pg_sleep(0.05)::text AS slept, $1::int AS n", "params": [n]}),
        )
    }))
    .await;
    sampler.abort();
    for (n, reply) in replies.into_iter().enumerate() {
        let reply = reply.unwrap_or_else(|e| panic!("request {n}: {e:?}"));
        assert_eq!(reply["rows"][0]["n"], n, "{reply}");
    }
    assert!(most_waiting.load(Ordering::SeqCst) > 0, "requests queued");
    assert!(most_open.load(Ordering::SeqCst) <= 2);
    assert_eq!(pool.read_status().max_size, 2);
    schema.drop().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn bad_input_is_a_typed_error_and_writes_nothing() {
    let schema = TestSchema::new(
        "bad_input",
        "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric NOT NULL)",
    )
    .await;
    let adapter = schema.adapter();
    let count = "SELECT count(*)::text FROM items";

    // Malformed SQL: refused by the validator, or (when it parses) by the server.
    for (operation, sql) in [
        ("query", "SELEC * FROM items"),
        ("execute", "INSERT INTO items VALUES ("),
    ] {
        let err = fails(
            &adapter,
            json!({"operation": operation, "sql": sql}),
            ErrorCode::InvalidInput,
        )
        .await;
        assert_eq!(err.context().get("rule"), Some(&"parse".into()), "{err:?}");
    }
    let err = fails(
        &adapter,
        json!({"operation": "query", "sql": "SELECT * FROM no_such_table"}),
        ErrorCode::InvalidInput,
    )
    .await;
    assert_eq!(
        err.context().get("sqlstate"),
        Some(&"42P01".into()),
        "{err:?}"
    );
    let err = fails(
        &adapter,
        json!({"operation": "execute", "sql": "INSERT INTO items (id, nope) VALUES ($1, $2)", "params": [1, "x"]}),
        ErrorCode::InvalidInput,
    )
    .await;
    assert_eq!(
        err.context().get("sqlstate"),
        Some(&"42703".into()),
        "{err:?}"
    );

    // Wrong parameter types.
    for params in [
        json!(["one", "pen", "1.50"]),
        json!([1, 2, "1.50"]),
        json!([1, "pen", {"price": 1}]),
    ] {
        let err = fails(
            &adapter,
            json!({"operation": "execute", "sql": "INSERT INTO items (id, name, price) VALUES ($1, $2, $3)", "params": params}),
            ErrorCode::InvalidInput,
        )
        .await;
        assert!(err.context().get("parameter").is_some(), "{err:?}");
    }
    // A division by zero is a data error.
    fails(
        &adapter,
        json!({"operation": "query", "sql": "SELECT 1 / $1::int AS x", "params": [0]}),
        ErrorCode::Validation,
    )
    .await;

    // Outside the allow-list, and several statements in one `query`.
    for (operation, sql) in [
        ("query", "DELETE FROM items WHERE id = 1"),
        ("query", "SELECT 1; SELECT 2"),
        ("execute", "TRUNCATE items"),
        ("execute", "ALTER TABLE items DROP COLUMN price"),
        ("execute", "DELETE FROM items"),
    ] {
        fails(
            &adapter,
            json!({"operation": operation, "sql": sql}),
            ErrorCode::SecurityViolation,
        )
        .await;
    }
    // A write smuggled into `query` that the validator cannot see (a function that writes)
    // is stopped by the read-only transaction.
    schema
        .admin
        .batch_execute(
            "CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql AS \
             $$ INSERT INTO items VALUES (99, 'sneaky', 0) RETURNING 1 $$",
        )
        .await
        .expect("create the function");
    let err = fails(
        &adapter,
        json!({"operation": "query", "sql": "SELECT sneaky() AS x"}),
        ErrorCode::SecurityViolation,
    )
    .await;
    assert_eq!(
        err.context().get("sqlstate"),
        Some(&"25006".into()),
        "{err:?}"
    );
    assert_eq!(schema.scalar(count).await, "0");
    schema.drop().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn a_connection_dropped_mid_transaction_writes_nothing() {
    let schema = TestSchema::new(
        "dropped",
        "CREATE TABLE events (id int PRIMARY KEY, what text NOT NULL)",
    )
    .await;
    let adapter = schema.adapter();
    let marker = "pa-dropped-connection-marker";
    let transaction = call(
        &adapter,
        json!({"operation": "transaction", "statements": [
            {"sql": "INSERT INTO events VALUES ($1, $2)", "params": [1, "first"]},
            {"sql": format!("SELECT pg_sleep(5), '{marker}' AS marker")},
            {"sql": "INSERT INTO events VALUES ($1, $2)", "params": [2, "second"]}
        ]}),
    );
    let terminate = async {
        // Wait until the transaction sleeps, then end its backend from outside.
        let find = format!(
            "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity \
             WHERE query LIKE '%{marker}%' AND state = 'active' AND pid <> pg_backend_pid()"
        );
        for _ in 0..200 {
            let rows = schema
                .admin
                .query(&find, &[])
                .await
                .expect("pg_stat_activity");
            if !rows.is_empty() {
                return rows.len();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        0
    };
    let (result, terminated) = tokio::join!(transaction, terminate);
    assert_eq!(terminated, 1, "the sleeping backend was found");
    let err = result.expect_err("the connection was dropped");
    assert!(err.code().is_transient(), "{err:?}");
    assert_names(&err, "transaction");
    assert_eq!(
        schema.scalar("SELECT count(*)::text FROM events").await,
        "0"
    );

    // The pool discards the broken connection; the next request works.
    let done = ok(
        &adapter,
        json!({"operation": "execute", "sql": "INSERT INTO events VALUES ($1, $2)", "params": [3, "after"]}),
    )
    .await;
    assert_eq!(done["rows_affected"], 1);
    schema.drop().await;
}
