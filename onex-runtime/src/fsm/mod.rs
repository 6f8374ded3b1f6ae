//! Reducers: finite-state machines generated from a contract's FSM section.
//!
//! `#[reducer_node]` generates `{Node}State`, `{Node}Trigger` and `{Node}Intent` (they
//! implement [`FsmState`] and [`FsmName`]) and `impl ReducerNode`, whose
//! [`reduce`](ReducerNode::reduce) is a generated `match` on `(state, trigger)`: no table
//! lookups at run time. A reducer never does I/O: taking a transition yields the intents of
//! its actions (exit, transition, entry, in that order) for someone else to execute.
//!
//! [`FsmExecutor`] drives a reducer over a stream of triggers, keeps the current state and a
//! bounded history, snapshots and restores, and serves envelopes.
//!
//! ```
//! use onex_runtime::{reducer_node, FsmError, FsmExecutor};
//!
//! #[reducer_node(contract = "contracts/turnstile.yaml", relative_to = manifest)]
//! pub struct Turnstile;
//!
//! let mut fsm = FsmExecutor::new(Turnstile);
//! assert_eq!(fsm.state(), TurnstileState::Locked);
//!
//! // The guard `cents >= 50` reads the context model `ModelCoin` from `definitions`.
//! let err = fsm.fire(TurnstileTrigger::Coin, &turnstile::ModelCoin { cents: 20 }).unwrap_err();
//! assert!(matches!(err, FsmError::GuardRejected { transition: "pay", .. }));
//! assert_eq!(fsm.state(), TurnstileState::Locked); // unchanged
//!
//! let t = fsm.fire(TurnstileTrigger::Coin, &turnstile::ModelCoin { cents: 50 }).unwrap();
//! assert_eq!(t.to, TurnstileState::Unlocked);
//! assert_eq!(t.intents, &[TurnstileIntent::CountCoin, TurnstileIntent::ReleaseArm]);
//!
//! // Envelopes: `{"trigger": …, "context": …}`; bad input is a typed error.
//! let bad = br#"{"payload": {"trigger": "kick", "context": {"cents": 0}},
//!               "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
//!               "envelope_timestamp": "2026-11-20T12:30:45Z"}"#;
//! assert_eq!(fsm.process_json(bad).unwrap_err().code().as_str(), "ONEX_CORE_007_INVALID_INPUT");
//! assert_eq!(fsm.state(), TurnstileState::Unlocked);
//! ```

pub mod executor;
pub mod guard;

use std::fmt::{Debug, Display};
use std::hash::Hash;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ErrorCode, OnexError};
use crate::node::ContractInfo;

pub use executor::{FsmExecutor, FsmSnapshot, HistoryEntry, ReducerInput};

/// A generated enum whose variants are the contract's names (states, triggers, intents).
pub trait FsmName:
    Copy + Eq + Hash + Debug + Display + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// Every variant, in contract order.
    const ALL: &'static [Self];
    /// The contract's name for the variant.
    fn as_str(self) -> &'static str;
    /// The variant the contract names so.
    fn from_name(name: &str) -> Option<Self>;
}

/// A generated state enum.
pub trait FsmState: FsmName {
    /// The contract's `initial_state`.
    const INITIAL: Self;
    /// True for terminal states (`is_terminal` or `terminal_states`).
    fn is_terminal(self) -> bool;
}

/// A transition that was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Transition<S: 'static, T, I: 'static> {
    /// The state before.
    #[serde(rename = "from_state")]
    pub from: S,
    /// The state after.
    #[serde(rename = "to_state")]
    pub to: S,
    /// The trigger that fired it.
    pub trigger: T,
    /// The contract's `transition_name`.
    #[serde(rename = "transition_name")]
    pub name: &'static str,
    /// The intents to emit, in order: the old state's exit actions, the transition's
    /// actions, the new state's entry actions.
    pub intents: &'static [I],
}

/// The [`Transition`] type of a reducer: `Transition<R::State, R::Trigger, R::Intent>`.
pub type TransitionOf<R> =
    Transition<<R as ReducerNode>::State, <R as ReducerNode>::Trigger, <R as ReducerNode>::Intent>;

