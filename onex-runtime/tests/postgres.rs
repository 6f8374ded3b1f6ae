//! `onex_runtime::postgres` against a live PostgreSQL (127.0.0.1:5432, user `postgres`,
//! database `test`, or `ONEX_POSTGRES_URL` / `DATABASE_URL`).
//!
//! ```sh
//! cargo test -p onex-runtime --features postgres --test postgres -- --ignored
//! ```
//!
//! Every test works in its own schema `onex_t_<name>_<random>` (its pool's `search_path`),
//! created by an admin pool and dropped with `CASCADE` at the end, also when the test fails.

use std::future::Future;
use std::time::{Duration, Instant};

use onex_runtime::db::{SqlExecutor, SqlStatement};
use onex_runtime::postgres::{IDEMPOTENCY_TABLE, PgPool, PgSettings, PgStatement};
use onex_runtime::{ErrorCode, OnexError};
use serde_json::{Value, json};

/// Where the tests' server is.
fn base_settings() -> PgSettings {
    PgSettings::from_env()
        .expect("a valid ONEX_POSTGRES_URL / DATABASE_URL")
        .unwrap_or_else(PgSettings::local_default)
}

fn admin() -> PgPool {
    PgPool::new(base_settings().with_max_size(2)).expect("admin pool")
}

