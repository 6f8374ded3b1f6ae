//! The circuit breakers against a database that goes away and comes back.
//!
//! The adapter reaches PostgreSQL (127.0.0.1:5432) through a TCP proxy in this test, which
//! can be stopped (every connection dropped, new ones refused, as when the server is down
//! or restarting) and started again on the same port. The breakers belong to the node type
//! and are shared by every instance in a process, so this test has a binary of its own.
//!
//! ```text
//! cargo test -p postgres_adapter --test breaker -- --ignored
//! ```

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use onex_runtime::policy::BreakerState;
use onex_runtime::postgres::{PgPool, PgSettings};
use onex_runtime::{EffectNode, ErrorCode, JsonValue, OnexError};
use postgres_adapter::PostgresAdapter;
use serde_json::json;
use support::{TestSchema, assert_names, call, ok};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::{JoinHandle, JoinSet};

/// A TCP proxy to 127.0.0.1:5432 that can be stopped and started again on its port.
struct Proxy {
    port: u16,
    /// Connections accepted so far (each one a connection the pool opened).
    accepted: Arc<AtomicUsize>,
    running: Option<Running>,
}

struct Running {
    acceptor: JoinHandle<()>,
    connections: Arc<Mutex<JoinSet<()>>>,
}

impl Proxy {
    /// Starts a proxy on a free port.
    async fn start() -> Proxy {
        let mut proxy = Proxy {
            port: 0,
            accepted: Arc::new(AtomicUsize::new(0)),
            running: None,
        };
        proxy.resume().await;
        proxy
    }

    /// Listens again (on the same port after the first start).
    async fn resume(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind the proxy's port");
        self.port = listener.local_addr().expect("its address").port();
        let connections = Arc::new(Mutex::new(JoinSet::new()));
        let accepted = Arc::clone(&self.accepted);
        let spawned = Arc::clone(&connections);
        let acceptor = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                spawned.lock().await.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        self.running = Some(Running {
            acceptor,
            connections,
        });
    }

