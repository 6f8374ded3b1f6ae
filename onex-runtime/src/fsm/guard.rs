//! Typed evaluation of FSM guard conditions, called by the code `#[reducer_node]` generates.
//!
//! A contract guard is `field operator operand`. The macro checks it against the context
//! model at compile time and turns it into a call of one of this module's functions on the
//! field, for example `retry_count less_than 3` into `lt(&ctx.retry_count, &THREE)` and
//! `user.role in admin,owner` into `is_in(&ctx.user.role, &[ADMIN, OWNER])`. The functions
//! are generic over small traits, one per family of operators, so a guard on a field of the
//! wrong type is a compile error naming the field's type and the operator family (for
//! example "`String` cannot be compared as a number in an FSM guard").
//!
//! # Semantics
//!
//! The same table as `onex_contracts::fsm` (the typed meaning, not the Python reference's
//! `str()`/`float()` coercions). On a value `v`:
//!
//! | operator | function | true when |
//! |---|---|---|
//! | `==` `equals` | [`eq`] | `v` equals the literal: numbers numerically, strings as text, booleans as `true`/`True`/`false`/`False`, a missing value (`None`, [`Null`], JSON `null`) only the literal `None` |
//! | `!=` `not_equals` | [`ne`] | not [`eq`] |
//! | `<` `>` `<=` `>=` (and their word forms) | [`lt`] [`gt`] [`le`] [`ge`] | `v` is a number and compares so with the numeric literal (missing, NaN or a non-numeric literal: false) |
//! | `min_length N` `max_length N` | [`min_len`] [`max_len`] | `v` is a string (counted in characters), a list or a map and its length is ≥ / ≤ `N` (missing: false) |
//! | `exists` `not_exists` | [`exists`] [`not_exists`] | `v` is present and not null / missing or null |
//! | `in a,b` `not_in a,b` | [`is_in`] [`not_in`] | [`eq`] holds for some member / for none |
//! | `contains x` | [`contains`] | `v` is a string containing `x`, or a list with an element [`eq`] to `x` |
//! | `matches re` | [`matches()`] | `v` is text and `re` matches at its start (like Python's `re.match`) |
//!
//! Integers compare exactly, whatever their width (`u64::MAX` is greater than every `i64`
//! literal, `i128` values are not rounded through `f64`). `f32` values compare with the
//! `f32` reading of the literal, so `0.1f32 == 0.1` holds. [`Uuid`] and
//! [`DateTime<Utc>`](chrono::DateTime) compare as the text they serialize to, so a typed
//! context and its JSON form give the same answers.
//!
//! # Your own types
//!
//! Implement the traits for a context field's type to use it in guards; an enum typically
//! implements [`GuardValue`] (and [`GuardPresence`]) by comparing its wire name:
//!
//! ```
//! use onex_runtime::fsm::guard::{self, GuardPresence, GuardValue, Literal};
//!
//! #[derive(Clone, Copy)]
//! enum Tier { Gold, Silver }
//!
//! impl GuardValue for Tier {
//!     fn guard_eq(&self, lit: &Literal) -> bool {
//!         lit.text == match self { Tier::Gold => "gold", Tier::Silver => "silver" }
//!     }
//! }
//! impl GuardPresence for Tier {
//!     fn guard_exists(&self) -> bool { true }
//! }
//!
//! const MEMBERS: [Literal; 2] = [Literal::text("gold"), Literal::text("platinum")];
//! assert!(guard::is_in(&Tier::Gold, &MEMBERS));
//! assert!(guard::not_in(&Tier::Silver, &MEMBERS));
//! assert!(guard::exists(&Some(Tier::Silver)));
//! assert!(guard::not_exists(&None::<Tier>));
//! ```

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::OnceLock;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use uuid::Uuid;

/// A literal operand of a guard, with every reading of its token computed at compile time
/// (the same readings as `onex_contracts::fsm::Literal`).
///
/// Generated code writes it as a constant:
///
/// ```
/// use onex_runtime::fsm::guard::{self, Literal};
///
/// const THREE: Literal = Literal { text: "3", int: Some(3), float: Some(3.0), boolean: None, none: false };
/// assert!(guard::lt(&2u8, &THREE));
/// assert_eq!(Literal::new("3"), THREE);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Literal {
    /// The token as written.
    pub text: &'static str,
    /// The token as an integer, when it is one (`3`, `-2`).
    pub int: Option<i64>,
    /// The token as a finite number, when it is one (`3`, `0.5`, `-1e3`).
    pub float: Option<f64>,
    /// The token as a boolean (`true`/`True`/`false`/`False`).
    pub boolean: Option<bool>,
    /// True for `None`/`null`: the literal a missing or null value equals.
    pub none: bool,
}

