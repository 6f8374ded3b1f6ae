//! The table-driven reference interpreter: runs an [`Fsm`] on JSON contexts.
//!
//! It implements the [guard semantics table](super#guard-semantics-typed) read on JSON
//! values, on its own (it shares no code with the runtime's generated `match`es, which are
//! property-tested against it):
//!
//! - a path is looked up through nested objects; a missing key, a `null`, or an
//!   intermediate that is not an object gives a missing value;
//! - numbers compare numerically (integers exactly, including `u64` beyond `i64`), strings
//!   as text, booleans against `true`/`True`/`false`/`False`, and a missing value equals only
//!   the literal `None`;
//! - arrays and objects have a length; strings have a length in characters;
//! - `contains` searches strings (substring) and arrays (an element `==` the literal);
//! - `matches` applies to strings only, anchored at the start (Python's `re.match`); a
//!   pattern the `regex` crate cannot compile matches nothing.
//!
//! [`step`] follows the selection rules of DESIGN.md §4.4: exact `(state, trigger)`
//! candidates, else wildcard ones, highest priority first; the first whose required
//! conditions all hold is taken; otherwise the best candidate's false conditions are
//! reported.
//!
//! ```
//! use onex_contracts::fsm::interp;
//! use onex_contracts::fsm::{Guard, Literal, Op, Operand};
//! use serde_json::json;
//!
//! let guard = Guard {
//!     path: vec!["user".into(), "level".into()],
//!     op: Op::Ge,
//!     op_text: ">=".into(),
//!     operand: Operand::Literal(Literal::new("3")),
//! };
//! assert!(interp::eval(&guard, &json!({"user": {"level": 3.5}})));
//! assert!(!interp::eval(&guard, &json!({"user": {"level": "5"}})));
//! assert!(!interp::eval(&guard, &json!({"user": null})));
//! ```

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::{Number, Value};

use super::{Fsm, Guard, Literal, Op, Operand, Transition};

/// A transition that would be taken.
#[derive(Clone, Debug, PartialEq)]
pub struct Step<'a> {
    /// The transition.
    pub transition: &'a Transition,
    /// Its target state.
    pub to: &'a str,
    /// The intents, in order: the current state's exit actions, the transition's actions,
    /// the target's entry actions.
    pub intents: Vec<&'a str>,
}

/// Why no transition would be taken.
#[derive(Clone, Debug, PartialEq)]
pub enum Reject<'a> {
    /// The state is not declared.
    UnknownState,
    /// No exact or wildcard transition for the trigger in the state.
    NoTransition,
    /// Candidates exist, but none has all its required conditions true.
    Guard {
        /// The highest-priority candidate.
        transition: &'a Transition,
        /// Its required conditions that are false, as written, in declaration order.
        failed: Vec<&'a str>,
    },
}

/// Runs one trigger from `state` with `ctx`: the transition taken, or why none is.
///
/// Conditions that did not parse (the contract has errors) are ignored, like `required:
/// false` ones.
pub fn step<'a>(
    fsm: &'a Fsm,
    state: &str,
    trigger: &str,
    ctx: &Value,
) -> Result<Step<'a>, Reject<'a>> {
    if fsm.state(state).is_none() {
        return Err(Reject::UnknownState);
    }
    let candidates = fsm.candidates(state, trigger);
    let Some(&best) = candidates.first() else {
        return Err(Reject::NoTransition);
    };
    for t in candidates {
        if t.required().all(|(_, g)| eval(g, ctx)) {
            return Ok(Step {
                transition: t,
                to: &t.to.value,
                intents: fsm.intents(state, t),
            });
        }
    }
    Err(Reject::Guard {
        transition: best,
        failed: failed(best, ctx),
    })
}

/// The required conditions of `t` that are false on `ctx`, as written, in declaration
/// order (no short-circuit).
pub fn failed<'a>(t: &'a Transition, ctx: &Value) -> Vec<&'a str> {
    t.required()
        .filter(|(_, g)| !eval(g, ctx))
        .map(|(c, _)| c.expression.value.as_str())
        .collect()
}

/// The value at `path` in `ctx`; `None` when missing or `null` (a missing key, a `null`, or
/// a non-object intermediate on the way).
pub fn lookup<'v>(ctx: &'v Value, path: &[String]) -> Option<&'v Value> {
    let mut here = ctx;
    for segment in path {
        here = here.as_object()?.get(segment)?;
    }
    (!here.is_null()).then_some(here)
}

