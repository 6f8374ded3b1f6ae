//! `cargo run -p quickstart [-- --bus nats]`: one ONEX EFFECT node, served by a node host
//! from an event bus and driven with JSON envelopes.
//!
//! - `--bus memory` (the default): one process. The host and the requests share an
//!   in-process `InMemoryBus`; no services needed.
//! - `--bus nats`: two processes. This one spawns itself as `quickstart serve --bus nats`,
//!   a child that hosts the node on NATS JetStream, sends it the same requests over NATS,
//!   then stops it (by closing its stdin) and waits for it.
//!
//! The node code and the hosting code are the same in both modes: only the bus differs
//! (see [`connect`]). `src/demo.rs` is the client side (requests, replies, dead letters),
//! `src/child.rs` runs the child process.

mod child;
mod demo;

use std::error::Error;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use metrics_exporter_prometheus::PrometheusBuilder;
use onex_runtime::OnexError;
use onex_runtime::bus::{EventBus, InMemoryBus, NatsBus, NatsBusConfig};
use onex_runtime::host::{HostHealth, NodeHost, NodeStats, ShutdownReport};
use tokio::sync::oneshot;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// What can go wrong, for `main` to print.
type Fallible<T = ()> = Result<T, Box<dyn Error + Send + Sync>>;

/// One ONEX node (`UserDirectory`) served by a node host from an event bus.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// The event bus: `memory` (one process) or `nats` (the node is hosted by a second
    /// process, on NATS JetStream).
    #[arg(long, value_enum, default_value_t = BusKind::Memory, global = true)]
    bus: BusKind,

    /// The NATS server, with JetStream enabled (`nats-server -js`).
    #[arg(long, default_value = "nats://127.0.0.1:4222", global = true)]
    nats_url: String,

    /// How logs are written to stderr. They are filtered by `RUST_LOG`; when it is unset,
    /// `text` shows errors only and `json` shows `info` (the host's warnings, and a line
    /// as each envelope's span closes, with its node, operation and correlation id).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,

    /// Serve the host's Prometheus metrics at `http://<ADDR>/metrics` (for example
    /// `127.0.0.1:9898`). With `--bus nats` the exporter runs in the hosting process.
    #[arg(long, value_name = "ADDR", global = true)]
    metrics_addr: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Host the node on NATS until stdin closes, Ctrl-C or SIGTERM (what `--bus nats` runs
    /// in its child process).
    Serve,
}

/// Which event bus carries the envelopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BusKind {
    /// `InMemoryBus`: in-process.
    Memory,
    /// `NatsBus`: NATS JetStream.
    Nats,
}