impl Literal {
    /// Reads a token the way the contract parser does (generated code uses the
    /// precomputed constant form instead).
    ///
    /// ```
    /// use onex_runtime::fsm::guard::Literal;
    ///
    /// let half = Literal::new("0.5");
    /// assert_eq!((half.int, half.float), (None, Some(0.5)));
    /// assert_eq!(Literal::new("True").boolean, Some(true));
    /// assert!(Literal::new("None").none);
    /// assert_eq!(Literal::new("inf").float, None); // not finite
    /// ```
    pub fn new(text: &'static str) -> Literal {
        Literal {
            text,
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

    /// A literal with only a text reading (not a number, boolean or `None`), in a `const`.
    ///
    /// ```
    /// use onex_runtime::fsm::guard::{self, Literal};
    ///
    /// const ADMIN: Literal = Literal::text("admin");
    /// assert!(guard::eq("admin", &ADMIN));
    /// ```
    pub const fn text(text: &'static str) -> Literal {
        Literal {
            text,
            int: None,
            float: None,
            boolean: None,
            none: false,
        }
    }

    /// The literal as a number: its float reading, else its integer reading.
    fn number(&self) -> Option<f64> {
        self.float.or(self.int.map(|i| i as f64))
    }
}

/// Values `==`, `!=`, `in`, `not_in` (and a list's `contains`) can compare with a literal.
///
/// ```
/// use onex_runtime::fsm::guard::{GuardValue, Literal};
///
/// assert!(10.0f64.guard_eq(&Literal::new("10")));
/// assert!(true.guard_eq(&Literal::new("True")));
/// assert!(None::<u32>.guard_eq(&Literal::new("None")));
/// assert!(!"5 ".guard_eq(&Literal::new("5")));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be compared for equality in an FSM guard",
    label = "this context field is used with `==`, `!=`, `in`, `not_in` or a list's `contains`",
    note = "give the field a number, string, boolean, UUID or date-time type (optionally in an `Option`), or implement `onex_runtime::fsm::guard::GuardValue` for `{Self}`"
)]
pub trait GuardValue {
    /// True when the value equals the literal (see the [module table](self)).
    fn guard_eq(&self, lit: &Literal) -> bool;
}

/// Values the numeric comparisons (`<`, `>`, `<=`, `>=` and their word forms) apply to.
///
/// ```
/// use std::cmp::Ordering;
/// use onex_runtime::fsm::guard::{GuardNumber, Literal};
///
/// assert_eq!(u64::MAX.guard_cmp(&Literal::new("3")), Some(Ordering::Greater));
/// assert_eq!(f64::NAN.guard_cmp(&Literal::new("3")), None);
/// assert_eq!(7i32.guard_cmp(&Literal::new("abc")), None);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be compared as a number in an FSM guard",
    label = "this context field is used with `<`, `>`, `<=`, `>=`, `less_than`, `greater_than`, …",
    note = "make the field numeric (an integer or float type, optionally in an `Option`), or implement `onex_runtime::fsm::guard::GuardNumber` for `{Self}`"
)]
pub trait GuardNumber {
    /// How the value compares with the literal's number; `None` when it is not a number
    /// (missing, NaN) or the literal is not numeric.
    fn guard_cmp(&self, lit: &Literal) -> Option<Ordering>;
}

/// Values with a length, for `min_length` and `max_length`.
///
/// ```
/// use onex_runtime::fsm::guard::GuardLength;
///
/// assert_eq!("héllo".guard_len(), Some(5)); // characters, not bytes
/// assert_eq!(vec![1, 2].guard_len(), Some(2));
/// assert_eq!(None::<String>.guard_len(), None);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no length to check in an FSM guard",
    label = "this context field is used with `min_length` or `max_length`",
    note = "give the field a string, list or map type (optionally in an `Option`), or implement `onex_runtime::fsm::guard::GuardLength` for `{Self}`"
)]
pub trait GuardLength {
    /// The length: characters of a string, items of a list or map; `None` when missing.
    fn guard_len(&self) -> Option<usize>;
}

/// Values `exists` and `not_exists` test.
///
/// ```
/// use onex_runtime::fsm::guard::GuardPresence;
///
/// assert!(0u8.guard_exists());
/// assert!(!None::<u8>.guard_exists());
/// assert!(!serde_json::Value::Null.guard_exists());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be tested for presence in an FSM guard",
    label = "this context field is used with `exists` or `not_exists`",
    note = "make the field an `Option` (a non-`Option` field always exists), or implement `onex_runtime::fsm::guard::GuardPresence` for `{Self}`"
)]
pub trait GuardPresence {
    /// True when the value is present and not null.
    fn guard_exists(&self) -> bool;
}

/// Values `contains` applies to: strings (substring) and lists (an element equal to the
/// literal).
///
/// ```
/// use onex_runtime::fsm::guard::{GuardContains, Literal};
///
/// assert!("urgent: disk".guard_contains(&Literal::new("urgent")));
/// assert!(vec![1, 5].guard_contains(&Literal::new("5")));
/// assert!(!vec!["urgently".to_owned()].guard_contains(&Literal::new("urgent")));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be searched with `contains` in an FSM guard",
    label = "this context field is used with `contains`",
    note = "give the field a string or list type (optionally in an `Option`), or implement `onex_runtime::fsm::guard::GuardContains` for `{Self}`"
)]
pub trait GuardContains {
    /// True when the value contains the literal.
    fn guard_contains(&self, lit: &Literal) -> bool;
}

/// Values `matches` tests against a regular expression.
///
/// Implement [`guard_text`](GuardText::guard_text) for values that hold their text; values
/// that render it on demand (like [`Uuid`]) return `None` there and override
/// [`guard_matches`](GuardText::guard_matches) instead.
///
/// ```
/// use onex_runtime::fsm::guard::{GuardText, Prefix};
///
/// static CODE: Prefix = Prefix::new("E[0-9]+");
/// assert!("E42 disk full".guard_matches(&CODE));
/// assert_eq!(Some("x".to_owned()).guard_text(), Some("x"));
/// assert!(!None::<String>.guard_matches(&CODE));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not text that `matches` can test in an FSM guard",
    label = "this context field is used with `matches`",
    note = "give the field a string type (optionally in an `Option`), or implement `onex_runtime::fsm::guard::GuardText` for `{Self}`"
)]
pub trait GuardText {
    /// The value's text, if it holds text (`None` for missing values).
    fn guard_text(&self) -> Option<&str>;

