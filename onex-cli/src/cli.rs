//! The command line: clap definitions and dispatch to the subcommands.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::render::{self, Style};
use crate::{doctor, fingerprint, graph, validate};

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: contract errors (or drift under `fingerprint --check`).
pub const EXIT_ERRORS: u8 = 1;
/// Exit code: usage or I/O problems (a path that cannot be read, nothing to do).
pub const EXIT_USAGE: u8 = 2;

/// Tools for ONEX node contracts.
#[derive(Debug, Parser)]
#[command(name = "onex", version, about, propagate_version = true)]
pub struct Cli {
    /// When to use colors in human output.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// When to use colors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When stdout is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate contracts with the rules the node macros apply.
    Validate(ValidateArgs),
    /// Print, check or write contract fingerprints.
    Fingerprint(FingerprintArgs),
    /// Draw a reducer's state machine or an orchestrator's workflow.
    Graph(GraphArgs),
    /// Check the toolchain, optional services and the contracts under this directory.
    Doctor,
    /// Print the JSON Schema of the contract format (for YAML editors).
    Schema(SchemaArgs),
    /// Create a node crate that builds and passes its test, or port a node's contract.
    New(crate::new::NewArgs),
}

/// `onex validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Contract files and directories to walk for .yaml/.yml files [default: .]
    pub paths: Vec<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long)]
    pub strict: bool,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
}

/// Report formats of `onex validate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// rustc-like diagnostics with source snippets.
    Human,
    /// One JSON document (see `onex_cli::render::json`).
    Json,
}

/// `onex fingerprint`.
#[derive(Debug, Args)]
pub struct FingerprintArgs {
    /// Contract files and directories to walk for .yaml/.yml files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Exit 1 when a declared fingerprint is missing or differs from the computed one.
    #[arg(long, conflicts_with = "write")]
    pub check: bool,
    /// Rewrite the `fingerprint:` line (or insert one after `contract_version`).
    #[arg(long)]
    pub write: bool,
}

/// `onex graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// A reducer or orchestrator contract.
    pub file: PathBuf,
    /// Output language.
    #[arg(long, value_enum, default_value_t = graph::Format::Mermaid)]
    pub format: graph::Format,
}

/// `onex schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Write the schema to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> u8 {
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let style = Style {
        color,
        width: render::WIDTH,
    };
    match cli.command {
        Command::Validate(args) => {
            let paths = if args.paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                args.paths
            };
            let report = validate::validate(&paths, args.strict);
            let text = match args.format {
                ReportFormat::Human => render::human(&report, style),
                ReportFormat::Json => render::json(&report),
            };
            emit(&text, "");
            report.exit_code()
        }
        Command::Fingerprint(args) => {
            let mode = if args.check {
                fingerprint::Mode::Check
            } else if args.write {
                fingerprint::Mode::Write
            } else {
                fingerprint::Mode::Print
            };
            let (out, err, code) = fingerprint::run(&args.paths, mode);
            emit(&out, &err);
            code
        }
        Command::Graph(args) => graph_command(&args, style),
        Command::New(args) => {
            let (out, err, code) = crate::new::run(&args, style);
            emit(&out, &err);
            code
        }
        Command::Schema(args) => {
            let (out, err, code) = crate::schema::run(args.output.as_deref());
            emit(&out, &err);
            code
        }
        Command::Doctor => match std::env::current_dir() {
            Ok(dir) => {
                let (out, code) = doctor::run(&dir);
                emit(&out, "");
                code
            }
            Err(e) => {
                emit(
                    "",
                    &format!("error: cannot read the current directory: {e}\n"),
                );
                EXIT_USAGE
            }
        },
    }
}

fn graph_command(args: &GraphArgs, style: Style) -> u8 {
    let report = validate::check_path(&args.file, false);
    if report.unreadable() {
        let text: String = report.findings.iter().map(render::plain).collect();
        emit("", &text);
        return EXIT_USAGE;
    }
    if report.loaded.has_errors() {
        let mut text = String::new();
        for f in report
            .findings
            .iter()
            .filter(|f| f.severity == validate::Level::Error)
        {
            let source = report
                .loaded
                .sources
                .get(f.source)
                .map_or("", |s| s.text.as_str());
            text.push_str(&render::finding(f, source, style));
            text.push('\n');
        }
        text.push_str("error: the contract has errors; fix them to draw its graph\n");
        emit("", &text);
        return EXIT_ERRORS;
    }
    match graph::draw(&report.loaded, args.format) {
        Ok(text) => {
            emit(&text, "");
            EXIT_OK
        }
        Err(message) => {
            emit("", &format!("error: {}: {message}\n", args.file.display()));
            EXIT_ERRORS
        }
    }
}

/// Writes to stdout and stderr; a closed pipe (`onex … | head`) is not an error.
fn emit(out: &str, err: &str) {
    if !out.is_empty() {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout
            .write_all(out.as_bytes())
            .and_then(|()| stdout.flush());
    }
    if !err.is_empty() {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr
            .write_all(err.as_bytes())
            .and_then(|()| stderr.flush());
    }
}