/// Evaluates one guard on a JSON context.
pub fn eval(guard: &Guard, ctx: &Value) -> bool {
    let v = lookup(ctx, &guard.path);
    match (guard.op, &guard.operand) {
        (Op::Eq, Operand::Literal(l)) => equals(v, l),
        (Op::Ne, Operand::Literal(l)) => !equals(v, l),
        (Op::Lt, Operand::Literal(l)) => compare(v, l) == Some(Ordering::Less),
        (Op::Gt, Operand::Literal(l)) => compare(v, l) == Some(Ordering::Greater),
        (Op::Le, Operand::Literal(l)) => {
            matches!(compare(v, l), Some(Ordering::Less | Ordering::Equal))
        }
        (Op::Ge, Operand::Literal(l)) => {
            matches!(compare(v, l), Some(Ordering::Greater | Ordering::Equal))
        }
        (Op::MinLength, Operand::Length(n)) => length(v).is_some_and(|len| len >= *n),
        (Op::MaxLength, Operand::Length(n)) => length(v).is_some_and(|len| len <= *n),
        (Op::Exists, _) => v.is_some(),
        (Op::NotExists, _) => v.is_none(),
        (Op::In, Operand::List(members)) => members.iter().any(|m| equals(v, m)),
        (Op::NotIn, Operand::List(members)) => !members.iter().any(|m| equals(v, m)),
        (Op::Contains, Operand::Literal(l)) => match v {
            Some(Value::String(s)) => s.contains(l.text.as_str()),
            Some(Value::Array(items)) => items.iter().any(|item| equals(Some(item), l)),
            _ => false,
        },
        (Op::Matches, Operand::Pattern(p)) => match v {
            Some(Value::String(s)) => prefix_match(p, s),
            _ => false,
        },
        // An operand of the wrong shape cannot come out of the parser.
        _ => false,
    }
}

/// `==` on a value that may be missing (`None`).
fn equals(v: Option<&Value>, l: &Literal) -> bool {
    match v {
        None | Some(Value::Null) => l.none,
        Some(Value::Bool(b)) => l.boolean == Some(*b),
        Some(Value::Number(n)) => number_cmp(n, l) == Some(Ordering::Equal),
        Some(Value::String(s)) => *s == l.text,
        Some(Value::Array(_) | Value::Object(_)) => false,
    }
}

/// The numeric comparisons: numbers only, against a numeric literal.
fn compare(v: Option<&Value>, l: &Literal) -> Option<Ordering> {
    match v? {
        Value::Number(n) => number_cmp(n, l),
        _ => None,
    }
}

/// A JSON number against a literal: integers exactly, floats as `f64` (NaN: `None`).
fn number_cmp(n: &Number, l: &Literal) -> Option<Ordering> {
    let int = n
        .as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from));
    match int {
        Some(i) => match (l.int, l.float) {
            (Some(li), _) => Some(i.cmp(&i128::from(li))),
            (None, Some(f)) => int_float_cmp(i, f),
            (None, None) => None,
        },
        None => {
            let f = n.as_f64()?;
            let lf = l.float.or(l.int.map(|i| i as f64))?;
            f.partial_cmp(&lf)
        }
    }
}

/// Exact comparison of an integer (within ±2^64) with a finite float.
fn int_float_cmp(i: i128, f: f64) -> Option<Ordering> {
    // 2^64 fits every JSON integer serde_json reads; beyond it the float decides.
    const LIMIT: f64 = 18_446_744_073_709_551_616.0;
    if f.is_nan() {
        return None;
    }
    if f >= LIMIT {
        return Some(Ordering::Less);
    }
    if f <= -LIMIT {
        return Some(Ordering::Greater);
    }
    let whole = f.trunc();
    // |whole| < 2^64: exact in i128.
    Some(i.cmp(&(whole as i128)).then(if f > whole {
        Ordering::Less
    } else if f < whole {
        Ordering::Greater
    } else {
        Ordering::Equal
    }))
}

/// Length: characters of a string, items of an array or object.
fn length(v: Option<&Value>) -> Option<u64> {
    let len = match v? {
        Value::String(s) => s.chars().count(),
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        Value::Null | Value::Bool(_) | Value::Number(_) => return None,
    };
    u64::try_from(len).ok()
}

thread_local! {
    /// Compiled `matches` patterns (`None`: unusable), anchored at the start.
    static PATTERNS: RefCell<HashMap<String, Option<regex::Regex>>> = RefCell::new(HashMap::new());
}