    /// True when `pattern` matches at the start of the value's text. The default uses
    /// [`guard_text`](GuardText::guard_text).
    fn guard_matches(&self, pattern: &Prefix) -> bool {
        self.guard_text().is_some_and(|text| pattern.is_match(text))
    }
}

/// The pattern of a `matches` guard: compiled on first use, then shared; it matches when it
/// matches at the START of the text (Python's `re.match`, not a search), not necessarily
/// up to its end.
///
/// The contract parser checks patterns at compile time; a pattern the `regex` crate cannot
/// compile anyway matches nothing.
///
/// ```
/// use onex_runtime::fsm::guard::Prefix;
///
/// static DIGITS: Prefix = Prefix::new("[0-9]+");
/// assert!(DIGITS.is_match("42abc"));
/// assert!(!DIGITS.is_match("abc42"));
/// static BAD: Prefix = Prefix::new("[unclosed");
/// assert!(!BAD.is_match("[unclosed"));
/// ```
#[derive(Debug)]
pub struct Prefix {
    pattern: &'static str,
    regex: OnceLock<Option<regex::Regex>>,
}

impl Prefix {
    /// A pattern from the contract (not compiled until first used).
    pub const fn new(pattern: &'static str) -> Prefix {
        Prefix {
            pattern,
            regex: OnceLock::new(),
        }
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &'static str {
        self.pattern
    }

    /// True when the pattern matches at the start of `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.regex
            .get_or_init(|| {
                // Only a pattern that compiles on its own is wrapped, so the group cannot
                // change its meaning; `\A` anchors at the start of the text only.
                regex::Regex::new(self.pattern).ok()?;
                regex::Regex::new(&format!(r"\A(?:{})", self.pattern)).ok()
            })
            .as_ref()
            .is_some_and(|re| re.is_match(text))
    }
}

/// A missing value: what a guard on `a.b` sees when `a` is `None`. It equals only the
/// literal `None`, does not exist, and has no number, length or text.
///
/// ```
/// use onex_runtime::fsm::guard::{self, Literal, Null};
///
/// assert!(guard::eq(&Null, &Literal::new("None")));
/// assert!(guard::ne(&Null, &Literal::new("admin")));
/// assert!(guard::not_exists(&Null));
/// assert!(!guard::ge(&Null, &Literal::new("0")));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Null;

// ---------------------------------------------------------------------------------------
// The functions generated code calls.

/// `==`, `equals`.
///
/// ```
/// use onex_runtime::fsm::guard::{eq, Literal};
/// assert!(eq(&5u32, &Literal::new("5.0")));
/// assert!(eq("active", &Literal::new("active")));
/// ```
#[inline]
pub fn eq<T: GuardValue + ?Sized>(v: &T, lit: &Literal) -> bool {
    v.guard_eq(lit)
}

/// `!=`, `not_equals`: not [`eq`].
///
/// ```
/// use onex_runtime::fsm::guard::{ne, Literal};
/// assert!(ne(&None::<String>, &Literal::new("root")));
/// ```
#[inline]
pub fn ne<T: GuardValue + ?Sized>(v: &T, lit: &Literal) -> bool {
    !v.guard_eq(lit)
}

/// `<`, `less_than`.
///
/// ```
/// use onex_runtime::fsm::guard::{lt, Literal};
/// assert!(lt(&2i64, &Literal::new("3")));
/// assert!(!lt(&None::<i64>, &Literal::new("3")));
/// ```
#[inline]
pub fn lt<T: GuardNumber + ?Sized>(v: &T, lit: &Literal) -> bool {
    v.guard_cmp(lit) == Some(Ordering::Less)
}

/// `>`, `greater_than`.
///
/// ```
/// use onex_runtime::fsm::guard::{gt, Literal};
/// assert!(gt(&3.5f64, &Literal::new("3")));
/// ```
#[inline]
pub fn gt<T: GuardNumber + ?Sized>(v: &T, lit: &Literal) -> bool {
    v.guard_cmp(lit) == Some(Ordering::Greater)
}

/// `<=`, `less_than_or_equal`.
///
/// ```
/// use onex_runtime::fsm::guard::{le, Literal};
/// assert!(le(&3u8, &Literal::new("3")));
/// ```
#[inline]
pub fn le<T: GuardNumber + ?Sized>(v: &T, lit: &Literal) -> bool {
    matches!(v.guard_cmp(lit), Some(Ordering::Less | Ordering::Equal))
}

/// `>=`, `greater_than_or_equal`.
///
/// ```
/// use onex_runtime::fsm::guard::{ge, Literal};
/// assert!(ge(&-2.5f32, &Literal::new("-2.5")));
/// assert!(!ge(&f64::NAN, &Literal::new("0")));
/// ```
#[inline]
pub fn ge<T: GuardNumber + ?Sized>(v: &T, lit: &Literal) -> bool {
    matches!(v.guard_cmp(lit), Some(Ordering::Greater | Ordering::Equal))
}

