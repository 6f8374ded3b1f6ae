//! `cargo run -p postgres_adapter`: the adapter alone, served by a node host on an
//! in-process bus and driven with JSON envelopes.
//!
//! The database is the one `ONEX_POSTGRES_URL` (or `DATABASE_URL`) names, else
//! `postgres://postgres@127.0.0.1:5432/test`. The demo works in its own schema,
//! `onex_adapter_demo`, which it recreates on each run and leaves behind for a look. Without
//! a database it prints the health check's answer and how to point it at one, and exits 0.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use onex_runtime::bus::{BusMessage, EventBus, InMemoryBus};
use onex_runtime::host::{ERROR_PAYLOAD_TYPE, HostConfig, NodeHost};
use onex_runtime::postgres::{PgPool, PgSettings};
use onex_runtime::{EffectNode, Envelope, JsonValue, OnexError, Uuid};
use postgres_adapter::PostgresAdapter;
use postgres_adapter::postgres_adapter::SUBSCRIBE_TOPICS;
use serde_json::json;

/// What can go wrong, for `main` to print.
type Fallible<T = ()> = Result<T, Box<dyn Error + Send + Sync>>;

/// The demo's schema.
const SCHEMA: &str = "onex_adapter_demo";

/// How long a request waits for its reply.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

#[tokio::main]
async fn main() -> Fallible {
    let settings = PgSettings::from_env()?.unwrap_or_else(PgSettings::local_default);
    println!("onex postgres_adapter demo");
    println!("==========================");
    println!(
        "Database: {} (from {})\n",
        settings.redacted(),
        if std::env::var_os(PgSettings::ENV).is_some() {
            PgSettings::ENV
        } else if std::env::var_os(PgSettings::FALLBACK_ENV).is_some() {
            PgSettings::FALLBACK_ENV
        } else {
            "the local default"
        }
    );
    print_contract();

    // The node is built without I/O; its `health` operation tells whether the database is up.
    let probe = PostgresAdapter::new(PgPool::new(settings.clone())?);
    let health = probe
        .process_json(br#"{"payload": {"operation": "health"}}"#)
        .await?;
    println!("health: {}", health.payload);
    if health.payload["healthy"] != true {
        println!(
            "\nThe database is not reachable: the adapter answers `healthy: false` with the\n\
             reason above (an answer, not an error). Point the demo at a PostgreSQL server:\n\n    \
             {}=postgres://user:password@host:5432/dbname cargo run -p postgres_adapter\n\n\
             (the password is never printed: every rendering of the settings redacts it).",
            PgSettings::ENV
        );
        return Ok(());
    }

    // Schema changes are not the adapter's job (its SQL policy refuses DDL): the demo sets up
    // its table with the pool directly, as a migration tool would.
    let admin = PgPool::new(settings.clone())?;
    for ddl in [
        format!("DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"),
        format!("CREATE SCHEMA {SCHEMA}"),
        format!(
            "CREATE TABLE {SCHEMA}.accounts (id int PRIMARY KEY, owner text NOT NULL, \
             balance numeric(12, 2) NOT NULL CHECK (balance >= 0), opened timestamptz NOT NULL DEFAULT now())"
        ),
    ] {
        admin.execute("setup", &ddl, &[], None).await?;
    }
    println!(
        "set up schema {SCHEMA} with table accounts (directly on the pool, not through the node)"
    );

    let adapter = PostgresAdapter::new(PgPool::new(settings.with_search_path(SCHEMA))?);
    let bus: Arc<dyn EventBus> = Arc::new(InMemoryBus::new());
    let host = NodeHost::builder(Arc::clone(&bus))
        .config(HostConfig {
            // Every failure is answered at once (the demo's failures are its bad requests;
            // a real host redelivers transient ones, which is what idempotency keys are for).
            max_deliver: 1,
            ..HostConfig::default()
        })
        .effect(adapter)
        .start()
        .await?;
    let client = Client { bus: &*bus };

    step("1. Open two accounts atomically (`transaction`)");
    client
        .send(json!({
            "operation": "transaction",
            "statements": [
                {"sql": "INSERT INTO accounts (id, owner, balance) VALUES ($1, $2, $3)", "params": [1, "ada", "100.00"]},
                {"sql": "INSERT INTO accounts (id, owner, balance) VALUES ($1, $2, $3)", "params": [2, "grace", "50.00"]}
            ]
        }))
        .await?;

    step("2. Read them (`query`): rows as typed JSON");
    let list = json!({
        "operation": "query",
        "sql": "SELECT id, owner, balance, opened FROM accounts ORDER BY id"
    });
    client.send(list.clone()).await?;

    step("3. A write with an idempotency key, delivered twice: it runs once");
    let deposit = json!({
        "operation": "execute",
        "sql": "UPDATE accounts SET balance = balance + $1 WHERE id = $2 RETURNING balance",
        "params": ["25.00", 2],
        "idempotency_key": "deposit-2-0001"
    });
    client.send(deposit.clone()).await?;
    client.send(deposit).await?;

    step("4. A transfer that fails midway (ada has 100.00, not 500.00): nothing changes");
    client
        .send(json!({
            "operation": "transaction",
            "statements": [
                {"sql": "UPDATE accounts SET balance = balance + $1 WHERE id = $2", "params": ["500.00", 2]},
                {"sql": "UPDATE accounts SET balance = balance - $1 WHERE id = $2", "params": ["500.00", 1]}
            ]
        }))
        .await?;

    step("5. A classic injection in a parameter: it is a value, matched literally");
    client
        .send(json!({
            "operation": "query",
            "sql": "SELECT id, owner FROM accounts WHERE owner = $1",
            "params": ["' OR '1'='1"]
        }))
        .await?;

    step("6. The same injection spliced into the SQL text: a second statement is refused");
    client
        .send(json!({
            "operation": "query",
            "sql": "SELECT id, owner FROM accounts WHERE owner = ''; DROP TABLE accounts; --'"
        }))
        .await?;

    step("7. A statement outside `query`'s allow-list");
    client
        .send(json!({"operation": "query", "sql": "DELETE FROM accounts WHERE id = 1"}))
        .await?;

    step("8. A value of the wrong type for its placeholder");
    client
        .send(json!({
            "operation": "query",
            "sql": "SELECT owner FROM accounts WHERE id = $1",
            "params": ["one"]
        }))
        .await?;

    step("9. The accounts after all that (2 rows, grace deposited once)");
    client.send(list).await?;

    step("10. Health, through the host");
    client.send(json!({"operation": "health"})).await?;

    let report = host.shutdown().await;
    for stats in &report.stats {
        println!(
            "\nhost stats: {} received, {} succeeded, {} failed, {} dead-lettered",
            stats.received, stats.succeeded, stats.failed, stats.dead_lettered
        );
    }
    println!(
        "Done: every request got a reply or a typed error; schema {SCHEMA} is left for a look."
    );
    Ok(())
}

/// Sends envelopes to the node's topic and prints the replies.
struct Client<'a> {
    bus: &'a dyn EventBus,
}

