//! Reads a reducer's state machine (`state_transitions` or the infra `state_machine`) into
//! an [`Fsm`], recording every problem and stopping at none.
//!
//! The block is a section onex executes, so unknown keys are errors with "did you mean". The
//! key sets are the union of what onex reads, what omnibase_core's FSM models declare and
//! what real contracts write. Guard expressions are parsed here (DESIGN.md §4.4): exactly
//! `field operator operand`, or `field operator` for unary operators; the infra two-token
//! forms (`node_id is_present`, `items is_empty`, `node_type is_valid`) are lowered to their
//! unary equivalents. A malformed condition keeps `guard: None` and records an error.
//!
//! Codes (besides `unknown-key`, `missing-key` and `wrong-type` from [`crate::read`]):
//!
//! | code | finding |
//! |---|---|
//! | `fsm-two-blocks` | both `state_transitions` and `state_machine` |
//! | `fsm-unknown-state` | a `terminal_states` / `error_states` entry that is not a state |
//! | `fsm-bad-expression` | an empty expression, one token, a missing operand, more than three tokens |
//! | `fsm-unknown-operator` | an operator onex does not know (with "did you mean") |
//! | `fsm-bad-field` | a field path with an empty segment, a `_private` segment or a non-name |
//! | `fsm-bad-operand` | a non-numeric operand of `<`…, a bad length, an empty `in` member |
//! | `fsm-bad-pattern` | a `matches` pattern that is not a valid regular expression |
//! | `fsm-is-valid-rule` | `is_valid` without a `validation.rules` entry with `valid_values` |
//!
//! Expression errors point at the offending token when its column can be told (plain and
//! quoted scalars; not block scalars, nor tokens after an escaped quote or backslash), else
//! at the expression.

use crate::Contract;
use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::model::version;
use crate::read::{Fields, Spanned, Unknown, type_error};
use crate::yaml::{Loc, Node, Scalar, Style, Value};

use super::{Condition, Dialect, Fsm, Guard, Literal, Op, Operand, State, Transition, WILDCARD};

/// Keys of the FSM block itself.
pub const FSM_KEYS: &[&str] = &[
    "version",
    "state_machine_name",
    "state_machine_version",
    "description",
    "initial_state",
    "states",
    "transitions",
    "terminal_states",
    "error_states",
    "persistence_enabled",
    "operations",
    "correlation_id",
    "checkpoint_interval_ms",
    "max_checkpoints",
    "recovery_enabled",
    "recovery_strategies",
    "rollback_enabled",
    "conflict_resolution_strategy",
    "concurrent_transitions_allowed",
    "transition_timeout_ms",
    "strict_validation_enabled",
    "state_monitoring_enabled",
    "event_logging_enabled",
    "metadata",
];

/// Keys of a `states[]` entry.
pub const STATE_KEYS: &[&str] = &[
    "state_name",
    "description",
    "version",
    "state_type",
    "is_terminal",
    "is_recoverable",
    "timeout_ms",
    "entry_actions",
    "exit_actions",
    "required_data",
    "optional_data",
    "validation_rules",
    "metadata",
];

/// Keys of a `transitions[]` entry.
pub const TRANSITION_KEYS: &[&str] = &[
    "transition_name",
    "from_state",
    "to_state",
    "trigger",
    "priority",
    "conditions",
    "actions",
    "description",
    "version",
    "rollback_transitions",
    "is_atomic",
    "retry_enabled",
    "max_retries",
    "retry_delay_ms",
];

/// Keys of a `conditions[]` entry.
pub const CONDITION_KEYS: &[&str] = &[
    "condition_name",
    "condition_type",
    "expression",
    "required",
    "description",
    "version",
    "error_message",
    "retry_count",
    "timeout_ms",
];

/// Keys of a transition's `actions[]` entry.
pub const ACTION_KEYS: &[&str] = &[
    "action_name",
    "action_type",
    "action_config",
    "execution_order",
    "is_critical",
    "rollback_action",
    "timeout_ms",
    "description",
    "version",
];

