//! The ONEX contract fingerprint (DESIGN.md §4.6): `M.m.p:<12 lower-case hex digits>`.
//!
//! The value is the one the Python reference's "flexible path" computes, byte for byte:
//!
//! 1. The YAML tree becomes a JSON-like value the way PyYAML's `SafeLoader` builds it
//!    (YAML 1.1 resolution of plain scalars: `yes`/`on`/`off` are booleans, `0755` is
//!    octal, `1:30` is sexagesimal, `2026-04-01` is a date, `1e3` is a *string*, …;
//!    `<<` merge keys are applied; for duplicate keys the last value wins).
//! 2. The top-level `fingerprint` key is dropped and `contract_version` becomes
//!    `{major, minor, patch}` (the reference's `{…, prerelease: null, build: null}`
//!    after null removal).
//! 3. Nulls are removed: a mapping entry whose value is null is dropped; a mapping value
//!    that becomes empty is dropped; in a sequence that is a mapping value, null items and
//!    mapping items that become empty are dropped; sequences are kept even when empty;
//!    sequences nested directly in sequences (and everything inside them) are left as is.
//! 4. The value is written as compact JSON exactly like Python's
//!    `json.dumps(v, sort_keys=True, separators=(",", ":"))`: keys sorted by code point,
//!    non-ASCII escaped as `\uXXXX` (surrogate pairs beyond the BMP), floats as Python's
//!    `repr`, `Infinity`/`NaN`, non-string keys converted after sorting (`true`, `200`).
//! 5. SHA-256 of the UTF-8 bytes; the first 12 hex digits, prefixed by `major.minor.patch:`.
//!
//! Departures, where the reference cannot produce a value at all: dates and timestamps
//! (which make Python's `json.dumps` raise) are written as ISO 8601 strings, the way
//! Python's `isoformat()` spells them (`2026-04-01`, `2001-12-14T21:59:43.100000+00:00`);
//! application tags such as `!include` are ignored (the node is read as if untagged, the
//! include is not resolved). Inputs on which the reference raises (a mapping whose keys
//! mix strings with booleans or numbers, an invalid date, a `!!binary` value, …) are
//! errors here too, with the location of the offending node.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::yaml::{Loc, Node, Style, Value};

/// Number of hex digits of the SHA-256 digest kept in a fingerprint.
pub const HASH_LEN: usize = 12;

/// A contract fingerprint: the contract version and the first 12 hex digits of the hash.
///
/// Displays and parses as `M.m.p:<12 lower-case hex digits>`, e.g. `1.1.0:423f8598810c`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint {
    /// `(major, minor, patch)` from the contract's `contract_version`.
    pub version: (u64, u64, u64),
    /// The first [`HASH_LEN`] lower-case hex digits of the SHA-256 of the canonical JSON.
    pub hash: String,
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (major, minor, patch) = self.version;
        write!(f, "{major}.{minor}.{patch}:{}", self.hash)
    }
}

impl FromStr for Fingerprint {
    type Err = FingerprintError;

    /// Parses a declared `fingerprint:` value, `M.m.p:<12 hex digits>`.
    ///
    /// Upper-case hex digits are accepted and stored in lower case (the Python reference
    /// compares case-insensitively); anything else (missing colon, a version that is not
    /// three non-negative integers, a hash that is not exactly 12 hex digits, surrounding
    /// whitespace) is [`FingerprintError::MalformedFingerprint`].
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| FingerprintError::MalformedFingerprint {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (version, hash) = text
            .split_once(':')
            .ok_or_else(|| bad("no `:` between the version and the hash"))?;
        let mut parts = version.split('.');
        let mut next = |name: &str| -> Result<u64, FingerprintError> {
            let part = parts
                .next()
                .ok_or_else(|| bad("the version needs three parts, `major.minor.patch`"))?;
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(&format!(
                    "the {name} version `{part}` is not a non-negative integer"
                )));
            }
            part.parse::<u64>()
                .map_err(|_| bad(&format!("the {name} version `{part}` is too large")))
        };
        let major = next("major")?;
        let minor = next("minor")?;
        let patch = next("patch")?;
        if parts.next().is_some() {
            return Err(bad(
                "the version has more than three parts, expected `major.minor.patch`",
            ));
        }
        if hash.len() != HASH_LEN || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(&format!(
                "the hash `{hash}` is not {HASH_LEN} hex digits"
            )));
        }
        Ok(Fingerprint {
            version: (major, minor, patch),
            hash: hash.to_ascii_lowercase(),
        })
    }
}

/// Why a fingerprint could not be computed or parsed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FingerprintError {
    /// The document is not a mapping.
    #[error("{loc}: a contract must be a mapping to be fingerprinted, found {found}")]
    NotAMapping {
        /// Where the document starts.
        loc: Loc,
        /// What was found instead ("a sequence", "a string", …).
        found: &'static str,
    },
    /// The contract has no top-level `contract_version`.
    #[error(
        "{loc}: the contract has no `contract_version`; the fingerprint's `major.minor.patch:` prefix comes from it"
    )]
    MissingContractVersion {
        /// Where the contract mapping starts.
        loc: Loc,
    },
    /// `contract_version` (or one of its parts) is not a version.
    #[error("{loc}: malformed `{key}`: {reason}")]
    MalformedContractVersion {
        /// The offending key: `contract_version` or `contract_version.major` etc.
        key: String,
        /// Where the offending value is (or the `contract_version` mapping, for a missing part).
        loc: Loc,
        /// What is wrong.
        reason: String,
    },
    /// A scalar that PyYAML's `SafeLoader` refuses to construct (e.g. the date
    /// `2026-02-30`, the integer `0x_`, a plain `=` or `<<` used as a value, `!!bool maybe`).
    #[error("{loc}: {reason}")]
    InvalidScalar {
        /// Where the scalar is.
        loc: Loc,
        /// What is wrong.
        reason: String,
    },
    /// A YAML tag whose value has no JSON form (`!!binary`, `!!set`, `!!omap`, …).
    #[error("{loc}: the tag `{tag}` has no JSON form, so the contract cannot be fingerprinted")]
    UnsupportedTag {
        /// Where the tagged node is.
        loc: Loc,
        /// The tag as written.
        tag: String,
    },
    /// A mapping key the reference cannot serialize: a sequence or mapping used as a key,
    /// or a mapping whose keys cannot be sorted together (strings mixed with booleans,
    /// numbers or null, e.g. a plain `on:` key beside string keys).
    #[error("{loc}: {reason}")]
    UnsupportedKey {
        /// Where the offending key is.
        loc: Loc,
        /// What is wrong, and how to fix it.
        reason: String,
    },
    /// A declared fingerprint string that is not `M.m.p:<12 hex digits>`.
    #[error(
        "malformed fingerprint `{text}`: {reason} (expected `major.minor.patch:<12 hex digits>`)"
    )]
    MalformedFingerprint {
        /// The text that was parsed.
        text: String,
        /// What is wrong.
        reason: String,
    },
}

