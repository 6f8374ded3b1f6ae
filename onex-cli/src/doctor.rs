//! `onex doctor`: is this machine and this crate ready to build onex nodes?
//!
//! Checks, in order:
//! 1. **Toolchain**: `rustc --version` (run where the command runs, so rustup applies the
//!    pin; rustup is told not to install anything) against the channel pinned in the
//!    nearest `rust-toolchain.toml` (or `rust-toolchain`) found walking up from the current
//!    directory.
//! 2. **Services**: PostgreSQL on 127.0.0.1:5432 and NATS on 127.0.0.1:4222 (TCP connect,
//!    short timeout). Only service-backed features need them, so they are informational.
//! 3. **Contracts**: every ONEX document under the current directory (hidden directories,
//!    `target/` and `node_modules/` skipped), validated like `onex validate`, with its
//!    status: valid, warnings or errors.
//!
//! The exit code is 1 only for what blocks building: `rustc` cannot run (missing, or the
//! pinned toolchain is not installed), or a contract under a `src/` directory has errors
//! (contracts next to sources are what node attributes read). Errors in contracts elsewhere
//! (`tests/`, fixtures, benches) are listed but do not fail: such files are often broken on
//! purpose. A toolchain other than the pinned one is a warning.

use std::fmt::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::render;
use crate::validate::{self, Level};
use crate::walk;

/// How long a service gets to accept a TCP connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(300);

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Fine.
    Ok,
    /// For information only (an optional service that is not running).
    Info,
    /// Worth fixing, does not block building.
    Warn,
    /// Blocks building.
    Fail,
}

impl Status {
    fn tag(self) -> &'static str {
        match self {
            Status::Ok => "[ok]  ",
            Status::Info => "[info]",
            Status::Warn => "[warn]",
            Status::Fail => "[FAIL]",
        }
    }
}

/// One line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The outcome.
    pub status: Status,
    /// What was found.
    pub text: String,
}

impl Check {
    fn new(status: Status, text: impl Into<String>) -> Self {
        Check {
            status,
            text: text.into(),
        }
    }
}

/// The nearest toolchain file at or above `dir`, and the channel it pins.
pub fn pinned_toolchain(dir: &Path) -> Option<(PathBuf, Option<String>)> {
    for ancestor in dir.ancestors() {
        for name in ["rust-toolchain.toml", "rust-toolchain"] {
            let path = ancestor.join(name);
            if let Ok(text) = std::fs::read_to_string(&path) {
                let channel = parse_toolchain_file(&text);
                return Some((path, channel));
            }
        }
    }
    None
}

/// The channel of a toolchain file: `[toolchain] channel = "…"` in TOML, or the legacy
/// one-line form.
///
/// ```
/// use onex_cli::doctor::parse_toolchain_file;
/// assert_eq!(parse_toolchain_file("[toolchain]\nchannel = \"1.95.0\"\n").as_deref(), Some("1.95.0"));
/// assert_eq!(parse_toolchain_file("nightly-2026-01-01\n").as_deref(), Some("nightly-2026-01-01"));
/// ```
pub fn parse_toolchain_file(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct File {
        toolchain: Option<Toolchain>,
    }
    #[derive(serde::Deserialize)]
    struct Toolchain {
        channel: Option<String>,
    }
    match toml::from_str::<File>(text) {
        Ok(file) => file.toolchain.and_then(|t| t.channel),
        Err(_) => {
            let line = text.trim();
            (!line.is_empty() && !line.contains(['\n', '=', '['])).then(|| line.to_owned())
        }
    }
}

/// Whether `rustc --version` output matches a pinned channel: `None` when the pin is a
/// channel name (`stable`, `nightly-…`), not a version.
///
/// ```
/// use onex_cli::doctor::version_matches;
/// let line = "rustc 1.95.0 (59807616e 2026-04-14)";
/// assert_eq!(version_matches("1.95.0", line), Some(true));
/// assert_eq!(version_matches("1.95", line), Some(true));
/// assert_eq!(version_matches("1.94.1", line), Some(false));
/// assert_eq!(version_matches("stable", line), None);
/// ```
pub fn version_matches(pinned: &str, rustc_version: &str) -> Option<bool> {
    if !pinned.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let pinned = pinned.split('-').next().unwrap_or(pinned);
    let actual = rustc_version.split_whitespace().nth(1).unwrap_or_default();
    let actual = actual.split('-').next().unwrap_or(actual);
    Some(actual == pinned || actual.starts_with(&format!("{pinned}.")))
}

/// The toolchain check.
pub fn toolchain(dir: &Path) -> Check {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(&rustc)
        .arg("--version")
        .current_dir(dir)
        .env("RUSTUP_AUTO_INSTALL", "0")
        .output();
    let pinned = pinned_toolchain(dir);
    let pin_text = |path: &Path, channel: &str| format!("`{channel}` in {}", path.display());
    let version = match output {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let reason = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            let hint = match &pinned {
                Some((path, Some(channel))) => format!(
                    "; the pinned toolchain ({}) may not be installed: `rustup toolchain install {channel}`",
                    pin_text(path, channel)
                ),
                _ => String::new(),
            };
            return Check::new(
                Status::Fail,
                format!("`rustc --version` failed: {}{hint}", reason.trim()),
            );
        }
        Err(e) => {
            return Check::new(
                Status::Fail,
                format!(
                    "cannot run `{}`: {}; install Rust from https://rustup.rs",
                    rustc.to_string_lossy(),
                    walk::io_reason(&e)
                ),
            );
        }
    };
    match pinned {
        None => Check::new(
            Status::Ok,
            format!("{version} (no rust-toolchain.toml above this directory)"),
        ),
        Some((path, None)) => Check::new(
            Status::Warn,
            format!("{version}; {} pins no channel", path.display()),
        ),
        Some((path, Some(channel))) => match version_matches(&channel, &version) {
            Some(true) => Check::new(
                Status::Ok,
                format!("{version}, as pinned ({})", pin_text(&path, &channel)),
            ),
            Some(false) => Check::new(
                Status::Warn,
                format!(
                    "{version}, but {} pins {channel}: builds may differ (UI test output is recorded on the pinned toolchain)",
                    path.display()
                ),
            ),
            None => Check::new(
                Status::Ok,
                format!("{version} (pinned channel {})", pin_text(&path, &channel)),
            ),
        },
    }
}