/// How an operator spelling reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OpForm {
    /// `field op operand`.
    Binary(Op),
    /// `field op [dummy]` (`exists`, `not_exists`, `is_present`, …).
    Unary(Op),
    /// `is_empty` / `is_not_empty`: a length bound with a fixed operand.
    Length(Op, u64),
    /// `is_valid`: membership in the contract's `validation.rules[].valid_values`.
    IsValid,
}

/// Every operator spelling onex accepts, with its meaning.
const OPERATORS: &[(&str, OpForm)] = &[
    ("==", OpForm::Binary(Op::Eq)),
    ("equals", OpForm::Binary(Op::Eq)),
    ("!=", OpForm::Binary(Op::Ne)),
    ("not_equals", OpForm::Binary(Op::Ne)),
    ("<", OpForm::Binary(Op::Lt)),
    ("less_than", OpForm::Binary(Op::Lt)),
    (">", OpForm::Binary(Op::Gt)),
    ("greater_than", OpForm::Binary(Op::Gt)),
    ("<=", OpForm::Binary(Op::Le)),
    ("less_than_or_equal", OpForm::Binary(Op::Le)),
    (">=", OpForm::Binary(Op::Ge)),
    ("greater_than_or_equal", OpForm::Binary(Op::Ge)),
    ("min_length", OpForm::Binary(Op::MinLength)),
    ("max_length", OpForm::Binary(Op::MaxLength)),
    ("exists", OpForm::Unary(Op::Exists)),
    ("not_exists", OpForm::Unary(Op::NotExists)),
    ("in", OpForm::Binary(Op::In)),
    ("not_in", OpForm::Binary(Op::NotIn)),
    ("contains", OpForm::Binary(Op::Contains)),
    ("matches", OpForm::Binary(Op::Matches)),
    ("is_present", OpForm::Unary(Op::Exists)),
    ("present", OpForm::Unary(Op::Exists)),
    ("is_absent", OpForm::Unary(Op::NotExists)),
    ("is_missing", OpForm::Unary(Op::NotExists)),
    ("is_not_present", OpForm::Unary(Op::NotExists)),
    ("absent", OpForm::Unary(Op::NotExists)),
    ("is_empty", OpForm::Length(Op::MaxLength, 0)),
    ("is_not_empty", OpForm::Length(Op::MinLength, 1)),
    ("is_valid", OpForm::IsValid),
];

/// Every operator spelling onex accepts, in documentation order.
pub fn operator_names() -> Vec<&'static str> {
    OPERATORS.iter().map(|(name, _)| *name).collect()
}

/// The operator a spelling stands for (aliases resolved), with whether it takes an operand.
///
/// `is_empty`/`is_not_empty` resolve to `max_length`/`min_length` and `is_valid` to `in`.
///
/// ```
/// use onex_contracts::fsm::{Op, parse::operator};
/// assert_eq!(operator("less_than"), Some((Op::Lt, true)));
/// assert_eq!(operator("is_present"), Some((Op::Exists, false)));
/// assert_eq!(operator("=~"), None);
/// ```
pub fn operator(text: &str) -> Option<(Op, bool)> {
    OPERATORS
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, form)| match *form {
            OpForm::Binary(op) => (op, true),
            OpForm::Unary(op) | OpForm::Length(op, _) => (op, false),
            OpForm::IsValid => (Op::In, false),
        })
}

/// Common spellings from other languages, mapped to the onex operator.
const FOREIGN: &[(&str, &str)] = &[
    ("=", "=="),
    ("===", "=="),
    ("eq", "=="),
    ("is", "=="),
    ("<>", "!="),
    ("!==", "!="),
    ("ne", "!="),
    ("neq", "!="),
    ("gt", ">"),
    ("lt", "<"),
    ("ge", ">="),
    ("gte", ">="),
    ("le", "<="),
    ("lte", "<="),
    ("=>", ">="),
    ("=<", "<="),
    ("=~", "matches"),
    ("regex", "matches"),
    ("match", "matches"),
    ("has", "contains"),
    ("includes", "contains"),
    ("not", "!="),
    ("not_contains", "not_in"),
];