/// True when `pattern` matches at the start of `text` (an unusable pattern never matches).
pub fn prefix_match(pattern: &str, text: &str) -> bool {
    PATTERNS.with(|cache| {
        let mut cache = cache.borrow_mut();
        let re = cache.entry(pattern.to_owned()).or_insert_with(|| {
            // Only a pattern valid on its own is wrapped, so the group keeps its meaning.
            regex_syntax::parse(pattern).ok()?;
            regex::Regex::new(&format!(r"\A(?:{pattern})")).ok()
        });
        re.as_ref().is_some_and(|re| re.is_match(text))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn guard(path: &str, op: Op, operand: Operand) -> Guard {
        Guard {
            path: path.split('.').map(str::to_owned).collect(),
            op,
            op_text: String::new(),
            operand,
        }
    }

    fn lit(text: &str) -> Operand {
        Operand::Literal(Literal::new(text))
    }

    fn list(items: &[&str]) -> Operand {
        Operand::List(items.iter().map(|t| Literal::new(t)).collect())
    }

    #[test]
    fn lookup_treats_null_and_non_objects_as_missing() {
        let path = |p: &str| p.split('.').map(str::to_owned).collect::<Vec<_>>();
        let ctx = json!({"a": {"b": null, "c": 1}, "s": "x", "n": null});
        assert_eq!(lookup(&ctx, &path("a.c")), Some(&json!(1)));
        assert_eq!(lookup(&ctx, &path("a.b")), None);
        assert_eq!(lookup(&ctx, &path("a.b.c")), None);
        assert_eq!(lookup(&ctx, &path("s.x")), None);
        assert_eq!(lookup(&ctx, &path("n")), None);
        assert_eq!(lookup(&ctx, &path("zz")), None);
        assert_eq!(lookup(&json!([1]), &path("0")), None);
    }

    #[test]
    fn the_semantics_table() {
        let t = |g: &Guard, v: Value| eval(g, &json!({ "v": v }));
        let eq5 = guard("v", Op::Eq, lit("5"));
        assert!(t(&eq5, json!(5)) && t(&eq5, json!(5.0)) && t(&eq5, json!("5")));
        assert!(!t(&eq5, json!([5])) && !t(&eq5, json!(null)) && !t(&eq5, json!(true)));
        let eq_none = guard("v", Op::Eq, lit("None"));
        assert!(t(&eq_none, json!(null)) && eval(&eq_none, &json!({})) && !t(&eq_none, json!(0)));
        let eq_true = guard("v", Op::Eq, lit("True"));
        assert!(t(&eq_true, json!(true)) && !t(&eq_true, json!(1)) && t(&eq_true, json!("True")));
        let ne = guard("v", Op::Ne, lit("5"));
        assert!(t(&ne, json!(null)) && !t(&ne, json!(5)));

        let gt = guard("v", Op::Gt, lit("5"));
        assert!(
            t(&gt, json!(5.5))
                && !t(&gt, json!("7"))
                && !t(&gt, json!(null))
                && !t(&gt, json!(true))
        );
        assert!(t(&gt, json!(u64::MAX)));
        let le_half = guard("v", Op::Le, lit("0.5"));
        assert!(t(&le_half, json!(0)) && !t(&le_half, json!(1)) && t(&le_half, json!(0.5)));
        let bad = guard("v", Op::Gt, lit("abc"));
        assert!(!t(&bad, json!(1)));
        let big = guard("v", Op::Lt, lit("1e19"));
        assert!(t(&big, json!(u64::MAX / 2)) && !t(&big, json!(10_000_000_000_000_000_000u64)));

        let min = guard("v", Op::MinLength, Operand::Length(2));
        assert!(t(&min, json!("hé")) && t(&min, json!([1, 2])) && t(&min, json!({"a": 1, "b": 2})));
        assert!(!t(&min, json!(100)) && !t(&min, json!(null)));
        let max = guard("v", Op::MaxLength, Operand::Length(0));
        assert!(t(&max, json!("")) && !t(&max, json!(null)));

        let exists = guard("v", Op::Exists, Operand::None);
        assert!(t(&exists, json!(0)) && !t(&exists, json!(null)));
        let not_exists = guard("v", Op::NotExists, Operand::None);
        assert!(eval(&not_exists, &json!({})) && !t(&not_exists, json!(false)));

        let is_in = guard("v", Op::In, list(&["a", "5", "None"]));
        assert!(t(&is_in, json!("a")) && t(&is_in, json!(5.0)) && t(&is_in, json!(null)));
        assert!(!t(&is_in, json!("A")));
        let not_in = guard("v", Op::NotIn, list(&["a"]));
        assert!(t(&not_in, json!(null)) && !t(&not_in, json!("a")));

        let contains = guard("v", Op::Contains, lit("1"));
        assert!(
            t(&contains, json!("x1x")) && t(&contains, json!([1])) && t(&contains, json!(["1"]))
        );
        assert!(
            !t(&contains, json!(1))
                && !t(&contains, json!({"1": 1}))
                && !t(&contains, json!([[1]]))
        );

        let digits = guard("v", Op::Matches, Operand::Pattern("[0-9]+".into()));
        assert!(t(&digits, json!("42x")) && !t(&digits, json!("x42")) && !t(&digits, json!(42)));
        let broken = guard("v", Op::Matches, Operand::Pattern("[bad".into()));
        assert!(!t(&broken, json!("[bad")));
        let alt = guard("v", Op::Matches, Operand::Pattern("a)|(b".into()));
        assert!(!t(&alt, json!("b")));
    }

    #[test]
    fn integers_and_floats_compare_exactly() {
        assert_eq!(int_float_cmp(3, 3.5), Some(Ordering::Less));
        assert_eq!(int_float_cmp(-3, -3.5), Some(Ordering::Greater));
        assert_eq!(int_float_cmp(4, 3.5), Some(Ordering::Greater));
        assert_eq!(int_float_cmp(3, 3.0), Some(Ordering::Equal));
        assert_eq!(
            int_float_cmp(i128::from(u64::MAX), u64::MAX as f64),
            Some(Ordering::Less)
        );
        assert_eq!(
            int_float_cmp(1 << 63, (1u64 << 63) as f64),
            Some(Ordering::Equal)
        );
    }
}
