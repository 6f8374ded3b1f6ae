//! `--bus nats`: the nodes' hosts as child processes, this same executable run as
//! `infra_demo serve <role> --bus nats`.
//!
//! A child prints `ready pid=… bus=nats nodes=…` once its host is subscribed; every line it
//! prints is relayed to this process's stdout, prefixed with its pid. It stops when its
//! stdin closes: it then prints its host's stats and shuts the host down gracefully.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use infra_demo::fleet::Role;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::{Cli, Fallible};

/// How long a child may take to connect and subscribe.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a child may take to stop (its host drains for at most 10 s).
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running child process hosting some of the nodes.
pub struct Host {
    role: Role,
    child: Child,
    /// Dropping it closes the child's stdin: the signal to stop.
    stdin: Option<ChildStdin>,
    /// Relays the child's stdout until it closes.
    relay: JoinHandle<()>,
}

impl Host {
    /// Starts `infra_demo serve <role> --bus nats` with this process's options, and waits
    /// until it says it is ready.
    pub async fn spawn(cli: &Cli, role: Role) -> Fallible<Host> {
        let exe = std::env::current_exe()?;
        let mut command = Command::new(&exe);
        command
            .args(["serve", role.as_str(), "--bus", "nats"])
            .args(["--nats-url", &cli.nats_url])
            .args(["--log-format", cli.log_format.as_str()]);
        if let Some(url) = &cli.replica_url {
            command.args(["--replica-url", url]);
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
            "  {:<12} pid {pid:<7} `infra_demo serve {} --bus nats`",
            role.as_str(),
            role.as_str()
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
                    return Err(not_ready(role, status).into());
                }
            }
            status = child.wait() => return Err(not_ready(role, status?).into()),
            () = tokio::time::sleep(READY_TIMEOUT) => {
                return Err(format!(
                    "the {} process was not ready within {READY_TIMEOUT:?}",
                    role.as_str()
                )
                .into());
            }
        }
        Ok(Host {
            role,
            child,
            stdin,
            relay,
        })
    }

    /// Closes the child's stdin, relays what it prints while it shuts its host down, and
    /// waits for it to exit (killing it if it takes longer than 30 s).
    pub async fn stop(mut self) -> Fallible {
        drop(self.stdin.take());
        let status = match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(status) => status?,
            Err(_) => {
                self.child.start_kill()?;
                return Err(format!(
                    "the {} process did not stop within {STOP_TIMEOUT:?}; killed it",
                    self.role.as_str()
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
            Err(format!("the {} process failed ({status})", self.role.as_str()).into())
        }
    }
}

fn not_ready(role: Role, status: ExitStatus) -> String {
    format!(
        "the {} process exited before it was ready ({status}); see its error above",
        role.as_str()
    )
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