/// `min_length n`: the length is at least `n` (a missing value has none).
///
/// ```
/// use onex_runtime::fsm::guard::min_len;
/// assert!(min_len(&vec!["a"], 1));
/// assert!(!min_len(&None::<Vec<u8>>, 0));
/// ```
#[inline]
pub fn min_len<T: GuardLength + ?Sized>(v: &T, n: usize) -> bool {
    v.guard_len().is_some_and(|len| len >= n)
}

/// `max_length n`: the length is at most `n` (a missing value has none).
///
/// ```
/// use onex_runtime::fsm::guard::max_len;
/// assert!(max_len("abc", 3));
/// assert!(!max_len("abcd", 3));
/// ```
#[inline]
pub fn max_len<T: GuardLength + ?Sized>(v: &T, n: usize) -> bool {
    v.guard_len().is_some_and(|len| len <= n)
}

/// `exists`: present and not null.
///
/// ```
/// use onex_runtime::fsm::guard::exists;
/// assert!(exists(&Some(0)));
/// assert!(exists(&String::new()));
/// ```
#[inline]
pub fn exists<T: GuardPresence + ?Sized>(v: &T) -> bool {
    v.guard_exists()
}

/// `not_exists`: missing or null.
///
/// ```
/// use onex_runtime::fsm::guard::not_exists;
/// assert!(not_exists(&None::<u8>));
/// ```
#[inline]
pub fn not_exists<T: GuardPresence + ?Sized>(v: &T) -> bool {
    !v.guard_exists()
}

/// `in a,b,c`: [`eq`] to some member.
///
/// ```
/// use onex_runtime::fsm::guard::{is_in, Literal};
/// let members = [Literal::new("batch"), Literal::new("None")];
/// assert!(is_in("batch", &members));
/// assert!(is_in(&None::<String>, &members));
/// ```
#[inline]
pub fn is_in<T: GuardValue + ?Sized>(v: &T, members: &[Literal]) -> bool {
    members.iter().any(|m| v.guard_eq(m))
}

/// `not_in a,b,c`: [`eq`] to no member.
///
/// ```
/// use onex_runtime::fsm::guard::{not_in, Literal};
/// assert!(not_in(&7, &[Literal::new("5"), Literal::new("10")]));
/// ```
#[inline]
pub fn not_in<T: GuardValue + ?Sized>(v: &T, members: &[Literal]) -> bool {
    !is_in(v, members)
}

/// `contains x`: a string containing `x`, or a list with an element [`eq`] to `x`.
///
/// ```
/// use onex_runtime::fsm::guard::{contains, Literal};
/// assert!(contains("pre-v-post", &Literal::new("v")));
/// assert!(contains(&["a".to_owned(), "b".to_owned()][..], &Literal::new("b")));
/// assert!(!contains(&None::<String>, &Literal::new("v")));
/// ```
#[inline]
pub fn contains<T: GuardContains + ?Sized>(v: &T, lit: &Literal) -> bool {
    v.guard_contains(lit)
}

/// `matches re`: the value is text and `re` matches at its start.
///
/// ```
/// use onex_runtime::fsm::guard::{matches, Prefix};
/// static EMAIL: Prefix = Prefix::new(r"^[a-z]+@example\.com$");
/// assert!(matches("bob@example.com", &EMAIL));
/// assert!(!matches("bob@example.com.evil", &EMAIL));
/// ```
#[inline]
pub fn matches<T: GuardText + ?Sized>(v: &T, pattern: &Prefix) -> bool {
    v.guard_matches(pattern)
}

// ---------------------------------------------------------------------------------------
// Numbers.

/// 2^127 and 2^128, exactly representable as `f64`.
const TWO_127: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
const TWO_128: f64 = 340_282_366_920_938_463_463_374_607_431_768_211_456.0;

/// Exact comparison of an integer with a float (no rounding of the integer).
fn cmp_i128_f64(v: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f >= TWO_127 {
        return Some(Ordering::Less);
    }
    if f < -TWO_127 {
        return Some(Ordering::Greater);
    }
    let t = f.trunc();
    // In range: |t| < 2^127, or t == -2^127 == i128::MIN; the cast is exact.
    let ti = t as i128;
    Some(match v.cmp(&ti) {
        Ordering::Equal => 0.0f64.partial_cmp(&(f - t))?,
        other => other,
    })
}

/// Exact comparison of an unsigned 128-bit integer with a float.
fn cmp_u128_f64(v: u128, f: f64) -> Option<Ordering> {
    match i128::try_from(v) {
        Ok(v) => cmp_i128_f64(v, f),
        Err(_) if f.is_nan() => None,
        Err(_) if f < TWO_127 => Some(Ordering::Greater),
        Err(_) if f >= TWO_128 => Some(Ordering::Less),
        // 2^127 <= f < 2^128: f is an integer at this magnitude; the cast is exact.
        Err(_) => Some(v.cmp(&(f as u128))),
    }
}

/// An integer against a literal: its integer reading exactly, else its number.
fn cmp_int(v: i128, lit: &Literal) -> Option<Ordering> {
    match lit.int {
        Some(i) => Some(v.cmp(&i128::from(i))),
        None => cmp_i128_f64(v, lit.float?),
    }
}

fn cmp_uint(v: u128, lit: &Literal) -> Option<Ordering> {
    match i128::try_from(v) {
        Ok(v) => cmp_int(v, lit),
        Err(_) if lit.int.is_some() => Some(Ordering::Greater),
        Err(_) => cmp_u128_f64(v, lit.float?),
    }
}

fn cmp_f64(v: f64, lit: &Literal) -> Option<Ordering> {
    v.partial_cmp(&lit.number()?)
}