    /// Stops listening and drops every connection going through it.
    async fn stop(&mut self) {
        let Some(running) = self.running.take() else {
            return;
        };
        running.acceptor.abort();
        // Awaiting the aborted task makes sure its listener is closed.
        let _ = running.acceptor.await;
        running.connections.lock().await.shutdown().await;
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// The breaker of the operation at `index` (contract order).
fn breaker(index: usize) -> BreakerState {
    <PostgresAdapter as EffectNode>::policy_state()
        .and_then(|state| state.breaker(index))
        .map(|b| b.state())
        .expect("the contract gives every operation a breaker")
}

const QUERY: usize = 0;
const EXECUTE: usize = 1;

fn read(n: i64) -> JsonValue {
    json!({"operation": "query", "sql": "SELECT $1::int AS n", "params": [n]})
}

fn write(n: i64) -> JsonValue {
    json!({"operation": "execute", "sql": "INSERT INTO ticks (n) VALUES ($1)", "params": [n]})
}

#[tokio::test]
#[ignore = "needs PostgreSQL at 127.0.0.1:5432"]
async fn the_breakers_open_while_the_database_is_down_and_recover_after() {
    let schema = TestSchema::new("breaker", "CREATE TABLE ticks (n int NOT NULL)").await;
    let mut proxy = Proxy::start().await;
    let settings = PgSettings::parse(&format!(
        "host=127.0.0.1 port={} user=postgres dbname=test",
        proxy.port
    ))
    .expect("settings")
    .with_search_path(&schema.name)
    .with_connect_timeout(Duration::from_secs(1));
    let adapter = PostgresAdapter::new(PgPool::new(settings).expect("a pool"));
    let open_for = <PostgresAdapter as EffectNode>::CONTRACT.operations[QUERY]
        .policy
        .breaker
        .expect("query's breaker")
        .open_for;

    // Up: both operations work through the proxy.
    assert_eq!(ok(&adapter, read(1)).await["rows"][0]["n"], 1);
    assert_eq!(ok(&adapter, write(1)).await["rows_affected"], 1);
    assert_eq!(
        (breaker(QUERY), breaker(EXECUTE)),
        (BreakerState::Closed, BreakerState::Closed)
    );

    // Down: every pooled connection is dropped and new ones are refused.
    proxy.stop().await;
    let health = ok(&adapter, json!({"operation": "health"})).await;
    assert_eq!(health["healthy"], false, "{health}");

    // `execute` runs once per request: five transient failures open its breaker...
    for n in 0..5 {
        let err = failure(&adapter, write(n)).await;
        assert!(
            err.code().is_transient() && *err.code() != ErrorCode::CircuitOpen,
            "{err:?}"
        );
    }
    assert_eq!(breaker(EXECUTE), BreakerState::Open);
    // ...and the sixth fails fast.
    let err = failure(&adapter, write(6)).await;
    assert_eq!(*err.code(), ErrorCode::CircuitOpen, "{err:?}");
    assert_eq!(err.code().as_str(), "ONEX_CORE_083_RESOURCE_UNAVAILABLE");

    // `query` is retried (three attempts per request), so its breaker opens during the
    // second request, whose last attempt is refused by it.
    let err = failure(&adapter, read(2)).await;
    assert_eq!(*err.code(), ErrorCode::OperationFailed, "{err:?}");
    assert_eq!(err.context().get("attempts"), Some(&3.into()));
    assert_eq!(breaker(QUERY), BreakerState::Closed);
    let err = failure(&adapter, read(3)).await;
    assert_eq!(*err.code(), ErrorCode::CircuitOpen, "{err:?}");
    assert_eq!(breaker(QUERY), BreakerState::Open);

    // The database is back, but the breakers are still open: requests fail fast without
    // a connection being attempted.
    proxy.resume().await;
    let accepted = proxy.accepted();
    for payload in [read(4), write(4)] {
        let err = failure(&adapter, payload).await;
        assert_eq!(*err.code(), ErrorCode::CircuitOpen, "{err:?}");
    }
    assert_eq!(proxy.accepted(), accepted, "no connection while open");

    // After the open time a probe goes through, succeeds, and closes each breaker.
    tokio::time::sleep(open_for + Duration::from_millis(200)).await;
    assert_eq!(ok(&adapter, read(5)).await["rows"][0]["n"], 5);
    assert_eq!(breaker(QUERY), BreakerState::Closed);
    assert_eq!(ok(&adapter, write(5)).await["rows_affected"], 1);
    assert_eq!(breaker(EXECUTE), BreakerState::Closed);
    assert!(
        proxy.accepted() > accepted,
        "new connections through the restarted proxy"
    );
    assert_eq!(
        schema
            .scalar("SELECT string_agg(n::text, ',' ORDER BY n) FROM ticks")
            .await,
        "1,5",
        "none of the failed writes ran"
    );
    let health = ok(&adapter, json!({"operation": "health"})).await;
    assert_eq!(health["healthy"], true, "{health}");
    proxy.stop().await;
    schema.drop().await;
}

/// Sends a request expected to fail, and checks the error names its operation (the
/// pool's errors start with it; the breaker's say "Circuit breaker is open for operation
/// `query`").
async fn failure(adapter: &PostgresAdapter, payload: JsonValue) -> OnexError {
    let operation = payload["operation"].as_str().unwrap_or_default().to_owned();
    let err = call(adapter, payload)
        .await
        .expect_err("the database is down");
    if *err.code() == ErrorCode::CircuitOpen {
        assert!(
            err.message().contains(&format!("operation `{operation}`")),
            "{err:?}"
        );
        assert_eq!(
            err.context().get("operation"),
            Some(&JsonValue::from(operation))
        );
    } else {
        assert_names(&err, &operation);
    }
    err
}
