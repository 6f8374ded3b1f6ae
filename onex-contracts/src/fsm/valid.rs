//! Checks a parsed [`Fsm`] (DESIGN.md §5): states and endpoints exist, `*` only as a source,
//! no explicit exits from terminal states, unique `(from, trigger, priority)`, reachability,
//! dead ends, cycles without a way out, names that become Rust identifiers; and, when the
//! contract defines the context model, every guard against that model.
//!
//! All findings are collected, in a fixed order (check by check, declaration order within a
//! check). Codes:
//!
//! | code | severity | finding |
//! |---|---|---|
//! | `fsm-no-states` | error | no states |
//! | `fsm-duplicate-state` | error | a state name declared twice |
//! | `fsm-missing-initial` | error | no `initial_state` |
//! | `fsm-unknown-state` | error | `initial_state`, `from_state`, `to_state`, `terminal_states` or `error_states` names no state |
//! | `fsm-wildcard-target` | error | `to_state: "*"` |
//! | `fsm-terminal-exit` | error | an explicit transition out of a terminal state |
//! | `fsm-duplicate-transition` | error | two transitions with the same `(from, trigger, priority)` |
//! | `fsm-unreachable-state` | error | no path from the initial state |
//! | `fsm-dead-end` | error | a non-terminal state with no way out |
//! | `fsm-no-way-out` | warning | a reachable state from which no terminal state is reachable |
//! | `fsm-bad-name` | error | a state, trigger or action name that cannot become a Rust variant |
//! | `fsm-name-collision` | error | two names with the same UpperCamelCase variant |
//! | `fsm-context-field` | error | a guard reads a field the context model does not have |
//! | `fsm-context-type` | error | a guard's operator or literal does not fit the field's type |

use std::collections::{HashMap, HashSet, VecDeque};

use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::names;
use crate::read::Spanned;
use crate::schema::{FieldDef, ModelDef, ModelShape, TypeExpr};
use crate::yaml::Loc;

use super::parse::unknown_state;
use super::{Fsm, Guard, Literal, Op, Operand, WILDCARD};

/// Checks the machine; every problem goes to `d`.
pub fn validate(fsm: &Fsm, d: &mut Diagnostics) {
    let declared: Vec<String> = fsm.states.iter().map(|s| s.name.value.clone()).collect();
    states(fsm, d);
    let initial = initial(fsm, &declared, d);
    endpoints(fsm, &declared, d);
    duplicates(fsm, d);
    graph(fsm, initial, d);
    identifiers(fsm, d);
}

fn states(fsm: &Fsm, d: &mut Diagnostics) {
    if fsm.states.is_empty() {
        d.push(
            Diagnostic::error(
                "fsm-no-states",
                fsm.loc,
                format!("`{}` declares no states", fsm.dialect.key()),
            )
            .with_help("add `states:` with at least one `- state_name: …` entry"),
        );
    }
    for (i, s) in fsm.states.iter().enumerate() {
        if let Some(first) = fsm.states[..i]
            .iter()
            .find(|f| f.name.value == s.name.value)
        {
            d.push(
                Diagnostic::error(
                    "fsm-duplicate-state",
                    s.name.loc,
                    format!(
                        "state `{}` is declared twice (first at {})",
                        s.name.value, first.name.loc
                    ),
                )
                .with_help("state names must be unique: remove or rename one of them"),
            );
        }
    }
}

/// Checks `initial_state`; returns its index when it names a state.
fn initial(fsm: &Fsm, declared: &[String], d: &mut Diagnostics) -> Option<usize> {
    let Some(initial) = &fsm.initial else {
        let help = if declared.is_empty() {
            "add `initial_state: <state>`".to_owned()
        } else {
            format!(
                "add `initial_state: <state>` naming one of: {}",
                declared.join(", ")
            )
        };
        d.push(
            Diagnostic::error(
                "fsm-missing-initial",
                fsm.loc,
                format!("`{}` has no `initial_state`", fsm.dialect.key()),
            )
            .with_help(help),
        );
        return None;
    };
    let index = declared.iter().position(|s| *s == initial.value);
    if index.is_none() {
        d.push(unknown_state(
            initial.loc,
            format!("`initial_state` `{}` is not a state", initial.value),
            &initial.value,
            declared,
        ));
    }
    index
}