fn cmp_f32(v: f32, lit: &Literal) -> Option<Ordering> {
    let f = lit.number()?;
    let narrow = f as f32;
    if narrow.is_finite() {
        v.partial_cmp(&narrow)
    } else {
        f64::from(v).partial_cmp(&f)
    }
}

macro_rules! integers {
    ($cmp:ident, $wide:ty: $($t:ty),*) => {$(
        impl GuardValue for $t {
            #[inline]
            fn guard_eq(&self, lit: &Literal) -> bool {
                $cmp(<$wide>::from(*self), lit) == Some(Ordering::Equal)
            }
        }
        impl GuardNumber for $t {
            #[inline]
            fn guard_cmp(&self, lit: &Literal) -> Option<Ordering> {
                $cmp(<$wide>::from(*self), lit)
            }
        }
        impl GuardPresence for $t {
            #[inline]
            fn guard_exists(&self) -> bool {
                true
            }
        }
    )*};
}

integers!(cmp_int, i128: i8, i16, i32, i64, i128, u8, u16, u32, u64);
integers!(cmp_uint, u128: u128);

macro_rules! sizes {
    ($($t:ty => $cmp:ident, $wide:ty);*) => {$(
        impl GuardValue for $t {
            #[inline]
            fn guard_eq(&self, lit: &Literal) -> bool {
                self.guard_cmp(lit) == Some(Ordering::Equal)
            }
        }
        impl GuardNumber for $t {
            #[inline]
            fn guard_cmp(&self, lit: &Literal) -> Option<Ordering> {
                // Lossless: pointer-sized integers are at most 64 bits on every target
                // Rust supports, and `as` widens them into 128 bits exactly.
                $cmp(*self as $wide, lit)
            }
        }
        impl GuardPresence for $t {
            #[inline]
            fn guard_exists(&self) -> bool {
                true
            }
        }
    )*};
}

sizes!(isize => cmp_int, i128; usize => cmp_uint, u128);

macro_rules! floats {
    ($($t:ty => $cmp:ident),*) => {$(
        impl GuardValue for $t {
            #[inline]
            fn guard_eq(&self, lit: &Literal) -> bool {
                $cmp(*self, lit) == Some(Ordering::Equal)
            }
        }
        impl GuardNumber for $t {
            #[inline]
            fn guard_cmp(&self, lit: &Literal) -> Option<Ordering> {
                $cmp(*self, lit)
            }
        }
        impl GuardPresence for $t {
            #[inline]
            fn guard_exists(&self) -> bool {
                true
            }
        }
    )*};
}

floats!(f64 => cmp_f64, f32 => cmp_f32);

// ---------------------------------------------------------------------------------------
// Booleans and text.

impl GuardValue for bool {
    #[inline]
    fn guard_eq(&self, lit: &Literal) -> bool {
        lit.boolean == Some(*self)
    }
}

impl GuardPresence for bool {
    #[inline]
    fn guard_exists(&self) -> bool {
        true
    }
}

impl GuardValue for str {
    #[inline]
    fn guard_eq(&self, lit: &Literal) -> bool {
        self == lit.text
    }
}

impl GuardLength for str {
    #[inline]
    fn guard_len(&self) -> Option<usize> {
        Some(self.chars().count())
    }
}

impl GuardPresence for str {
    #[inline]
    fn guard_exists(&self) -> bool {
        true
    }
}

impl GuardContains for str {
    #[inline]
    fn guard_contains(&self, lit: &Literal) -> bool {
        self.contains(lit.text)
    }
}

impl GuardText for str {
    #[inline]
    fn guard_text(&self) -> Option<&str> {
        Some(self)
    }
}

macro_rules! as_str {
    ($($t:ty),*) => {$(
        impl GuardValue for $t {
            #[inline]
            fn guard_eq(&self, lit: &Literal) -> bool {
                self[..].guard_eq(lit)
            }
        }
        impl GuardLength for $t {
            #[inline]
            fn guard_len(&self) -> Option<usize> {
                self[..].guard_len()
            }
        }
        impl GuardPresence for $t {
            #[inline]
            fn guard_exists(&self) -> bool {
                true
            }
        }
        impl GuardContains for $t {
            #[inline]
            fn guard_contains(&self, lit: &Literal) -> bool {
                self[..].guard_contains(lit)
            }
        }
        impl GuardText for $t {
            #[inline]
            fn guard_text(&self) -> Option<&str> {
                Some(&self[..])
            }
        }
    )*};
}

