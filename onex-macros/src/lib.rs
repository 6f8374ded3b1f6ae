//! onex macros.