/// How logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// JSON lines.
    Json,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let result = match (&cli.command, cli.bus) {
        (Some(Command::Serve), _) => serve(&cli).await,
        (None, BusKind::Memory) => one_process(&cli).await,
        (None, BusKind::Nats) => two_processes(&cli).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The one place where the two modes differ: which bus is constructed. Everything else
/// (the node, the host, the requests) is written against `Arc<dyn EventBus>`.
async fn connect(kind: BusKind, nats_url: &str) -> Fallible<Arc<dyn EventBus>> {
    // `confirm_acks`: the hosting process exits right after its host shuts down, so every
    // ack must have reached the server by then (else JetStream would redeliver).
    let nats = NatsBusConfig::new(nats_url).confirm_acks(true);
    let bus: Arc<dyn EventBus> = match kind {
        BusKind::Memory => Arc::new(InMemoryBus::new()),
        BusKind::Nats => Arc::new(NatsBus::connect(nats).await.map_err(no_nats(nats_url))?),
    };
    Ok(bus)
}

/// The error of a NATS server that cannot be reached: what happened and how to fix it.
fn no_nats(nats_url: &str) -> impl FnOnce(OnexError) -> String {
    move |e| {
        format!(
            "{e}\n\
             `--bus nats` needs a NATS server with JetStream at {nats_url}. Start one with\n    \
             nats-server -js\n\
             (or `docker run --rm -p 4222:4222 nats -js`), or point --nats-url at yours."
        )
    }
}

/// `--bus memory`: the host and the requests in this process, on one `InMemoryBus`.
async fn one_process(cli: &Cli) -> Fallible {
    install_metrics(cli.metrics_addr)?;
    demo::intro("memory");
    let bus = connect(BusKind::Memory, &cli.nats_url).await?;
    let host = quickstart::serve(Arc::clone(&bus)).await?;
    println!("Processes");
    println!(
        "  one          pid {} hosts the node and sends the requests",
        std::process::id()
    );
    demo::run(&*bus).await?;
    if let Some(addr) = cli.metrics_addr {
        show_metrics(addr).await;
    }
    stop_host(host).await;
    demo::outro();
    Ok(())
}

/// `--bus nats`: the host in a child process, the requests from this one, both on NATS.
async fn two_processes(cli: &Cli) -> Fallible {
    // Connect first: without NATS, say so before starting anything.
    let bus = connect(BusKind::Nats, &cli.nats_url).await?;
    demo::intro("nats");
    println!("Processes");
    println!(
        "  this one     requester pid={} sends the requests over NATS at {}",
        std::process::id(),
        cli.nats_url
    );
    let host = child::Host::spawn(cli).await?;
    let outcome = demo::run(&*bus).await;
    if outcome.is_ok()
        && let Some(addr) = cli.metrics_addr
    {
        show_metrics(addr).await;
    }
    // Stopped whatever happened, then the demo's own failure first.
    let stopped = host.stop().await;
    outcome?;
    stopped?;
    demo::outro();
    Ok(())
}

/// `serve`: hosts the node until told to stop, then reports and shuts down gracefully.
async fn serve(cli: &Cli) -> Fallible {
    if cli.bus == BusKind::Memory {
        return Err("`serve` hosts the node for other processes: use it with `--bus nats`".into());
    }
    install_metrics(cli.metrics_addr)?;
    let bus = connect(cli.bus, &cli.nats_url).await?;
    let host = quickstart::serve(bus).await?;
    let health = host.health().await;
    let nodes: Vec<&str> = host.nodes().collect();
    println!(
        "ready pid={} bus={} node={} health={}",
        std::process::id(),
        host.bus().name(),
        nodes.join(","),
        health.status.as_str()
    );
    let why = stop_requested().await;
    println!("stopping: {why}");
    stop_host(host).await;
    Ok(())
}

/// Prints the host's health, shuts it down gracefully (in-flight envelopes finish and are
/// settled: the last reply may reach its requester just before its delivery is acked) and
/// prints what the shutdown did and the final per-node stats.
async fn stop_host(host: NodeHost) {
    print_health(&host.health().await);
    let report = host.shutdown().await;
    print_shutdown(&report);
    print_stats(&report.stats);
}

fn print_health(health: &HostHealth) {
    println!("\nHost health: {}", health.status.as_str());
    println!(
        "  bus          {} ({})",
        health.bus,
        if health.bus_connected {
            "connected"
        } else {
            "disconnected"
        }
    );
    for reason in &health.reasons {
        println!("  reason       {reason}");
    }
    for node in &health.nodes {
        println!(
            "  node         {} ({}), {}, durable consumer `{}`",
            node.node,
            node.kind,
            node.status.as_str(),
            node.durable
        );
        for sub in &node.subscriptions {
            println!("    {:<42} {:?}", sub.topic, sub.state);
        }
    }
}

fn print_stats(stats: &[NodeStats]) {
    println!("Stats per node (final)");
    for s in stats {
        println!(
            "  {}  received={} succeeded={} failed={} retried={} dead_lettered={} \
             redelivered={} in_flight={}",
            s.node,
            s.received,
            s.succeeded,
            s.failed,
            s.retried,
            s.dead_lettered,
            s.redelivered,
            s.in_flight
        );
    }
}

fn print_shutdown(report: &ShutdownReport) {
    println!(
        "Shutdown: graceful; {} in flight at stop, {} drained, {} abandoned{}",
        report.in_flight_at_stop,
        report.drained,
        report.abandoned,
        if report.timed_out {
            " (drain timeout passed)"
        } else {
            ""
        }
    );
}

/// Waits until stdin closes (the parent's way of stopping its child), Ctrl-C or SIGTERM;
/// says which.
async fn stop_requested() -> &'static str {
    let (closed, stdin_closed) = oneshot::channel();
    // A plain thread: a blocked read must not keep the runtime from shutting down.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = closed.send(());
    });
    tokio::select! {
        _ = stdin_closed => "stdin closed",
        _ = tokio::signal::ctrl_c() => "Ctrl-C",
        _ = terminated() => "SIGTERM",
    }
}

#[cfg(unix)]
async fn terminated() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut sigterm) => {
            sigterm.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn terminated() {
    std::future::pending().await
}

/// Logs go to stderr (stdout is the demo's), filtered by `RUST_LOG`.
fn init_logging(format: LogFormat) {
    let default = match format {
        LogFormat::Text => "error",
        LogFormat::Json => "info",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Text => logs.try_init(),
        // One line per envelope (when its `onex.envelope` span closes), with the span's
        // fields: node, operation, correlation_id, attempt, topic.
        LogFormat::Json => logs
            .json()
            .with_span_events(FmtSpan::CLOSE)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    if let Err(e) = installed {
        eprintln!("warning: logging not set up: {e}");
    }
}

/// Installs the Prometheus exporter as the `metrics` recorder; must run before the host is
/// built (the host registers its metric handles then).
fn install_metrics(addr: Option<SocketAddr>) -> Fallible {
    if let Some(addr) = addr {
        PrometheusBuilder::new()
            .with_http_listener(addr)
            .install()
            .map_err(|e| format!("cannot serve metrics on {addr}: {e}"))?;
    }
    Ok(())
}

/// Scrapes the exporter once and prints the host's series; on a terminal, keeps the process
/// (and so the exporter) up until Enter, for `curl`.
async fn show_metrics(addr: SocketAddr) {
    let url = format!("http://{addr}/metrics");
    println!("\nPrometheus metrics at {url} (quantiles left out)");
    match http_get(addr, "/metrics").await {
        Ok(body) => body
            .lines()
            .filter(|line| line.starts_with("onex_") && !line.contains("quantile="))
            .for_each(|line| println!("  {line}")),
        Err(e) => println!("  cannot scrape {url}: {e}"),
    }
    if std::io::stdin().is_terminal() {
        println!("  Try `curl -s {url} | grep onex_` now; press Enter to go on.");
        let (entered, enter) = oneshot::channel();
        std::thread::spawn(move || {
            let _ = std::io::stdin().read_line(&mut String::new());
            let _ = entered.send(());
        });
        tokio::select! {
            _ = enter => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
}

/// A minimal HTTP/1.1 GET (enough for the exporter's scrape endpoint): the response body.
async fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let response = String::from_utf8_lossy(&response);
    match response.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.1 200") => Ok(body.to_owned()),
        _ => Err(std::io::Error::other(format!(
            "unexpected response: {}",
            response.lines().next().unwrap_or("(empty)")
        ))),
    }
}
