//! `cargo run -p infra_demo [-- --bus nats]`: the PostgreSQL adapter, the service-lifecycle
//! reducer and an orchestrator running together on an event bus, as a timeline.
//!
//! - `--bus memory` (the default): one process, one node host on an `InMemoryBus`; no
//!   services needed (without PostgreSQL the adapters report it down, and the reducers and
//!   the orchestrator handle that: that is the demo of failure handling).
//! - `--bus nats`: the adapters, the reducers and the orchestrator each run in a process of
//!   their own (`infra_demo serve <role> --bus nats`), on NATS JetStream; this process
//!   drives the rounds and prints the same timeline.
//!
//! `src/child.rs` runs the child processes; the nodes, their hosting, the driver and the
//! timeline are in the library.

mod child;

use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use infra_demo::driver::{Driver, RoundOutcome};
use infra_demo::fleet::{self, Databases, Fleet, Role, Setup, UNREACHABLE_URL};
use infra_demo::timeline;
use onex_runtime::bus::{EventBus, InMemoryBus, NatsBus, NatsBusConfig};
use onex_runtime::host::{NodeHost, NodeStats};

use onex_runtime::postgres::PgSettings;
use onex_runtime::{OnexError, OrchestratorNode, Uuid};
use tokio::sync::oneshot;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// What can go wrong, for `main` to print.
type Fallible<T = ()> = Result<T, Box<dyn Error + Send + Sync>>;

/// The PostgreSQL adapter, its lifecycle reducer and an orchestrator on one event bus.
///
/// The primary database comes from ONEX_POSTGRES_URL (else DATABASE_URL, else
/// postgres://postgres@127.0.0.1:5432/test); the replica is deliberately unreachable unless
/// --replica-url says otherwise.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// The event bus: `memory` (one process) or `nats` (the adapters, the reducers and the
    /// orchestrator in three processes, on NATS JetStream).
    #[arg(long, value_enum, default_value_t = BusKind::Memory, global = true)]
    bus: BusKind,

    /// The NATS server, with JetStream enabled (`nats-server -js`).
    #[arg(long, default_value = "nats://127.0.0.1:4222", global = true)]
    nats_url: String,

    /// How many rounds to run.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=1000))]
    rounds: u32,

    /// The pause between two rounds, in milliseconds.
    #[arg(long, default_value_t = 200)]
    interval_ms: u64,

    /// Where the replica adapter points (default: a port nothing listens on, so the
    /// replica is down and its failure handling shows).
    #[arg(long, global = true)]
    replica_url: Option<String>,

    /// How logs are written to stderr. They are filtered by `RUST_LOG`; when it is unset,
    /// `text` shows errors only and `json` shows `info` (a line per envelope and per call,
    /// with its node, operation and correlation id).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Host some of the nodes on NATS until stdin closes, Ctrl-C or SIGTERM (what `--bus
    /// nats` runs in its child processes).
    Serve {
        /// Which nodes: `adapters`, `reducers`, `orchestrator` (one or more).
        #[arg(required = true, value_enum)]
        roles: Vec<RoleArg>,
    },
}

/// Which event bus carries the envelopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BusKind {
    /// `InMemoryBus`: one process.
    Memory,
    /// `NatsBus`: NATS JetStream, one process per role.
    Nats,
}

/// The nodes a `serve` process hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum RoleArg {
    /// The two PostgreSQL adapters.
    Adapters,
    /// The two lifecycle reducers.
    Reducers,
    /// The orchestrator.
    Orchestrator,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Role {
        match role {
            RoleArg::Adapters => Role::Adapters,
            RoleArg::Reducers => Role::Reducers,
            RoleArg::Orchestrator => Role::Orchestrator,
        }
    }
}

/// How logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// JSON lines.
    Json,
}