/// Computes the fingerprint of a parsed contract.
///
/// `doc` is the whole contract as returned by [`crate::yaml::parse`]; a declared
/// `fingerprint` key in it is ignored, so the result can be compared with it directly.
///
/// ```
/// use onex_contracts::fingerprint::{self, Fingerprint};
/// use onex_contracts::yaml;
///
/// let doc = yaml::parse(
///     "contract_version: {major: 1, minor: 2, patch: 0}\n\
///      name: demo\n\
///      fingerprint: \"1.2.0:000000000000\"\n",
/// )
/// .unwrap();
/// let computed = fingerprint::compute(&doc).unwrap();
/// assert_eq!(computed.version, (1, 2, 0));
/// assert_eq!(computed.to_string(), "1.2.0:ebbce1fdde0f");
///
/// let declared: Fingerprint = doc.get("fingerprint").unwrap().as_str().unwrap().parse().unwrap();
/// assert_ne!(declared, computed); // the declared value has drifted
/// ```
pub fn compute(doc: &Node) -> Result<Fingerprint, FingerprintError> {
    let (version, json) = normalize(doc)?;
    let digest = Sha256::digest(json.as_bytes());
    let mut hash = String::with_capacity(HASH_LEN);
    for byte in digest.iter().take(HASH_LEN / 2) {
        // Writing to a String cannot fail.
        let _ = write!(hash, "{byte:02x}");
    }
    Ok(Fingerprint { version, hash })
}

/// The canonical JSON text whose SHA-256 is the fingerprint (for `--explain`-style output
/// and for debugging a mismatch against the Python reference).
pub fn canonical_json(doc: &Node) -> Result<String, FingerprintError> {
    normalize(doc).map(|(_, json)| json)
}

fn normalize(doc: &Node) -> Result<((u64, u64, u64), String), FingerprintError> {
    if !matches!(doc.value, Value::Map(_)) {
        return Err(FingerprintError::NotAMapping {
            loc: doc.loc,
            found: doc.type_name(),
        });
    }
    let root = convert(doc)?;
    let K::Dict(mut entries) = root.kind else {
        return Err(FingerprintError::NotAMapping {
            loc: doc.loc,
            found: doc.type_name(),
        });
    };
    entries.retain(|(k, _)| !k.is_str("fingerprint"));
    let Some(slot) = entries
        .iter_mut()
        .find(|(k, _)| k.is_str("contract_version"))
    else {
        return Err(FingerprintError::MissingContractVersion { loc: doc.loc });
    };
    let version = contract_version(&slot.1)?;
    let loc = slot.1.loc;
    let part = |name: &str, n: u64| {
        (
            Key {
                loc,
                kind: KeyKind::Str(name.to_owned()),
            },
            V {
                loc,
                kind: K::Int(PyInt::from_u64(n)),
            },
        )
    };
    slot.1 = V {
        loc,
        kind: K::Dict(vec![
            part("major", version.0),
            part("minor", version.1),
            part("patch", version.2),
        ]),
    };
    let cleaned = clean_dict(entries);
    let mut out = String::new();
    write_dict(&cleaned, &mut out)?;
    Ok((version, out))
}

// ---------------------------------------------------------------------------------------
// The JSON-like value (what PyYAML's SafeLoader would build).

struct V {
    loc: Loc,
    kind: K,
}

enum K {
    Null,
    Bool(bool),
    Int(PyInt),
    Float(f64),
    Str(String),
    List(Vec<V>),
    Dict(Vec<(Key, V)>),
}

struct Key {
    loc: Loc,
    kind: KeyKind,
}

enum KeyKind {
    Null,
    Str(String),
    /// A boolean, integer or float key: compared numerically (Python: `True == 1 == 1.0`),
    /// written as `text` (`true`, `200`, `1.5`).
    Num {
        num: Num,
        text: String,
    },
}

enum Num {
    Int(PyInt),
    Float(f64),
}

impl Key {
    fn is_str(&self, s: &str) -> bool {
        matches!(&self.kind, KeyKind::Str(k) if k == s)
    }

    fn describe(&self) -> String {
        match &self.kind {
            KeyKind::Null => "a null key".to_owned(),
            KeyKind::Str(s) => format!("the string key `{s}`"),
            KeyKind::Num {
                num: Num::Int(_),
                text,
            } if text == "true" || text == "false" => {
                format!("a key that YAML 1.1 reads as the boolean {text}")
            }
            KeyKind::Num { text, .. } => format!("the numeric key {text}"),
        }
    }
}

/// An integer of any size: sign and canonical decimal digits (no leading zeros).
#[derive(Clone, Debug, PartialEq, Eq)]
struct PyInt {
    negative: bool,
    digits: String,
}

impl PyInt {
    fn from_u64(n: u64) -> Self {
        PyInt {
            negative: false,
            digits: n.to_string(),
        }
    }

    fn new(negative: bool, digits: String) -> Self {
        let negative = negative && digits != "0";
        PyInt { negative, digits }
    }

    fn repr(&self) -> String {
        if self.negative {
            format!("-{}", self.digits)
        } else {
            self.digits.clone()
        }
    }
}

