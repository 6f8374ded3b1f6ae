//! [`FsmExecutor`]: drives a [`ReducerNode`] over a stream of triggers.
//!
//! The executor owns the node and the current state (starting at the contract's
//! `initial_state`), applies each trigger through the node's generated
//! [`reduce`](ReducerNode::reduce), and changes state only when a transition is taken. It
//! keeps a bounded history of the transitions taken, counts transitions and rejections,
//! snapshots and restores (as JSON or any serde format), and serves envelopes.
//!
//! # Wire form
//!
//! An envelope for a reducer carries the trigger's contract name and the guard context:
//!
//! ```json
//! {"payload": {"trigger": "submit", "context": {"retry_count": 1}}, "envelope_id": "…", …}
//! ```
//!
//! `context` may be left out when every field of the context model is optional (or the
//! context is `()`). The reply keeps the correlation id and carries the transition taken:
//!
//! ```json
//! {"from_state": "draft", "to_state": "review", "trigger": "submit",
//!  "transition_name": "submit_ratio", "intents": ["close_draft", "notify_reviewers"]}
//! ```

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::{FsmError, FsmName, FsmState, ReducerNode, Transition, TransitionOf};
use crate::envelope::Envelope;
use crate::error::OnexError;

/// The number of transitions [`FsmExecutor::new`] remembers.
pub const DEFAULT_HISTORY: usize = 64;

/// One transition taken, as remembered by the executor's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry<S, T> {
    /// The transition's number: 1 for the first transition the executor (or the one its
    /// snapshot came from) ever took.
    pub seq: u64,
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
    pub transition: Cow<'static, str>,
}

/// The state of an [`FsmExecutor`], to persist and [`restore`](FsmExecutor::restore) later.
///
/// Serialized (for example with `serde_json`) as
/// `{"fsm": "<state_machine_name>", "state": "<state>", "history": [...], "taken": N, "rejected": N}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsmSnapshot<S, T> {
    /// The `state_machine_name` of the machine it was taken from.
    pub fsm: String,
    /// The current state.
    pub state: S,
    /// The remembered transitions, oldest first.
    pub history: Vec<HistoryEntry<S, T>>,
    /// Transitions taken so far.
    pub taken: u64,
    /// Triggers rejected so far (absent in a snapshot means 0).
    #[serde(default)]
    pub rejected: u64,
}

/// The payload of an envelope sent to a reducer: `{"trigger": "<name>", "context": {...}}`.
///
/// `context` may be omitted when the context type can be read from an empty object (every
/// field optional or defaulted) or from `null` (`()`, `Option<_>`); otherwise it is a
/// missing-field error. Other keys are ignored.
///
/// ```
/// use onex_runtime::fsm::ReducerInput;
///
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct Ctx { retries: Option<u32> }
///
/// let input: ReducerInput<String, Ctx> = serde_json::from_str(r#"{"trigger": "start"}"#).unwrap();
/// assert_eq!(input.context, Ctx { retries: None });
/// let input: ReducerInput<String, ()> = serde_json::from_str(r#"{"trigger": "start"}"#).unwrap();
/// assert_eq!(input.trigger, "start");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReducerInput<T, C> {
    /// The trigger to fire.
    pub trigger: T,
    /// The context its guards read.
    pub context: C,
}

/// Reads a context that the input left out: from an empty object, else from `null`.
fn absent_context<'de, C: Deserialize<'de>>() -> Option<C> {
    type E = de::value::Error;
    let empty = de::value::MapDeserializer::<_, E>::new(std::iter::empty::<(&str, ())>());
    C::deserialize(empty)
        .or_else(|_| C::deserialize(IntoDeserializer::<E>::into_deserializer(())))
        .ok()
}

impl<'de, T: Deserialize<'de>, C: Deserialize<'de>> Deserialize<'de> for ReducerInput<T, C> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct InputVisitor<T, C>(PhantomData<(T, C)>);

        impl<'de, T: Deserialize<'de>, C: Deserialize<'de>> Visitor<'de> for InputVisitor<T, C> {
            type Value = ReducerInput<T, C>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"an FSM input {"trigger": "<name>", "context": {...}}"#)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut trigger = None;
                let mut context = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "trigger" if trigger.is_some() => {
                            return Err(de::Error::duplicate_field("trigger"));
                        }
                        "trigger" => trigger = Some(map.next_value()?),
                        "context" if context.is_some() => {
                            return Err(de::Error::duplicate_field("context"));
                        }
                        "context" => context = Some(map.next_value()?),
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                let trigger = trigger.ok_or_else(|| de::Error::missing_field("trigger"))?;
                let context = match context {
                    Some(c) => c,
                    None => absent_context().ok_or_else(|| de::Error::missing_field("context"))?,
                };
                Ok(ReducerInput { trigger, context })
            }
        }

        deserializer.deserialize_map(InputVisitor(PhantomData))
    }
}

