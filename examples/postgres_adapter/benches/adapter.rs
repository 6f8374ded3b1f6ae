//! The adapter's overhead over tokio-postgres, and its throughput under concurrency.
//!
//! ```sh
//! cargo bench -p postgres_adapter --bench adapter -- --warm-up-time 1 --measurement-time 5
//! ```
//!
//! Needs PostgreSQL (`ONEX_POSTGRES_URL`, else `host=127.0.0.1 port=5432 user=postgres
//! dbname=test`); without one it prints why and measures nothing.
//!
//! **Latency of `SELECT 1`**, one request at a time (group `select_1`):
//!
//! - `direct`, the baseline: tokio-postgres on one connection, the statement prepared once
//!   before the loop (as the pool's statement cache does after the first use), then
//!   `client.query(&statement, &[])` and reading the `int4` of the row.
//! - `direct_read_only`: the same, wrapped the way `PgPool::query` runs a read:
//!   `BEGIN READ ONLY`, the query and `COMMIT` pipelined on the connection (one round trip,
//!   three commands for the server).
//! - `pool_query`: `PgPool::query` (what the adapter calls), without the adapter: a pooled
//!   connection, the statement cache, the read-only transaction, rows to JSON.
//! - `node_dispatch`: `PostgresAdapter::dispatch` of a decoded `query` input: the
//!   operation's policy (timeout, retry, breaker), the SQL policy (its cache warm), a pooled
//!   connection, the read-only query, rows to JSON and the output model.
//! - `node_dispatch_uncached`: the same with the SQL policy's cache off (a parse per call).
//! - `node_process_json`: `process_json` of a JSON envelope: decoding, validation,
//!   dispatch and the JSON reply envelope, as a host does per delivery.
//!
//! These run on a current-thread tokio runtime (one request at a time gains nothing from
//! more threads, and cross-thread wake-ups would add the scheduler's noise to every path).
//! After the group, the same six run interleaved ([`ROUNDS`] rounds of [`SEQUENTIAL`]
//! requests each, in rotating order, so that drift in the machine's load hits all of them
//! alike) and the bench prints each one's median time per request, its ratio to `direct`,
//! and the CPU time this process spent per request (Linux, from
//! `/proc/self/task/*/schedstat`; the server's CPU is not in it).
//!
//! **Throughput with 32 requests in flight** (group `concurrent_32`, on a two-worker
//! runtime): [`CONCURRENT`] tasks,
//! each sending [`PER_TASK`] `SELECT $1::int` requests one after the other, on a pool of
//! [`POOL_SIZE`] connections: `direct_pool` (deadpool-postgres with `prepare_cached`, the
//! pool the adapter's `PgPool` is built on, without the adapter), `direct_pool_read_only`
//! (the same in a pipelined `BEGIN READ ONLY … COMMIT`, as `PgPool::query` runs a read),
//! `node_dispatch` (decoded inputs through the adapter) and `node_process_json` (JSON
//! envelopes through the adapter). Then the four run interleaved too.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use onex_runtime::postgres::{PgPool, PgSettings};
use onex_runtime::{EffectContext, EffectNode, Uuid};
use postgres_adapter::postgres_adapter::ModelQueryRequest;
use postgres_adapter::sql::SqlPolicy;
use postgres_adapter::{PostgresAdapter, PostgresAdapterInput, PostgresAdapterOutput};
use tokio::runtime::Runtime;
use tokio_postgres::{Client, NoTls, Statement};

/// Requests per round of the interleaved latency comparison.
const SEQUENTIAL: usize = 1000;
/// Rounds of each interleaved comparison.
const ROUNDS: usize = 15;
/// Requests in flight in the throughput benches.
const CONCURRENT: usize = 32;
/// Requests each of them sends per iteration.
const PER_TASK: usize = 25;
/// Connections in the pools of the throughput benches.
const POOL_SIZE: usize = 8;

/// The connection string: `ONEX_POSTGRES_URL`, else the local test server.
fn connection_string() -> String {
    std::env::var(PgSettings::ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "host=127.0.0.1 port=5432 user=postgres dbname=test".to_owned())
}