/// Why a trigger did not move the machine. The state is unchanged in every case.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FsmError {
    /// No transition (exact or wildcard) for the trigger in the state.
    #[error("no transition for trigger `{trigger}` from state `{state}`")]
    NoTransition {
        /// The current state.
        state: &'static str,
        /// The trigger.
        trigger: &'static str,
    },
    /// Candidates exist but none has all its required conditions true.
    #[error(
        "transition `{transition}` ({state} -> {to}) rejected: condition{} not met: {}",
        if failed.len() == 1 { "" } else { "s" },
        failed.join("; ")
    )]
    GuardRejected {
        /// The current state.
        state: &'static str,
        /// The trigger.
        trigger: &'static str,
        /// The highest-priority candidate.
        transition: &'static str,
        /// Its target.
        to: &'static str,
        /// Its required conditions that were false, as written, in declaration order.
        failed: Vec<&'static str>,
    },
    /// A trigger name the contract does not declare.
    #[error("unknown trigger `{name}`; the contract declares: {}", expected.join(", "))]
    UnknownTrigger {
        /// The name received.
        name: String,
        /// The declared triggers.
        expected: Vec<&'static str>,
    },
    /// A state name the contract does not declare (restoring a snapshot).
    #[error("unknown state `{name}`; the contract declares: {}", expected.join(", "))]
    UnknownState {
        /// The name received.
        name: String,
        /// The declared states.
        expected: Vec<&'static str>,
    },
    /// A snapshot taken from another state machine.
    #[error("the snapshot is of FSM `{found}`, not `{expected}`")]
    SnapshotMismatch {
        /// This machine's `state_machine_name`.
        expected: &'static str,
        /// The snapshot's.
        found: String,
    },
    /// A snapshot that is not a valid snapshot document (malformed JSON, missing fields).
    #[error("invalid FSM snapshot: {message}")]
    InvalidSnapshot {
        /// What is wrong, and where.
        message: String,
    },
}

impl FsmError {
    /// The ONEX error code for this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            FsmError::NoTransition { .. } | FsmError::GuardRejected { .. } => ErrorCode::Validation,
            FsmError::UnknownTrigger { .. }
            | FsmError::UnknownState { .. }
            | FsmError::SnapshotMismatch { .. }
            | FsmError::InvalidSnapshot { .. } => ErrorCode::InvalidInput,
        }
    }
}

impl From<FsmError> for OnexError {
    fn from(e: FsmError) -> OnexError {
        let code = e.code();
        let mut err = OnexError::new(code, e.to_string());
        match &e {
            FsmError::NoTransition { state, trigger } => {
                err = err
                    .with_context("state", *state)
                    .with_context("trigger", *trigger);
            }
            FsmError::GuardRejected {
                state,
                trigger,
                transition,
                failed,
                ..
            } => {
                err = err
                    .with_context("state", *state)
                    .with_context("trigger", *trigger)
                    .with_context("transition", *transition)
                    .with_context("failed_conditions", failed.clone());
            }
            FsmError::UnknownTrigger { name, .. } => {
                err = err.with_context("trigger", name.clone())
            }
            FsmError::UnknownState { name, .. } => err = err.with_context("state", name.clone()),
            FsmError::SnapshotMismatch { expected, found } => {
                err = err
                    .with_context("expected_fsm", *expected)
                    .with_context("found_fsm", found.clone());
            }
            FsmError::InvalidSnapshot { .. } => {}
        }
        err
    }
}

/// The FSM section of a contract, as embedded at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsmInfo {
    /// `state_machine_name` (or the node's name).
    pub name: &'static str,
    /// `initial_state`.
    pub initial: &'static str,
    /// States, in declaration order.
    pub states: &'static [&'static str],
    /// Terminal states.
    pub terminal: &'static [&'static str],
    /// Triggers, in order of first appearance.
    pub triggers: &'static [&'static str],
    /// Action names (intents), in order of first appearance.
    pub intents: &'static [&'static str],
    /// `persistence_enabled`.
    pub persistence: bool,
}

/// A REDUCER node: a pure state machine. Implemented by `#[reducer_node]`.
pub trait ReducerNode: Send + Sync + 'static {
    /// The state enum.
    type State: FsmState;
    /// The trigger enum.
    type Trigger: FsmName;
    /// The intent enum (one variant per action name).
    type Intent: FsmName;
    /// The context the guards read (the contract's `input_model`, or `context = Type`).
    type Context: Send + Sync + 'static;
    /// The contract, as embedded at compile time.
    const CONTRACT: &'static ContractInfo;
    /// The FSM section, as embedded at compile time.
    const FSM: &'static FsmInfo;

    /// Takes the transition for `trigger` in `state`: candidates are the exact
    /// `(state, trigger)` transitions, else the wildcard ones, highest `priority` first
    /// (declaration order breaking ties); the first whose required conditions all hold
    /// wins. Never changes anything: the caller keeps the state.
    fn reduce(
        &self,
        state: Self::State,
        trigger: Self::Trigger,
        context: &Self::Context,
    ) -> Result<TransitionOf<Self>, FsmError>;
}