/// Drives a reducer: current state, bounded history, counters, snapshots, envelopes.
///
/// ```
/// # use onex_runtime::fsm::{FsmError, FsmExecutor, FsmInfo, FsmName, FsmState, ReducerNode, Transition};
/// # use onex_runtime::{ContractInfo, NodeKind, RoutingStrategy, Version};
/// # use serde::{Deserialize, Serialize};
/// # macro_rules! names {
/// #     ($ty:ident { $($v:ident = $s:literal),* }) => {
/// #         #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
/// #         enum $ty { $(#[serde(rename = $s)] $v),* }
/// #         impl std::fmt::Display for $ty {
/// #             fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.pad(self.as_str()) }
/// #         }
/// #         impl FsmName for $ty {
/// #             const ALL: &'static [Self] = &[$($ty::$v),*];
/// #             fn as_str(self) -> &'static str { match self { $($ty::$v => $s),* } }
/// #             fn from_name(name: &str) -> Option<Self> { match name { $($s => Some($ty::$v),)* _ => None } }
/// #         }
/// #     };
/// # }
/// # names!(State { Off = "off", On = "on" });
/// # names!(Trigger { Toggle = "toggle" });
/// # names!(Intent { Click = "click" });
/// # impl FsmState for State { const INITIAL: Self = State::Off; fn is_terminal(self) -> bool { false } }
/// # struct Switch;
/// # impl ReducerNode for Switch {
/// #     type State = State; type Trigger = Trigger; type Intent = Intent; type Context = ();
/// #     const CONTRACT: &'static ContractInfo = &ContractInfo {
/// #         name: "switch", kind: NodeKind::Reducer, node_type: "REDUCER_GENERIC",
/// #         contract_version: Version { major: 1, minor: 0, patch: 0 },
/// #         node_version: Version { major: 1, minor: 0, patch: 0 }, description: "",
/// #         fingerprint: "1.0.0:000000000000", declared_fingerprint: None,
/// #         routing: RoutingStrategy::Single, operations: &[], subscribe_topics: &[], publish_topics: &[], dlq_topics: &[],
/// #     };
/// #     const FSM: &'static FsmInfo = &FsmInfo {
/// #         name: "switch_fsm", initial: "off", states: &["off", "on"], terminal: &[],
/// #         triggers: &["toggle"], intents: &["click"], persistence: false,
/// #     };
/// #     fn reduce(&self, state: State, trigger: Trigger, _: &()) -> Result<Transition<State, Trigger, Intent>, FsmError> {
/// #         let to = match state { State::Off => State::On, State::On => State::Off };
/// #         Ok(Transition { from: state, to, trigger, name: "toggle", intents: &[Intent::Click] })
/// #     }
/// # }
/// // `Switch` is a `#[reducer_node]` (written out by hand here).
/// let mut fsm = FsmExecutor::new(Switch).with_history(1);
/// assert_eq!(fsm.state(), State::Off);
/// let t = fsm.fire(Trigger::Toggle, &()).unwrap();
/// assert_eq!((t.to, t.intents), (State::On, &[Intent::Click][..]));
/// fsm.fire_named("toggle", &()).unwrap();
/// assert_eq!(fsm.state(), State::Off);
/// assert_eq!(fsm.history().count(), 1); // bounded
/// assert!(matches!(fsm.fire_named("push", &()), Err(FsmError::UnknownTrigger { .. })));
///
/// let saved = serde_json::to_vec(&fsm.snapshot()).unwrap();
/// let mut copy = FsmExecutor::new(Switch);
/// copy.restore_json(&saved).unwrap();
/// assert_eq!((copy.state(), copy.taken()), (State::Off, 2));
/// ```
pub struct FsmExecutor<R: ReducerNode> {
    node: R,
    state: R::State,
    history: VecDeque<HistoryEntry<R::State, R::Trigger>>,
    history_cap: usize,
    taken: u64,
    rejected: u64,
}

impl<R: ReducerNode + fmt::Debug> fmt::Debug for FsmExecutor<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FsmExecutor")
            .field("node", &self.node)
            .field("fsm", &R::FSM.name)
            .field("state", &self.state)
            .field("history", &self.history)
            .field("history_cap", &self.history_cap)
            .field("taken", &self.taken)
            .field("rejected", &self.rejected)
            .finish()
    }
}

/// The names of an FSM enum's variants.
fn names<N: FsmName>() -> Vec<&'static str> {
    N::ALL.iter().map(|n| n.as_str()).collect()
}

impl<R: ReducerNode> FsmExecutor<R> {
    /// An executor in the contract's initial state, remembering the last
    /// [`DEFAULT_HISTORY`] transitions.
    pub fn new(node: R) -> Self {
        FsmExecutor {
            node,
            state: R::State::INITIAL,
            history: VecDeque::new(),
            history_cap: DEFAULT_HISTORY,
            taken: 0,
            rejected: 0,
        }
    }

    /// Remembers at most `cap` transitions (0 keeps none), dropping the oldest beyond it.
    #[must_use]
    pub fn with_history(mut self, cap: usize) -> Self {
        self.history_cap = cap;
        self.trim_history();
        self.history.shrink_to(cap);
        self
    }

    fn trim_history(&mut self) {
        let excess = self.history.len().saturating_sub(self.history_cap);
        self.history.drain(..excess);
    }

    /// The reducer node.
    pub fn node(&self) -> &R {
        &self.node
    }

    /// The reducer node, consuming the executor.
    pub fn into_node(self) -> R {
        self.node
    }

