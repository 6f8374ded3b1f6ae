//! Hosts the `fault_ledger` node (`tests/faults/ledger.yaml`) on NATS JetStream, for the
//! fault-injection tests (`tests/faults_nats.rs`), which start, kill and stop it.
//!
//! ```text
//! fault_worker --run <id> [--url nats://127.0.0.1:4222] [--label <name>] [--delay-ms 10]
//!              [--concurrency 4] [--ack-wait-ms 2000] [--max-deliver 5]
//!              [--drain-timeout-ms 30000] [--max-envelope-bytes 1048576]
//! ```
//!
//! `--url` defaults to `$FAULT_NATS_URL`, else `nats://127.0.0.1:4222`. The run id (lower-case
//! letters, digits, `-`) makes the topics and the durable consumer names unique per test run:
//! topics are moved to `onex.<kind>.fault-ledger-<run>.…`, the durable prefix is
//! `fault-<run>`, so two workers of one run share one durable consumer (and a worker started
//! after another one died resumes its work).
//!
//! On stdout: `READY <durable consumer name>` once the host serves (bus connected, subscribed),
//! `DONE <correlation id> <attempt> <label>` after each successful handler run, and
//! `SHUTDOWN <report JSON>` after a graceful shutdown, which SIGTERM or the end of stdin
//! starts (so a worker whose parent dies stops too). Exit code 0 after a full drain, 2 when
//! the drain timed out, 1 when the worker could not start.

#[path = "../faults/ledger.rs"]
pub mod ledger;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use onex_runtime::OnexError;
use onex_runtime::bus::{EventBus, NatsBus, NatsBusConfig};
use onex_runtime::host::{HostConfig, NodeHost};
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;

use ledger::{FaultLedger, RunScoped};

/// How long the worker waits for its host to be ready before giving up.
const READY_PATIENCE: Duration = Duration::from_secs(60);

/// The command line.
struct Options {
    url: String,
    run: String,
    label: String,
    delay: Duration,
    concurrency: usize,
    ack_wait: Duration,
    max_deliver: u32,
    drain_timeout: Duration,
    max_envelope_bytes: usize,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut options = Options {
            url: std::env::var("FAULT_NATS_URL")
                .unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned()),
            run: String::new(),
            label: format!("worker-{}", std::process::id()),
            delay: Duration::from_millis(10),
            concurrency: 4,
            ack_wait: Duration::from_secs(2),
            max_deliver: 5,
            drain_timeout: Duration::from_secs(30),
            max_envelope_bytes: HostConfig::default().max_envelope_bytes,
        };
        while let Some(flag) = args.next() {
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let number = || {
                value
                    .parse::<u64>()
                    .map_err(|e| format!("{flag} {value}: {e}"))
            };
            let size = |n: u64| usize::try_from(n).map_err(|e| format!("{flag} {value}: {e}"));
            match flag.as_str() {
                "--url" => options.url = value.clone(),
                "--run" => options.run = value.clone(),
                "--label" => options.label = value.clone(),
                "--delay-ms" => options.delay = Duration::from_millis(number()?),
                "--concurrency" => options.concurrency = size(number()?)?,
                "--ack-wait-ms" => options.ack_wait = Duration::from_millis(number()?),
                "--max-deliver" => {
                    options.max_deliver =
                        u32::try_from(number()?).map_err(|e| format!("{flag} {value}: {e}"))?;
                }
                "--drain-timeout-ms" => options.drain_timeout = Duration::from_millis(number()?),
                "--max-envelope-bytes" => options.max_envelope_bytes = size(number()?)?,
                _ => return Err(format!("unknown option {flag}")),
            }
        }
        let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if options.run.is_empty() || !options.run.chars().all(valid) {
            return Err("--run <id> is required: lower-case letters, digits and `-`".to_owned());
        }
        Ok(options)
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("fault_worker: {e}");
            return ExitCode::from(1);
        }
    };
    match serve(options).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fault_worker: {e}");
            ExitCode::from(1)
        }
    }
}

/// Prints a line on stdout; a closed stdout (the parent is gone) is not worth a panic.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

async fn serve(options: Options) -> Result<ExitCode, OnexError> {
    let label = options.label.clone();
    // Stop requests are watched before the host starts, so none is missed.
    let mut sigterm = signal(SignalKind::terminate())
        .map_err(|e| OnexError::internal(format!("cannot watch SIGTERM: {e}")))?;
    let (eof_tx, eof_rx) = tokio::sync::oneshot::channel::<()>();
    // A plain thread (not `spawn_blocking`): a read blocked on stdin must not keep the
    // runtime from shutting down after a SIGTERM.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = eof_tx.send(());
    });

    let nats = NatsBus::connect(
        NatsBusConfig::new(&options.url).client_name(format!("fault-worker-{label}")),
    )
    .await?;
    let bus: Arc<dyn EventBus> = Arc::new(RunScoped::new(nats.clone(), &options.run));
    let config = HostConfig {
        max_concurrency: options.concurrency,
        ack_wait: options.ack_wait,
        max_deliver: options.max_deliver,
        drain_timeout: options.drain_timeout,
        max_envelope_bytes: options.max_envelope_bytes,
        durable_prefix: format!("fault-{}", options.run),
        ..HostConfig::default()
    };
    let host = NodeHost::builder(bus)
        .effect(FaultLedger::new(options.delay, label.clone(), true))
        .config(config)
        .start()
        .await?;

    let deadline = Instant::now() + READY_PATIENCE;
    loop {
        let health = host.health().await;
        if health.is_ready() {
            break;
        }
        if Instant::now() > deadline {
            host.shutdown().await;
            return Err(OnexError::internal(format!(
                "the host is not ready after {READY_PATIENCE:?}: {:?}",
                health.reasons
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    say(&format!(
        "READY {}",
        host.durable_name("fault_ledger").unwrap_or_default()
    ));

    let why = tokio::select! {
        _ = sigterm.recv() => "SIGTERM",
        _ = eof_rx => "end of stdin",
    };
    eprintln!("fault_worker {label}: {why}; shutting down gracefully");
    let report = host.shutdown().await;
    // Acks are sent without waiting for the server: make sure they are out before exiting.
    if let Err(e) = nats.flush().await {
        eprintln!("fault_worker {label}: {e}");
    }
    let json = serde_json::to_string(&report)
        .map_err(|e| OnexError::internal(format!("cannot encode the shutdown report: {e}")))?;
    say(&format!("SHUTDOWN {json}"));
    Ok(if report.timed_out {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