impl Client<'_> {
    async fn send(&self, payload: JsonValue) -> Fallible {
        let topic = SUBSCRIBE_TOPICS
            .first()
            .ok_or("the contract has no topic")?;
        println!("  -> {payload}");
        let envelope = Envelope::new(payload)
            .with_correlation_id(Uuid::new_v4())
            .with_source_tool("postgres_adapter_demo");
        let message =
            BusMessage::new(*topic, envelope.to_json()?).with_id(envelope.envelope_id.to_string());
        let reply = self.bus.request(message, REQUEST_TIMEOUT).await?;
        let reply = Envelope::<JsonValue>::from_json(&reply.payload)?;
        if reply.payload_type.as_deref() == Some(ERROR_PAYLOAD_TYPE) {
            let error: OnexError = serde_json::from_value(reply.payload)?;
            println!("  <- error {}: {}", error.code(), error.message());
            if let Some(hint) = error.context().get("hint").and_then(JsonValue::as_str) {
                println!("           hint: {hint}");
            }
        } else {
            println!("  <- {}", reply.payload);
        }
        Ok(())
    }
}

fn step(title: &str) {
    println!("\n--- {title}");
}

/// The operations and their policies, as `#[effect_node]` embedded them from the contract.
fn print_contract() {
    let contract = <PostgresAdapter as EffectNode>::CONTRACT;
    println!(
        "Contract {} {} (fingerprint {})",
        contract.name, contract.node_version, contract.fingerprint
    );
    for op in contract.operations {
        let policy = &op.policy;
        println!(
            "  {:<12} timeout {:>5} ms, retries {}, breaker {}",
            op.name,
            policy.timeout.map_or(0, |t| t.as_millis()),
            policy.retry.max_retries,
            policy.breaker.map_or_else(
                || "none".to_owned(),
                |b| format!(
                    "opens after {} failures for {} ms",
                    b.failure_threshold,
                    b.open_for.as_millis()
                )
            ),
        );
    }
    println!();
}
