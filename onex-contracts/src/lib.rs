//! The ONEX contract layer of onex: parse, validate and fingerprint ONEX node contracts.
//!
//! No proc-macro dependencies: the macros, the runtime and the `onex` command all read
//! contracts through this crate, so they always agree. Semver-exempt internals of onex.
//!
//! ```
//! use std::path::Path;
//! let yaml = "
//! name: greeter
//! node_type: COMPUTE_GENERIC
//! contract_version: {major: 1, minor: 0, patch: 0}
//! input_model: pkg.models.ModelGreeting
//! output_model: pkg.models.ModelReply
//! ";
//! let loaded = onex_contracts::load::load_source(Path::new("greeter.yaml"), "greeter.yaml", yaml.into());
//! assert!(!loaded.has_errors());
//! let ops = loaded.operations.unwrap();
//! assert_eq!(ops.operations[0].name.value, "process");
//! assert_eq!(loaded.fingerprint.unwrap().to_string().len(), "1.0.0:".len() + 12);
//! ```

pub mod attribute;
pub mod db;
pub mod diag;
pub mod fingerprint;
pub mod fsm;
pub mod kind;
pub mod load;
pub mod model;
pub mod names;
pub mod operations;
pub mod policy;
pub mod read;
pub mod schema;
pub mod valid;
pub mod workflow;
pub mod yaml;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use kind::NodeKind;
pub use load::{Loaded, load_file, load_source};
pub use model::{Contract, DocumentKind};
