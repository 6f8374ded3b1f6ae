//! User's-eye tests of onex live in this package's test targets (`ui.rs`, …); this library is
//! empty on purpose.
