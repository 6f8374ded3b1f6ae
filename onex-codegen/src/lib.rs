//! Code generation for onex.