fn endpoints(fsm: &Fsm, declared: &[String], d: &mut Diagnostics) {
    let known = |name: &str| declared.iter().any(|s| s == name);
    for t in &fsm.transitions {
        if !t.is_wildcard() && !known(&t.from.value) {
            d.push(unknown_state(
                t.from.loc,
                format!(
                    "transition `{}` starts from `{}`, which is not a state",
                    t.name.value, t.from.value
                ),
                &t.from.value,
                declared,
            ));
        }
        if t.to.value == WILDCARD {
            d.push(
                Diagnostic::error(
                    "fsm-wildcard-target",
                    t.to.loc,
                    format!(
                        "transition `{}` has `to_state: \"*\"`; `*` is only allowed as `from_state`",
                        t.name.value
                    ),
                )
                .with_help("name the state the transition goes to"),
            );
        } else if !known(&t.to.value) {
            d.push(unknown_state(
                t.to.loc,
                format!(
                    "transition `{}` goes to `{}`, which is not a state",
                    t.name.value, t.to.value
                ),
                &t.to.value,
                declared,
            ));
        }
        if !t.is_wildcard()
            && let Some(s) = fsm.state(&t.from.value)
            && s.terminal
        {
            d.push(
                Diagnostic::error(
                    "fsm-terminal-exit",
                    t.from.loc,
                    format!(
                        "transition `{}` leaves terminal state `{}`",
                        t.name.value, t.from.value
                    ),
                )
                .with_help(format!(
                    "terminal states have no outgoing transitions: remove the transition, or make `{}` non-terminal (drop `is_terminal: true` / its `terminal_states` entry)",
                    t.from.value
                )),
            );
        }
    }
}

fn duplicates(fsm: &Fsm, d: &mut Diagnostics) {
    for (i, t) in fsm.transitions.iter().enumerate() {
        let first = fsm.transitions[..i].iter().find(|f| {
            f.from.value == t.from.value
                && f.trigger.value == t.trigger.value
                && f.priority == t.priority
        });
        if let Some(first) = first {
            d.push(
                Diagnostic::error(
                    "fsm-duplicate-transition",
                    t.trigger.loc,
                    format!(
                        "transitions `{}` and `{}` both handle `{}` from `{}` at priority {}",
                        first.name.value, t.name.value, t.trigger.value, t.from.value, t.priority
                    ),
                )
                .with_help(
                    "give one of them a different `priority` (the higher one is tried first), or merge them",
                ),
            );
        }
    }
}

/// The state graph: an edge per exact transition, and per wildcard transition from every
/// state that has no exact transition with that trigger (the Python reference's fallback).
struct Graph {
    out: Vec<Vec<usize>>,
}

impl Graph {
    fn new(fsm: &Fsm) -> Graph {
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (i, s) in fsm.states.iter().enumerate() {
            // Duplicated names: the first declaration owns the edges.
            index.entry(s.name.as_str()).or_insert(i);
        }
        let exact: HashSet<(&str, &str)> = fsm
            .transitions
            .iter()
            .filter(|t| !t.is_wildcard())
            .map(|t| (t.from.as_str(), t.trigger.as_str()))
            .collect();
        let mut out: Vec<Vec<usize>> = vec![Vec::new(); fsm.states.len()];
        let mut add = |from: usize, to: usize| {
            if !out[from].contains(&to) {
                out[from].push(to);
            }
        };
        for t in &fsm.transitions {
            let Some(&to) = index.get(t.to.as_str()) else {
                continue;
            };
            if !t.is_wildcard() {
                if let Some(&from) = index.get(t.from.as_str()) {
                    add(from, to);
                }
                continue;
            }
            for (i, s) in fsm.states.iter().enumerate() {
                if index.get(s.name.as_str()) == Some(&i)
                    && !exact.contains(&(s.name.as_str(), t.trigger.as_str()))
                {
                    add(i, to);
                }
            }
        }
        Graph { out }
    }