/// Reads the contract's FSM block, if it has one. Returns `None` when there is no block or it
/// is not a mapping; otherwise an [`Fsm`] with everything that could be read (the problems
/// are in `d`).
pub fn parse(contract: &Contract, d: &mut Diagnostics) -> Option<Fsm> {
    let node = contract.fsm.as_ref()?;
    let present = |key: &str| contract.root.get(key).filter(|n| !n.is_null());
    let dialect = if present("state_transitions").is_some() {
        Dialect::StateTransitions
    } else {
        Dialect::StateMachine
    };
    if dialect == Dialect::StateTransitions
        && let Some(other) = present("state_machine")
    {
        d.push(
            Diagnostic::error(
                "fsm-two-blocks",
                other.loc,
                "the contract has both `state_transitions` and `state_machine`; onex reads `state_transitions`",
            )
            .with_help("keep one state machine block: `state_transitions` (core) or `state_machine` (infra)"),
        );
    }
    let rules = ValidValues::of(contract);
    parse_block(node, dialect, &rules, d)
}

/// Reads an FSM block (`node` is the value of `state_transitions`/`state_machine`) without a
/// surrounding contract: `is_valid` conditions then find no `validation.rules`.
pub fn parse_node(node: &Node, dialect: Dialect, d: &mut Diagnostics) -> Option<Fsm> {
    parse_block(node, dialect, &ValidValues::default(), d)
}

fn parse_block(
    node: &Node,
    dialect: Dialect,
    rules: &ValidValues,
    d: &mut Diagnostics,
) -> Option<Fsm> {
    let key = dialect.key();
    let f = Fields::new(node, key, FSM_KEYS, Unknown::Deny, d)?;
    for v in ["version", "state_machine_version"] {
        if let Some(n) = f.get(v) {
            version(n, v, d);
        }
    }
    let name = f.str("state_machine_name", d);
    let initial = f.str("initial_state", d);
    let persistence = f.bool("persistence_enabled", d).is_none_or(|b| b.value);
    f.str("description", d);

    let mut states: Vec<State> = f
        .seq("states", d)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, n)| state(n, &format!("{key}.states[{i}]"), d))
        .collect();

    // `terminal_states` / `error_states` mark states; names that are not states are errors.
    let declared: Vec<String> = states.iter().map(|s| s.name.value.clone()).collect();
    for (list, terminal) in [("terminal_states", true), ("error_states", false)] {
        for entry in f.strings(list, d) {
            let mut found = false;
            for s in states.iter_mut().filter(|s| s.name.value == entry.value) {
                found = true;
                if terminal {
                    s.terminal = true;
                } else {
                    s.error = true;
                }
            }
            if !found {
                d.push(unknown_state(
                    entry.loc,
                    format!("`{list}` names `{}`, which is not a state", entry.value),
                    &entry.value,
                    &declared,
                ));
            }
        }
    }

    let transitions = f
        .seq("transitions", d)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, n)| transition(n, &format!("{key}.transitions[{i}]"), rules, d))
        .collect();

    if let Some(ops) = f.get("operations")
        && ops.as_seq().is_none()
    {
        d.push(type_error(ops, "operations", "a sequence"));
    }

    Some(Fsm {
        loc: node.loc,
        dialect,
        name,
        initial,
        states,
        transitions,
        persistence,
    })
}

/// An "X is not a state" error with a did-you-mean over the declared states.
pub(crate) fn unknown_state(
    loc: Loc,
    message: String,
    name: &str,
    declared: &[String],
) -> Diagnostic {
    let mut names: Vec<&str> = Vec::new();
    for s in declared {
        if !names.contains(&s.as_str()) {
            names.push(s);
        }
    }
    let diagnostic = Diagnostic::error("fsm-unknown-state", loc, message);
    match did_you_mean(name, &names) {
        Some(best) => diagnostic.with_help(format!("did you mean `{best}`?")),
        None if names.is_empty() => diagnostic.with_help("the state machine declares no states"),
        None => diagnostic.with_help(format!("the declared states are: {}", names.join(", "))),
    }
}