as_str!(String, Cow<'_, str>);

// ---------------------------------------------------------------------------------------
// UUIDs and timestamps: compared as the text they serialize to.

impl GuardValue for Uuid {
    #[inline]
    fn guard_eq(&self, lit: &Literal) -> bool {
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        *self.hyphenated().encode_lower(&mut buf) == *lit.text
    }
}

impl GuardPresence for Uuid {
    #[inline]
    fn guard_exists(&self) -> bool {
        true
    }
}

impl GuardText for Uuid {
    /// `None`: the text is rendered on demand by [`guard_matches`](GuardText::guard_matches).
    fn guard_text(&self) -> Option<&str> {
        None
    }

    fn guard_matches(&self, pattern: &Prefix) -> bool {
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        pattern.is_match(self.hyphenated().encode_lower(&mut buf))
    }
}

/// The serde form of a timestamp (`2026-01-02T03:04:05.250Z`).
fn timestamp_text(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

impl GuardValue for DateTime<Utc> {
    fn guard_eq(&self, lit: &Literal) -> bool {
        timestamp_text(self) == lit.text
    }
}

impl GuardPresence for DateTime<Utc> {
    #[inline]
    fn guard_exists(&self) -> bool {
        true
    }
}

impl GuardText for DateTime<Utc> {
    /// `None`: the text is rendered on demand by [`guard_matches`](GuardText::guard_matches).
    fn guard_text(&self) -> Option<&str> {
        None
    }

    fn guard_matches(&self, pattern: &Prefix) -> bool {
        pattern.is_match(&timestamp_text(self))
    }
}

// ---------------------------------------------------------------------------------------
// Missing values.

impl GuardValue for Null {
    #[inline]
    fn guard_eq(&self, lit: &Literal) -> bool {
        lit.none
    }
}

impl GuardNumber for Null {
    #[inline]
    fn guard_cmp(&self, _: &Literal) -> Option<Ordering> {
        None
    }
}

impl GuardLength for Null {
    #[inline]
    fn guard_len(&self) -> Option<usize> {
        None
    }
}

impl GuardPresence for Null {
    #[inline]
    fn guard_exists(&self) -> bool {
        false
    }
}

impl GuardContains for Null {
    #[inline]
    fn guard_contains(&self, _: &Literal) -> bool {
        false
    }
}

impl GuardText for Null {
    #[inline]
    fn guard_text(&self) -> Option<&str> {
        None
    }
}

impl<T: GuardValue> GuardValue for Option<T> {
    #[inline]
    fn guard_eq(&self, lit: &Literal) -> bool {
        match self {
            Some(v) => v.guard_eq(lit),
            None => lit.none,
        }
    }
}

impl<T: GuardNumber> GuardNumber for Option<T> {
    #[inline]
    fn guard_cmp(&self, lit: &Literal) -> Option<Ordering> {
        self.as_ref()?.guard_cmp(lit)
    }
}

impl<T: GuardLength> GuardLength for Option<T> {
    #[inline]
    fn guard_len(&self) -> Option<usize> {
        self.as_ref()?.guard_len()
    }
}

impl<T: GuardPresence> GuardPresence for Option<T> {
    #[inline]
    fn guard_exists(&self) -> bool {
        self.as_ref().is_some_and(T::guard_exists)
    }
}

impl<T: GuardContains> GuardContains for Option<T> {
    #[inline]
    fn guard_contains(&self, lit: &Literal) -> bool {
        self.as_ref().is_some_and(|v| v.guard_contains(lit))
    }
}

impl<T: GuardText> GuardText for Option<T> {
    #[inline]
    fn guard_text(&self) -> Option<&str> {
        self.as_ref()?.guard_text()
    }

    #[inline]
    fn guard_matches(&self, pattern: &Prefix) -> bool {
        self.as_ref().is_some_and(|v| v.guard_matches(pattern))
    }
}

// ---------------------------------------------------------------------------------------
// References and boxes: the value behind them.

macro_rules! forward {
    ($($ptr:ty),*) => {$(
        impl<T: GuardValue + ?Sized> GuardValue for $ptr {
            #[inline]
            fn guard_eq(&self, lit: &Literal) -> bool {
                (**self).guard_eq(lit)
            }
        }
        impl<T: GuardNumber + ?Sized> GuardNumber for $ptr {
            #[inline]
            fn guard_cmp(&self, lit: &Literal) -> Option<Ordering> {
                (**self).guard_cmp(lit)
            }
        }
        impl<T: GuardLength + ?Sized> GuardLength for $ptr {
            #[inline]
            fn guard_len(&self) -> Option<usize> {
                (**self).guard_len()
            }
        }
        impl<T: GuardPresence + ?Sized> GuardPresence for $ptr {
            #[inline]
            fn guard_exists(&self) -> bool {
                (**self).guard_exists()
            }
        }
        impl<T: GuardContains + ?Sized> GuardContains for $ptr {
            #[inline]
            fn guard_contains(&self, lit: &Literal) -> bool {
                (**self).guard_contains(lit)
            }
        }
        impl<T: GuardText + ?Sized> GuardText for $ptr {
            #[inline]
            fn guard_text(&self) -> Option<&str> {
                (**self).guard_text()
            }
            #[inline]
            fn guard_matches(&self, pattern: &Prefix) -> bool {
                (**self).guard_matches(pattern)
            }
        }
    )*};
}

forward!(&T, Box<T>);

// ---------------------------------------------------------------------------------------
// Lists and maps.

impl<T> GuardLength for [T] {
    #[inline]
    fn guard_len(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl<T> GuardPresence for [T] {
    #[inline]
    fn guard_exists(&self) -> bool {
        true
    }
}

impl<T: GuardValue> GuardContains for [T] {
    #[inline]
    fn guard_contains(&self, lit: &Literal) -> bool {
        self.iter().any(|v| v.guard_eq(lit))
    }
}

macro_rules! lists {
    ($([$($g:tt)*] $t:ty),*) => {$(
        impl<$($g)*> GuardLength for $t {
            #[inline]
            fn guard_len(&self) -> Option<usize> {
                Some(self.len())
            }
        }
        impl<$($g)*> GuardPresence for $t {
            #[inline]
            fn guard_exists(&self) -> bool {
                true
            }
        }
    )*};
}

lists!([T] Vec<T>, [T] VecDeque<T>, [T, const N: usize] [T; N]);

impl<T: GuardValue> GuardContains for Vec<T> {
    #[inline]
    fn guard_contains(&self, lit: &Literal) -> bool {
        self[..].guard_contains(lit)
    }
}

impl<T: GuardValue, const N: usize> GuardContains for [T; N] {
    #[inline]
    fn guard_contains(&self, lit: &Literal) -> bool {
        self[..].guard_contains(lit)
    }
}

impl<T: GuardValue> GuardContains for VecDeque<T> {
    #[inline]
    fn guard_contains(&self, lit: &Literal) -> bool {
        self.iter().any(|v| v.guard_eq(lit))
    }
}

lists!([K, V] BTreeMap<K, V>, [K, V, S] HashMap<K, V, S>);

impl GuardLength for serde_json::Map<String, Value> {
    #[inline]
    fn guard_len(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl GuardPresence for serde_json::Map<String, Value> {
    #[inline]
    fn guard_exists(&self) -> bool {
        true
    }
}

// ---------------------------------------------------------------------------------------
// JSON: the same table read on JSON values (null is missing).

/// A JSON number against a literal: integers exactly, floats as floats.
fn cmp_json_number(n: &serde_json::Number, lit: &Literal) -> Option<Ordering> {
    if let Some(i) = n.as_i64() {
        cmp_int(i128::from(i), lit)
    } else if let Some(u) = n.as_u64() {
        cmp_int(i128::from(u), lit)
    } else {
        cmp_f64(n.as_f64()?, lit)
    }
}

impl GuardValue for Value {
    fn guard_eq(&self, lit: &Literal) -> bool {
        match self {
            Value::Null => lit.none,
            Value::Bool(b) => b.guard_eq(lit),
            Value::Number(n) => cmp_json_number(n, lit) == Some(Ordering::Equal),
            Value::String(s) => s.guard_eq(lit),
            Value::Array(_) | Value::Object(_) => false,
        }
    }
}

impl GuardNumber for Value {
    #[inline]
    fn guard_cmp(&self, lit: &Literal) -> Option<Ordering> {
        match self {
            Value::Number(n) => cmp_json_number(n, lit),
            _ => None,
        }
    }
}

impl GuardLength for Value {
    #[inline]
    fn guard_len(&self) -> Option<usize> {
        match self {
            Value::String(s) => s.guard_len(),
            Value::Array(a) => Some(a.len()),
            Value::Object(o) => Some(o.len()),
            Value::Null | Value::Bool(_) | Value::Number(_) => None,
        }
    }
}

impl GuardPresence for Value {
    #[inline]
    fn guard_exists(&self) -> bool {
        !self.is_null()
    }
}

impl GuardContains for Value {
    fn guard_contains(&self, lit: &Literal) -> bool {
        match self {
            Value::String(s) => s.guard_contains(lit),
            Value::Array(a) => a.guard_contains(lit),
            _ => false,
        }
    }
}

impl GuardText for Value {
    #[inline]
    fn guard_text(&self) -> Option<&str> {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lit(text: &'static str) -> Literal {
        Literal::new(text)
    }

    #[test]
    fn integers_compare_exactly_at_every_width() {
        // Not an i64, so the float reading (2^64) is compared.
        assert!(!eq(&u64::MAX, &lit("18446744073709551615")));
        assert!(gt(&u64::MAX, &lit("9223372036854775807")));
        assert!(gt(&u128::MAX, &lit("-1")));
        assert!(gt(&u128::MAX, &lit("1e38")));
        assert!(lt(&u128::MAX, &lit("1e39")));
        assert!(lt(&i128::MIN, &lit("-1e38")));
        assert!(gt(&i128::MAX, &lit("1e38")));
        assert!(eq(&(1u128 << 127), &lit("1.7014118346046923e38")));
        let two_64 = Literal {
            int: None,
            float: Some(18_446_744_073_709_551_616.0),
            ..lit("x")
        };
        assert!(!eq(&usize::MAX, &two_64) && lt(&usize::MAX, &two_64));
        assert!(eq(&(1u64 << 63), &lit("9.223372036854775808e18")));
        assert!(!eq(&((1u64 << 63) + 1), &lit("9.223372036854775808e18")));
        assert!(gt(&((1u64 << 63) + 1), &lit("9.223372036854775808e18")));
        // i64 near the top: no rounding through f64.
        assert!(lt(&(i64::MAX - 1), &lit("9223372036854775807")));
        assert!(eq(&5i8, &lit("5.0")));
        assert!(!eq(&5i8, &lit("5.5")));
        assert!(lt(&5i8, &lit("5.5")));
        assert!(gt(&-5i16, &lit("-5.5")));
        assert!(lt(&-6i16, &lit("-5.5")));
        assert!(!lt(&5i8, &lit("abc")));
        assert!(!eq(&1u8, &lit("true")));
        assert!(ge(&0isize, &lit("-0")));
    }

    #[test]
    fn floats_compare_by_value_and_nan_is_false() {
        assert!(eq(&10.0f64, &lit("10")));
        assert!(eq(&0.1f32, &lit("0.1")));
        assert!(!gt(&0.1f32, &lit("0.1")));
        assert!(lt(&f32::MAX, &lit("1e39")));
        assert!(!eq(&f32::INFINITY, &lit("1e39")));
        assert!(gt(&f32::INFINITY, &lit("1e39")));
        assert!(!eq(&f64::NAN, &lit("0")));
        assert!(ne(&f64::NAN, &lit("0")));
        assert!(!lt(&f64::NAN, &lit("0")) && !gt(&f64::NAN, &lit("0")));
        assert!(!le(&f64::NAN, &lit("0")) && !ge(&f64::NAN, &lit("0")));
        let int_only = Literal {
            float: None,
            ..lit("2")
        };
        assert!(eq(&2.0f64, &int_only));
    }

    #[test]
    fn text_booleans_and_missing_values() {
        assert!(eq(&true, &lit("True")) && eq(&false, &lit("false")));
        assert!(!eq(&true, &lit("1")));
        assert!(eq(&"None".to_owned(), &lit("None")));
        assert!(eq(&None::<bool>, &lit("null")));
        assert!(!eq(&Some(false), &lit("None")));
        assert!(min_len("héé", 3) && !min_len("héé", 4));
        assert!(max_len(&Cow::Borrowed("ab"), 2));
        assert!(!exists(&None::<Option<u8>>) && !exists(&Some(None::<u8>)));
        assert!(exists(&Some(Some(1u8))));
        assert!(!contains(&Null, &lit("None")));
        assert!(!matches(&Null, &Prefix::new(".*")));
        assert!(matches(&Box::new("x".to_owned()), &Prefix::new(".*")));
        assert!(!lt(&Some(None::<i32>), &lit("1")));
    }

    #[test]
    fn lists_and_maps() {
        let tags = vec!["urgent".to_owned(), "low".to_owned()];
        assert!(contains(&tags, &lit("urgent")));
        assert!(!contains(&tags, &lit("urg")));
        assert!(contains(&[1u8, 2, 3], &lit("2")));
        let dq: VecDeque<f64> = [0.5].into();
        assert!(contains(&dq, &lit("0.5")) && min_len(&dq, 1));
        let mut m = BTreeMap::new();
        m.insert("a".to_owned(), 1);
        assert!(min_len(&m, 1) && max_len(&m, 1) && exists(&m));
        let h: HashMap<String, u8> = HashMap::new();
        assert!(max_len(&h, 0));
        assert!(contains(&Some(vec![Some(1)]), &lit("1")));
        assert!(contains(&vec![None::<u8>], &lit("None")));
    }

    #[test]
    fn prefix_patterns_anchor_at_the_start_only() {
        let p = Prefix::new("[0-9]+");
        assert!(p.is_match("12ab") && !p.is_match("ab12"));
        let alt = Prefix::new("a|b");
        assert!(alt.is_match("bz") && !alt.is_match("zb"));
        assert!(!Prefix::new("(unbalanced").is_match("(unbalanced"));
        assert!(!Prefix::new("a)|(b").is_match("b"));
        assert!(Prefix::new("").is_match(""));
        assert_eq!(p.pattern(), "[0-9]+");
    }

    #[test]
    fn uuids_and_timestamps_compare_as_their_serialized_text() {
        let id = Uuid::from_u128(0x550e8400_e29b_41d4_a716_446655440000);
        assert!(eq(&id, &lit("550e8400-e29b-41d4-a716-446655440000")));
        assert!(!eq(&id, &lit("550E8400-E29B-41D4-A716-446655440000")));
        assert!(matches(&id, &Prefix::new("550e")));
        assert!(matches(&Some(id), &Prefix::new("550e")));
        assert!(exists(&id));
        let t: DateTime<Utc> = "2026-01-02T03:04:05.250Z".parse().unwrap();
        assert_eq!(json!(t), json!(timestamp_text(&t)));
        assert!(eq(&t, &lit("2026-01-02T03:04:05.250Z")));
        assert!(matches(&t, &Prefix::new("2026-01")));
        assert_eq!(json!(id), json!("550e8400-e29b-41d4-a716-446655440000"));
    }

    #[test]
    fn json_values_follow_the_same_table() {
        assert!(eq(&json!(null), &lit("None")));
        assert!(eq(&json!(5), &lit("5.0")) && eq(&json!(5.0), &lit("5")));
        assert!(!eq(&json!(u64::MAX), &lit("18446744073709551615")));
        assert!(gt(&json!(u64::MAX), &lit("9223372036854775807")));
        assert!(eq(&json!("5"), &lit("5")));
        assert!(!eq(&json!([5]), &lit("5")) && ne(&json!({}), &lit("5")));
        assert!(eq(&json!(true), &lit("True")) && !eq(&json!(1), &lit("True")));
        assert!(!lt(&json!("1"), &lit("5")) && !lt(&json!(null), &lit("5")));
        assert!(!gt(&json!(true), &lit("0")));
        assert!(
            min_len(&json!("héllo"), 5) && min_len(&json!([1]), 1) && min_len(&json!({"a": 1}), 1)
        );
        assert!(!min_len(&json!(5), 0) && !max_len(&json!(null), 5));
        assert!(exists(&json!(0)) && !exists(&json!(null)));
        assert!(contains(&json!("xurgentx"), &lit("urgent")));
        assert!(contains(&json!(["urgent"]), &lit("urgent")));
        assert!(
            contains(&json!([1, 2]), &lit("2")) && !contains(&json!({"urgent": 1}), &lit("urgent"))
        );
        assert!(!contains(&json!(123), &lit("2")));
        assert!(matches(&json!("E42"), &Prefix::new("E[0-9]")));
        assert!(!matches(&json!(42), &Prefix::new("[0-9]")));
        assert!(is_in(&json!(null), &[lit("a"), lit("None")]));
        assert!(not_in(&json!("A"), &[lit("a")]));
    }
}