impl LogFormat {
    fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let result = match (&cli.command, cli.bus) {
        (Some(Command::Serve { roles }), _) => serve(&cli, roles).await,
        (None, BusKind::Memory) => one_process(&cli).await,
        (None, BusKind::Nats) => processes(&cli).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Connects to NATS (nothing else differs between the modes).
async fn nats(url: &str) -> Fallible<Arc<dyn EventBus>> {
    // `confirm_acks`: a hosting process exits right after its host shuts down, so every ack
    // must have reached the server by then. New durable consumers start with new messages:
    // requests left over by an earlier run that was killed are not replayed into this one.
    let config = NatsBusConfig::new(url)
        .confirm_acks(true)
        .durable_from_start(false)
        .connect_timeout(Duration::from_secs(3));
    let bus = NatsBus::connect(config).await.map_err(|e: OnexError| {
        format!(
            "{e}\n\
             `--bus nats` needs a NATS server with JetStream at {url}. Start one with\n    \
             nats-server -js\n\
             (or `docker run --rm -p 4222:4222 nats -js`), or point --nats-url at yours."
        )
    })?;
    Ok(Arc::new(bus))
}

/// `--bus memory`: every node in one host, on one `InMemoryBus`, driven from here.
async fn one_process(cli: &Cli) -> Fallible {
    let databases = Databases::from_env(cli.replica_url.as_deref())?;
    intro("memory: every node in this process, one node host");
    print_databases(&databases, cli);
    let fleet = Fleet::new(&databases)?;
    print_setup(&fleet.setup().await);
    let bus: Arc<dyn EventBus> = Arc::new(InMemoryBus::new());
    let host = fleet::serve(Arc::clone(&bus), &Role::ALL, &fleet).await?;
    print_nodes(&format!(
        "all five in one node host in this process, pid {}",
        std::process::id()
    ));
    let outcomes = drive(cli, bus).await;
    print!(
        "{}",
        timeline::summary(&outcomes, &databases.primary.redacted())
    );
    stop_host(host).await;
    finish(&outcomes)
}

/// `--bus nats`: the adapters, the reducers and the orchestrator in three child processes;
/// the rounds driven from here.
async fn processes(cli: &Cli) -> Fallible {
    // Connect first: without NATS, say so before starting anything.
    let bus = nats(&cli.nats_url).await?;
    let databases = Databases::from_env(cli.replica_url.as_deref())?;
    intro(&format!(
        "nats: the adapters, the reducers and the orchestrator in three processes, on NATS \
         JetStream at {}",
        cli.nats_url
    ));
    print_databases(&databases, cli);
    print_nodes("each role in a process of its own");
    println!("Processes");
    println!(
        "  {:<12} pid {:<7} drives the rounds and prints the timeline",
        "this one",
        std::process::id()
    );
    let mut hosts = Vec::new();
    for role in Role::ALL {
        match child::Host::spawn(cli, role).await {
            Ok(host) => hosts.push(host),
            Err(e) => {
                if let Err(stopping) = stop_all(hosts).await {
                    eprintln!("warning: {stopping}");
                }
                return Err(e);
            }
        }
    }
    println!();
    let outcomes = drive(cli, bus).await;
    print!(
        "{}",
        timeline::summary(&outcomes, &databases.primary.redacted())
    );
    println!("\nStopping the children (closing their stdin)");
    let stopped = stop_all(hosts).await;
    stopped?;
    finish(&outcomes)
}

/// Stops every child, the last started first (the orchestrator before the nodes it calls),
/// reporting the first failure.
async fn stop_all(hosts: Vec<child::Host>) -> Fallible {
    let mut first = Ok(());
    for host in hosts.into_iter().rev() {
        if let Err(e) = host.stop().await
            && first.is_ok()
        {
            first = Err(e);
        }
    }
    first
}

/// `serve <role>…`: hosts the roles' nodes on NATS until told to stop, then reports and
/// shuts down gracefully.
async fn serve(cli: &Cli, roles: &[RoleArg]) -> Fallible {
    if cli.bus == BusKind::Memory {
        return Err("`serve` hosts nodes for other processes: use it with `--bus nats`".into());
    }
    let roles: Vec<Role> = roles.iter().map(|r| Role::from(*r)).collect();
    let bus = nats(&cli.nats_url).await?;
    let databases = Databases::from_env(cli.replica_url.as_deref())?;
    let fleet = Fleet::new(&databases)?;
    if roles.contains(&Role::Adapters) {
        print_setup(&fleet.setup().await);
    }
    let host = fleet::serve(bus, &roles, &fleet).await?;
    let health = host.health().await;
    let nodes: Vec<&str> = host.nodes().collect();
    println!(
        "ready pid={} bus={} nodes={} health={}",
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

/// Runs the rounds and prints each one's block as it comes.
async fn drive(cli: &Cli, bus: Arc<dyn EventBus>) -> Vec<RoundOutcome> {
    let plan = <infra_demo::InfraDemoOrchestrator as OrchestratorNode>::PLAN;
    println!(
        "Workflow `{}`: check_primary and check_replica at once, then aggregate, then act; \
         {} rounds, {} ms apart\n",
        plan.name, cli.rounds, cli.interval_ms
    );
    let driver = Driver::new(bus, Uuid::new_v4());
    let mut outcomes = Vec::new();
    for n in 1..=cli.rounds {
        if n > 1 {
            tokio::time::sleep(Duration::from_millis(cli.interval_ms)).await;
        }
        let outcome = driver.round(n).await;
        println!("{}", timeline::round(&outcome));
        outcomes.push(outcome);
    }
    println!(
        "run {} took {:.0} ms",
        driver.run_id(),
        driver.elapsed().as_secs_f64() * 1000.0
    );
    outcomes
}

/// Success unless a round failed (the demo itself broke: an unreachable database never
/// fails a round).
fn finish(outcomes: &[RoundOutcome]) -> Fallible {
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.result.is_err())
        .map(|o| o.round.to_string())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("round {} failed", failed.join(", ")).into())
    }
}

fn intro(mode: &str) {
    println!(
        "infra_demo: two PostgreSQL adapters (EFFECT), their lifecycle reducers (REDUCER) and \
         an orchestrator (ORCHESTRATOR)\non one event bus ({mode})\n"
    );
}

fn print_databases(databases: &Databases, cli: &Cli) {
    let source = if std::env::var_os(PgSettings::ENV).is_some_and(|v| !v.is_empty()) {
        format!("from {}", PgSettings::ENV)
    } else if std::env::var_os(PgSettings::FALLBACK_ENV).is_some_and(|v| !v.is_empty()) {
        format!("from {}", PgSettings::FALLBACK_ENV)
    } else {
        format!("the default; set {} to change it", PgSettings::ENV)
    };
    let replica = if cli.replica_url.is_some() {
        "from --replica-url".to_owned()
    } else {
        format!("deliberately unreachable ({UNREACHABLE_URL}: nothing listens on port 1)")
    };
    println!("Databases");
    println!("  primary  {}  ({source})", databases.primary.redacted());
    if cli.replica_url.is_some() {
        println!("  replica  {}  ({replica})", databases.replica.redacted());
    } else {
        println!("  replica  {replica}");
    }
}

fn print_setup(setup: &Setup) {
    println!("Setup (once, on the primary)");
    if let Some(refused) = &setup.refused_by_adapter {
        println!("  the adapter refuses DDL by design: {refused}");
    }
    match &setup.created {
        Ok(()) => println!(
            "  so schema infra_demo and table infra_demo.heartbeats were created through the \
             pool directly"
        ),
        Err(why) => println!(
            "  creating infra_demo.heartbeats through the pool failed ({why}); the rounds \
             run anyway"
        ),
    }
}

/// The node table: name, kind, topic, which process role hosts it, what it is.
fn print_nodes(heading: &str) {
    println!("Nodes ({heading})");
    for node in fleet::nodes() {
        let contract = node.contract;
        let kind = contract.kind.onex_name().trim_end_matches("_GENERIC");
        let topic = contract.subscribe_topics.first().copied().unwrap_or("-");
        println!(
            "  {:<26} {kind:<12} {topic:<46} {:<12} {}",
            contract.name,
            node.role.as_str(),
            node.what
        );
    }
    println!();
}

/// Prints the final per-node stats and shuts the host down gracefully.
async fn stop_host(host: NodeHost) {
    let report = host.shutdown().await;
    println!(
        "\nhost shut down: {} in flight at stop, {} drained, {} abandoned",
        report.in_flight_at_stop, report.drained, report.abandoned
    );
    print_stats(&report.stats);
}

fn print_stats(stats: &[NodeStats]) {
    for s in stats {
        let mut line = format!(
            "  {:<26}  received {:>3} · succeeded {:>3} · retried {} · dead-lettered {}",
            s.node, s.received, s.succeeded, s.retried, s.dead_lettered
        );
        if s.dead_lettered > 0 && s.node.starts_with("service_lifecycle") {
            line.push_str(" (triggers the reducer refused: permanent errors go to its DLQ)");
        }
        println!("{line}");
    }
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
        () = terminated() => "SIGTERM",
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

/// Logs go to stderr (stdout is the timeline's), filtered by `RUST_LOG`.
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
