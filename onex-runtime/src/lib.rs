//! onex: ONEX nodes declared from their YAML contracts at compile time.
#![doc = "(crate docs are completed in a later step)"]

mod context;
mod envelope;
mod error;
mod node;

pub use context::EffectContext;
pub use envelope::{Envelope, EnvelopeMetadata, SemVer};
pub use error::{ErrorCode, OnexError};
pub use node::{
    ContractInfo, EffectNode, NodeInput, NodeKind, NodeOutput, OperationInfo, RoutingStrategy,
    Version,
};