    /// The states reachable from `starts` (following edges forwards).
    fn reach(&self, starts: &[usize]) -> Vec<bool> {
        let mut seen = vec![false; self.out.len()];
        let mut queue: VecDeque<usize> = starts.iter().copied().collect();
        for &s in starts {
            seen[s] = true;
        }
        while let Some(n) = queue.pop_front() {
            for &m in &self.out[n] {
                if !seen[m] {
                    seen[m] = true;
                    queue.push_back(m);
                }
            }
        }
        seen
    }

    /// The states from which one of `targets` is reachable.
    fn reaches(&self, targets: &[usize]) -> Vec<bool> {
        let mut rev = Graph {
            out: vec![Vec::new(); self.out.len()],
        };
        for (n, outs) in self.out.iter().enumerate() {
            for &m in outs {
                rev.out[m].push(n);
            }
        }
        rev.reach(targets)
    }
}

fn graph(fsm: &Fsm, initial: Option<usize>, d: &mut Diagnostics) {
    let g = Graph::new(fsm);
    let first = |i: usize| {
        fsm.states
            .iter()
            .position(|s| s.name.value == fsm.states[i].name.value)
            == Some(i)
    };
    let reachable = match initial {
        Some(i) => g.reach(&[i]),
        None => vec![true; fsm.states.len()],
    };
    if let Some(init) = initial {
        for (i, s) in fsm.states.iter().enumerate() {
            if !reachable[i] && first(i) {
                d.push(
                    Diagnostic::error(
                        "fsm-unreachable-state",
                        s.name.loc,
                        format!(
                            "state `{}` cannot be reached from the initial state `{}`",
                            s.name.value, fsm.states[init].name.value
                        ),
                    )
                    .with_help(format!(
                        "add a transition into `{}`, or remove the state",
                        s.name.value
                    )),
                );
            }
        }
    }
    let any_wildcard = fsm.transitions.iter().any(|t| t.is_wildcard());
    let mut dead = vec![false; fsm.states.len()];
    for (i, s) in fsm.states.iter().enumerate() {
        if s.terminal || !first(i) || any_wildcard {
            continue;
        }
        if !fsm.transitions.iter().any(|t| t.from.value == s.name.value) {
            dead[i] = true;
            d.push(
                Diagnostic::error(
                    "fsm-dead-end",
                    s.name.loc,
                    format!(
                        "state `{}` is not terminal but has no transition out of it",
                        s.name.value
                    ),
                )
                .with_help(format!(
                    "add a transition from `{0}`, or mark it terminal (`is_terminal: true` or list it in `terminal_states`)",
                    s.name.value
                )),
            );
        }
    }
    let terminals: Vec<usize> = (0..fsm.states.len())
        .filter(|&i| fsm.states[i].terminal && first(i))
        .collect();
    if terminals.is_empty() {
        return;
    }
    let finishing = g.reaches(&terminals);
    let names: Vec<&str> = terminals
        .iter()
        .map(|&i| fsm.states[i].name.value.as_str())
        .collect();
    for (i, s) in fsm.states.iter().enumerate() {
        if reachable[i] && !finishing[i] && !s.terminal && !dead[i] && first(i) {
            d.push(
                Diagnostic::warning(
                    "fsm-no-way-out",
                    s.name.loc,
                    format!(
                        "no terminal state can be reached from state `{}`",
                        s.name.value
                    ),
                )
                .with_help(format!(
                    "every path from `{}` cycles among non-terminal states; add a transition towards a terminal state ({}) if the machine should finish (a lifecycle that loops on purpose can ignore this warning)",
                    s.name.value,
                    names.join(", ")
                )),
            );
        }
    }
}