fn state(node: &Node, section: &str, d: &mut Diagnostics) -> Option<State> {
    let f = Fields::new(node, section, STATE_KEYS, Unknown::Deny, d)?;
    if let Some(v) = f.get("version") {
        version(v, "version", d);
    }
    let state_type = f.str("state_type", d);
    let is_terminal = f.bool("is_terminal", d).is_some_and(|b| b.value);
    f.bool("is_recoverable", d);
    f.u64("timeout_ms", d);
    for list in ["required_data", "optional_data", "validation_rules"] {
        f.strings(list, d);
    }
    let entry = f.strings("entry_actions", d);
    let exit = f.strings("exit_actions", d);
    let description = f.str("description", d).map(|s| s.value);
    let name = f.required_str("state_name", section, d)?;
    Some(State {
        name,
        terminal: is_terminal,
        error: state_type.is_some_and(|t| t.value == "error"),
        entry,
        exit,
        description,
    })
}

fn transition(
    node: &Node,
    section: &str,
    rules: &ValidValues,
    d: &mut Diagnostics,
) -> Option<Transition> {
    let f = Fields::new(node, section, TRANSITION_KEYS, Unknown::Deny, d)?;
    if let Some(v) = f.get("version") {
        version(v, "version", d);
    }
    let name = f.str("transition_name", d);
    let from = f.required_str("from_state", section, d);
    let to = f.required_str("to_state", section, d);
    let trigger = f.required_str("trigger", section, d);
    let priority = match f.get("priority") {
        None => 0,
        Some(p) => match p.scalar() {
            Some(Scalar::Int(i)) => i,
            _ => {
                d.push(type_error(p, "priority", "an integer"));
                0
            }
        },
    };
    let conditions = f
        .seq("conditions", d)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, n)| condition(n, &format!("{section}.conditions[{i}]"), rules, d))
        .collect();
    let actions = f
        .seq("actions", d)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, n)| action(n, &format!("{section}.actions[{i}]"), d))
        .collect();
    f.strings("rollback_transitions", d);
    for flag in ["is_atomic", "retry_enabled"] {
        f.bool(flag, d);
    }
    for count in ["max_retries", "retry_delay_ms"] {
        f.u64(count, d);
    }
    let description = f.str("description", d).map(|s| s.value);
    let (from, to, trigger) = (from?, to?, trigger?);
    let name = name.unwrap_or_else(|| {
        let part = |s: &str| {
            if s == WILDCARD {
                "any".to_owned()
            } else {
                s.to_owned()
            }
        };
        Spanned::new(
            format!(
                "{}_to_{}_on_{}",
                part(&from.value),
                part(&to.value),
                trigger.value
            ),
            node.loc,
        )
    });
    Some(Transition {
        name,
        from,
        to,
        trigger,
        priority,
        conditions,
        actions,
        description,
    })
}

fn action(node: &Node, section: &str, d: &mut Diagnostics) -> Option<Spanned<String>> {
    if node.as_map().is_none() {
        d.push(
            type_error(node, section, "a mapping")
                .with_help("write each action as `- action_name: name` (with `action_type: …`)"),
        );
        return None;
    }
    let f = Fields::new(node, section, ACTION_KEYS, Unknown::Deny, d)?;
    if let Some(v) = f.get("version") {
        version(v, "version", d);
    }
    for text in ["action_type", "rollback_action", "description"] {
        f.str(text, d);
    }
    f.bool("is_critical", d);
    for count in ["timeout_ms", "execution_order"] {
        f.u64(count, d);
    }
    if let Some(config) = f.get("action_config")
        && config.as_map().is_none()
    {
        d.push(type_error(config, "action_config", "a mapping"));
    }
    f.required_str("action_name", section, d)
}

