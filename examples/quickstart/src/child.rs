//! `--bus nats`: the node's host as a second process, this same executable run as
//! `quickstart serve --bus nats`.
//!
//! The child prints `ready pid=… bus=nats …` once its host is subscribed; every line it
//! prints is relayed to this process's stdout, prefixed with its pid. It stops when its
//! stdin closes: it then prints its host's health and stats and shuts the host down
//! gracefully.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use clap::ValueEnum;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::{Cli, Fallible};

/// How long the child may take to connect and subscribe.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the child may take to stop (its host drains for at most 10 s).
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// The running child process hosting the node.
pub struct Host {
    child: Child,
    /// Dropping it closes the child's stdin: the signal to stop.
    stdin: Option<ChildStdin>,
    /// Relays the child's stdout until it closes.
    relay: JoinHandle<()>,
}

impl Host {
    /// Starts `quickstart serve --bus nats` with this process's NATS, log and metrics
    /// options, and waits until it says it is ready.
    pub async fn spawn(cli: &Cli) -> Fallible<Host> {
        let exe = std::env::current_exe()?;
        let log_format = cli
            .log_format
            .to_possible_value()
            .map(|value| value.get_name().to_owned())
            .unwrap_or_else(|| "text".to_owned());
        let mut command = Command::new(&exe);
        command
            .args(["serve", "--bus", "nats", "--nats-url", &cli.nats_url])
            .args(["--log-format", &log_format]);
        if let Some(addr) = cli.metrics_addr {
            command.args(["--metrics-addr", &addr.to_string()]);
        }
        // Its logs share our stderr; its stdout comes to us; a child we lose is killed.
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        let pid = child.id().unwrap_or_default();
        println!(
            "  child        pid {pid} (`quickstart serve --bus nats`) hosts the node; it says:"
        );
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or("the host process has no stdout")?;
        let (ready, is_ready) = oneshot::channel();
        let relay = tokio::spawn(relay(stdout, pid, ready));
        tokio::select! {
            ready = is_ready => {
                if ready.is_err() {
                    // Its stdout closed before it was ready: it is exiting.
                    let status = child.wait().await?;
                    return Err(not_ready(status).into());
                }
            }
            status = child.wait() => return Err(not_ready(status?).into()),
            _ = tokio::time::sleep(READY_TIMEOUT) => {
                return Err(format!("the host process was not ready within {READY_TIMEOUT:?}").into());
            }
        }
        Ok(Host {
            child,
            stdin,
            relay,
        })
    }

    /// Closes the child's stdin, relays what it prints while it shuts its host down, and
    /// waits for it to exit (killing it if it takes longer than 60 s).
    pub async fn stop(mut self) -> Fallible {
        drop(self.stdin.take());
        let status = match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(status) => status?,
            Err(_) => {
                self.child.start_kill()?;
                return Err(format!(
                    "the host process did not stop within {STOP_TIMEOUT:?}; killed it"
                )
                .into());
            }
        };
        // Its stdout is closed now: the relay prints the last lines and ends.
        if let Err(e) = (&mut self.relay).await {
            eprintln!("warning: relaying the host's output failed: {e}");
        }
        if status.success() {
            Ok(())
        } else {
            Err(format!("the host process failed ({status})").into())
        }
    }
}

fn not_ready(status: ExitStatus) -> String {
    format!("the host process exited before it was ready ({status}); see its error above")
}

/// Prints the child's lines, prefixed with its pid, and signals its readiness line.
async fn relay(stdout: ChildStdout, pid: u32, ready: oneshot::Sender<()>) {
    let mut ready = Some(ready);
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.is_empty() {
            println!();
        } else {
            println!("  [pid {pid}] {line}");
        }
        if line.starts_with("ready ")
            && let Some(ready) = ready.take()
        {
            let _ = ready.send(());
        }
    }
}