/// State, trigger and action names become enum variants (UpperCamelCase): each must be
/// able to, and distinct names must not collide.
fn identifiers(fsm: &Fsm, d: &mut Diagnostics) {
    let mut seen: Vec<&str> = Vec::new();
    let states: Vec<&Spanned<String>> = fsm
        .states
        .iter()
        .map(|s| &s.name)
        .filter(|n| {
            let new = !seen.contains(&n.value.as_str());
            seen.push(&n.value);
            new
        })
        .collect();
    check_names("state", &states, d);

    let mut triggers: Vec<&Spanned<String>> = Vec::new();
    for t in &fsm.transitions {
        if !triggers.iter().any(|s| s.value == t.trigger.value) {
            triggers.push(&t.trigger);
        }
    }
    check_names("trigger", &triggers, d);

    let mut actions: Vec<&Spanned<String>> = Vec::new();
    let all = fsm
        .states
        .iter()
        .flat_map(|s| s.entry.iter().chain(&s.exit))
        .chain(fsm.transitions.iter().flat_map(|t| &t.actions));
    for a in all {
        if !actions.iter().any(|s| s.value == a.value) {
            actions.push(a);
        }
    }
    check_names("action", &actions, d);
}

fn check_names(what: &str, names: &[&Spanned<String>], d: &mut Diagnostics) {
    let mut variants: Vec<(String, &Spanned<String>)> = Vec::new();
    for name in names {
        let variant = names::camel(&name.value);
        if let Some(problem) = names::ident_problem(&variant) {
            d.push(
                Diagnostic::error(
                    "fsm-bad-name",
                    name.loc,
                    format!(
                        "{what} `{}` cannot become a Rust enum variant: {problem}",
                        name.value
                    ),
                )
                .with_help(format!(
                    "{what} names become enum variants: use letters, digits and `_`, starting with a letter"
                )),
            );
            continue;
        }
        if let Some((_, first)) = variants.iter().find(|(v, _)| *v == variant) {
            d.push(
                Diagnostic::error(
                    "fsm-name-collision",
                    name.loc,
                    format!(
                        "{what}s `{}` and `{}` both become the enum variant `{variant}`",
                        first.value, name.value
                    ),
                )
                .with_help(format!(
                    "rename one of them (`{}` is at {})",
                    first.value, first.loc
                )),
            );
            continue;
        }
        variants.push((variant, name));
    }
}

/// Checks every parsed guard (required or not) against the context model `model`, whose
/// referenced models are in `definitions`: each path names fields (following `$ref`s; a
/// map or `any` accepts anything below it), and the operator and literal fit the field.
pub fn check_context(fsm: &Fsm, model: &ModelDef, definitions: &[ModelDef], d: &mut Diagnostics) {
    for t in &fsm.transitions {
        for c in &t.conditions {
            if let Some(guard) = &c.guard {
                check_guard(guard, &c.expression, model, definitions, d);
            }
        }
    }
}

/// What a guard's path leads to.
enum Target<'a> {
    /// A declared field.
    Field(&'a FieldDef, &'a ModelDef),
    /// Somewhere under a map or `any`: not checked.
    Unchecked,
}

/// The shape of a field's type, as far as guards care.
enum Kind<'a> {
    Str,
    Int,
    Num,
    Bool,
    Uuid,
    DateTime,
    Any,
    Array,
    Map,
    Object(&'a str),
    Enum(Vec<&'a str>),
}

impl Kind<'_> {
    fn describe(&self) -> String {
        match self {
            Kind::Str => "a string".into(),
            Kind::Int => "an integer".into(),
            Kind::Num => "a number".into(),
            Kind::Bool => "a boolean".into(),
            Kind::Uuid => "a UUID".into(),
            Kind::DateTime => "a date-time".into(),
            Kind::Any => "untyped".into(),
            Kind::Array => "an array".into(),
            Kind::Map => "a map".into(),
            Kind::Object(name) => format!("the object `{name}`"),
            Kind::Enum(values) => format!("an enum ({})", values.join(", ")),
        }
    }
}