    /// The current state.
    pub fn state(&self) -> R::State {
        self.state
    }

    /// True when the current state is terminal. Terminal states are not enforced: a
    /// wildcard transition still fires from them, as in the ONEX reference.
    pub fn is_terminal(&self) -> bool {
        self.state.is_terminal()
    }

    /// Transitions taken so far.
    pub fn taken(&self) -> u64 {
        self.taken
    }

    /// Triggers rejected so far (no transition, or failed guards).
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// How many transitions the history keeps.
    pub fn history_capacity(&self) -> usize {
        self.history_cap
    }

    /// The remembered transitions, oldest first.
    pub fn history(&self) -> impl ExactSizeIterator<Item = &HistoryEntry<R::State, R::Trigger>> {
        self.history.iter()
    }

    /// Fires `trigger` with `ctx`. On `Ok` the machine moved to the transition's target; on
    /// `Err` (no transition, or every candidate's guard failed) the state is unchanged.
    pub fn fire(
        &mut self,
        trigger: R::Trigger,
        ctx: &R::Context,
    ) -> Result<TransitionOf<R>, FsmError> {
        match self.node.reduce(self.state, trigger, ctx) {
            Ok(t) => {
                self.state = t.to;
                self.taken += 1;
                if self.history_cap > 0 {
                    if self.history.len() >= self.history_cap {
                        self.history.pop_front();
                    }
                    self.history.push_back(HistoryEntry {
                        seq: self.taken,
                        from: t.from,
                        to: t.to,
                        trigger: t.trigger,
                        transition: Cow::Borrowed(t.name),
                    });
                }
                tracing::debug!(
                    fsm = R::FSM.name,
                    from = t.from.as_str(),
                    to = t.to.as_str(),
                    trigger = t.trigger.as_str(),
                    transition = t.name,
                    "fsm transition"
                );
                Ok(t)
            }
            Err(e) => {
                self.rejected += 1;
                tracing::debug!(
                    fsm = R::FSM.name,
                    state = self.state.as_str(),
                    trigger = trigger.as_str(),
                    error = %e,
                    "fsm trigger rejected"
                );
                Err(e)
            }
        }
    }

    /// Fires the trigger the contract names `trigger`; an undeclared name is
    /// [`FsmError::UnknownTrigger`] (and changes nothing, not even the counters).
    pub fn fire_named(
        &mut self,
        trigger: &str,
        ctx: &R::Context,
    ) -> Result<TransitionOf<R>, FsmError> {
        let t = R::Trigger::from_name(trigger).ok_or_else(|| FsmError::UnknownTrigger {
            name: trigger.to_owned(),
            expected: names::<R::Trigger>(),
        })?;
        self.fire(t, ctx)
    }

    /// The executor's state, to persist.
    pub fn snapshot(&self) -> FsmSnapshot<R::State, R::Trigger> {
        FsmSnapshot {
            fsm: R::FSM.name.to_owned(),
            state: self.state,
            history: self.history.iter().cloned().collect(),
            taken: self.taken,
            rejected: self.rejected,
        }
    }

    /// Restores a snapshot of this machine (its history cut to this executor's capacity,
    /// oldest dropped). A snapshot of another machine is [`FsmError::SnapshotMismatch`] and
    /// changes nothing.
    pub fn restore(&mut self, snapshot: FsmSnapshot<R::State, R::Trigger>) -> Result<(), FsmError> {
        if snapshot.fsm != R::FSM.name {
            return Err(FsmError::SnapshotMismatch {
                expected: R::FSM.name,
                found: snapshot.fsm,
            });
        }
        let skip = snapshot.history.len().saturating_sub(self.history_cap);
        self.state = snapshot.state;
        self.history = snapshot.history.into_iter().skip(skip).collect();
        self.taken = snapshot.taken;
        self.rejected = snapshot.rejected;
        Ok(())
    }

    /// Restores a JSON snapshot that comes from outside. Malformed JSON is
    /// [`FsmError::InvalidSnapshot`], another machine's snapshot
    /// [`FsmError::SnapshotMismatch`], a state or trigger this contract does not declare
    /// [`FsmError::UnknownState`] / [`FsmError::UnknownTrigger`]; in every error case the
    /// executor is unchanged.
    pub fn restore_json(&mut self, json: &[u8]) -> Result<(), FsmError> {
        #[derive(Deserialize)]
        struct RawEntry {
            seq: u64,
            from_state: String,
            to_state: String,
            trigger: String,
            transition_name: String,
        }
        #[derive(Deserialize)]
        struct RawSnapshot {
            fsm: String,
            state: String,
            #[serde(default)]
            history: Vec<RawEntry>,
            taken: u64,
            #[serde(default)]
            rejected: u64,
        }
        let raw: RawSnapshot =
            serde_json::from_slice(json).map_err(|e| FsmError::InvalidSnapshot {
                message: e.to_string(),
            })?;
        if raw.fsm != R::FSM.name {
            return Err(FsmError::SnapshotMismatch {
                expected: R::FSM.name,
                found: raw.fsm,
            });
        }
        let state = |name: String| {
            R::State::from_name(&name).ok_or_else(|| FsmError::UnknownState {
                name,
                expected: names::<R::State>(),
            })
        };
        let trigger = |name: String| {
            R::Trigger::from_name(&name).ok_or_else(|| FsmError::UnknownTrigger {
                name,
                expected: names::<R::Trigger>(),
            })
        };
        let snapshot = FsmSnapshot {
            fsm: raw.fsm,
            state: state(raw.state)?,
            history: raw
                .history
                .into_iter()
                .map(|e| {
                    Ok(HistoryEntry {
                        seq: e.seq,
                        from: state(e.from_state)?,
                        to: state(e.to_state)?,
                        trigger: trigger(e.trigger)?,
                        transition: Cow::Owned(e.transition_name),
                    })
                })
                .collect::<Result<_, FsmError>>()?,
            taken: raw.taken,
            rejected: raw.rejected,
        };
        self.restore(snapshot)
    }