fn condition(
    node: &Node,
    section: &str,
    rules: &ValidValues,
    d: &mut Diagnostics,
) -> Option<Condition> {
    if node.as_map().is_none() {
        d.push(
            type_error(node, section, "a mapping")
                .with_help("write each condition as `- expression: \"field operator value\"`"),
        );
        return None;
    }
    let f = Fields::new(node, section, CONDITION_KEYS, Unknown::Deny, d)?;
    if let Some(v) = f.get("version") {
        version(v, "version", d);
    }
    for text in ["condition_type", "description", "error_message"] {
        f.str(text, d);
    }
    for count in ["retry_count", "timeout_ms"] {
        f.u64(count, d);
    }
    let name = f.str("condition_name", d).map(|s| s.value);
    let required = f.bool("required", d).is_none_or(|b| b.value);
    let expression = f.required_str("expression", section, d)?;
    let source = Source::of(f.get("expression"), &expression);
    let guard = parse_guard(&expression.value, &source, rules, d);
    Some(Condition {
        name,
        expression,
        required,
        guard,
    })
}

/// Where an expression's tokens are in the file, as far as it can be told.
struct Source {
    /// The expression's own location.
    loc: Loc,
    /// The column shift of the first character (0 plain, 1 quoted); `None` for block
    /// scalars, whose tokens cannot be located.
    shift: Option<u32>,
    /// Characters that, before a token, make its column unknowable (escapes).
    unsafe_chars: &'static [char],
}

impl Source {
    fn of(node: Option<&Node>, expression: &Spanned<String>) -> Source {
        let style = match node.map(|n| &n.value) {
            Some(Value::Scalar { style, .. }) => *style,
            _ => Style::Literal,
        };
        let (shift, unsafe_chars): (Option<u32>, &'static [char]) = match style {
            Style::Plain => (Some(0), &[]),
            Style::SingleQuoted => (Some(1), &['\'']),
            Style::DoubleQuoted => (Some(1), &['"', '\\']),
            Style::Literal | Style::Folded => (None, &[]),
        };
        Source {
            loc: expression.loc,
            shift,
            unsafe_chars,
        }
    }

    /// The location of the character at byte `offset` of `text`, or the expression's.
    fn at(&self, text: &str, offset: usize) -> Loc {
        let prefix = text.get(..offset).unwrap_or_default();
        match self.shift {
            Some(shift)
                if !prefix
                    .chars()
                    .any(|c| self.unsafe_chars.contains(&c) || c.is_control()) =>
            {
                let chars = u32::try_from(prefix.chars().count()).unwrap_or(0);
                Loc {
                    col: self.loc.col.saturating_add(shift).saturating_add(chars),
                    ..self.loc
                }
            }
            _ => self.loc,
        }
    }
}

/// `validation.rules[]` entries with `valid_values`, for `is_valid`.
#[derive(Default)]
struct ValidValues {
    rules: Vec<(String, Vec<String>)>,
}

impl ValidValues {
    fn of(contract: &Contract) -> ValidValues {
        let rules = contract
            .root
            .get("validation")
            .and_then(|v| v.get("rules"))
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(|rule| {
                let field = rule.get("field")?.as_str()?.to_owned();
                let values = rule
                    .get("valid_values")?
                    .as_seq()?
                    .iter()
                    .filter(|v| !v.is_null())
                    .filter_map(|v| v.scalar_text().map(str::to_owned))
                    .collect();
                Some((field, values))
            })
            .collect();
        ValidValues { rules }
    }

    fn get(&self, field: &str) -> Option<&[String]> {
        self.rules
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.as_slice())
    }
}