/// A single tokio-postgres connection, driven by a spawned task.
async fn connect(conn: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(conn, NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// One way of running `SELECT 1` once.
trait Select1 {
    fn run(&self) -> impl Future<Output = ()>;
}

/// The baseline: a prepared statement on one connection.
struct Direct {
    client: Client,
    statement: Statement,
}

impl Select1 for Direct {
    async fn run(&self) {
        let rows = self
            .client
            .query(&self.statement, &[])
            .await
            .expect("SELECT 1");
        assert_eq!(rows[0].get::<_, i32>(0), 1);
    }
}

/// The baseline inside a pipelined read-only transaction.
struct DirectReadOnly(Direct);

impl Select1 for DirectReadOnly {
    async fn run(&self) {
        let client = &self.0.client;
        let (begin, rows, commit) = tokio::join!(
            client.batch_execute("BEGIN READ ONLY"),
            client.query(&self.0.statement, &[]),
            client.batch_execute("COMMIT")
        );
        begin.expect("BEGIN");
        commit.expect("COMMIT");
        assert_eq!(rows.expect("SELECT 1")[0].get::<_, i32>(0), 1);
    }
}

/// The adapter's pool without the adapter: `PgPool::query`.
struct PoolQuery(PgPool);

impl Select1 for PoolQuery {
    async fn run(&self) {
        let outcome = self
            .0
            .query("query", "SELECT 1", &[], Some(10_000))
            .await
            .expect("SELECT 1");
        assert_eq!(outcome.rows.len(), 1);
    }
}

/// The adapter, given a decoded input.
struct NodeDispatch(PostgresAdapter);

fn select_1() -> PostgresAdapterInput {
    PostgresAdapterInput::Query(ModelQueryRequest {
        sql: "SELECT 1".to_owned(),
        params: Vec::new(),
        max_rows: 10_000,
    })
}

impl Select1 for NodeDispatch {
    async fn run(&self) {
        let ctx = EffectContext::new(Uuid::nil());
        match self.0.dispatch(&ctx, select_1()).await.expect("query") {
            PostgresAdapterOutput::Query(result) => assert_eq!(result.row_count, 1),
            other => panic!("unexpected output {other:?}"),
        }
    }
}

/// The adapter, given a JSON envelope.
struct NodeJson(PostgresAdapter);

const SELECT_1_ENVELOPE: &[u8] = br#"{"correlation_id":"6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b","payload":{"operation":"query","sql":"SELECT 1"}}"#;

impl Select1 for NodeJson {
    async fn run(&self) {
        let reply = self.0.process_json(SELECT_1_ENVELOPE).await.expect("query");
        assert_eq!(reply.payload["row_count"], 1);
    }
}

/// One request of a throughput bench: `SELECT $1::int` with the given value.
type Request = Arc<dyn Fn(i32) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// [`CONCURRENT`] tasks, each sending [`PER_TASK`] requests one after the other.
async fn burst(request: &Request) {
    let tasks: Vec<_> = (0..CONCURRENT)
        .map(|t| {
            let request = Arc::clone(request);
            tokio::spawn(async move {
                for n in 0..PER_TASK {
                    request(i32::try_from(t * PER_TASK + n).unwrap_or(0)).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a task");
    }
}

/// Through deadpool-postgres directly (optionally wrapped like `PgPool::query` runs a read).
async fn direct_request(pool: Arc<deadpool_postgres::Pool>, value: i32, read_only: bool) {
    let client = pool.get().await.expect("a connection");
    let statement = client
        .prepare_cached("SELECT $1::int AS n")
        .await
        .expect("prepare");
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&value];
    let rows = if read_only {
        let (begin, rows, commit) = tokio::join!(
            client.batch_execute("BEGIN READ ONLY"),
            client.query(&statement, &params),
            client.batch_execute("COMMIT")
        );
        begin.expect("BEGIN");
        commit.expect("COMMIT");
        rows
    } else {
        client.query(&statement, &params).await
    };
    assert_eq!(rows.expect("query")[0].get::<_, i32>(0), value);
}

/// Through the adapter, given a decoded input.
async fn node_dispatch_request(node: Arc<PostgresAdapter>, value: i32) {
    let input = PostgresAdapterInput::Query(ModelQueryRequest {
        sql: "SELECT $1::int AS n".to_owned(),
        params: vec![value.into()],
        max_rows: 10_000,
    });
    let ctx = EffectContext::new(Uuid::nil());
    match node.dispatch(&ctx, input).await.expect("query") {
        PostgresAdapterOutput::Query(result) => assert_eq!(result.rows[0]["n"], value),
        other => panic!("unexpected output {other:?}"),
    }
}

/// Through the adapter, given a JSON envelope.
async fn node_json_request(node: Arc<PostgresAdapter>, value: i32) {
    let envelope = format!(
        r#"{{"payload":{{"operation":"query","sql":"SELECT $1::int AS n","params":[{value}]}}}}"#
    );
    let reply = node.process_json(envelope.as_bytes()).await.expect("query");
    assert_eq!(reply.payload["rows"][0]["n"], value);
}

/// Benchmarks `f` in `runtime`: each iteration awaits one `f()`.
fn timed<Fut: Future<Output = ()>>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    runtime: &Runtime,
    name: &str,
    mut f: impl FnMut() -> Fut,
) {
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    f().await;
                }
                start.elapsed()
            })
        });
    });
}