fn kind<'a>(ty: &'a TypeExpr, definitions: &'a [ModelDef]) -> Kind<'a> {
    match ty {
        TypeExpr::String => Kind::Str,
        TypeExpr::Integer => Kind::Int,
        TypeExpr::Number => Kind::Num,
        TypeExpr::Boolean => Kind::Bool,
        TypeExpr::Uuid => Kind::Uuid,
        TypeExpr::DateTime => Kind::DateTime,
        TypeExpr::Any => Kind::Any,
        TypeExpr::Array(_) => Kind::Array,
        TypeExpr::Map(_) => Kind::Map,
        TypeExpr::Enum { values, .. } => Kind::Enum(values.iter().map(|v| v.as_str()).collect()),
        TypeExpr::Ref(name) => match definitions.iter().find(|m| m.name.value == name.value) {
            Some(ModelDef {
                shape: ModelShape::Enum(values),
                ..
            }) => Kind::Enum(values.iter().map(|v| v.as_str()).collect()),
            Some(m) => Kind::Object(&m.name.value),
            // A dangling reference is reported by the schema checks.
            None => Kind::Any,
        },
    }
}

fn check_guard(
    guard: &Guard,
    expression: &Spanned<String>,
    model: &ModelDef,
    definitions: &[ModelDef],
    d: &mut Diagnostics,
) {
    let text = &expression.value;
    let loc = expression.loc;
    let target = match resolve(guard, text, model, definitions, loc) {
        Ok(t) => t,
        Err(diagnostic) => {
            d.push(diagnostic);
            return;
        }
    };
    let Target::Field(field, owner) = target else {
        return;
    };
    let k = kind(&field.ty, definitions);
    if matches!(k, Kind::Any) {
        return;
    }
    let path = guard.path.join(".");
    let field_desc = format!("`{path}` is {} in `{}`", k.describe(), owner.name.value);
    let type_error = |message: String, help: String| {
        Diagnostic::error("fsm-context-type", loc, message).with_help(help)
    };
    let op = &guard.op_text;
    match guard.op {
        Op::Lt | Op::Gt | Op::Le | Op::Ge => {
            if !matches!(k, Kind::Int | Kind::Num) {
                d.push(type_error(
                    format!("condition `{text}` compares `{path}` as a number, but {field_desc}"),
                    format!("`{op}` needs an `integer` or `number` field"),
                ));
            }
        }
        Op::MinLength | Op::MaxLength => {
            if !matches!(k, Kind::Str | Kind::Array | Kind::Map) {
                d.push(type_error(
                    format!("condition `{text}` measures the length of `{path}`, but {field_desc}"),
                    format!("`{op}` needs a string, array or map field"),
                ));
            }
        }
        Op::Matches => {
            if !matches!(k, Kind::Str | Kind::Enum(_)) {
                d.push(type_error(
                    format!(
                        "condition `{text}` matches `{path}` against a pattern, but {field_desc}"
                    ),
                    "`matches` needs a string (or string enum) field".to_owned(),
                ));
            }
        }
        Op::Contains => {
            if !matches!(k, Kind::Str | Kind::Array) {
                d.push(type_error(
                    format!("condition `{text}` looks inside `{path}`, but {field_desc}"),
                    "`contains` needs a string or array field".to_owned(),
                ));
            }
        }
        Op::Exists | Op::NotExists => {}
        Op::Eq | Op::Ne | Op::In | Op::NotIn => {
            let literals: &[Literal] = match &guard.operand {
                Operand::Literal(l) => std::slice::from_ref(l),
                Operand::List(l) => l,
                _ => &[],
            };
            for lit in literals {
                if let Some(diagnostic) = literal_fit(lit, field, &k, text, &path, owner, loc) {
                    d.push(diagnostic);
                    break;
                }
            }
        }
    }
}

