//! The FSM of a reducer contract (`state_transitions`, or the infra `state_machine` dialect),
//! lowered to an IR that code generation, the `onex` command and the reference interpreter
//! share (DESIGN.md §4.4).
//!
//! - [`parse`] reads both dialects into [`Fsm`], recording every problem;
//! - [`valid`] checks the machine (states, endpoints, terminal exits, duplicates,
//!   reachability, dead ends, cycles without a way out) and the guards against the context
//!   model when the contract defines it;
//! - [`interp`] is a table-driven interpreter over JSON contexts: the executable reference
//!   the generated `match` is property-tested against.
//!
//! # Guard semantics (typed)
//!
//! A guard is `field operator operand`. onex evaluates every operator it accepts (the Python
//! reference silently treats eight of them as false). On a value `v` of the context:
//!
//! | operator | true when |
//! |---|---|
//! | `==` `equals` | `v` equals the literal: numbers numerically, strings as text, booleans as `true`/`True`/`false`/`False`, a missing/null value only the literal `None` |
//! | `!=` `not_equals` | not `==` |
//! | `<` `>` `<=` `>=` `less_than` `greater_than` `less_than_or_equal` `greater_than_or_equal` | `v` is a number and compares so with the numeric literal (missing/null: false) |
//! | `min_length N` / `max_length N` | `v` is a string (characters), list or map and its length is ≥ / ≤ `N` (missing/null: false) |
//! | `exists` / `not_exists` | `v` is present and not null / is missing or null |
//! | `in a,b,c` / `not_in a,b,c` | `v == m` for some member `m` / for none |
//! | `contains x` | `v` is a string containing `x`, or a list with an element `== x` |
//! | `matches re` | `v` is a string and `re` matches at its start (Python `re.match`) |

pub mod interp;
pub mod parse;
pub mod valid;

use crate::read::Spanned;
use crate::yaml::Loc;

/// Which block the machine was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// `state_transitions` (omnibase_core `ModelFSMSubcontract`).
    StateTransitions,
    /// `state_machine` (omnibase_infra: no versions, no `transition_name`, two-token guards).
    StateMachine,
}

impl Dialect {
    /// The contract key of the block.
    pub fn key(self) -> &'static str {
        match self {
            Dialect::StateTransitions => "state_transitions",
            Dialect::StateMachine => "state_machine",
        }
    }
}

/// A whole state machine.
#[derive(Clone, Debug, PartialEq)]
pub struct Fsm {
    /// Where the block starts.
    pub loc: Loc,
    /// Which block it came from.
    pub dialect: Dialect,
    /// `state_machine_name`.
    pub name: Option<Spanned<String>>,
    /// `initial_state`.
    pub initial: Option<Spanned<String>>,
    /// States in declaration order.
    pub states: Vec<State>,
    /// Transitions in declaration order.
    pub transitions: Vec<Transition>,
    /// `persistence_enabled` (default true).
    pub persistence: bool,
}

/// One state.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    /// `state_name`.
    pub name: Spanned<String>,
    /// `is_terminal: true`, or listed in `terminal_states`.
    pub terminal: bool,
    /// Listed in `error_states` (or `state_type: error`).
    pub error: bool,
    /// `entry_actions`, in order.
    pub entry: Vec<Spanned<String>>,
    /// `exit_actions`, in order.
    pub exit: Vec<Spanned<String>>,
    /// `description`.
    pub description: Option<String>,
}

/// The wildcard `from_state`.
pub const WILDCARD: &str = "*";

/// One transition.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    /// `transition_name`; in the infra dialect (no names) `{from}_to_{to}_on_{trigger}`,
    /// located at the transition.
    pub name: Spanned<String>,
    /// `from_state` (may be [`WILDCARD`]).
    pub from: Spanned<String>,
    /// `to_state`.
    pub to: Spanned<String>,
    /// `trigger`.
    pub trigger: Spanned<String>,
    /// `priority` (default 0).
    pub priority: i64,
    /// `conditions`, in order.
    pub conditions: Vec<Condition>,
    /// `actions[].action_name`, in declaration order (`execution_order` is ignored, as in
    /// the Python reference).
    pub actions: Vec<Spanned<String>>,
    /// `description`.
    pub description: Option<String>,
}

impl Transition {
    /// True for `from_state: "*"`.
    pub fn is_wildcard(&self) -> bool {
        self.from.value == WILDCARD
    }

    /// The conditions that decide eligibility (`required: true`) and parsed cleanly.
    pub fn required(&self) -> impl Iterator<Item = (&Condition, &Guard)> {
        self.conditions
            .iter()
            .filter(|c| c.required)
            .filter_map(|c| c.guard.as_ref().map(|g| (c, g)))
    }
}

/// One guard condition.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// `condition_name`, if given.
    pub name: Option<String>,
    /// `expression` as written, located at the expression.
    pub expression: Spanned<String>,
    /// `required` (default true). Conditions with `required: false` are never evaluated.
    pub required: bool,
    /// The parsed expression; `None` when it was malformed (an error was recorded).
    pub guard: Option<Guard>,
}