/// The CPU time all threads of this process have used so far (Linux).
fn process_cpu() -> Option<Duration> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let Ok(task) = task else { continue };
        let Ok(schedstat) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        total += schedstat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse::<u64>().ok())?;
    }
    Some(Duration::from_nanos(total))
}

/// The rounds of one contestant of an interleaved comparison.
#[derive(Default)]
struct Rounds {
    /// Seconds per request, one per round.
    per_request: Vec<f64>,
    cpu: Option<Duration>,
    requests: usize,
}

impl Rounds {
    fn record(&mut self, requests: usize, elapsed: Duration, cpu: Option<(Duration, Duration)>) {
        self.per_request
            .push(elapsed.as_secs_f64() / requests as f64);
        self.requests += requests;
        if let Some((before, after)) = cpu {
            *self.cpu.get_or_insert_default() += after.saturating_sub(before);
        }
    }

    fn median(&self) -> f64 {
        let mut v = self.per_request.clone();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    fn cpu_us(&self) -> Option<f64> {
        self.cpu
            .map(|cpu| cpu.as_secs_f64() * 1e6 / self.requests as f64)
    }
}

/// Times `round` for each contestant, [`ROUNDS`] times, in an order that rotates and
/// reverses from one round to the next; prints the medians against the first contestant.
fn interleave<F: FnMut(usize) -> Duration>(
    title: &str,
    names: &[&str],
    requests: usize,
    mut round: F,
) {
    let mut rounds: Vec<Rounds> = names.iter().map(|_| Rounds::default()).collect();
    for r in 0..ROUNDS {
        let mut order: Vec<usize> = (0..names.len()).collect();
        order.rotate_left(r % names.len());
        if r % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let before = process_cpu();
            let elapsed = round(i);
            let cpu = before.zip(process_cpu());
            rounds[i].record(requests, elapsed, cpu);
        }
    }
    println!(
        "\n{title}: interleaved, {ROUNDS} rounds of {requests} requests each, median per request"
    );
    let base = rounds[0].median();
    for (name, r) in names.iter().zip(&rounds) {
        let cpu = r.cpu_us().map_or_else(String::new, |us| {
            format!("   CPU of this process {us:>6.1} µs/request")
        });
        println!(
            "  {name:<24} {:>7.1} µs   {:>8.0}/s   {name}/{} = {:.2}{cpu}",
            r.median() * 1e6,
            1.0 / r.median(),
            names[0],
            r.median() / base,
        );
    }
}

