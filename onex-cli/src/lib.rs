//! The `onex` command: tools for ONEX node contracts (DESIGN.md §9).
//!
//! - `onex validate [PATHS…] [--strict] [--format human|json]`: every contract checked with
//!   the rules the node macros apply, reported like rustc (exit 0 clean, 1 errors, 2 usage
//!   or I/O problems);
//! - `onex fingerprint [--check|--write] PATHS…`: the ONEX fingerprint of each contract;
//! - `onex graph FILE [--format mermaid|dot]`: a reducer's state machine or an
//!   orchestrator's workflow;
//! - `onex doctor`: toolchain, optional services and the contracts under this directory.
//! - `onex schema [--output FILE]`: the JSON Schema of the contract format, for YAML editors.
//! - `onex new effect|compute|reducer|orchestrator NAME [--dir D] [--from-contract FILE]`: a
//!   node crate that builds and passes its test at once, or a Rust port of a node's contract.
//!
//! Every rule comes from `onex-contracts`, so the command and the macros always agree. The
//! modules are usable as a library (the binary is a thin wrapper over [`cli::run`]);
//! semver-exempt internals of onex.

pub mod cli;
pub mod doctor;
pub mod fingerprint;
pub mod graph;
pub mod new;
pub mod render;
pub mod rewrite;
pub mod schema;
pub mod validate;
pub mod walk;