    /// Fires the envelope's trigger and replies with the transition taken: the reply keeps
    /// the correlation id (the request's `envelope_id` when it had none) and records the
    /// request as its cause; its payload is the serialized [`Transition`] with `intents` as
    /// action names. A rejection is the [`FsmError`] as an [`OnexError`] carrying the
    /// correlation id; the state is then unchanged.
    pub fn process(
        &mut self,
        envelope: Envelope<ReducerInput<R::Trigger, R::Context>>,
    ) -> Result<Envelope<Value>, OnexError> {
        let correlation_id = crate::node::correlation_id(&envelope);
        let (input, request) = envelope.take_payload();
        let t = self
            .fire(input.trigger, &input.context)
            .map_err(|e| OnexError::from(e).with_correlation_id(correlation_id))?;
        let payload = transition_payload(&t).map_err(|e| e.with_correlation_id(correlation_id))?;
        Ok(request.reply(payload))
    }

    /// Decodes a JSON envelope (payload `{"trigger": "<name>", "context": {...}}`), fires it
    /// and replies as [`process`](FsmExecutor::process) does.
    ///
    /// Malformed JSON, a payload that is not such an object, an undeclared trigger (the
    /// error lists the declared ones) or a context that does not fit the context type are
    /// [`ErrorCode::InvalidInput`](crate::ErrorCode::InvalidInput) errors; a rejected
    /// trigger is the [`FsmError`]'s code. Errors carry the envelope's correlation id when it
    /// could be read. In every error case the state is unchanged.
    pub fn process_json(&mut self, json: &[u8]) -> Result<Envelope<Value>, OnexError>
    where
        R::Context: DeserializeOwned,
    {
        let typed =
            crate::node::decode_envelope_with(json, |_, payload| decode_input::<R>(payload))?;
        self.process(typed)
    }
}

/// The reply payload of a transition.
fn transition_payload<S: FsmName, T: FsmName, I: FsmName>(
    t: &Transition<S, T, I>,
) -> Result<Value, OnexError> {
    let mut payload = serde_json::to_value(t)
        .map_err(|e| OnexError::internal(format!("cannot encode the FSM transition: {e}")))?;
    if let Value::Object(map) = &mut payload {
        let intents = t.intents.iter().map(|i| Value::from(i.as_str())).collect();
        map.insert("intents".to_owned(), Value::Array(intents));
    }
    Ok(payload)
}

/// The wire form, for messages.
const WIRE_FORM: &str = r#"{"trigger": "<name>", "context": {...}}"#;