fn main() {
    // One request at a time runs on one thread: the comparison then measures what each
    // path adds (its work, its messages), not the scheduler's cross-thread wake-ups.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let conn = connection_string();
    let settings = match PgSettings::parse(&conn) {
        Ok(settings) => settings,
        Err(e) => {
            println!("postgres_adapter bench skipped: {e}");
            return;
        }
    };
    let reachable = runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(3), connect(&conn)).await });
    let client = match reachable {
        Ok(Ok(client)) => client,
        Ok(Err(e)) => {
            println!(
                "postgres_adapter bench skipped: PostgreSQL at {} is not reachable ({e}); \
                 set {} to measure",
                settings.target(),
                PgSettings::ENV
            );
            return;
        }
        Err(_) => {
            println!(
                "postgres_adapter bench skipped: no answer from {} within 3 s",
                settings.target()
            );
            return;
        }
    };
    let statement = runtime
        .block_on(client.prepare("SELECT 1"))
        .expect("prepare SELECT 1");
    let direct = Direct { client, statement };
    let second = runtime
        .block_on(connect(&conn))
        .expect("a second connection");
    let read_only = DirectReadOnly(Direct {
        statement: runtime
            .block_on(second.prepare("SELECT 1"))
            .expect("prepare"),
        client: second,
    });
    let adapter =
        |settings: PgSettings| PostgresAdapter::new(PgPool::new(settings).expect("a pool"));
    let pool = PoolQuery(PgPool::new(settings.clone()).expect("a pool"));
    let node = NodeDispatch(adapter(settings.clone()));
    let uncached = NodeDispatch(
        adapter(settings.clone()).with_policy(SqlPolicy::default().with_cache_capacity(0)),
    );
    let json = NodeJson(adapter(settings.clone()));
    // Every pool opens its connection (and prepares the statement) before timing starts.
    runtime.block_on(async {
        pool.run().await;
        node.run().await;
        uncached.run().await;
        json.run().await;
    });

    let mut criterion = Criterion::default().configure_from_args();
    {
        let mut group = criterion.benchmark_group("select_1");
        group.throughput(Throughput::Elements(1));
        timed(&mut group, &runtime, "direct", || direct.run());
        timed(&mut group, &runtime, "direct_read_only", || read_only.run());
        timed(&mut group, &runtime, "pool_query", || pool.run());
        timed(&mut group, &runtime, "node_dispatch", || node.run());
        timed(&mut group, &runtime, "node_dispatch_uncached", || {
            uncached.run()
        });
        timed(&mut group, &runtime, "node_process_json", || json.run());
        group.finish();
    }
    {
        // The validator alone, for the profile of the overhead.
        let mut group = criterion.benchmark_group("sql_policy");
        let cached = SqlPolicy::default();
        let parsing = SqlPolicy::default().with_cache_capacity(0);
        let access = postgres_adapter::sql::Access::Read;
        group.bench_function("select_1_cached", |b| {
            b.iter(|| {
                cached
                    .check("query", access, "SELECT 1", 0)
                    .expect("accepted")
            })
        });
        group.bench_function("select_1_parsed", |b| {
            b.iter(|| {
                parsing
                    .check("query", access, "SELECT 1", 0)
                    .expect("accepted")
            })
        });
        group.finish();
    }

    interleave(
        "SELECT 1",
        &[
            "direct",
            "direct_read_only",
            "pool_query",
            "node_dispatch",
            "node_dispatch_uncached",
            "node_process_json",
        ],
        SEQUENTIAL,
        |i| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..SEQUENTIAL {
                    match i {
                        0 => direct.run().await,
                        1 => read_only.run().await,
                        2 => pool.run().await,
                        3 => node.run().await,
                        4 => uncached.run().await,
                        _ => json.run().await,
                    }
                }
                start.elapsed()
            })
        },
    );

    // Throughput with 32 requests in flight, on two worker threads (the machine's cores).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let parsed: tokio_postgres::Config = conn.parse().expect("a connection string");
    let direct_pool = Arc::new(
        deadpool_postgres::Pool::builder(deadpool_postgres::Manager::new(parsed, NoTls))
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .expect("a deadpool pool"),
    );
    let concurrent_node = Arc::new(adapter(settings.with_max_size(POOL_SIZE)));
    let contestants: [(&str, Request); 4] = [
        ("direct_pool", {
            let pool = Arc::clone(&direct_pool);
            Arc::new(move |value| Box::pin(direct_request(Arc::clone(&pool), value, false)))
        }),
        ("direct_pool_read_only", {
            let pool = Arc::clone(&direct_pool);
            Arc::new(move |value| Box::pin(direct_request(Arc::clone(&pool), value, true)))
        }),
        ("node_dispatch", {
            let node = Arc::clone(&concurrent_node);
            Arc::new(move |value| Box::pin(node_dispatch_request(Arc::clone(&node), value)))
        }),
        ("node_process_json", {
            let node = Arc::clone(&concurrent_node);
            Arc::new(move |value| Box::pin(node_json_request(Arc::clone(&node), value)))
        }),
    ];
    runtime.block_on(async {
        for (_, request) in &contestants {
            burst(request).await;
        }
    });
    {
        let mut group = criterion.benchmark_group("concurrent_32");
        group.throughput(Throughput::Elements((CONCURRENT * PER_TASK) as u64));
        for (name, request) in &contestants {
            timed(&mut group, &runtime, name, || burst(request));
        }
        group.finish();
    }
    let names: Vec<&str> = contestants.iter().map(|(name, _)| *name).collect();
    interleave(
        &format!("{CONCURRENT} in flight on {POOL_SIZE} connections"),
        &names,
        CONCURRENT * PER_TASK,
        |i| {
            runtime.block_on(async {
                let start = Instant::now();
                burst(&contestants[i].1).await;
                start.elapsed()
            })
        },
    );
    criterion.final_summary();
}
