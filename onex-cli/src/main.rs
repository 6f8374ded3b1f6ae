//! The `onex` binary: parses the command line and runs it (see the `onex_cli` library).

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    ExitCode::from(onex_cli::cli::run(onex_cli::cli::Cli::parse()))
}
