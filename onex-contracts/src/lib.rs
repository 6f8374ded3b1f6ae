//! The ONEX contract layer of onex: parse, validate and fingerprint ONEX node contracts.
//!
//! No proc-macro dependencies: the macros, the runtime and the `onex` command all read
//! contracts through this crate, so they always agree. Semver-exempt internals of onex.

pub mod yaml;