/// Whether something accepts TCP connections at `addr`.
pub fn service(name: &str, addr: SocketAddr, needed_for: &str) -> Check {
    match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
        Ok(_) => Check::new(Status::Ok, format!("{name} is listening on {addr}")),
        Err(e) => Check::new(
            Status::Info,
            format!(
                "{name} is not reachable on {addr} ({}); needed only for {needed_for}",
                walk::io_reason(&e)
            ),
        ),
    }
}

/// True when `path` (relative to the walked directory) is under a `src` directory.
pub fn under_src(path: &Path) -> bool {
    path.components()
        .any(|c| matches!(c, Component::Normal(n) if n == "src"))
}

/// One line per ONEX document under `dir`, and whether any of them blocks building.
pub fn contracts(dir: &Path) -> (Vec<Check>, usize) {
    let walked = walk::walk(&[dir.to_path_buf()]);
    let mut checks = Vec::new();
    let mut ignored = 0;
    for e in &walked.errors {
        checks.push(Check::new(Status::Warn, e.message.clone()));
    }
    for target in &walked.files {
        let shown = target.path.strip_prefix(dir).unwrap_or(&target.path);
        let report = validate::check_path(&target.path, false);
        if report.is_fragment() {
            ignored += 1;
            continue;
        }
        let kind = report
            .kind()
            .map_or_else(|| "invalid YAML".to_owned(), |k| k.describe());
        let (errors, warnings) = (report.count(Level::Error), report.count(Level::Warning));
        let status = match (errors, under_src(shown)) {
            (0, _) => Status::Ok,
            (_, true) => Status::Fail,
            (_, false) => Status::Warn,
        };
        let what = match (errors, warnings) {
            (0, 0) => "valid".to_owned(),
            (0, w) => render::count(w, "warning"),
            (e, 0) => render::count(e, "error"),
            (e, w) => format!(
                "{}, {}",
                render::count(e, "error"),
                render::count(w, "warning")
            ),
        };
        checks.push(Check::new(
            status,
            format!("{what:<20} {} ({kind})", shown.display()),
        ));
    }
    (checks, ignored)
}

/// Runs every check from `dir`: the report and the exit code.
pub fn run(dir: &Path) -> (String, u8) {
    let mut out = String::new();
    let _ = writeln!(out, "onex doctor in {}\n", dir.display());
    let toolchain = toolchain(dir);
    let services = [
        service(
            "PostgreSQL",
            SocketAddr::from(([127, 0, 0, 1], 5432)),
            "the PostgreSQL-backed examples and their ignored tests",
        ),
        service(
            "NATS",
            SocketAddr::from(([127, 0, 0, 1], 4222)),
            "the `nats` feature (NatsBus, node host on JetStream) and its ignored tests",
        ),
    ];
    let (contract_checks, ignored) = contracts(dir);
    out.push_str("Toolchain\n");
    line(&mut out, &toolchain);
    out.push_str("\nServices (optional)\n");
    services.iter().for_each(|c| line(&mut out, c));
    let _ = writeln!(
        out,
        "\nContracts ({} under this directory{})",
        contract_checks.len(),
        if ignored > 0 {
            match ignored {
                1 => "; 1 other YAML file is not a contract".to_owned(),
                n => format!("; {n} other YAML files are not contracts"),
            }
        } else {
            String::new()
        }
    );
    if contract_checks.is_empty() {
        out.push_str("  none found\n");
    }
    contract_checks.iter().for_each(|c| line(&mut out, c));
    let blocking: Vec<&Check> = std::iter::once(&toolchain)
        .chain(&contract_checks)
        .filter(|c| c.status == Status::Fail)
        .collect();
    if blocking.is_empty() {
        out.push_str("\nNothing blocks building.\n");
        (out, 0)
    } else {
        let _ = writeln!(
            out,
            "\n{} problem(s) block building; `onex validate <file>` shows contract errors in full.",
            blocking.len()
        );
        (out, 1)
    }
}

fn line(out: &mut String, check: &Check) {
    let _ = writeln!(out, "  {} {}", check.status.tag(), check.text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn src_contracts_block_building() {
        assert!(under_src(Path::new("examples/a/src/contract.yaml")));
        assert!(!under_src(Path::new("tests/fixtures/bad.yaml")));
        assert!(!under_src(Path::new("srcs/bad.yaml")));
    }

    #[test]
    fn toolchain_files() {
        assert_eq!(parse_toolchain_file("[toolchain]\ncomponents = []\n"), None);
        assert_eq!(parse_toolchain_file(""), None);
        assert_eq!(parse_toolchain_file("1.80.0").as_deref(), Some("1.80.0"));
    }

    #[test]
    fn closed_port_is_informational() {
        // Port 9 (discard) is closed on test machines; even if it were open, the check passes.
        let check = service("probe", SocketAddr::from(([127, 0, 0, 1], 9)), "nothing");
        assert!(matches!(check.status, Status::Ok | Status::Info));
    }
}