/// Runs `body` with settings whose search path is a fresh schema, then drops the schema
/// (even when `body` panics, which then fails the test).
async fn in_schema<F, Fut>(name: &str, body: F)
where
    F: FnOnce(PgSettings, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let schema = format!("onex_t_{name}_{:08x}", fastrand::u32(..));
    let admin = admin();
    admin
        .execute("setup", &format!("CREATE SCHEMA {schema}"), &[], None)
        .await
        .expect("PostgreSQL at 127.0.0.1:5432 (create schema)");
    let settings = base_settings().with_search_path(&schema);
    let outcome = tokio::spawn(body(settings, schema.clone())).await;
    admin
        .execute(
            "teardown",
            &format!("DROP SCHEMA {schema} CASCADE"),
            &[],
            None,
        )
        .await
        .expect("drop schema");
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn pool(settings: &PgSettings) -> PgPool {
    PgPool::new(settings.clone()).expect("pool")
}

async fn exec(pool: &PgPool, sql: &str) {
    pool.execute("setup", sql, &[], None)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    let outcome = pool
        .query(
            "count",
            &format!("SELECT count(*) AS n FROM {table}"),
            &[],
            None,
        )
        .await
        .expect("count");
    outcome.rows[0]["n"].as_i64().expect("a number")
}

fn ctx<'e>(err: &'e OnexError, key: &str) -> Option<&'e Value> {
    err.context().get(key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn typed_round_trip() {
    in_schema("types", |settings, _| async move {
        let pool = pool(&settings);
        exec(&pool, "CREATE TYPE mood AS ENUM ('happy', 'sad')").await;
        exec(&pool, "CREATE DOMAIN positive AS int4 CHECK (VALUE > 0)").await;
        exec(
            &pool,
            "CREATE TABLE everything (
                b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric(30, 4),
                t text, vc varchar(10), c char(3), u uuid, tz timestamptz, ts timestamp,
                d date, tm time, j json, jb jsonb, by bytea, ia int4[], ta text[],
                m mood, p positive, nn text)",
        )
        .await;
        let params = vec![
            json!(true),
            json!(-32768),
            json!(2_147_483_647),
            json!("9007199254740993"),
            json!(1.5),
            json!(0.1),
            json!("12345678901234567890.1234"),
            json!("héllo ' \" ; DROP TABLE everything; --"),
            json!("short"),
            json!("ab"),
            json!("67e55044-10b1-426f-9247-bb680e5fe0c8"),
            json!("2026-11-20T12:30:45.123456+01:00"),
            json!("2026-11-20 12:30:45"),
            json!("2026-11-20"),
            json!("23:59:59.5"),
            json!({"k": [1, "two", null]}),
            json!({"nested": {"x": true}}),
            json!("AAEC/w=="),
            json!([1, null, 3]),
            json!(["a", "b"]),
            json!("sad"),
            json!(7),
            Value::Null,
        ];
        let inserted = pool
            .execute(
                "insert_everything",
                "INSERT INTO everything VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
                 $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) RETURNING *",
                &params,
                None,
            )
            .await
            .expect("insert");
        assert!(!inserted.replayed);
        assert_eq!(inserted.value.rows_affected, 1);
        let outcome = pool
            .query("read_everything", "SELECT * FROM everything", &[], None)
            .await
            .expect("select");
        assert_eq!(outcome.rows, inserted.value.rows);
        assert_eq!(outcome.rows_affected, 1);
        let row = &outcome.rows[0];
        let expected = json!({
            "b": true, "i2": -32768, "i4": 2_147_483_647, "i8": 9_007_199_254_740_993_i64,
            "f4": 1.5, "f8": 0.1, "n": "12345678901234567890.1234",
            "t": "héllo ' \" ; DROP TABLE everything; --", "vc": "short", "c": "ab ",
            "u": "67e55044-10b1-426f-9247-bb680e5fe0c8",
            "tz": "2026-11-20T11:30:45.123456Z", "ts": "2026-11-20T12:30:45",
            "d": "2026-11-20", "tm": "23:59:59.500",
            "j": {"k": [1, "two", null]}, "jb": {"nested": {"x": true}},
            "by": "AAEC/w==", "ia": [1, null, 3], "ta": ["a", "b"], "m": "sad", "p": 7,
            "nn": null,
        });
        assert_eq!(Value::Object(row.clone()), expected);
        let types: Vec<(&str, &str)> = outcome
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.type_name.as_str()))
            .collect();
        assert_eq!(types[0], ("b", "bool"));
        assert_eq!(types[6], ("n", "numeric"));
        assert_eq!(types[11], ("tz", "timestamptz"));
        assert_eq!(types[18], ("ia", "int4[]"));
        assert_eq!(types[20], ("m", "mood"));
        // Result columns of a domain type are described by their base type.
        assert_eq!(types[21], ("p", "int4"));

        // Computed columns: special floats, intervals, multi-dimensional arrays, void.
        let extra = pool
            .query(
                "extra",
                "SELECT 'NaN'::float8 AS nan, '-Infinity'::float8 AS ninf,
                        'NaN'::numeric AS nnan, 1.50::numeric AS dec,
                        interval '1 year 2 months 3 days 04:05:06.5' AS iv,
                        ARRAY[[1, 2], [3, 4]] AS grid, pg_sleep(0) AS nothing,
                        'infinity'::timestamptz AS forever, $1::numeric AS echoed",
                &[json!(0.000001)],
                None,
            )
            .await
            .expect("extra");
        assert_eq!(
            Value::Object(extra.rows[0].clone()),
            json!({
                "nan": "NaN", "ninf": "-Infinity", "nnan": "NaN", "dec": "1.50",
                "iv": "P1Y2M3DT4H5M6.5S", "grid": [[1, 2], [3, 4]], "nothing": null,
                "forever": "infinity", "echoed": "0.000001",
            })
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn a_statement_the_protocol_cannot_carry_is_invalid_not_retried() {
    in_schema("nul", |settings, _| async move {
        let pool = pool(&settings);
        let err = pool
            .query("nul", "SELECT 1 AS one -- \u{0}", &[], None)
            .await
            .expect_err("an embedded NUL cannot be sent");
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");
        assert_eq!(ctx(&err, "retryable"), Some(&json!(false)));
        assert!(err.message().contains("`nul`"), "{err}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn parameter_errors_name_the_placeholder() {
    in_schema("params", |settings, _| async move {
        let pool = pool(&settings);
        let err = pool
            .query(
                "add",
                "SELECT $1::int4 + $2::int4 AS sum",
                &[json!(1), json!("hunter2")],
                None,
            )
            .await
            .expect_err("a string is no int4");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert_eq!(ctx(&err, "parameter"), Some(&json!("$2")));
        assert_eq!(ctx(&err, "operation"), Some(&json!("add")));
        assert_eq!(ctx(&err, "retryable"), Some(&json!(false)));
        let message = err.message();
        for part in ["`add`", "$2", "int4", "JSON string"] {
            assert!(message.contains(part), "{message}");
        }
        assert!(!message.contains("hunter2"), "{message}");

        let err = pool
            .query(
                "add",
                "SELECT $1::int4 AS one",
                &[json!(40000), json!(2)],
                None,
            )
            .await
            .expect_err("two parameters for one placeholder");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert!(
            err.message().contains("1 placeholder(s) but 2"),
            "{}",
            err.message()
        );

        let err = pool
            .query("small", "SELECT $1::int2 AS x", &[json!(40000)], None)
            .await
            .expect_err("out of range");
        assert!(
            err.message().contains("outside int2's range"),
            "{}",
            err.message()
        );

        let err = pool
            .query("inet", "SELECT '10.0.0.1'::inet AS addr", &[], None)
            .await
            .expect_err("inet columns are not read");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert!(err.message().contains("addr::text"), "{}", err.message());

        let err = pool
            .query(
                "cast",
                "SELECT $1::text::int4 AS n",
                &[json!("hunter2")],
                None,
            )
            .await
            .expect_err("invalid integer text");
        assert_eq!(err.code(), ErrorCode::Validation);
        assert_eq!(ctx(&err, "sqlstate"), Some(&json!("22P02")));
        assert!(!err.message().contains("hunter2"), "{}", err.message());

        let err = pool
            .query("syntax", "SELECT 1 FROM", &[], None)
            .await
            .expect_err("syntax error");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert_eq!(ctx(&err, "sqlstate"), Some(&json!("42601")));
    })
    .await;
}

/// Tables, a sequence, a function that writes and a procedure that commits, in the pool's
/// schema, for the read-only tests.
async fn writable_objects(pool: &PgPool) {
    exec(pool, "CREATE TABLE t (id int)").await;
    exec(pool, "CREATE SEQUENCE s").await;
    exec(
        pool,
        "CREATE FUNCTION sneak(v int) RETURNS int LANGUAGE sql AS \
         'INSERT INTO t VALUES (v) RETURNING id'",
    )
    .await;
    exec(
        pool,
        "CREATE PROCEDURE escape(v int) LANGUAGE plpgsql AS $$ BEGIN \
         SET default_transaction_read_only = off; COMMIT; INSERT INTO t VALUES (v); END $$",
    )
    .await;
}

/// Every way of writing through the read path fails with a non-transient
/// `SecurityViolation`, and writes nothing.
async fn reads_cannot_write(pool: &PgPool) {
    // Refused by the server: the transaction is read-only (SQLSTATE 25006).
    let by_server = [
        "WITH x AS (INSERT INTO t VALUES (1) RETURNING id) SELECT * FROM x",
        "SELECT nextval('s') AS n",
        "SELECT sneak(2) AS id",
        "SELECT id FROM t FOR UPDATE",
    ];
    // Refused before they are sent: not a query.
    let lexical = [
        "DO $$ BEGIN SET default_transaction_read_only = off; COMMIT; \
         INSERT INTO t VALUES (3); END $$",
        "CALL escape(4)",
        "/* SELECT */ call escape(5)",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
        "SET TRANSACTION READ WRITE",
        "INSERT INTO t VALUES (6)",
    ];
    for sql in by_server.iter().chain(&lexical) {
        let err = pool.query("sneaky", sql, &[], None).await.expect_err(sql);
        assert_eq!(err.code(), ErrorCode::SecurityViolation, "{sql}: {err}");
        assert!(!err.code().is_transient(), "{sql}: {err}");
        assert_eq!(ctx(&err, "operation"), Some(&json!("sneaky")), "{sql}");
        if by_server.contains(sql) {
            assert_eq!(ctx(&err, "sqlstate"), Some(&json!("25006")), "{sql}");
        } else {
            assert_eq!(ctx(&err, "sqlstate"), None, "{sql}");
            assert!(ctx(&err, "keyword").is_some(), "{sql}");
        }
    }
    // A read_only SqlStatement takes the same path.
    let err = pool
        .run(SqlStatement {
            operation: "sneaky",
            sql: "WITH x AS (INSERT INTO t VALUES (7) RETURNING id) SELECT * FROM x",
            params: vec![],
            read_only: true,
        })
        .await
        .expect_err("read-only statement");
    assert_eq!(err.code(), ErrorCode::SecurityViolation);
    assert_eq!(count(pool, "t").await, 0);
    assert_eq!(
        pool.execute("peek", "SELECT last_value, is_called FROM s", &[], None)
            .await
            .expect("sequence")
            .value
            .rows[0]["is_called"],
        json!(false),
        "nextval never ran"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn read_only_queries_cannot_write() {
    in_schema("readonly", |settings, _| async move {
        // One connection of each kind, so a session setting left by one query would reach
        // the next.
        let pool = pool(&settings.with_max_size(1));
        writable_objects(&pool).await;
        reads_cannot_write(&pool).await;
        assert_eq!(pool.read_status().size, 1, "reads use the read connections");

        // The same statement through the write path does write.
        let written = pool
            .run(SqlStatement {
                operation: "insert",
                sql: "INSERT INTO t VALUES ($1) RETURNING id",
                params: vec![json!(4)],
                read_only: false,
            })
            .await
            .expect("write");
        assert_eq!(written.rows_affected, 1);
        assert_eq!(written.rows[0]["id"], 4);
        assert_eq!(count(&pool, "t").await, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn a_read_connection_whose_session_turned_writable_is_closed() {
    in_schema("taint", |settings, _| async move {
        let pool = pool(&settings.with_max_size(1));
        writable_objects(&pool).await;
        let before = pool
            .query(
                "pid",
                "SELECT pg_backend_pid() AS pid, current_setting('transaction_read_only') AS ro",
                &[],
                None,
            )
            .await
            .expect("pid");
        assert_eq!(before.rows[0]["ro"], "on", "reads run read-only");
        let pid = before.rows[0]["pid"].clone();

        // The query that turns the session default off succeeds (it cannot write itself:
        // its own transaction started read-only)...
        let flipped = pool
            .query(
                "flip",
                "SELECT set_config('default_transaction_read_only', 'off', false) AS v, \
                 current_setting('transaction_read_only') AS ro",
                &[],
                None,
            )
            .await
            .expect("set_config is a query");
        assert_eq!(flipped.rows[0]["v"], "off");
        assert_eq!(flipped.rows[0]["ro"], "on");
        // ...but no statement runs after it on that connection.
        for sql in ["SELECT sneak(1) AS id", "SELECT nextval('s') AS n"] {
            let mut attempts = 0;
            let err = loop {
                attempts += 1;
                let err = pool.query("sneaky", sql, &[], None).await.expect_err(sql);
                // A closed connection is a transient error; the retry gets a fresh one.
                if err.code().is_transient() && attempts < 3 {
                    continue;
                }
                break err;
            };
            assert_eq!(err.code(), ErrorCode::SecurityViolation, "{sql}: {err}");
            assert_eq!(ctx(&err, "sqlstate"), Some(&json!("25006")), "{sql}");
        }
        let after = pool
            .query("pid", "SELECT pg_backend_pid() AS pid", &[], None)
            .await
            .expect("pid");
        assert_ne!(
            after.rows[0]["pid"], pid,
            "the tainted connection was replaced"
        );
        assert_eq!(pool.read_status().size, 1);
        assert_eq!(count(&pool, "t").await, 0);

        // `transaction_read_only` itself cannot be turned off inside a query.
        let err = pool
            .query(
                "flip",
                "SELECT set_config('transaction_read_only', 'off', false) AS v",
                &[],
                None,
            )
            .await
            .expect_err("read-write mode must be set before any query");
        assert!(!err.code().is_transient(), "{err}");
        assert_eq!(count(&pool, "t").await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn read_only_transactions_mode_still_holds() {
    in_schema("readonly_tx", |settings, _| async move {
        let pool = pool(&settings.with_max_size(1).with_read_only_transactions(true));
        writable_objects(&pool).await;
        reads_cannot_write(&pool).await;

        // A session default flipped by one query does not make the next one writable.
        pool.query(
            "flip",
            "SELECT set_config('default_transaction_read_only', 'off', false) AS v",
            &[],
            None,
        )
        .await
        .expect("set_config is allowed");
        let err = pool
            .query("sneaky", "SELECT sneak(8) AS id", &[], None)
            .await
            .expect_err("read-only transaction");
        assert_eq!(err.code(), ErrorCode::SecurityViolation);
        assert_eq!(ctx(&err, "sqlstate"), Some(&json!("25006")));
        assert_eq!(count(&pool, "t").await, 0);
        // Reads used the write connection: no read connection was opened.
        assert_eq!(pool.read_status().size, 0);
        assert_eq!(pool.status().size, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn a_read_stopped_by_max_rows_does_not_reuse_its_connection() {
    in_schema("max_rows_conn", |settings, _| async move {
        let pool = pool(&settings.with_max_size(1));
        let pid = |outcome: &onex_runtime::db::SqlOutcome| outcome.rows[0]["pid"].clone();
        let first = pool
            .query("pid", "SELECT pg_backend_pid() AS pid", &[], None)
            .await
            .expect("pid");
        let err = pool
            .query(
                "many",
                "SELECT g FROM generate_series(1, 3) AS g",
                &[],
                Some(1),
            )
            .await
            .expect_err("more than one row");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        // The rest of that response went unread (it could have held a changed setting):
        // the next read gets a fresh connection.
        let second = pool
            .query(
                "pid",
                "SELECT pg_backend_pid() AS pid, \
                 current_setting('default_transaction_read_only') AS ro",
                &[],
                None,
            )
            .await
            .expect("pid");
        assert_ne!(pid(&first), pid(&second));
        assert_eq!(second.rows[0]["ro"], "on");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn max_rows_is_an_error_not_a_truncation() {
    in_schema("maxrows", |settings, _| async move {
        let pool = pool(&settings);
        let sql = "SELECT g FROM generate_series(1, 5) AS g";
        let five = pool.query("rows", sql, &[], Some(5)).await.expect("5 rows");
        assert_eq!(five.rows.len(), 5);
        assert_eq!(five.rows_affected, 5);
        let err = pool
            .query("rows", sql, &[], Some(4))
            .await
            .expect_err("more than 4 rows");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert_eq!(ctx(&err, "max_rows"), Some(&json!(4)));
        // The connection is fine afterwards.
        let again = pool.query("rows", sql, &[], None).await.expect("again");
        assert_eq!(again.rows.len(), 5);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn idempotency_key_runs_a_write_once() {
    in_schema("idem", |settings, _| async move {
        let pool = pool(&settings);
        exec(
            &pool,
            "CREATE TABLE orders (id serial PRIMARY KEY, item text)",
        )
        .await;
        let sql = "INSERT INTO orders (item) VALUES ($1) RETURNING id, item";
        let first = pool
            .execute("place", sql, &[json!("book")], Some("req-1"))
            .await
            .expect("first");
        let second = pool
            .execute("place", sql, &[json!("book")], Some("req-1"))
            .await
            .expect("second");
        assert!(!first.replayed);
        assert!(second.replayed);
        assert_eq!(second.value, first.value);
        assert_eq!(count(&pool, "orders").await, 1);
        assert_eq!(count(&pool, IDEMPOTENCY_TABLE).await, 1);

        // The same key for another request is refused, not replayed.
        for (operation, item) in [("place", "pen"), ("other", "book")] {
            let err = pool
                .execute(operation, sql, &[json!(item)], Some("req-1"))
                .await
                .expect_err("a different request");
            assert_eq!(err.code(), ErrorCode::InvalidInput);
            assert!(
                err.message()
                    .contains("idempotency key reused for a different request"),
                "{}",
                err.message()
            );
        }
        assert_eq!(count(&pool, "orders").await, 1);

        // Transactions replay too.
        let statements = [
            PgStatement::new(sql, [json!("a")]),
            PgStatement::new(sql, [json!("b")]),
        ];
        let first = pool
            .transaction("pair", &statements, Some("req-2"))
            .await
            .expect("tx");
        let second = pool
            .transaction("pair", &statements, Some("req-2"))
            .await
            .expect("tx replay");
        assert!(!first.replayed && second.replayed);
        assert_eq!(first.value, second.value);
        assert_eq!(first.value.len(), 2);
        assert_eq!(count(&pool, "orders").await, 3);

        // A dropped key table is created again on the next keyed write.
        exec(&pool, &format!("DROP TABLE {IDEMPOTENCY_TABLE}")).await;
        let again = pool
            .execute("place", sql, &[json!("lamp")], Some("req-3"))
            .await
            .expect("recreates the table");
        assert!(!again.replayed);
        assert_eq!(count(&pool, IDEMPOTENCY_TABLE).await, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn concurrent_writes_with_one_key_write_once() {
    in_schema("idemrace", |settings, _| async move {
        let pool = pool(&settings.with_max_size(8));
        exec(&pool, "CREATE TABLE hits (id serial PRIMARY KEY)").await;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    pool.execute(
                        "hit",
                        "INSERT INTO hits DEFAULT VALUES RETURNING id",
                        &[],
                        Some("same-key"),
                    )
                    .await
                })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.expect("task").expect("execute"));
        }
        assert_eq!(results.iter().filter(|r| !r.replayed).count(), 1);
        assert!(results.iter().all(|r| r.value == results[0].value));
        assert_eq!(count(&pool, "hits").await, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn a_failed_keyed_write_frees_its_key() {
    in_schema("idemfail", |settings, _| async move {
        let pool = pool(&settings);
        exec(&pool, "CREATE TABLE parent (id int PRIMARY KEY)").await;
        exec(&pool, "CREATE TABLE child (parent int REFERENCES parent)").await;
        let sql = "INSERT INTO child VALUES ($1)";
        let err = pool
            .execute("adopt", sql, &[json!(1)], Some("k"))
            .await
            .expect_err("no parent yet");
        assert_eq!(ctx(&err, "sqlstate"), Some(&json!("23503")));
        exec(&pool, "INSERT INTO parent VALUES (1)").await;
        let retried = pool
            .execute("adopt", sql, &[json!(1)], Some("k"))
            .await
            .expect("runs again");
        assert!(!retried.replayed);
        assert_eq!(retried.value.rows_affected, 1);
        assert_eq!(count(&pool, "child").await, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn a_failing_transaction_writes_nothing() {
    in_schema("tx", |settings, _| async move {
        let pool = pool(&settings);
        exec(&pool, "CREATE TABLE t (id int PRIMARY KEY)").await;
        let statements = [
            PgStatement::new("INSERT INTO t VALUES ($1)", [json!(1)]),
            PgStatement::new("INSERT INTO t VALUES ($1)", [json!(1)]),
            PgStatement::new("INSERT INTO t VALUES ($1)", [json!(3)]),
        ];
        let err = pool
            .transaction("three", &statements, None)
            .await
            .expect_err("duplicate key at statement 1");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert_eq!(ctx(&err, "statement"), Some(&json!(1)));
        assert_eq!(ctx(&err, "constraint"), Some(&json!("t_pkey")));
        assert!(
            err.message().contains("`three`, statement index 1"),
            "{}",
            err.message()
        );
        assert_eq!(count(&pool, "t").await, 0);

        let ok = pool
            .transaction("two", &statements[1..], None)
            .await
            .expect("commits");
        assert_eq!(ok.value.len(), 2);
        assert_eq!(count(&pool, "t").await, 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn a_connection_killed_mid_transaction_is_transient_and_writes_nothing() {
    in_schema("killed", |settings, schema| async move {
        let pool = pool(&settings.with_max_size(1));
        exec(&pool, "CREATE TABLE t (id int)").await;
        let marker = format!("SELECT pg_sleep(30) AS slept /* {schema} */");
        let statements = [
            PgStatement::new("INSERT INTO t VALUES ($1)", [json!(1)]),
            PgStatement::new(marker.clone(), []),
        ];
        let running = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.transaction("slow", &statements, None).await })
        };
        let admin = admin();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let killed = admin
                .query(
                    "kill",
                    "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
                     WHERE query = $1 AND pid <> pg_backend_pid()",
                    &[json!(marker)],
                    None,
                )
                .await
                .expect("pg_stat_activity");
            if !killed.rows.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the transaction never reached pg_sleep"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let err = running.await.expect("task").expect_err("killed");
        assert!(err.code().is_transient(), "{err}");
        assert_eq!(err.code(), ErrorCode::OperationFailed);
        assert_eq!(ctx(&err, "retryable"), Some(&json!(true)));
        assert_eq!(ctx(&err, "statement"), Some(&json!(1)));
        // Nothing was written, and the pool serves the next request on a new connection.
        assert_eq!(count(&pool, "t").await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn requests_queue_for_a_full_pool() {
    in_schema("queue", |settings, _| async move {
        let pool = pool(&settings.with_max_size(2));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    pool.query("nap", "SELECT pg_sleep(0.1) AS nap", &[], None)
                        .await
                })
            })
            .collect();
        for task in tasks {
            let outcome = task.await.expect("task").expect("queued, then served");
            assert_eq!(outcome.rows[0]["nap"], Value::Null);
        }
        // Reads queue for the read connections; the write ones were never needed.
        let status = pool.read_status();
        assert_eq!(status.max_size, 2);
        assert!(status.size <= 2, "{status:?}");
        assert_eq!(status.waiting, 0);
        assert_eq!(pool.status().size, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn a_full_pool_times_out_when_told_to() {
    in_schema("waiting", |settings, _| async move {
        let pool = pool(
            &settings
                .with_max_size(1)
                .with_wait_timeout(Some(Duration::from_millis(50))),
        );
        let busy = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.query("nap", "SELECT pg_sleep(1) AS nap", &[], None)
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        let err = pool
            .query("impatient", "SELECT 1 AS one", &[], None)
            .await
            .expect_err("no free connection in 50 ms");
        assert_eq!(err.code(), ErrorCode::OperationFailed);
        assert_eq!(ctx(&err, "timeout"), Some(&json!("wait")));
        busy.await.expect("task").expect("the busy query finishes");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn an_unreachable_server_is_a_transient_error_without_secrets() {
    let settings =
        PgSettings::parse("host=127.0.0.1 port=1 user=postgres password=bogus-secret dbname=test")
            .expect("parses")
            .with_connect_timeout(Duration::from_secs(1));
    let pool = PgPool::new(settings).expect("no I/O when building");
    assert!(!format!("{pool:?}").contains("bogus-secret"));
    let started = Instant::now();
    let err = pool
        .query("ping", "SELECT 1 AS one", &[], None)
        .await
        .expect_err("nothing listens on port 1");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.code(), ErrorCode::OperationFailed);
    assert!(err.code().is_transient());
    assert_eq!(ctx(&err, "retryable"), Some(&json!(true)));
    let shown = format!(
        "{err} {err:?} {}",
        serde_json::to_string(&err).unwrap_or_default()
    );
    assert!(!shown.contains("bogus-secret"), "{shown}");
    assert!(err.message().contains("127.0.0.1:1"), "{}", err.message());

    let err = pool
        .execute("write", "INSERT INTO t VALUES (1)", &[], Some("k"))
        .await
        .expect_err("unreachable");
    assert!(err.code().is_transient());

    let health = pool.health(true).await;
    assert!(!health.healthy);
    assert_eq!(health.server_version, None);
    let reason = health.error.expect("a reason");
    assert!(!reason.contains("bogus-secret"), "{reason}");
    assert!(reason.contains("cannot connect"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn constraint_violations_are_permanent_and_name_the_constraint() {
    in_schema("constraint", |settings, _| async move {
        let pool = pool(&settings);
        exec(
            &pool,
            "CREATE TABLE users (email text UNIQUE, age int CHECK (age >= 0))",
        )
        .await;
        let insert = "INSERT INTO users VALUES ($1, $2)";
        pool.execute("add", insert, &[json!("ada@example.com"), json!(36)], None)
            .await
            .expect("first");
        let err = pool
            .execute("add", insert, &[json!("ada@example.com"), json!(36)], None)
            .await
            .expect_err("duplicate");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert!(!err.code().is_transient());
        assert_eq!(ctx(&err, "retryable"), Some(&json!(false)));
        assert_eq!(ctx(&err, "sqlstate"), Some(&json!("23505")));
        assert_eq!(ctx(&err, "constraint"), Some(&json!("users_email_key")));
        assert_eq!(ctx(&err, "table"), Some(&json!("users")));
        assert!(
            !err.message().contains("ada@example.com"),
            "{}",
            err.message()
        );

        let err = pool
            .execute("add", insert, &[json!("bob@example.com"), json!(-1)], None)
            .await
            .expect_err("check");
        assert_eq!(ctx(&err, "constraint"), Some(&json!("users_age_check")));
        assert_eq!(err.code(), ErrorCode::InvalidInput);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn statement_timeouts_are_timeouts() {
    in_schema("timeout", |_, schema| async move {
        let settings = PgSettings::parse(
            "host=127.0.0.1 port=5432 user=postgres dbname=test \
             options='-c statement_timeout=100'",
        )
        .expect("parses")
        .with_search_path(&schema);
        let pool = pool(&settings);
        let err = pool
            .query("slow", "SELECT pg_sleep(2) AS nap", &[], None)
            .await
            .expect_err("canceled by statement_timeout");
        assert_eq!(err.code(), ErrorCode::Timeout);
        assert_eq!(ctx(&err, "sqlstate"), Some(&json!("57014")));
        assert!(err.code().is_transient());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn health_reports_version_and_pool() {
    in_schema("health", |settings, _| async move {
        let pool = pool(&settings.with_max_size(3));
        let health = pool.health(false).await;
        assert!(health.healthy, "{health:?}");
        assert_eq!(health.error, None);
        let version = health.server_version.expect("a version");
        assert!(
            version.starts_with(|c: char| c.is_ascii_digit()),
            "{version}"
        );
        assert_eq!(health.pool.max_size, 3);
        assert_eq!(health.pool.size, 1);
        assert_eq!(health.read_pool.max_size, 3);
        assert_eq!(health.read_pool.size, 0, "no read yet");

        pool.query("read", "SELECT 1 AS one", &[], None)
            .await
            .expect("read");
        assert_eq!(pool.read_status().size, 1);
        let again = pool.health(true).await;
        assert!(again.healthy);
        assert_eq!(again.pool.size, 1, "the idle connection was replaced");
        assert_eq!(
            again.read_pool.size, 0,
            "the idle read connection was dropped"
        );

        pool.ensure_idempotency_table().await.expect("creates");
        pool.ensure_idempotency_table().await.expect("idempotent");
        assert_eq!(
            pool.purge_idempotency_keys(Duration::ZERO)
                .await
                .expect("purge"),
            0
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn cached_statements_survive_a_schema_change() {
    in_schema("stale", |settings, _| async move {
        // One connection, so the second query meets the statement cached by the first.
        let pool = pool(&settings.with_max_size(1));
        exec(&pool, "CREATE TABLE t (a int)").await;
        exec(&pool, "INSERT INTO t VALUES (1)").await;
        let before = pool
            .query("all", "SELECT * FROM t", &[], None)
            .await
            .expect("before");
        assert_eq!(before.columns.len(), 1);
        exec(&pool, "ALTER TABLE t ADD COLUMN b text DEFAULT 'x'").await;
        let after = pool
            .query("all", "SELECT * FROM t", &[], None)
            .await
            .expect("after the change");
        assert_eq!(
            Value::Object(after.rows[0].clone()),
            json!({"a": 1, "b": "x"})
        );
        let written = pool
            .execute("all", "SELECT * FROM t", &[], None)
            .await
            .expect("write path too");
        assert_eq!(written.value.columns.len(), 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn an_abandoned_request_is_canceled_and_writes_nothing() {
    in_schema("abandon", |settings, schema| async move {
        let pool = pool(&settings.with_max_size(1));
        exec(&pool, "CREATE TABLE t (id int)").await;
        let marker = format!("SELECT pg_sleep(30) AS slept /* {schema} */");
        let statements = [
            PgStatement::new("INSERT INTO t VALUES ($1)", [json!(1)]),
            PgStatement::new(marker.clone(), []),
        ];
        // What a policy timeout does: drop the request's future half-way.
        let abandoned = tokio::time::timeout(
            Duration::from_millis(300),
            pool.transaction("slow", &statements, None),
        )
        .await;
        assert!(abandoned.is_err(), "{abandoned:?}");
        // The server stops the statement well before its 30 s are up.
        let admin = admin();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let running = admin
                .query(
                    "watch",
                    "SELECT pid FROM pg_stat_activity WHERE query = $1 AND state = 'active'",
                    &[json!(marker)],
                    None,
                )
                .await
                .expect("pg_stat_activity");
            if running.rows.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the abandoned statement still runs"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(count(&pool, "t").await, 0);
        exec(&pool, "INSERT INTO t VALUES (2)").await;
        assert_eq!(
            pool.status().size,
            1,
            "a fresh connection replaced the dropped one"
        );
    })
    .await;
}