fn resolve<'a>(
    guard: &Guard,
    text: &str,
    model: &'a ModelDef,
    definitions: &'a [ModelDef],
    loc: Loc,
) -> Result<Target<'a>, Diagnostic> {
    let mut current = model;
    let mut found: Option<&'a FieldDef> = None;
    for (i, segment) in guard.path.iter().enumerate() {
        if let Some(field) = found {
            // Step into the previous field.
            match &field.ty {
                TypeExpr::Any | TypeExpr::Map(_) => return Ok(Target::Unchecked),
                TypeExpr::Ref(name) => {
                    match definitions.iter().find(|m| m.name.value == name.value) {
                        Some(m) => current = m,
                        None => return Ok(Target::Unchecked),
                    }
                }
                other => {
                    let prefix = guard.path[..i].join(".");
                    return Err(Diagnostic::error(
                        "fsm-context-field",
                        loc,
                        format!(
                            "condition `{text}` reads `{}`, but `{prefix}` is {} in `{}`, not an object",
                            guard.path.join("."),
                            kind(other, definitions).describe(),
                            current.name.value
                        ),
                    )
                    .with_help(format!("only objects (models, maps) have fields: read `{prefix}` itself")));
                }
            }
        }
        let fields: &[FieldDef] = match &current.shape {
            ModelShape::Object(fields) => fields,
            ModelShape::Enum(_) => &[],
        };
        match fields.iter().find(|f| f.name.value == *segment) {
            Some(f) => found = Some(f),
            None => {
                let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                let diagnostic = Diagnostic::error(
                    "fsm-context-field",
                    loc,
                    format!(
                        "condition `{text}` reads `{segment}`, which `{}` does not have",
                        current.name.value
                    ),
                );
                return Err(match did_you_mean(segment, &names) {
                    Some(best) => diagnostic.with_help(format!("did you mean `{best}`?")),
                    None if names.is_empty() => diagnostic.with_help(format!(
                        "`{}` has no fields; add `{segment}` to its `properties`",
                        current.name.value
                    )),
                    None => diagnostic.with_help(format!(
                        "the fields of `{}` are: {}",
                        current.name.value,
                        names.join(", ")
                    )),
                });
            }
        }
    }
    match found {
        Some(f) => Ok(Target::Field(f, current)),
        None => Ok(Target::Unchecked),
    }
}

fn literal_fit(
    lit: &Literal,
    field: &FieldDef,
    k: &Kind<'_>,
    text: &str,
    path: &str,
    owner: &ModelDef,
    loc: Loc,
) -> Option<Diagnostic> {
    let model = &owner.name.value;
    let error = |message: String, help: String| {
        Some(Diagnostic::error("fsm-context-type", loc, message).with_help(help))
    };
    if lit.none {
        if field.is_option() {
            return None;
        }
        return error(
            format!(
                "condition `{text}` compares `{path}` with `{}`, but `{path}` is never null in `{model}`",
                lit.text
            ),
            format!(
                "`{path}` is required: drop the condition, or make the field optional (remove it from `required` or add `nullable: true`)"
            ),
        );
    }
    let value = &lit.text;
    match k {
        Kind::Int if lit.int.is_none() => error(
            format!(
                "condition `{text}` compares integer field `{path}` of `{model}` with `{value}`, which is not an integer"
            ),
            format!("write an integer, e.g. `{path} == 3`"),
        ),
        Kind::Num if lit.float.is_none() => error(
            format!(
                "condition `{text}` compares number field `{path}` of `{model}` with `{value}`, which is not a number"
            ),
            format!("write a number, e.g. `{path} == 0.5`"),
        ),
        Kind::Bool if lit.boolean.is_none() => error(
            format!(
                "condition `{text}` compares boolean field `{path}` of `{model}` with `{value}`, which is not a boolean"
            ),
            "write `true` or `false`".to_owned(),
        ),
        Kind::Enum(values) if !values.contains(&value.as_str()) => {
            let help = match did_you_mean(value, values) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("the values are: {}", values.join(", ")),
            };
            error(
                format!(
                    "condition `{text}` compares `{path}` with `{value}`, which is not a value of its enum in `{model}`"
                ),
                help,
            )
        }
        Kind::Array | Kind::Map | Kind::Object(_) => error(
            format!(
                "condition `{text}` compares `{path}` with the single value `{value}`, but `{path}` is {} in `{model}`",
                k.describe()
            ),
            "compare a scalar field, or use `contains`/`min_length`/`exists` on a collection"
                .to_owned(),
        ),
        _ => None,
    }
}