fn cmp_magnitude(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn cmp_int(a: &PyInt, b: &PyInt) -> Ordering {
    match (a.negative, b.negative) {
        (false, true) => Ordering::Greater,
        (true, false) => Ordering::Less,
        (false, false) => cmp_magnitude(&a.digits, &b.digits),
        (true, true) => cmp_magnitude(&b.digits, &a.digits),
    }
}

/// Exact comparison of an integer with a non-NaN float, like Python's `int < float`.
fn cmp_int_float(i: &PyInt, f: f64) -> Ordering {
    if f == f64::INFINITY {
        return Ordering::Less;
    }
    if f == f64::NEG_INFINITY {
        return Ordering::Greater;
    }
    let whole = f.trunc();
    let whole_int = PyInt::new(whole < 0.0, format!("{:.0}", whole.abs()));
    cmp_int(i, &whole_int).then_with(|| {
        let frac = f - whole;
        if frac > 0.0 {
            Ordering::Less
        } else if frac < 0.0 {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    })
}

fn cmp_num(a: &Num, b: &Num) -> Ordering {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => cmp_int(x, y),
        (Num::Int(x), Num::Float(y)) => cmp_int_float(x, *y),
        (Num::Float(x), Num::Int(y)) => cmp_int_float(y, *x).reverse(),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
    }
}

fn keys_equal(a: &KeyKind, b: &KeyKind) -> bool {
    match (a, b) {
        (KeyKind::Null, KeyKind::Null) => true,
        (KeyKind::Str(x), KeyKind::Str(y)) => x == y,
        (KeyKind::Num { num: x, .. }, KeyKind::Num { num: y, .. }) => {
            let nan = |n: &Num| matches!(n, Num::Float(f) if f.is_nan());
            !nan(x) && !nan(y) && cmp_num(x, y) == Ordering::Equal
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// YAML tree → value, with PyYAML SafeLoader semantics.

/// A tag in `!!name` form for the YAML core tags, as written otherwise.
fn normalized_tag(tag: &str) -> String {
    match tag.strip_prefix("tag:yaml.org,2002:") {
        Some(rest) => format!("!!{rest}"),
        None => tag.to_owned(),
    }
}

/// Whether a tag is an application tag (`!include`, `!foo`) that the fingerprint ignores.
fn is_local_tag(tag: &str) -> bool {
    tag.starts_with('!') && !tag.starts_with("!!") && tag != "!"
}

fn convert(node: &Node) -> Result<V, FingerprintError> {
    let tag = node.tag.as_deref().map(normalized_tag);
    let tag = tag.as_deref();
    let kind = match &node.value {
        Value::Scalar { text, style } => scalar(node, text, *style, tag)?,
        Value::Seq(items) => {
            match tag {
                None | Some("!" | "!!seq") => {}
                Some(t) if is_local_tag(t) => {}
                Some(t) => return Err(unsupported_tag(node, t)),
            }
            K::List(items.iter().map(convert).collect::<Result<_, _>>()?)
        }
        Value::Map(entries) => {
            match tag {
                None | Some("!" | "!!map") => {}
                Some(t) if is_local_tag(t) => {}
                Some(t) => return Err(unsupported_tag(node, t)),
            }
            K::Dict(mapping(entries)?)
        }
    };
    Ok(V {
        loc: node.loc,
        kind,
    })
}

fn unsupported_tag(node: &Node, tag: &str) -> FingerprintError {
    FingerprintError::UnsupportedTag {
        loc: node.loc,
        tag: tag.to_owned(),
    }
}

fn is_merge_key(node: &Node) -> bool {
    let Value::Scalar { text, style } = &node.value else {
        return false;
    };
    match node.tag.as_deref().map(normalized_tag).as_deref() {
        Some("!!merge") => true,
        None => *style == Style::Plain && text == "<<",
        Some("!") => text == "<<",
        _ => false,
    }
}

/// Builds a mapping like PyYAML's `flatten_mapping` + `construct_mapping`: merged entries
/// first (from a sequence of mappings, earlier mappings win), then the mapping's own
/// entries; a repeated key keeps its first position and takes the last value.
fn mapping(entries: &[(Node, Node)]) -> Result<Vec<(Key, V)>, FingerprintError> {
    let mut merged: Vec<(Key, V)> = Vec::new();
    let mut own: Vec<(Key, V)> = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        if is_merge_key(k) {
            let not_mergeable = |at: &Node| FingerprintError::InvalidScalar {
                loc: at.loc,
                reason: format!(
                    "a `<<` merge needs a mapping or a sequence of mappings, found {}",
                    at.type_name()
                ),
            };
            match &v.value {
                Value::Map(_) => {
                    if let K::Dict(sub) = convert(v)?.kind {
                        merged.extend(sub);
                    }
                }
                Value::Seq(items) => {
                    let mut subs = Vec::with_capacity(items.len());
                    for item in items {
                        match convert(item)?.kind {
                            K::Dict(sub) => subs.push(sub),
                            _ => return Err(not_mergeable(item)),
                        }
                    }
                    for sub in subs.into_iter().rev() {
                        merged.extend(sub);
                    }
                }
                Value::Scalar { .. } => return Err(not_mergeable(v)),
            }
        } else {
            own.push((key(k)?, convert(v)?));
        }
    }
    let mut out: Vec<(Key, V)> = Vec::with_capacity(merged.len() + own.len());
    let mut str_index: HashMap<String, usize> = HashMap::new();
    for (k, v) in merged.into_iter().chain(own) {
        let existing = match &k.kind {
            KeyKind::Str(s) => str_index.get(s).copied(),
            other => out.iter().position(|(e, _)| keys_equal(&e.kind, other)),
        };
        match existing.and_then(|i| out.get_mut(i)) {
            Some(slot) => slot.1 = v,
            None => {
                if let KeyKind::Str(s) = &k.kind {
                    str_index.insert(s.clone(), out.len());
                }
                out.push((k, v));
            }
        }
    }
    Ok(out)
}

fn key(node: &Node) -> Result<Key, FingerprintError> {
    let value = match &node.value {
        // PyYAML's flatten_mapping turns a plain `=` key (the YAML 1.1 value tag) into a string.
        Value::Scalar { text, style }
            if text == "=" && *style == Style::Plain && node.tag.is_none() =>
        {
            V {
                loc: node.loc,
                kind: K::Str(text.clone()),
            }
        }
        Value::Scalar { .. } => convert(node)?,
        _ => {
            return Err(FingerprintError::UnsupportedKey {
                loc: node.loc,
                reason: format!(
                    "{} used as a mapping key cannot be fingerprinted (PyYAML rejects unhashable keys)",
                    node.type_name()
                ),
            });
        }
    };
    let kind = match value.kind {
        K::Null => KeyKind::Null,
        K::Str(s) => KeyKind::Str(s),
        K::Bool(b) => KeyKind::Num {
            num: Num::Int(PyInt::from_u64(u64::from(b))),
            text: if b { "true" } else { "false" }.to_owned(),
        },
        K::Int(i) => KeyKind::Num {
            text: i.repr(),
            num: Num::Int(i),
        },
        K::Float(f) => KeyKind::Num {
            num: Num::Float(f),
            text: float_repr(f),
        },
        K::List(_) | K::Dict(_) => {
            return Err(FingerprintError::UnsupportedKey {
                loc: node.loc,
                reason: "a collection used as a mapping key cannot be fingerprinted".to_owned(),
            });
        }
    };
    Ok(Key {
        loc: node.loc,
        kind,
    })
}

fn scalar(node: &Node, text: &str, style: Style, tag: Option<&str>) -> Result<K, FingerprintError> {
    let invalid = |what: &str| FingerprintError::InvalidScalar {
        loc: node.loc,
        reason: format!("`{text}` is not a valid {what}"),
    };
    match tag {
        // PyYAML resolves a scalar with the non-specific tag `!` like a plain one.
        Some("!") => implicit(node, text),
        Some("!!str") => Ok(K::Str(text.to_owned())),
        Some("!!null") => Ok(K::Null),
        Some("!!bool") => bool_value(&text.to_ascii_lowercase())
            .map(K::Bool)
            .ok_or_else(|| invalid("boolean")),
        Some("!!int") => construct_int(text)
            .map(K::Int)
            .ok_or_else(|| invalid("integer")),
        Some("!!float") => construct_float(text)
            .map(K::Float)
            .ok_or_else(|| invalid("float")),
        Some("!!timestamp") => match timestamp(text) {
            Some(ts) => ts
                .render()
                .map(K::Str)
                .ok_or_else(|| invalid("date or timestamp")),
            None => Err(invalid("timestamp")),
        },
        Some(t) if is_local_tag(t) => untagged(node, text, style),
        Some(t) => Err(unsupported_tag(node, t)),
        None => untagged(node, text, style),
    }
}

fn untagged(node: &Node, text: &str, style: Style) -> Result<K, FingerprintError> {
    if style == Style::Plain {
        implicit(node, text)
    } else {
        Ok(K::Str(text.to_owned()))
    }
}

/// YAML 1.1 implicit resolution as PyYAML's `Resolver` does it, then construction.
fn implicit(node: &Node, text: &str) -> Result<K, FingerprintError> {
    let invalid = |reason: String| FingerprintError::InvalidScalar {
        loc: node.loc,
        reason,
    };
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Ok(K::Null);
    }
    if let Some(b) = bool_word(text) {
        return Ok(K::Bool(b));
    }
    if is_yaml11_int(text) {
        return construct_int(text)
            .map(K::Int)
            .ok_or_else(|| invalid(format!("`{text}` looks like an integer but has no digits")));
    }
    if is_yaml11_float(text) {
        return construct_float(text)
            .map(K::Float)
            .ok_or_else(|| invalid(format!("`{text}` is not a valid float")));
    }
    if text == "<<" || text == "=" {
        return Err(invalid(format!(
            "a plain `{text}` is a YAML 1.1 {} indicator; quote it to use it as a string",
            if text == "<<" { "merge" } else { "value" }
        )));
    }
    if let Some(ts) = timestamp(text)
        && (ts.hour.is_some() || (ts.month_digits == 2 && ts.day_digits == 2))
    {
        return ts
            .render()
            .map(K::Str)
            .ok_or_else(|| invalid(format!("`{text}` is not a valid date or time")));
    }
    Ok(K::Str(text.to_owned()))
}

/// The exact spellings PyYAML's implicit resolver reads as booleans.
fn bool_word(text: &str) -> Option<bool> {
    match text {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// `construct_yaml_bool` (for `!!bool`): the lower-cased text.
fn bool_value(lower: &str) -> Option<bool> {
    match lower {
        "yes" | "true" | "on" => Some(true),
        "no" | "false" | "off" => Some(false),
        _ => None,
    }
}

/// A tiny cursor for hand-written versions of PyYAML's resolver regexes.
struct Cur<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn new(s: &'a str) -> Self {
        Cur {
            s: s.as_bytes(),
            i: 0,
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, pred: impl Fn(u8) -> bool) -> bool {
        match self.peek() {
            Some(c) if pred(c) => {
                self.i += 1;
                true
            }
            _ => false,
        }
    }
    fn eat_byte(&mut self, b: u8) -> bool {
        self.eat(|c| c == b)
    }
    fn eat_str(&mut self, s: &str) -> bool {
        if self.s[self.i..].starts_with(s.as_bytes()) {
            self.i += s.len();
            true
        } else {
            false
        }
    }
    /// Consumes a run of bytes matching `pred` and returns its length.
    fn run(&mut self, pred: impl Fn(u8) -> bool) -> usize {
        let start = self.i;
        while self.eat(&pred) {}
        self.i - start
    }
    /// Consumes a (possibly empty) run of bytes matching `pred`; always succeeds.
    fn skip(&mut self, pred: impl Fn(u8) -> bool) -> bool {
        self.run(pred);
        true
    }
    /// Runs an optional sub-match (which restores the position itself on failure).
    fn optional(&mut self, sub: impl Fn(&mut Self) -> bool) -> bool {
        sub(self);
        true
    }
    fn sign(&mut self) {
        let _ = self.eat(|c| c == b'-' || c == b'+');
    }
    fn done(&self) -> bool {
        self.i == self.s.len()
    }
    /// `(?::[0-5]?[0-9])+`: one or more sexagesimal groups.
    fn sexagesimal_groups(&mut self) -> bool {
        let mut groups = 0;
        while self.peek() == Some(b':') {
            let save = self.i;
            self.i += 1;
            let start = self.i;
            let n = self.run(|c| c.is_ascii_digit());
            let ok = n == 1 || (n == 2 && self.s[start] <= b'5');
            if !ok {
                self.i = save;
                break;
            }
            groups += 1;
        }
        groups > 0
    }
}

/// One alternative of a resolver regex, run on a cursor.
type Matcher = dyn Fn(&mut Cur) -> bool;

fn digit_or_underscore(c: u8) -> bool {
    c.is_ascii_digit() || c == b'_'
}

/// PyYAML's int regex:
/// `[-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+ |
/// [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+`.
fn is_yaml11_int(text: &str) -> bool {
    let alternatives: [&Matcher; 5] = [
        &|c| c.eat_str("0b") && c.run(|b| b == b'0' || b == b'1' || b == b'_') > 0,
        &|c| c.eat_byte(b'0') && c.run(|b| (b'0'..=b'7').contains(&b) || b == b'_') > 0,
        &|c| {
            c.eat_byte(b'0')
                || (c.eat(|b| (b'1'..=b'9').contains(&b)) && c.skip(digit_or_underscore))
        },
        &|c| c.eat_str("0x") && c.run(|b| b.is_ascii_hexdigit() || b == b'_') > 0,
        &|c| {
            c.eat(|b| (b'1'..=b'9').contains(&b))
                && c.skip(digit_or_underscore)
                && c.sexagesimal_groups()
        },
    ];
    alternatives.iter().any(|alt| {
        let mut c = Cur::new(text);
        c.sign();
        alt(&mut c) && c.done()
    })
}

/// PyYAML's float regex:
/// `[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)? | \.[0-9][0-9_]*(?:[eE][-+][0-9]+)? |
/// [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]* | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)`.
fn is_yaml11_float(text: &str) -> bool {
    fn exponent(c: &mut Cur) -> bool {
        let save = c.i;
        if c.eat(|b| b == b'e' || b == b'E')
            && c.eat(|b| b == b'-' || b == b'+')
            && c.run(|b| b.is_ascii_digit()) > 0
        {
            return true;
        }
        c.i = save;
        false
    }
    let alternatives: [(bool, &Matcher); 5] = [
        (true, &|c| {
            c.eat(|b| b.is_ascii_digit())
                && c.skip(digit_or_underscore)
                && c.eat_byte(b'.')
                && c.skip(digit_or_underscore)
                && c.optional(exponent)
        }),
        (false, &|c| {
            c.eat_byte(b'.')
                && c.eat(|b| b.is_ascii_digit())
                && c.skip(digit_or_underscore)
                && c.optional(exponent)
        }),
        (true, &|c| {
            c.eat(|b| b.is_ascii_digit())
                && c.skip(digit_or_underscore)
                && c.sexagesimal_groups()
                && c.eat_byte(b'.')
                && c.skip(digit_or_underscore)
        }),
        (true, &|c| {
            c.eat_str(".inf") || c.eat_str(".Inf") || c.eat_str(".INF")
        }),
        (false, &|c| {
            c.eat_str(".nan") || c.eat_str(".NaN") || c.eat_str(".NAN")
        }),
    ];
    alternatives.iter().any(|(signed, alt)| {
        let mut c = Cur::new(text);
        if *signed {
            c.sign();
        }
        alt(&mut c) && c.done()
    })
}

/// Digits in `radix` (already validated or not) to a canonical decimal string.
fn radix_to_decimal(digits: &str, radix: u32) -> Option<String> {
    if digits.is_empty() {
        return None;
    }
    // Little-endian limbs in base 10^9.
    let mut limbs: Vec<u64> = vec![0];
    for c in digits.chars() {
        let d = u64::from(c.to_digit(radix)?);
        let mut carry = d;
        for limb in &mut limbs {
            let v = *limb * u64::from(radix) + carry;
            *limb = v % 1_000_000_000;
            carry = v / 1_000_000_000;
        }
        while carry > 0 {
            limbs.push(carry % 1_000_000_000);
            carry /= 1_000_000_000;
        }
    }
    Some(limbs_to_string(&limbs))
}

fn limbs_to_string(limbs: &[u64]) -> String {
    let mut iter = limbs.iter().rev().skip_while(|&&l| l == 0);
    let Some(first) = iter.next() else {
        return "0".to_owned();
    };
    let mut out = first.to_string();
    for limb in iter {
        let _ = write!(out, "{limb:09}");
    }
    out
}

/// `acc * 60 + part` on canonical decimal strings (sexagesimal integers).
fn sexagesimal(parts: &[&str]) -> Option<String> {
    let mut acc = String::from("0");
    for part in parts {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let part = radix_to_decimal(part, 10)?;
        acc = add_decimal(&mul_small(&acc, 60), &part);
    }
    Some(acc)
}

fn mul_small(a: &str, m: u32) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(a.len() + 3);
    let mut carry = 0u32;
    for b in a.bytes().rev() {
        let v = u32::from(b - b'0') * m + carry;
        out.push(b'0' + (v % 10) as u8);
        carry = v / 10;
    }
    while carry > 0 {
        out.push(b'0' + (carry % 10) as u8);
        carry /= 10;
    }
    finish_reversed(out)
}

fn add_decimal(a: &str, b: &str) -> String {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut out: Vec<u8> = Vec::with_capacity(a.len().max(b.len()) + 1);
    let mut carry = 0u8;
    for i in 0..a.len().max(b.len()) {
        let da = if i < a.len() {
            a[a.len() - 1 - i] - b'0'
        } else {
            0
        };
        let db = if i < b.len() {
            b[b.len() - 1 - i] - b'0'
        } else {
            0
        };
        let v = da + db + carry;
        out.push(b'0' + v % 10);
        carry = v / 10;
    }
    if carry > 0 {
        out.push(b'0' + carry);
    }
    finish_reversed(out)
}

fn finish_reversed(mut out: Vec<u8>) -> String {
    while out.len() > 1 && out.last() == Some(&b'0') {
        out.pop();
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_else(|_| "0".to_owned())
}

/// PyYAML's `construct_yaml_int`: underscores removed; `0b…`, `0x…`, a leading `0` (octal),
/// `a:b:c` (base 60), else decimal. `None` where Python's `int()` would raise.
fn construct_int(text: &str) -> Option<PyInt> {
    let value: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, value) = match value.as_bytes().first()? {
        b'-' => (true, &value[1..]),
        b'+' => (false, &value[1..]),
        _ => (false, value.as_str()),
    };
    let digits = if value == "0" {
        "0".to_owned()
    } else if let Some(bin) = value.strip_prefix("0b") {
        radix_to_decimal(bin, 2)?
    } else if let Some(hex) = value.strip_prefix("0x") {
        radix_to_decimal(hex, 16)?
    } else if value.starts_with('0') {
        // Python's int(value, 8) also accepts an `0o` prefix.
        let oct = value.strip_prefix("0o").unwrap_or(value);
        radix_to_decimal(oct, 8)?
    } else if value.contains(':') {
        sexagesimal(&value.split(':').collect::<Vec<_>>())?
    } else {
        radix_to_decimal(value, 10)?
    };
    Some(PyInt::new(negative, digits))
}

/// PyYAML's `construct_yaml_float`: underscores removed, lower-cased, `.inf`/`.nan`,
/// `a:b:c.d` (base 60), else Python's `float()`.
fn construct_float(text: &str) -> Option<f64> {
    let value: String = text
        .chars()
        .filter(|&c| c != '_')
        .collect::<String>()
        .to_lowercase();
    let (sign, value) = match value.as_bytes().first()? {
        b'-' => (-1.0, &value[1..]),
        b'+' => (1.0, &value[1..]),
        _ => (1.0, value.as_str()),
    };
    if value == ".inf" {
        return Some(sign * f64::INFINITY);
    }
    if value == ".nan" {
        return Some(f64::NAN);
    }
    let python_float = |s: &str| -> Option<f64> {
        // Python's float() accepts what Rust's parser does for these inputs, except that
        // Rust also takes a sign (already stripped here, so reject a second one).
        if s.starts_with(['+', '-']) {
            return None;
        }
        s.parse::<f64>().ok()
    };
    if value.contains(':') {
        let mut total = 0.0f64;
        let mut base = 1.0f64;
        for part in value.split(':').rev() {
            total += python_float(part)? * base;
            base *= 60.0;
        }
        return Some(sign * total);
    }
    Some(sign * python_float(value)?)
}

/// The parts of a YAML 1.1 timestamp (PyYAML's `timestamp_regexp`).
struct Timestamp {
    year: u32,
    month: u32,
    day: u32,
    month_digits: usize,
    day_digits: usize,
    hour: Option<u32>,
    minute: u32,
    second: u32,
    /// Microseconds (the fraction, truncated or zero-padded to six digits).
    micro: u32,
    /// `None`: naive; `Some(minutes)`: offset from UTC (`Z` is `Some(0)`).
    offset_minutes: Option<i32>,
}

fn number(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0u32, |acc, b| {
        acc.saturating_mul(10).saturating_add(u32::from(b - b'0'))
    })
}

/// Matches PyYAML's `timestamp_regexp`:
/// `YYYY-M?M-D?D ( (T|t|[ \t]+) H?H:MM:SS(\.F*)? ([ \t]*(Z|[-+]H?H(:MM)?))? )?`.
fn timestamp(text: &str) -> Option<Timestamp> {
    let mut c = Cur::new(text);
    let digits = |c: &mut Cur, min: usize, max: usize| -> Option<(u32, usize)> {
        let start = c.i;
        let n = c.run(|b| b.is_ascii_digit());
        (min..=max)
            .contains(&n)
            .then(|| (number(&c.s[start..start + n]), n))
    };
    let (year, _) = digits(&mut c, 4, 4)?;
    c.eat_byte(b'-').then_some(())?;
    let (month, month_digits) = digits(&mut c, 1, 2)?;
    c.eat_byte(b'-').then_some(())?;
    let (day, day_digits) = digits(&mut c, 1, 2)?;
    let mut ts = Timestamp {
        year,
        month,
        day,
        month_digits,
        day_digits,
        hour: None,
        minute: 0,
        second: 0,
        micro: 0,
        offset_minutes: None,
    };
    if c.done() {
        return Some(ts);
    }
    if !(c.eat(|b| b == b'T' || b == b't') || c.run(|b| b == b' ' || b == b'\t') > 0) {
        return None;
    }
    ts.hour = Some(digits(&mut c, 1, 2)?.0);
    c.eat_byte(b':').then_some(())?;
    ts.minute = digits(&mut c, 2, 2)?.0;
    c.eat_byte(b':').then_some(())?;
    ts.second = digits(&mut c, 2, 2)?.0;
    if c.eat_byte(b'.') {
        let start = c.i;
        let n = c.run(|b| b.is_ascii_digit());
        let frac = &c.s[start..start + n];
        if !frac.is_empty() {
            let mut six = [b'0'; 6];
            for (slot, b) in six.iter_mut().zip(frac) {
                *slot = *b;
            }
            ts.micro = number(&six);
        }
    }
    if c.done() {
        return Some(ts);
    }
    c.run(|b| b == b' ' || b == b'\t');
    if c.eat_byte(b'Z') {
        ts.offset_minutes = Some(0);
    } else {
        let negative = match c.peek() {
            Some(b'-') => true,
            Some(b'+') => false,
            _ => return None,
        };
        c.i += 1;
        let (hours, _) = digits(&mut c, 1, 2)?;
        let minutes = if c.eat_byte(b':') {
            digits(&mut c, 2, 2)?.0
        } else {
            0
        };
        let total = i32::try_from(hours * 60 + minutes).ok()?;
        ts.offset_minutes = Some(if negative { -total } else { total });
    }
    c.done().then_some(ts)
}

impl Timestamp {
    /// Python's `date.isoformat()` / `datetime.isoformat()`, or `None` where Python's
    /// `date`/`datetime`/`timezone` constructors raise.
    fn render(&self) -> Option<String> {
        let leap = (self.year.is_multiple_of(4) && !self.year.is_multiple_of(100))
            || self.year.is_multiple_of(400);
        let days_in_month = match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        if self.year == 0 || self.day == 0 || self.day > days_in_month {
            return None;
        }
        let mut out = format!("{:04}-{:02}-{:02}", self.year, self.month, self.day);
        let Some(hour) = self.hour else {
            return Some(out);
        };
        if hour > 23 || self.minute > 59 || self.second > 59 {
            return None;
        }
        let _ = write!(out, "T{hour:02}:{:02}:{:02}", self.minute, self.second);
        if self.micro != 0 {
            let _ = write!(out, ".{:06}", self.micro);
        }
        if let Some(offset) = self.offset_minutes {
            if offset.abs() >= 24 * 60 {
                return None;
            }
            let sign = if offset < 0 { '-' } else { '+' };
            let abs = offset.abs();
            let _ = write!(out, "{sign}{:02}:{:02}", abs / 60, abs % 60);
        }
        Some(out)
    }
}

// ---------------------------------------------------------------------------------------
// `contract_version`.

fn contract_version(v: &V) -> Result<(u64, u64, u64), FingerprintError> {
    let malformed =
        |key: &str, loc: Loc, reason: String| FingerprintError::MalformedContractVersion {
            key: key.to_owned(),
            loc,
            reason,
        };
    match &v.kind {
        K::Dict(entries) => {
            let part = |name: &str| -> Result<u64, FingerprintError> {
                let key = format!("contract_version.{name}");
                let Some((_, value)) = entries.iter().find(|(k, _)| k.is_str(name)) else {
                    return Err(malformed(&key, v.loc, format!("`{name}` is missing")));
                };
                let reason = match &value.kind {
                    K::Int(i) if !i.negative => match i.digits.parse::<u64>() {
                        Ok(n) => return Ok(n),
                        Err(_) => format!("{} does not fit in 64 bits", i.repr()),
                    },
                    K::Int(i) => format!("{} is negative", i.repr()),
                    // Pydantic (lax mode) accepts a string of digits for an int field.
                    K::Str(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                        match s.parse::<u64>() {
                            Ok(n) => return Ok(n),
                            Err(_) => format!("{s} does not fit in 64 bits"),
                        }
                    }
                    other => format!("expected a non-negative integer, found {}", describe(other)),
                };
                Err(malformed(&key, value.loc, reason))
            };
            Ok((part("major")?, part("minor")?, part("patch")?))
        }
        K::Str(s) => {
            let parts: Vec<&str> = s.split('.').collect();
            let numbers: Option<Vec<u64>> = parts
                .iter()
                .map(|p| {
                    (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| p.parse::<u64>().ok())
                        .flatten()
                })
                .collect();
            match numbers.as_deref() {
                Some(&[major, minor, patch]) => Ok((major, minor, patch)),
                _ => Err(malformed(
                    "contract_version",
                    v.loc,
                    format!("`{s}` is not `major.minor.patch` with non-negative integers"),
                )),
            }
        }
        other => Err(malformed(
            "contract_version",
            v.loc,
            format!(
                "expected a mapping {{major, minor, patch}} or a `major.minor.patch` string, found {}",
                describe(other)
            ),
        )),
    }
}

fn describe(k: &K) -> String {
    match k {
        K::Null => "null".to_owned(),
        K::Bool(b) => format!("the boolean {b}"),
        K::Int(i) => format!("the integer {}", i.repr()),
        K::Float(f) => format!("the float {}", float_repr(*f)),
        K::Str(s) => format!("the string `{s}`"),
        K::List(_) => "a sequence".to_owned(),
        K::Dict(_) => "a mapping".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// Null removal (the reference's `_remove_nulls_recursive`).

fn clean_dict(entries: Vec<(Key, V)>) -> Vec<(Key, V)> {
    let mut out = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        match v.kind {
            K::Null => {}
            K::Dict(sub) => {
                let sub = clean_dict(sub);
                if !sub.is_empty() {
                    out.push((
                        k,
                        V {
                            loc: v.loc,
                            kind: K::Dict(sub),
                        },
                    ));
                }
            }
            K::List(items) => {
                let mut kept = Vec::with_capacity(items.len());
                for item in items {
                    match item.kind {
                        K::Null => {}
                        K::Dict(sub) => {
                            let sub = clean_dict(sub);
                            if !sub.is_empty() {
                                kept.push(V {
                                    loc: item.loc,
                                    kind: K::Dict(sub),
                                });
                            }
                        }
                        // Scalars, and lists inside lists, are kept untouched.
                        kind => kept.push(V {
                            loc: item.loc,
                            kind,
                        }),
                    }
                }
                out.push((
                    k,
                    V {
                        loc: v.loc,
                        kind: K::List(kept),
                    },
                ));
            }
            kind => out.push((k, V { loc: v.loc, kind })),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Canonical JSON (Python's `json.dumps(sort_keys=True, separators=(",", ":"))`).

fn write_value(v: &V, out: &mut String) -> Result<(), FingerprintError> {
    match &v.kind {
        K::Null => out.push_str("null"),
        K::Bool(true) => out.push_str("true"),
        K::Bool(false) => out.push_str("false"),
        K::Int(i) => out.push_str(&i.repr()),
        K::Float(f) => out.push_str(&float_repr(*f)),
        K::Str(s) => write_str(s, out),
        K::List(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_value(item, out)?;
            }
            out.push(']');
        }
        K::Dict(entries) => write_dict(entries, out)?,
    }
    Ok(())
}

fn write_dict(entries: &[(Key, V)], out: &mut String) -> Result<(), FingerprintError> {
    let mut sorted: Vec<&(Key, V)> = entries.iter().collect();
    if sorted.len() > 1 {
        check_sortable(entries)?;
        sorted.sort_by(|(a, _), (b, _)| match (&a.kind, &b.kind) {
            (KeyKind::Str(x), KeyKind::Str(y)) => x.cmp(y),
            (KeyKind::Num { num: x, .. }, KeyKind::Num { num: y, .. }) => cmp_num(x, y),
            // Excluded by check_sortable.
            _ => Ordering::Equal,
        });
    }
    out.push('{');
    for (n, (k, v)) in sorted.into_iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        match &k.kind {
            KeyKind::Null => out.push_str("\"null\""),
            KeyKind::Str(s) => write_str(s, out),
            KeyKind::Num { text, .. } => write_str(text, out),
        }
        out.push(':');
        write_value(v, out)?;
    }
    out.push('}');
    Ok(())
}

/// Python sorts the keys with `<`, which raises `TypeError` for a string beside a
/// boolean/number, for `None` beside anything, and is not a total order with NaN.
fn check_sortable(entries: &[(Key, V)]) -> Result<(), FingerprintError> {
    let first_str = entries
        .iter()
        .find(|(k, _)| matches!(k.kind, KeyKind::Str(_)));
    for (k, _) in entries {
        let problem = match &k.kind {
            KeyKind::Null => Some("a null key cannot be sorted with the other keys".to_owned()),
            KeyKind::Num {
                num: Num::Float(f), ..
            } if f.is_nan() => Some("a NaN key cannot be sorted with the other keys".to_owned()),
            KeyKind::Num { .. } => first_str.map(|(s, _)| {
                format!(
                    "{} sits in a mapping with string keys (such as {} at {}); the Python reference cannot sort them together; quote the key",
                    k.describe(),
                    s.describe(),
                    s.loc
                )
            }),
            KeyKind::Str(_) => None,
        };
        if let Some(reason) = problem {
            return Err(FingerprintError::UnsupportedKey { loc: k.loc, reason });
        }
    }
    Ok(())
}

/// A JSON string like Python's `json.dumps(ensure_ascii=True)`.
fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Splits Rust's `{:e}` text (`d.ddde[-]x`) into its digits and decimal exponent.
fn split_sci(sci: &str) -> (String, i32) {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let digits = mantissa.chars().filter(|c| *c != '.').collect();
    (digits, exp.parse().unwrap_or(0))
}

/// The shortest round-tripping significant digits of a finite `f >= 0` and the decimal
/// exponent of the first digit, chosen as Python's `repr` (David Gay's `dtoa`, mode 0)
/// chooses them.
///
/// Rust's `{:e}` also gives the shortest digits closest to the exact value, but when the
/// exact value lies exactly half-way between two shortest candidates it rounds up, where
/// `dtoa` rounds half to even: `760776619738515.25` is `...515.2` in Python, `...515.3`
/// in Rust.
fn shortest_digits(f: f64) -> (String, i32) {
    let (digits, exp) = split_sci(&format!("{f:e}"));
    let n = digits.len();
    let last = digits.as_bytes().last().copied().unwrap_or(b'0');
    if last % 2 == 0 {
        return (digits, exp);
    }
    // The exact binary value, in full (an f64 has at most 767 significant digits).
    let (exact, exact_exp) = split_sci(&format!("{f:.800e}"));
    let exact = exact.trim_end_matches('0');
    if exact_exp != exp || exact.len() != n + 1 || !exact.ends_with('5') {
        return (digits, exp);
    }
    // A tie: the exact value is `digits ± half a unit` of the last digit. The other
    // candidate differs from `digits` by one in the last digit (and has an even one).
    let other_last = if exact.as_bytes()[..n] == *digits.as_bytes() {
        last + 1 // exact = digits + 0.5: Rust kept `digits`; the other is digits + 1
    } else {
        last - 1 // exact = digits - 0.5: Rust rounded up; the other is digits - 1
    };
    let mut other = digits.clone().into_bytes();
    if let Some(slot) = other.last_mut() {
        *slot = other_last;
    }
    let Ok(other) = String::from_utf8(other) else {
        return (digits, exp);
    };
    let mantissa = format!("{}.{}e{exp}", &other[..1], &other[1..]);
    if mantissa.parse::<f64>() == Ok(f) {
        (other.trim_end_matches('0').to_owned(), exp)
    } else {
        (digits, exp)
    }
}

/// Python's `float.__repr__` as `json.dumps` writes it (`Infinity`, `-Infinity`, `NaN`).
fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let (digits, exp) = shortest_digits(f.abs());
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
        } else {
            let point = point as usize;
            if point >= digits.len() {
                format!("{digits}{}.0", "0".repeat(point - digits.len()))
            } else {
                format!("{}.{}", &digits[..point], &digits[point..])
            }
        };
        format!("{sign}{body}")
    } else {
        let (head, tail) = digits.split_at(1);
        let frac = if tail.is_empty() {
            String::new()
        } else {
            format!(".{tail}")
        };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{head}{frac}e{exp_sign}{:02}", exp.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    /// The canonical JSON of a document with `contract_version` 1.0.0 (which is then
    /// stripped from the output again, to keep expectations short).
    fn json(body: &str) -> String {
        let src = format!("contract_version: {{major: 1, minor: 0, patch: 0}}\n{body}");
        let doc = yaml::parse(&src).unwrap();
        let full = canonical_json(&doc).unwrap();
        let cv = "\"contract_version\":{\"major\":1,\"minor\":0,\"patch\":0}";
        full.replace(&format!("{cv},"), "")
            .replace(&format!(",{cv}"), "")
            .replace(cv, "")
    }

    fn err(body: &str) -> FingerprintError {
        let src = format!("contract_version: {{major: 1, minor: 0, patch: 0}}\n{body}");
        canonical_json(&yaml::parse(&src).unwrap()).unwrap_err()
    }

    #[test]
    fn yaml11_booleans() {
        assert_eq!(
            json("a: [yes, No, ON, off, True, FALSE, y, n, oN, 'yes', !!bool 'On']\n"),
            r#"{"a":[true,false,true,false,true,false,"y","n","oN","yes",true]}"#
        );
        assert!(matches!(
            err("a: !!bool maybe\n"),
            FingerprintError::InvalidScalar { .. }
        ));
    }

    #[test]
    fn yaml11_nulls() {
        assert_eq!(
            json("a: [~, null, Null, NULL, nULL, '', !!null x]\n"),
            r#"{"a":["nULL",""]}"#
        );
    }

    #[test]
    fn yaml11_integers() {
        assert_eq!(
            json(
                "a: [0, -0, 7, 07, 010, 08, 0o17, 0x1F, +0x_1f, 0b101, 1_000, 1:30, 190:20:30, 1:60, 09:30, !!int '0x10']\n"
            ),
            r#"{"a":[0,0,7,7,8,"08","0o17",31,31,5,1000,90,685230,"1:60","09:30",16]}"#
        );
        assert_eq!(
            json("a: [12345678901234567890123456789, -0xffffffffffffffffffffffffffffffff]\n"),
            r#"{"a":[12345678901234567890123456789,-340282366920938463463374607431768211455]}"#
        );
        assert!(matches!(
            err("a: 0x_\n"),
            FingerprintError::InvalidScalar { .. }
        ));
    }

    #[test]
    fn yaml11_floats_and_python_repr() {
        assert_eq!(
            json(
                "a: [1.0, 0.1, 1., .5, -1.5, 1_000.5, 6.8523015e+5, 190:20:30.15, 1e3, 1.0e3, 1.0e+3, -.5, 1.0e-5, 1.5e+16, 123456789012345678.0, .inf, -.Inf, +.INF, .NaN, -0.0, 1e+400]\n"
            ),
            r#"{"a":[1.0,0.1,1.0,0.5,-1.5,1000.5,685230.15,685230.15,"1e3","1.0e3",1000.0,"-.5",1e-05,1.5e+16,1.2345678901234568e+17,Infinity,-Infinity,Infinity,NaN,-0.0,"1e+400"]}"#
        );
        // Ties between two shortest candidates round half to even, like Python's dtoa.
        assert_eq!(
            float_repr(760_776_619_738_515.0 + 0.25),
            "760776619738515.2"
        );
        assert_eq!(
            float_repr(867_836_643_974_130.0 + 0.25),
            "867836643974130.2"
        );
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(0.00001), "1e-05");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(9999999999999998.0), "9999999999999998.0");
        assert_eq!(float_repr(1.5e-300), "1.5e-300");
        assert_eq!(float_repr(5e-324), "5e-324");
        assert_eq!(float_repr(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(float_repr(100.0), "100.0");
        assert_eq!(float_repr(0.3), "0.3");
        assert_eq!(json("a: !!float 1\n"), r#"{"a":1.0}"#);
    }

    #[test]
    fn dates_and_timestamps_become_iso_strings() {
        assert_eq!(
            json(
                "a: [2026-04-01, 2026-4-1, '2026-04-01', 2001-12-14t21:59:43.10-05:00, 2001-12-14 21:59:43.1234567 Z, 2026-04-01 10:00:00, 2001-12-14 21:59:43 +5, !!timestamp 2026-4-1]\n"
            ),
            r#"{"a":["2026-04-01","2026-4-1","2026-04-01","2001-12-14T21:59:43.100000-05:00","2001-12-14T21:59:43.123456+00:00","2026-04-01T10:00:00","2001-12-14T21:59:43+05:00","2026-04-01"]}"#
        );
        assert_eq!(json("2026-04-01: x\n"), r#"{"2026-04-01":"x"}"#);
        let e = err("a:\n  b: 2026-02-30\n");
        let FingerprintError::InvalidScalar { loc, .. } = e else {
            panic!("{e:?}")
        };
        assert_eq!((loc.line, loc.col), (3, 6));
        assert!(matches!(
            err("a: 2001-12-14 21:59:43+24\n"),
            FingerprintError::InvalidScalar { .. }
        ));
    }

    #[test]
    fn ensure_ascii_escapes() {
        assert_eq!(
            json("a: \"caf\u{e9} \u{1f600} \\\" \\\\ \\n\\r\\t\\b\\f \\x01 \\x7f ~\"\n"),
            r#"{"a":"caf\u00e9 \ud83d\ude00 \" \\ \n\r\t\b\f \u0001 \u007f ~"}"#
        );
        assert_eq!(json("\u{e9}t\u{e9}: 1\n"), r#"{"\u00e9t\u00e9":1}"#);
    }

    #[test]
    fn null_cleaning() {
        // Null values dropped; dicts that become empty dropped (as values and as list
        // items); null list items dropped; empty lists kept; lists inside lists untouched.
        assert_eq!(
            json(
                "a: ~\nb: {c: ~, d: {e: null}}\nf: [~, 1, {g: ~}, {h: 1, i: ~}, [~, {j: ~}], {}]\nk: []\nl: {}\nm: {n: [], o: {p: ~}}\n"
            ),
            r#"{"f":[1,{"h":1},[null,{"j":null}]],"k":[],"m":{"n":[]}}"#
        );
    }

    #[test]
    fn keys_sorting_and_conversion() {
        // Python sorts numeric keys numerically, then writes them as strings.
        assert_eq!(
            json("m: {200: a, 1000: b, 3: c}\n"),
            r#"{"m":{"3":"c","200":"a","1000":"b"}}"#
        );
        assert_eq!(json("m: {on: x}\n"), r#"{"m":{"true":"x"}}"#);
        assert_eq!(
            json("m: {off: a, 0.5: b, on: c}\n"),
            r#"{"m":{"false":"a","0.5":"b","true":"c"}}"#
        );
        // Duplicates after resolution: first key kept, last value wins.
        assert_eq!(json("m: {1: a, true: b}\n"), r#"{"m":{"1":"b"}}"#);
        assert_eq!(json("m: {true: a, 1: b}\n"), r#"{"m":{"true":"b"}}"#);
        assert_eq!(json("m: {a: 1, 'a': 2}\n"), r#"{"m":{"a":2}}"#);
        // Code point order, not locale order.
        assert_eq!(
            json("m: {b: 1, B: 2, \u{e9}: 3, a: 4}\n"),
            r#"{"m":{"B":2,"a":4,"b":1,"\u00e9":3}}"#
        );
        // A key whose value is null is dropped before sorting, so it cannot conflict.
        assert_eq!(json("m: {on: ~, name: x}\n"), r#"{"m":{"name":"x"}}"#);
        let e = err("m:\n  name: x\n  on: y\n");
        let FingerprintError::UnsupportedKey { loc, reason } = e else {
            panic!("{e:?}")
        };
        assert_eq!((loc.line, loc.col), (4, 3));
        assert!(reason.contains("boolean true"), "{reason}");
        assert!(matches!(
            err("m: {~: 1, a: 2}\n"),
            FingerprintError::UnsupportedKey { .. }
        ));
        assert!(matches!(
            err("m: {[1]: 2}\n"),
            FingerprintError::UnsupportedKey { .. }
        ));
    }

    #[test]
    fn merge_keys_tags_and_includes() {
        assert_eq!(
            json("base: &b {x: 1, y: 2}\nother: &o {y: 3, z: 4}\nm:\n  <<: [*b, *o]\n  x: 9\n"),
            r#"{"base":{"x":1,"y":2},"m":{"x":9,"y":2,"z":4},"other":{"y":3,"z":4}}"#
        );
        assert_eq!(
            json("a: !!str 12\nb: ! 12\nc: ! '12'\nd: !include x.yaml\ne: !include 12\n"),
            r#"{"a":"12","b":12,"c":12,"d":"x.yaml","e":12}"#
        );
        assert!(matches!(
            err("a: !!binary aGk=\n"),
            FingerprintError::UnsupportedTag { .. }
        ));
        assert!(matches!(
            err("a: =\n"),
            FingerprintError::InvalidScalar { .. }
        ));
        assert_eq!(json("=: 1\n"), r#"{"=":1}"#);
    }

    #[test]
    fn fingerprint_key_dropped_and_version_expanded() {
        let doc = yaml::parse(
            "contract_version: {major: 2, minor: 0, patch: 1, prerelease: ~}\nfingerprint: x\nnested: {fingerprint: y}\n",
        )
        .unwrap();
        assert_eq!(
            canonical_json(&doc).unwrap(),
            r#"{"contract_version":{"major":2,"minor":0,"patch":1},"nested":{"fingerprint":"y"}}"#
        );
        let doc = yaml::parse("contract_version: \"3.4.5\"\n").unwrap();
        assert_eq!(compute(&doc).unwrap().version, (3, 4, 5));
    }

    #[test]
    fn contract_version_errors() {
        let doc = yaml::parse("name: x\n").unwrap();
        assert!(matches!(
            compute(&doc),
            Err(FingerprintError::MissingContractVersion { .. })
        ));
        let doc = yaml::parse("contract_version:\n  major: 1\n  minor: one\n  patch: 0\n").unwrap();
        let e = compute(&doc).unwrap_err();
        let FingerprintError::MalformedContractVersion { key, loc, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(key, "contract_version.minor");
        assert_eq!((loc.line, loc.col), (3, 10));
        assert!(
            e.to_string()
                .starts_with("3:10: malformed `contract_version.minor`"),
            "{e}"
        );
        let doc = yaml::parse("contract_version: {major: 1, minor: 1.5, patch: 0}\n").unwrap();
        assert!(matches!(
            compute(&doc),
            Err(FingerprintError::MalformedContractVersion { .. })
        ));
        let doc = yaml::parse("contract_version: {major: 1, minor: 2}\n").unwrap();
        let e = compute(&doc).unwrap_err();
        assert!(
            matches!(&e, FingerprintError::MalformedContractVersion { key, .. } if key == "contract_version.patch")
        );
        let doc = yaml::parse("contract_version: 1.2\n").unwrap();
        assert!(matches!(
            compute(&doc),
            Err(FingerprintError::MalformedContractVersion { .. })
        ));
        let doc = yaml::parse("- a\n").unwrap();
        assert!(matches!(
            compute(&doc),
            Err(FingerprintError::NotAMapping { .. })
        ));
    }

    #[test]
    fn hash_and_display() {
        // Cross-checked with Python: json.dumps({"contract_version": {...}, "name": "demo"},
        // sort_keys=True, separators=(",", ":")) hashed with hashlib.sha256.
        let doc =
            yaml::parse("contract_version: {major: 1, minor: 2, patch: 0}\nname: demo\n").unwrap();
        let fp = compute(&doc).unwrap();
        assert_eq!(fp.to_string(), "1.2.0:ebbce1fdde0f");
        assert_eq!(fp.to_string().parse::<Fingerprint>().unwrap(), fp);
    }

    #[test]
    fn parse_declared_fingerprints() {
        let fp: Fingerprint = "1.10.0:ABCDEF012345".parse().unwrap();
        assert_eq!(fp.version, (1, 10, 0));
        assert_eq!(fp.hash, "abcdef012345");
        for bad in [
            "",
            "1.1.0",
            "1.1:423f8598810c",
            "1.1.0.0:423f8598810c",
            "1.x.0:423f8598810c",
            "-1.1.0:423f8598810c",
            "1.1.0:423f8598810",
            "1.1.0:423f8598810cd",
            "1.1.0:423f8598810g",
            " 1.1.0:423f8598810c",
            "1.1.0:423f8598810c ",
            "99999999999999999999.0.0:423f8598810c",
        ] {
            assert!(
                matches!(
                    bad.parse::<Fingerprint>(),
                    Err(FingerprintError::MalformedFingerprint { .. })
                ),
                "{bad:?} parsed"
            );
        }
    }
}