/// Splits on ASCII whitespace, keeping each token's byte offset.
fn tokens(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_ascii_whitespace() {
            if let Some(s) = start.take() {
                out.push((s, &text[s..i]));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

const SHAPE_HELP: &str =
    "a condition is `field operator value` (e.g. `retry_count less_than 3`), or `field exists`";

fn parse_guard(
    text: &str,
    source: &Source,
    rules: &ValidValues,
    d: &mut Diagnostics,
) -> Option<Guard> {
    let toks = tokens(text);
    let bad = |loc: Loc, message: String| Diagnostic::error("fsm-bad-expression", loc, message);
    let (field, op_tok, operand) = match toks[..] {
        [] => {
            d.push(
                bad(source.loc, "the condition's expression is empty".into()).with_help(SHAPE_HELP),
            );
            return None;
        }
        [(_, only)] => {
            d.push(
                bad(
                    source.loc,
                    format!(
                        "condition `{text}` has no operator: `{only}` alone is not a condition"
                    ),
                )
                .with_help(SHAPE_HELP),
            );
            return None;
        }
        [field, op] => (field, op, None),
        [field, op, operand] => (field, op, Some(operand)),
        [_, _, _, (extra, _), ..] => {
            let in_list = matches!(toks[1].1, "in" | "not_in");
            d.push(
                bad(
                    source.at(text, extra),
                    format!(
                        "condition `{text}` has {} tokens; a condition has exactly three",
                        toks.len()
                    ),
                )
                .with_help(if in_list {
                    "write the members of `in`/`not_in` without spaces: `status in a,b,c`"
                } else {
                    SHAPE_HELP
                }),
            );
            return None;
        }
    };

    let path = field_path(text, field, source, d);
    let Some(form) = OPERATORS
        .iter()
        .find(|(name, _)| *name == op_tok.1)
        .map(|(_, form)| *form)
    else {
        let diagnostic = Diagnostic::error(
            "fsm-unknown-operator",
            source.at(text, op_tok.0),
            format!("unknown operator `{}` in condition `{text}`", op_tok.1),
        );
        let names = operator_names();
        let suggestion = FOREIGN
            .iter()
            .find(|(foreign, _)| *foreign == op_tok.1)
            .map(|(_, ours)| *ours)
            .or_else(|| did_you_mean(op_tok.1, &names));
        d.push(match suggestion {
            Some(best) => diagnostic.with_help(format!("did you mean `{best}`?")),
            None => diagnostic.with_help(format!("the operators are: {}", names.join(" "))),
        });
        return None;
    };
    let op_text = op_tok.1.to_owned();

    let (op, operand) = match form {
        OpForm::Unary(op) => (Some(op), Some(Operand::None)),
        OpForm::Length(op, n) => (Some(op), Some(Operand::Length(n))),
        OpForm::IsValid => {
            let members = rules.get(field.1);
            match members {
                Some(values) if !values.is_empty() => (
                    Some(Op::In),
                    Some(Operand::List(
                        values.iter().map(|v| Literal::new(v)).collect(),
                    )),
                ),
                _ => {
                    d.push(
                        Diagnostic::error(
                            "fsm-is-valid-rule",
                            source.at(text, op_tok.0),
                            format!(
                                "condition `{text}` uses `is_valid`, which needs a `validation.rules` entry for `{}` with `valid_values`",
                                field.1
                            ),
                        )
                        .with_help(format!(
                            "add `validation: {{rules: [{{field: {}, valid_values: [a, b]}}]}}` at the top level, or write `{} in a,b`",
                            field.1, field.1
                        )),
                    );
                    (None, None)
                }
            }
        }
        OpForm::Binary(op) => match operand {
            None => {
                d.push(
                    bad(
                        source.at(text, op_tok.0),
                        format!("condition `{text}` has no value after `{}`", op_tok.1),
                    )
                    .with_help(format!(
                        "`{}` compares the field with a value: `{} {} <value>`",
                        op_tok.1, field.1, op_tok.1
                    )),
                );
                (Some(op), None)
            }
            Some((offset, token)) => (
                Some(op),
                binary_operand(op, op_tok.1, token, text, source.at(text, offset), d),
            ),
        },
    };
    Some(Guard {
        path: path?,
        op: op?,
        op_text,
        operand: operand?,
    })
}

/// Checks the field path: dot-separated names, each `[A-Za-z][A-Za-z0-9_]*`.
fn field_path(
    text: &str,
    (offset, field): (usize, &str),
    source: &Source,
    d: &mut Diagnostics,
) -> Option<Vec<String>> {
    let mut ok = true;
    let mut start = 0;
    for segment in field.split('.') {
        let loc = source.at(text, offset + start);
        start += segment.len() + 1;
        let problem = if segment.is_empty() {
            Some((
                format!("field path `{field}` in condition `{text}` has an empty segment"),
                "field paths are names separated by single dots, e.g. `user.role`".to_owned(),
            ))
        } else if segment.starts_with('_') {
            Some((
                format!("field `{segment}` in condition `{text}` starts with `_`"),
                "fields starting with `_` are private: the Python reference never reads them (the condition is always false); rename the field".to_owned(),
            ))
        } else if !is_field_name(segment) {
            Some((
                format!("`{segment}` in condition `{text}` is not a field name"),
                "field names start with a letter and hold letters, digits and `_`".to_owned(),
            ))
        } else {
            None
        };
        if let Some((message, help)) = problem {
            d.push(Diagnostic::error("fsm-bad-field", loc, message).with_help(help));
            ok = false;
            // One finding per path is enough.
            break;
        }
    }
    ok.then(|| field.split('.').map(str::to_owned).collect())
}

fn is_field_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn binary_operand(
    op: Op,
    op_text: &str,
    token: &str,
    text: &str,
    loc: Loc,
    d: &mut Diagnostics,
) -> Option<Operand> {
    match op {
        Op::Eq | Op::Ne | Op::Contains => Some(Operand::Literal(Literal::new(token))),
        Op::Lt | Op::Gt | Op::Le | Op::Ge => {
            let literal = Literal::new(token);
            if literal.float.is_some() {
                return Some(Operand::Literal(literal));
            }
            d.push(
                Diagnostic::error(
                    "fsm-bad-operand",
                    loc,
                    format!(
                        "`{token}` in condition `{text}` is not a number, and `{op_text}` compares numbers"
                    ),
                )
                .with_help(
                    "write a finite number such as `3` or `-2.5` (the Python reference silently evaluates this condition as false)",
                ),
            );
            None
        }
        Op::MinLength | Op::MaxLength => match token.parse::<u64>() {
            Ok(n) => Some(Operand::Length(n)),
            Err(_) => {
                d.push(
                    Diagnostic::error(
                        "fsm-bad-operand",
                        loc,
                        format!(
                            "`{token}` in condition `{text}` is not a length: `{op_text}` takes a non-negative integer"
                        ),
                    )
                    .with_help(format!("write a count, e.g. `{op_text} 1`")),
                );
                None
            }
        },
        Op::In | Op::NotIn => {
            let members: Vec<&str> = token.split(',').map(str::trim).collect();
            if members.iter().any(|m| m.is_empty()) {
                d.push(
                    Diagnostic::error(
                        "fsm-bad-operand",
                        loc,
                        format!("`{token}` in condition `{text}` has an empty member"),
                    )
                    .with_help(format!(
                        "`{op_text}` takes comma-separated values without empty entries: `a,b,c`"
                    )),
                );
                return None;
            }
            Some(Operand::List(
                members.into_iter().map(Literal::new).collect(),
            ))
        }
        Op::Matches => match crate::schema::regex_problem(token) {
            None => Some(Operand::Pattern(token.to_owned())),
            Some(problem) => {
                d.push(
                    Diagnostic::error(
                        "fsm-bad-pattern",
                        loc,
                        format!(
                            "`{token}` in condition `{text}` is not a valid regular expression: {problem}"
                        ),
                    )
                    .with_help(
                        "patterns use Rust `regex` syntax (no look-around or back-references) and match at the start of the value, like Python's `re.match`",
                    ),
                );
                None
            }
        },
        // Unary operators never reach here.
        Op::Exists | Op::NotExists => Some(Operand::None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_offsets() {
        assert_eq!(tokens("  a  >\t3 "), vec![(2, "a"), (5, ">"), (7, "3")]);
        assert!(tokens(" \t").is_empty());
    }

    #[test]
    fn every_operator_resolves() {
        for name in operator_names() {
            assert!(operator(name).is_some(), "{name}");
        }
        assert_eq!(operator("is_empty"), Some((Op::MaxLength, false)));
        assert_eq!(operator("is_valid"), Some((Op::In, false)));
    }

    #[test]
    fn field_names() {
        assert!(is_field_name("a1_b"));
        assert!(!is_field_name("1a"));
        assert!(!is_field_name("a-b"));
        assert!(!is_field_name(""));
    }
}