/// A parsed guard: `path op operand`.
#[derive(Clone, Debug, PartialEq)]
pub struct Guard {
    /// The field path (`user.role` → `["user", "role"]`).
    pub path: Vec<String>,
    /// The operator (aliases resolved).
    pub op: Op,
    /// The operator as written (`less_than`, `<`, `is_present`, …).
    pub op_text: String,
    /// The operand, typed by operator.
    pub operand: Operand,
}

/// A guard operator, aliases resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `==`, `equals`.
    Eq,
    /// `!=`, `not_equals`.
    Ne,
    /// `<`, `less_than`.
    Lt,
    /// `>`, `greater_than`.
    Gt,
    /// `<=`, `less_than_or_equal`.
    Le,
    /// `>=`, `greater_than_or_equal`.
    Ge,
    /// `min_length`.
    MinLength,
    /// `max_length`.
    MaxLength,
    /// `exists`, infra `is_present`.
    Exists,
    /// `not_exists`, infra `is_absent`/`is_missing`.
    NotExists,
    /// `in` (comma-separated members).
    In,
    /// `not_in`.
    NotIn,
    /// `contains`.
    Contains,
    /// `matches` (regex anchored at the start).
    Matches,
}

impl Op {
    /// True for the numeric comparisons.
    pub fn is_numeric(self) -> bool {
        matches!(self, Op::Lt | Op::Gt | Op::Le | Op::Ge)
    }
}

/// A literal token of a guard, with every reading of it computed once.
#[derive(Clone, Debug, PartialEq)]
pub struct Literal {
    /// The token as written.
    pub text: String,
    /// The token as an integer, when it is one (`3`, `-2`).
    pub int: Option<i64>,
    /// The token as a finite number, when it is one (`3`, `0.5`, `-1e3`).
    pub float: Option<f64>,
    /// The token as a boolean (`true`/`True`/`false`/`False`).
    pub boolean: Option<bool>,
    /// True for `None`/`null` (matches a missing or null value).
    pub none: bool,
}

impl Literal {
    /// Reads a token.
    pub fn new(text: &str) -> Literal {
        Literal {
            text: text.to_owned(),
            int: text.parse::<i64>().ok(),
            float: text.parse::<f64>().ok().filter(|f| f.is_finite()),
            boolean: match text {
                "true" | "True" => Some(true),
                "false" | "False" => Some(false),
                _ => None,
            },
            none: matches!(text, "None" | "null"),
        }
    }
}

/// The operand of a guard.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// Unary operators (`exists`, `not_exists`): the dummy third token, if any, is dropped.
    None,
    /// `==`, `!=`, `contains` and the numeric comparisons.
    Literal(Literal),
    /// `in`, `not_in`: the comma-separated members, trimmed.
    List(Vec<Literal>),
    /// `min_length`, `max_length`.
    Length(u64),
    /// `matches`: the pattern, checked to be a valid regex.
    Pattern(String),
}

impl Fsm {
    /// The state with this name.
    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.iter().find(|s| s.name.value == name)
    }

    /// Triggers in order of first appearance.
    pub fn triggers(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for t in &self.transitions {
            if !out.contains(&t.trigger.value.as_str()) {
                out.push(&t.trigger.value);
            }
        }
        out
    }

    /// Action names in order of first appearance: each state's entry then exit actions (in
    /// state order), then each transition's actions.
    pub fn actions(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let all = self
            .states
            .iter()
            .flat_map(|s| s.entry.iter().chain(&s.exit))
            .chain(self.transitions.iter().flat_map(|t| &t.actions));
        for a in all {
            if !out.contains(&a.value.as_str()) {
                out.push(&a.value);
            }
        }
        out
    }

    /// The candidate transitions for `trigger` in `state`, best first: the exact
    /// `(state, trigger)` transitions if there are any, else the wildcard ones; sorted by
    /// `priority` descending, declaration order breaking ties.
    pub fn candidates(&self, state: &str, trigger: &str) -> Vec<&Transition> {
        let pick = |exact: bool| {
            let mut c: Vec<&Transition> = self
                .transitions
                .iter()
                .filter(|t| {
                    t.trigger.value == trigger
                        && if exact {
                            t.from.value == state
                        } else {
                            t.is_wildcard()
                        }
                })
                .collect();
            c.sort_by_key(|t| std::cmp::Reverse(t.priority));
            c
        };
        let exact = pick(true);
        if exact.is_empty() { pick(false) } else { exact }
    }

    /// The intents of taking `t` from `state`: the state's exit actions, the transition's
    /// actions, then the target's entry actions (self-loops run both).
    pub fn intents<'a>(&'a self, state: &str, t: &'a Transition) -> Vec<&'a str> {
        let exit = self.state(state).map(|s| &s.exit[..]).unwrap_or_default();
        let entry = self
            .state(&t.to.value)
            .map(|s| &s.entry[..])
            .unwrap_or_default();
        exit.iter()
            .chain(&t.actions)
            .chain(entry)
            .map(|a| a.value.as_str())
            .collect()
    }
}
