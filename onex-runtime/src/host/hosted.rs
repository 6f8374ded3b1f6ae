//! One adapter per node kind: what the host calls to process an envelope.
//!
//! Every adapter turns JSON bytes into a JSON reply envelope through the node kind's own
//! `process_json`, so decoding, validation, correlation and causation are exactly those of
//! the node traits; the host adds transport (subscriptions, replies, DLQ, retries) around it.

use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::envelope::Envelope;
use crate::error::OnexError;
use crate::fsm::{FsmExecutor, ReducerNode};
use crate::node::{ComputeNode, ContractInfo, EffectNode};
use crate::workflow::{OrchestratorNode, WorkflowExecutor};

/// A node as the host sees it: a contract and a JSON-in, JSON-out processing step.
pub(crate) trait Hosted: Send + Sync + 'static {
    /// The node's contract (name, kind, topics).
    fn contract(&self) -> &'static ContractInfo;

    /// How many envelopes may be processed at once, given the configured limit.
    fn concurrency(&self, configured: usize) -> usize {
        configured
    }

    /// Processes one JSON envelope. The work happens when the future is polled (never in
    /// this call), so the host's panic guard around the future covers all of it.
    fn process<'a>(&'a self, json: &'a [u8]) -> BoxFuture<'a, Result<Envelope<Value>, OnexError>>;

    /// Why the node cannot serve well right now, if it cannot (reported by the host's
    /// health as a degraded reason).
    ///
    /// An effect node reports its circuit breakers that are not closed (the contract's
    /// `circuit_breaker` per operation, see [`crate::policy`]).
    fn degraded_reason(&self) -> Option<String> {
        None
    }
}

/// An EFFECT node: processed concurrently, up to the configured limit.
pub(crate) struct EffectAdapter<N>(pub(crate) Arc<N>);

impl<N: EffectNode> Hosted for EffectAdapter<N> {
    fn contract(&self) -> &'static ContractInfo {
        N::CONTRACT
    }

    fn process<'a>(&'a self, json: &'a [u8]) -> BoxFuture<'a, Result<Envelope<Value>, OnexError>> {
        Box::pin(self.0.process_json(json))
    }

    fn degraded_reason(&self) -> Option<String> {
        let tripped: Vec<String> = N::policy_state()?
            .tripped()
            .map(|(i, state)| {
                let op = N::CONTRACT.operations.get(i).map_or("?", |op| op.name);
                format!("`{op}` {}", state.as_str())
            })
            .collect();
        (!tripped.is_empty()).then(|| format!("circuit breaker not closed: {}", tripped.join(", ")))
    }
}

/// A COMPUTE node: synchronous and pure, run on the worker task (keep handlers short, or
/// offload heavy work inside them).
pub(crate) struct ComputeAdapter<N>(pub(crate) Arc<N>);

impl<N: ComputeNode> Hosted for ComputeAdapter<N> {
    fn contract(&self) -> &'static ContractInfo {
        N::CONTRACT
    }

    fn process<'a>(&'a self, json: &'a [u8]) -> BoxFuture<'a, Result<Envelope<Value>, OnexError>> {
        Box::pin(async move { self.0.process_json(json) })
    }
}

/// A REDUCER: a sequential fold over its state, so one envelope at a time, in delivery
/// order.
pub(crate) struct ReducerAdapter<R: ReducerNode>(pub(crate) Mutex<FsmExecutor<R>>);

impl<R> Hosted for ReducerAdapter<R>
where
    R: ReducerNode,
    R::Context: DeserializeOwned,
{
    fn contract(&self) -> &'static ContractInfo {
        R::CONTRACT
    }

    fn concurrency(&self, _configured: usize) -> usize {
        1
    }

    fn process<'a>(&'a self, json: &'a [u8]) -> BoxFuture<'a, Result<Envelope<Value>, OnexError>> {
        Box::pin(async move {
            // The executor changes its state only once a transition is taken, so a panic
            // elsewhere leaves it consistent: a poisoned lock is safe to take over.
            let mut fsm = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            fsm.process_json(json)
        })
    }
}

/// An ORCHESTRATOR: each envelope runs one workflow, concurrently up to the limit.
pub(crate) struct OrchestratorAdapter<N: OrchestratorNode>(pub(crate) WorkflowExecutor<N>);

impl<N> Hosted for OrchestratorAdapter<N>
where
    N: OrchestratorNode,
    N::Input: DeserializeOwned,
{
    fn contract(&self) -> &'static ContractInfo {
        N::CONTRACT
    }

    fn process<'a>(&'a self, json: &'a [u8]) -> BoxFuture<'a, Result<Envelope<Value>, OnexError>> {
        Box::pin(self.0.process_json(json))
    }
}