/// Decodes a reducer payload with typed, readable errors.
fn decode_input<R: ReducerNode>(
    payload: Value,
) -> Result<ReducerInput<R::Trigger, R::Context>, OnexError>
where
    R::Context: DeserializeOwned,
{
    let Value::Object(mut map) = payload else {
        return Err(OnexError::invalid_input(format!(
            "the payload of an FSM envelope must be a JSON object {WIRE_FORM}"
        )));
    };
    let declared = || names::<R::Trigger>();
    let trigger = match map.remove("trigger") {
        Some(Value::String(name)) => R::Trigger::from_name(&name).ok_or_else(|| {
            OnexError::from(FsmError::UnknownTrigger {
                name,
                expected: declared(),
            })
            .with_context("supported", declared())
        })?,
        Some(other) => {
            return Err(OnexError::invalid_input(format!(
                "the payload's `trigger` must be a string naming a trigger, found {other}; the contract declares: {}",
                declared().join(", ")
            ))
            .with_context("field", "trigger")
            .with_context("supported", declared()));
        }
        None => {
            return Err(OnexError::invalid_input(format!(
                "the payload has no `trigger` field ({WIRE_FORM}); the contract declares: {}",
                declared().join(", ")
            ))
            .with_context("field", "trigger")
            .with_context("supported", declared()));
        }
    };
    let context = match map.remove("context") {
        Some(ctx) => serde_json::from_value(ctx),
        None => absent_context().ok_or_else(|| de::Error::missing_field("context")),
    }
    .map_err(|e: serde_json::Error| {
        OnexError::invalid_input(format!(
            "invalid context for trigger `{}` of FSM `{}`: {e}",
            trigger.as_str(),
            R::FSM.name
        ))
        .with_context("field", "context")
        .with_context("trigger", trigger.as_str())
    })?;
    Ok(ReducerInput { trigger, context })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::fsm::FsmInfo;
    use crate::fsm::guard::{self, Literal};
    use crate::node::{ContractInfo, NodeKind, RoutingStrategy, Version};

    macro_rules! names {
        ($ty:ident { $($v:ident = $s:literal),* $(,)? }) => {
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
            enum $ty {
                $(#[serde(rename = $s)] $v),*
            }
            impl fmt::Display for $ty {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.pad(self.as_str())
                }
            }
            impl FsmName for $ty {
                const ALL: &'static [Self] = &[$($ty::$v),*];
                fn as_str(self) -> &'static str {
                    match self { $($ty::$v => $s),* }
                }
                fn from_name(name: &str) -> Option<Self> {
                    match name { $($s => Some($ty::$v),)* _ => None }
                }
            }
        };
    }

    names!(S { Idle = "idle", Running = "running", Done = "done", Failed = "failed" });
    names!(T { Start = "start", Finish = "finish", Fail = "fail", Reset = "reset" });
    names!(I { Open = "open", Close = "close", Alert = "alert", Cleanup = "cleanup" });

    impl FsmState for S {
        const INITIAL: Self = S::Idle;
        fn is_terminal(self) -> bool {
            matches!(self, S::Done | S::Failed)
        }
    }

    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    struct Ctx {
        retries: u32,
        mode: Option<String>,
        #[serde(default)]
        tags: Vec<String>,
    }

    /// A machine written by hand the way `#[reducer_node]` writes it:
    ///
    /// - `idle --start--> running`: `start_fast` (priority 10, `mode == fast`, intent
    ///   `open`), else `start_slow` (priority 0, `retries < 3`);
    /// - `running --finish--> done` (`tags contains ok`, intent `close`);
    /// - `* --fail--> failed` (intent `alert`), shadowed in `idle` by an exact `fail` whose
    ///   guard (`retries >= 100`) rarely holds;
    /// - `* --reset--> idle`: `reset_soft` (priority 5, `retries <= 5`), else `reset_hard`
    ///   (intent `cleanup`).
    #[derive(Debug)]
    struct Machine;

    const FAST: Literal = Literal::text("fast");
    const OK: Literal = Literal::text("ok");
    const THREE: Literal = Literal {
        text: "3",
        int: Some(3),
        float: Some(3.0),
        boolean: None,
        none: false,
    };
    const FIVE: Literal = Literal {
        text: "5",
        int: Some(5),
        float: Some(5.0),
        boolean: None,
        none: false,
    };
    const HUNDRED: Literal = Literal {
        text: "100",
        int: Some(100),
        float: Some(100.0),
        boolean: None,
        none: false,
    };

    impl ReducerNode for Machine {
        type State = S;
        type Trigger = T;
        type Intent = I;
        type Context = Ctx;
        const CONTRACT: &'static ContractInfo = &ContractInfo {
            name: "machine",
            kind: NodeKind::Reducer,
            node_type: "REDUCER_GENERIC",
            contract_version: Version {
                major: 1,
                minor: 0,
                patch: 0,
            },
            node_version: Version {
                major: 1,
                minor: 0,
                patch: 0,
            },
            description: "",
            fingerprint: "1.0.0:000000000000",
            declared_fingerprint: None,
            routing: RoutingStrategy::Single,
            operations: &[],
            subscribe_topics: &[],
            publish_topics: &[],
            dlq_topics: &[],
        };
        const FSM: &'static FsmInfo = &FsmInfo {
            name: "machine_fsm",
            initial: "idle",
            states: &["idle", "running", "done", "failed"],
            terminal: &["done", "failed"],
            triggers: &["start", "finish", "fail", "reset"],
            intents: &["open", "close", "alert", "cleanup"],
            persistence: true,
        };

        fn reduce(&self, state: S, trigger: T, ctx: &Ctx) -> Result<Transition<S, T, I>, FsmError> {
            let go = |to: S, name: &'static str, intents: &'static [I]| {
                Ok(Transition {
                    from: state,
                    to,
                    trigger,
                    name,
                    intents,
                })
            };
            let reject = |transition: &'static str, to: S, failed: Vec<&'static str>| {
                Err(FsmError::GuardRejected {
                    state: state.as_str(),
                    trigger: trigger.as_str(),
                    transition,
                    to: to.as_str(),
                    failed,
                })
            };
            match (state, trigger) {
                (S::Idle, T::Start) => {
                    if guard::eq(&ctx.mode, &FAST) {
                        go(S::Running, "start_fast", &[I::Open])
                    } else if guard::lt(&ctx.retries, &THREE) {
                        go(S::Running, "start_slow", &[])
                    } else {
                        reject("start_fast", S::Running, vec!["mode == fast"])
                    }
                }
                (S::Running, T::Finish) => {
                    if guard::contains(&ctx.tags, &OK) {
                        go(S::Done, "finish", &[I::Close])
                    } else {
                        reject("finish", S::Done, vec!["tags contains ok"])
                    }
                }
                (S::Idle, T::Fail) => {
                    if guard::ge(&ctx.retries, &HUNDRED) {
                        go(S::Failed, "idle_fail", &[I::Alert])
                    } else {
                        reject("idle_fail", S::Failed, vec!["retries >= 100"])
                    }
                }
                (_, T::Fail) => go(S::Failed, "fail_any", &[I::Alert]),
                (_, T::Reset) => {
                    if guard::le(&ctx.retries, &FIVE) {
                        go(S::Idle, "reset_soft", &[])
                    } else {
                        go(S::Idle, "reset_hard", &[I::Cleanup])
                    }
                }
                _ => Err(FsmError::NoTransition {
                    state: state.as_str(),
                    trigger: trigger.as_str(),
                }),
            }
        }
    }

    fn ctx(retries: u32, mode: Option<&str>, tags: &[&str]) -> Ctx {
        Ctx {
            retries,
            mode: mode.map(str::to_owned),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    fn envelope(payload: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "payload": payload,
            "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
            "envelope_timestamp": "2026-11-20T12:30:45Z",
            "correlation_id": "7d0f8c74-7c58-4e41-9f20-3b4c5d6e7f81",
        }))
        .unwrap()
    }

    #[test]
    fn fire_takes_the_best_eligible_candidate() {
        let mut fsm = FsmExecutor::new(Machine);
        assert_eq!(fsm.state(), S::Idle);
        assert!(!fsm.is_terminal());
        let t = fsm.fire(T::Start, &ctx(9, Some("fast"), &[])).unwrap();
        assert_eq!((t.from, t.to, t.name), (S::Idle, S::Running, "start_fast"));
        assert_eq!(t.intents, &[I::Open]);
        assert_eq!(fsm.state(), S::Running);

        let mut slow = FsmExecutor::new(Machine);
        let t = slow.fire(T::Start, &ctx(2, Some("slow"), &[])).unwrap();
        assert_eq!(t.name, "start_slow");

        // Wildcard from a terminal state: not enforced.
        let t = fsm.fire(T::Fail, &Ctx::default()).unwrap();
        assert_eq!(
            (t.name, fsm.state(), fsm.is_terminal()),
            ("fail_any", S::Failed, true)
        );
        let t = fsm.fire(T::Reset, &ctx(6, None, &[])).unwrap();
        assert_eq!((t.name, t.intents), ("reset_hard", &[I::Cleanup][..]));
        assert_eq!((fsm.taken(), fsm.rejected()), (3, 0));
        let _: &Machine = fsm.node();
        let _: Machine = fsm.into_node();
    }

    #[test]
    fn rejections_keep_the_state() {
        let mut fsm = FsmExecutor::new(Machine);
        // An exact candidate shadows the wildcard even when its guard fails.
        let err = fsm.fire(T::Fail, &Ctx::default()).unwrap_err();
        assert_eq!(
            err,
            FsmError::GuardRejected {
                state: "idle",
                trigger: "fail",
                transition: "idle_fail",
                to: "failed",
                failed: vec!["retries >= 100"],
            }
        );
        assert_eq!(fsm.state(), S::Idle);
        let err = fsm.fire(T::Finish, &Ctx::default()).unwrap_err();
        assert!(matches!(
            err,
            FsmError::NoTransition {
                state: "idle",
                trigger: "finish"
            }
        ));
        let err = fsm.fire_named("launch", &Ctx::default()).unwrap_err();
        let FsmError::UnknownTrigger { name, expected } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(
            (name.as_str(), &expected[..]),
            ("launch", &["start", "finish", "fail", "reset"][..])
        );
        assert_eq!(fsm.state(), S::Idle);
        assert_eq!((fsm.taken(), fsm.rejected()), (0, 2));
        assert_eq!(fsm.history().len(), 0);
        fsm.fire_named("start", &ctx(0, None, &[])).unwrap();
        assert_eq!(fsm.state(), S::Running);
    }

    #[test]
    fn history_is_bounded() {
        let mut fsm = FsmExecutor::new(Machine).with_history(3);
        assert_eq!(fsm.history_capacity(), 3);
        for _ in 0..5 {
            fsm.fire(T::Fail, &ctx(100, None, &[])).unwrap();
            fsm.fire(T::Reset, &Ctx::default()).unwrap();
        }
        let seqs: Vec<u64> = fsm.history().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![8, 9, 10]);
        let last = fsm.history().last().unwrap();
        assert_eq!(
            (last.from, last.to, last.trigger),
            (S::Failed, S::Idle, T::Reset)
        );
        assert_eq!(last.transition, "reset_soft");
        let fsm = fsm.with_history(1);
        assert_eq!(fsm.history().map(|e| e.seq).collect::<Vec<_>>(), vec![10]);

        let mut none = FsmExecutor::new(Machine).with_history(0);
        none.fire(T::Fail, &ctx(100, None, &[])).unwrap();
        assert_eq!((none.history().count(), none.taken()), (0, 1));
        assert_eq!(
            FsmExecutor::new(Machine).history_capacity(),
            DEFAULT_HISTORY
        );
    }

    #[test]
    fn snapshots_round_trip() {
        let mut fsm = FsmExecutor::new(Machine);
        fsm.fire(T::Start, &ctx(0, None, &[])).unwrap();
        fsm.fire(T::Finish, &ctx(0, None, &["ok"])).unwrap();
        fsm.fire(T::Finish, &Ctx::default()).unwrap_err();
        let snapshot = fsm.snapshot();
        assert_eq!(snapshot.fsm, "machine_fsm");
        assert_eq!(
            (snapshot.state, snapshot.taken, snapshot.rejected),
            (S::Done, 2, 1)
        );

        let json = serde_json::to_value(&snapshot).unwrap();
        assert_eq!(json["state"], "done");
        assert_eq!(json["history"][1]["transition_name"], "finish");
        assert_eq!(json["history"][0]["trigger"], "start");

        let mut other = FsmExecutor::new(Machine);
        other
            .restore_json(&serde_json::to_vec(&json).unwrap())
            .unwrap();
        assert_eq!(other.snapshot(), snapshot);
        assert_eq!(other.state(), S::Done);

        let mut typed = FsmExecutor::new(Machine);
        typed
            .restore(serde_json::from_value(json).unwrap())
            .unwrap();
        assert_eq!(typed.snapshot(), snapshot);

        // Restoring into a smaller history keeps the newest entries.
        let mut small = FsmExecutor::new(Machine).with_history(1);
        small.restore(snapshot.clone()).unwrap();
        assert_eq!(small.history().map(|e| e.seq).collect::<Vec<_>>(), vec![2]);
        // Without `rejected` and `history`.
        let mut bare = FsmExecutor::new(Machine);
        bare.restore_json(br#"{"fsm": "machine_fsm", "state": "running", "taken": 7}"#)
            .unwrap();
        assert_eq!(
            (bare.state(), bare.taken(), bare.rejected()),
            (S::Running, 7, 0)
        );
    }

    #[test]
    fn foreign_or_broken_snapshots_are_rejected_without_change() {
        let mut fsm = FsmExecutor::new(Machine);
        fsm.fire(T::Start, &ctx(0, None, &[])).unwrap();
        let before = fsm.snapshot();

        let mut foreign = before.clone();
        foreign.fsm = "other_fsm".into();
        assert_eq!(
            fsm.restore(foreign).unwrap_err(),
            FsmError::SnapshotMismatch {
                expected: "machine_fsm",
                found: "other_fsm".into()
            }
        );
        let cases: [(&[u8], &str); 6] = [
            (br#"{"fsm": "other_fsm", "state": "idle", "taken": 0}"#, "SnapshotMismatch"),
            (br#"{"fsm": "machine_fsm", "state": "nowhere", "taken": 0}"#, "UnknownState"),
            (
                br#"{"fsm": "machine_fsm", "state": "idle", "taken": 1, "history": [{"seq": 1, "from_state": "idle", "to_state": "idle", "trigger": "jump", "transition_name": "x"}]}"#,
                "UnknownTrigger",
            ),
            (br#"{"fsm": "machine_fsm", "state": "idle"}"#, "InvalidSnapshot"),
            (b"{not json", "InvalidSnapshot"),
            (b"[]", "InvalidSnapshot"),
        ];
        for (json, kind) in cases {
            let err = fsm.restore_json(json).unwrap_err();
            assert!(format!("{err:?}").starts_with(kind), "{kind}: {err:?}");
            let onex = OnexError::from(err);
            assert_eq!(onex.code().as_str(), "ONEX_CORE_007_INVALID_INPUT");
            assert_eq!(fsm.snapshot(), before);
        }
        let err = fsm
            .restore_json(br#"{"fsm": "machine_fsm", "state": "nowhere", "taken": 0}"#)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown state `nowhere`; the contract declares: idle, running, done, failed"
        );
    }

    #[test]
    fn process_json_replies_with_the_transition() {
        let mut fsm = FsmExecutor::new(Machine);
        let reply = fsm
            .process_json(&envelope(
                json!({"trigger": "start", "context": {"retries": 0, "mode": "fast"}}),
            ))
            .unwrap();
        assert_eq!(
            reply.payload,
            json!({
                "from_state": "idle",
                "to_state": "running",
                "trigger": "start",
                "transition_name": "start_fast",
                "intents": ["open"],
            })
        );
        assert_eq!(
            reply.correlation_id.unwrap().to_string(),
            "7d0f8c74-7c58-4e41-9f20-3b4c5d6e7f81"
        );
        assert_eq!(
            reply.causation_id().unwrap().to_string(),
            "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80"
        );
        assert_eq!(fsm.state(), S::Running);

        // Typed envelopes too; the correlation id defaults to the request's envelope id.
        let request = Envelope::new(ReducerInput {
            trigger: T::Fail,
            context: Ctx::default(),
        });
        let reply = fsm.process(request.clone()).unwrap();
        assert_eq!(reply.correlation_id, Some(request.envelope_id));
        assert_eq!(reply.payload["intents"], json!(["alert"]));
        assert_eq!(fsm.state(), S::Failed);
    }

    #[test]
    fn process_json_errors_are_typed_and_keep_the_state() {
        let mut fsm = FsmExecutor::new(Machine);
        let invalid = "ONEX_CORE_007_INVALID_INPUT";
        let cases = [
            (
                json!({"trigger": "strat", "context": {"retries": 0}}),
                invalid,
                "strat",
            ),
            (
                json!({"trigger": 5, "context": {"retries": 0}}),
                invalid,
                "must be a string",
            ),
            (
                json!({"context": {"retries": 0}}),
                invalid,
                "no `trigger` field",
            ),
            (json!(["start"]), invalid, "must be a JSON object"),
            (
                json!({"trigger": "start", "context": {"mode": "fast"}}),
                invalid,
                "missing field `retries`",
            ),
            (
                json!({"trigger": "start", "context": {"retries": -1}}),
                invalid,
                "invalid context",
            ),
            (
                json!({"trigger": "start"}),
                invalid,
                "missing field `context`",
            ),
            (
                json!({"trigger": "start", "context": {"retries": 7}}),
                "ONEX_CORE_006_VALIDATION_ERROR",
                "mode == fast",
            ),
            (
                json!({"trigger": "finish", "context": {"retries": 0}}),
                "ONEX_CORE_006_VALIDATION_ERROR",
                "no transition",
            ),
        ];
        for (payload, code, says) in cases {
            let err = fsm.process_json(&envelope(payload.clone())).unwrap_err();
            assert_eq!(err.code().as_str(), code, "{payload}: {err:?}");
            assert!(err.message().contains(says), "{payload}: {}", err.message());
            assert_eq!(
                err.correlation_id().unwrap().to_string(),
                "7d0f8c74-7c58-4e41-9f20-3b4c5d6e7f81"
            );
            assert_eq!(fsm.state(), S::Idle);
        }
        let err = fsm
            .process_json(&envelope(json!({"trigger": "strat", "context": {}})))
            .unwrap_err();
        assert_eq!(
            err.context()["supported"],
            json!(["start", "finish", "fail", "reset"])
        );
        assert!(fsm.process_json(b"{").is_err());
        assert!(fsm.process_json(b"[]").is_err());
        // Still works.
        fsm.process_json(&envelope(
            json!({"trigger": "start", "context": {"retries": 1}}),
        ))
        .unwrap();
        assert_eq!(fsm.state(), S::Running);
    }

    #[test]
    fn reducer_input_reads_the_wire_form() {
        let input: ReducerInput<T, Ctx> =
            serde_json::from_value(json!({"trigger": "reset", "context": {"retries": 2}, "x": 1}))
                .unwrap();
        assert_eq!((input.trigger, input.context.retries), (T::Reset, 2));
        let missing = serde_json::from_value::<ReducerInput<T, Ctx>>(json!({"trigger": "reset"}));
        assert!(
            missing
                .unwrap_err()
                .to_string()
                .contains("missing field `context`")
        );
        let dup = serde_json::from_str::<ReducerInput<T, ()>>(
            r#"{"trigger": "reset", "trigger": "fail"}"#,
        );
        assert!(
            dup.unwrap_err()
                .to_string()
                .contains("duplicate field `trigger`")
        );
        let unit: ReducerInput<T, Option<Ctx>> =
            serde_json::from_value(json!({"trigger": "fail"})).unwrap();
        assert_eq!(unit.context, None);
        assert_eq!(
            serde_json::to_value(&input).unwrap(),
            json!({"trigger": "reset", "context": {"retries": 2, "mode": null, "tags": []}})
        );
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[a-z_]{0,8}".prop_map(Value::from),
            any::<String>().prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof!["retries|mode|tags|trigger|context", "[a-z]{1,6}"],
                    inner,
                    0..4
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn trigger_name() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec!["start", "finish", "fail", "reset"]).prop_map(String::from),
            any::<String>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn random_triggers_and_json_never_panic(
            steps in prop::collection::vec((trigger_name(), json_value(), any::<bool>()), 1..16),
            junk in prop::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut fsm = FsmExecutor::new(Machine).with_history(4);
            for (name, context, wrap) in steps {
                let before = fsm.snapshot();
                let payload = if wrap { json!({"trigger": name, "context": context}) } else { context.clone() };
                match fsm.process_json(&envelope(payload)) {
                    Ok(reply) => {
                        prop_assert_eq!(reply.payload["to_state"].as_str(), Some(fsm.state().as_str()));
                        prop_assert_eq!(fsm.taken(), before.taken + 1);
                    }
                    Err(_) => prop_assert_eq!(fsm.state(), before.state),
                }
                let typed: Result<Ctx, _> = serde_json::from_value(context.clone());
                if let Ok(c) = typed {
                    let state = fsm.state();
                    match fsm.fire_named(&name, &c) {
                        Ok(t) => prop_assert_eq!(t.from, state),
                        Err(_) => prop_assert_eq!(fsm.state(), state),
                    }
                }
                prop_assert!(fsm.history().len() <= 4);
                // Random snapshots never panic and never half-apply.
                let before = fsm.snapshot();
                if fsm.restore_json(&serde_json::to_vec(&context).unwrap()).is_err() {
                    prop_assert_eq!(fsm.snapshot(), before);
                }
            }
            let before = fsm.snapshot();
            if fsm.process_json(&junk).is_err() {
                prop_assert_eq!(fsm.snapshot().state, before.state);
            }
            if fsm.restore_json(&junk).is_err() {
                prop_assert_eq!(fsm.snapshot().state, before.state);
            }
        }
    }
}
