//! Location-preserving YAML: the only module that knows which YAML parser onex uses.
//!
//! The parser (`saphyr-parser`, YAML 1.2) produces an event stream with a span for every
//! event; this module folds it into a [`Node`] tree in which every scalar, sequence and
//! mapping keeps the line and column where it starts, its tag (so `!include` is visible) and,
//! for scalars, the quoting style (so plain `yes` can be read as YAML 1.1 would for the
//! fingerprint). Swapping the parser means rewriting this file only.
//!
//! ```
//! use onex_contracts::yaml::{self, Scalar};
//!
//! let doc = yaml::parse("name: demo\nport: 5432\n").unwrap();
//! let port = doc.get("port").unwrap();
//! assert_eq!((port.loc.line, port.loc.col), (2, 7));
//! assert_eq!(port.scalar(), Some(Scalar::Int(5432)));
//! ```

use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Deepest nesting accepted; deeper input is rejected instead of risking the stack.
pub const MAX_DEPTH: usize = 128;
/// Most nodes a document may expand to (aliases included): a guard against "billion laughs".
pub const MAX_NODES: usize = 1_000_000;

/// A 1-based line and column in a YAML source.
///
/// `source` tells which file the location is in when a contract pulls others in with
/// `!include`: 0 is the contract itself, `n` the n-th included file (see
/// [`crate::load::Loaded::sources`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    /// Which source file (0 = the contract itself).
    pub source: u32,
    /// Line, starting at 1.
    pub line: u32,
    /// Column in characters, starting at 1.
    pub col: u32,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// How a scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Unquoted: subject to type resolution (`true`, `42`, `null`, …).
    Plain,
    /// `'single quoted'`.
    SingleQuoted,
    /// `"double quoted"`.
    DoubleQuoted,
    /// `|` block.
    Literal,
    /// `>` block.
    Folded,
}

/// One YAML value with where it starts and its tag.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Where the value starts.
    pub loc: Loc,
    /// The tag as written (`!include`, `!!str`), if any.
    pub tag: Option<String>,
    /// The value itself.
    pub value: Value,
}

/// The shape of a [`Node`].
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A scalar: its text and how it was written.
    Scalar {
        /// The scalar's text after unescaping.
        text: String,
        /// The quoting style.
        style: Style,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Vec<(Node, Node)>),
}

/// A scalar resolved with the YAML 1.2 core schema.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar<'a> {
    /// `null`, `~` or empty.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits `i64`.
    Int(i64),
    /// A float.
    Float(f64),
    /// Anything else, or any quoted or block scalar.
    Str(&'a str),
}

impl Node {
    /// The mapping entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The value for `key` when this is a mapping with a string key of that text.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The scalar resolved with the YAML 1.2 core schema (`None` for collections).
    pub fn scalar(&self) -> Option<Scalar<'_>> {
        let Value::Scalar { text, style } = &self.value else {
            return None;
        };
        if *style != Style::Plain || self.tag.as_deref() == Some("!!str") {
            return Some(Scalar::Str(text));
        }
        Some(resolve_plain(text))
    }

    /// The text of a scalar that resolves to a string (quoted, or plain and not null/bool/number).
    pub fn as_str(&self) -> Option<&str> {
        match self.scalar()? {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The raw text of any scalar (numbers and booleans included), as written.
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// True for an explicit or implicit null.
    pub fn is_null(&self) -> bool {
        matches!(self.scalar(), Some(Scalar::Null))
    }

    /// A short name of the node's type for messages ("a mapping", "a string", …).
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Map(_) => "a mapping",
            Value::Seq(_) => "a sequence",
            Value::Scalar { .. } => match self.scalar() {
                Some(Scalar::Null) => "null",
                Some(Scalar::Bool(_)) => "a boolean",
                Some(Scalar::Int(_)) => "an integer",
                Some(Scalar::Float(_)) => "a float",
                _ => "a string",
            },
        }
    }
}

/// Resolves a plain scalar with the YAML 1.2 core schema.
pub fn resolve_plain(text: &str) -> Scalar<'_> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "true" | "True" | "TRUE" => return Scalar::Bool(true),
        "false" | "False" | "FALSE" => return Scalar::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        _ => {}
    }
    if let Some(int) = parse_int(text) {
        return Scalar::Int(int);
    }
    if is_core_float(text)
        && let Ok(f) = text.parse::<f64>()
    {
        return Scalar::Float(f);
    }
    Scalar::Str(text)
}

fn parse_int(text: &str) -> Option<i64> {
    let (neg, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(hex) = digits.strip_prefix("0x") {
        (16, hex)
    } else if let Some(oct) = digits.strip_prefix("0o") {
        (8, oct)
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    i64::try_from(if neg { -magnitude } else { magnitude }).ok()
}

fn is_core_float(text: &str) -> bool {
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let s = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (!int.is_empty() || !frac.is_empty())
                && int.chars().all(|c| c.is_ascii_digit())
                && frac.chars().all(|c| c.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.chars().all(|c| c.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// A YAML syntax or structure error at a location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    /// Where the problem is.
    pub loc: Loc,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.loc, self.message)
    }
}

fn loc_of(marker: saphyr_parser::Marker) -> Loc {
    Loc {
        source: 0,
        line: u32::try_from(marker.line()).unwrap_or(u32::MAX),
        col: u32::try_from(marker.col().saturating_add(1)).unwrap_or(u32::MAX),
    }
}

fn tag_string(tag: Option<&saphyr_parser::Tag>) -> Option<String> {
    let tag = tag?;
    Some(if tag.handle == "tag:yaml.org,2002:" {
        format!("!!{}", tag.suffix)
    } else if tag.handle == "!" {
        format!("!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    })
}

enum Frame {
    Seq(Node, Vec<Node>, usize),
    Map(Node, Vec<(Node, Node)>, Option<Node>, usize),
}

/// Parses one YAML document into a located tree.
///
/// An empty document is a null scalar at 1:1. Several documents in one stream, a
/// duplicate mapping key, nesting deeper than [`MAX_DEPTH`], or an expansion over
/// [`MAX_NODES`] are errors; all duplicate keys are reported together.
pub fn parse(src: &str) -> Result<Node, Vec<YamlError>> {
    let mut builder = Builder::default();
    for event in Parser::new_from_str(src) {
        let (event, span) = event.map_err(|e| {
            // The parser reports errors at end of input one line past the last line.
            let mut loc = loc_of(*e.marker());
            let lines = u32::try_from(src.lines().count().max(1)).unwrap_or(u32::MAX);
            if loc.line > lines {
                loc = Loc {
                    source: 0,
                    line: lines,
                    col: u32::try_from(src.lines().last().map_or(0, |l| l.chars().count()) + 1)
                        .unwrap_or(u32::MAX),
                };
            }
            vec![YamlError {
                loc,
                message: e.info().to_owned(),
            }]
        })?;
        builder
            .event(event, loc_of(span.start))
            .map_err(|e| vec![e])?;
    }
    if !builder.duplicates.is_empty() {
        return Err(builder.duplicates);
    }
    Ok(builder.root.unwrap_or(Node {
        loc: Loc {
            source: 0,
            line: 1,
            col: 1,
        },
        tag: None,
        value: Value::Scalar {
            text: String::new(),
            style: Style::Plain,
        },
    }))
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
    nodes: usize,
    duplicates: Vec<YamlError>,
}

impl Builder {
    fn event(&mut self, event: Event<'_>, loc: Loc) -> Result<(), YamlError> {
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(YamlError {
                        loc,
                        message: "a contract holds one YAML document; found a second one".into(),
                    });
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let node = Node {
                    loc,
                    tag: tag_string(tag.as_deref()),
                    value: Value::Scalar {
                        text: text.into_owned(),
                        style: match style {
                            ScalarStyle::Plain => Style::Plain,
                            ScalarStyle::SingleQuoted => Style::SingleQuoted,
                            ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                            ScalarStyle::Literal => Style::Literal,
                            ScalarStyle::Folded => Style::Folded,
                        },
                    },
                };
                self.finish(node, anchor, loc)?;
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id) else {
                    return Err(YamlError {
                        loc,
                        message: "alias to an unknown anchor".into(),
                    });
                };
                let mut node = target.clone();
                self.nodes = self.nodes.saturating_add(count(&node));
                if self.nodes > MAX_NODES {
                    return Err(YamlError {
                        loc,
                        message: format!("document expands to more than {MAX_NODES} nodes"),
                    });
                }
                node.loc = loc;
                self.finish(node, 0, loc)?;
            }
            Event::SequenceStart(anchor, tag) => {
                self.push(loc)?;
                let head = Node {
                    loc,
                    tag: tag_string(tag.as_deref()),
                    value: Value::Seq(Vec::new()),
                };
                self.stack.push(Frame::Seq(head, Vec::new(), anchor));
            }
            Event::MappingStart(anchor, tag) => {
                self.push(loc)?;
                let head = Node {
                    loc,
                    tag: tag_string(tag.as_deref()),
                    value: Value::Map(Vec::new()),
                };
                self.stack.push(Frame::Map(head, Vec::new(), None, anchor));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq(mut head, items, anchor)) => {
                        head.value = Value::Seq(items);
                        (head, anchor)
                    }
                    Some(Frame::Map(mut head, entries, _, anchor)) => {
                        head.value = Value::Map(entries);
                        (head, anchor)
                    }
                    None => {
                        return Err(YamlError {
                            loc,
                            message: "unbalanced collection end".into(),
                        });
                    }
                };
                self.finish(node, anchor, loc)?;
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
        Ok(())
    }

    fn push(&mut self, loc: Loc) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError {
                loc,
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        Ok(())
    }

    fn finish(&mut self, node: Node, anchor: usize, loc: Loc) -> Result<(), YamlError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(YamlError {
                loc,
                message: format!("document expands to more than {MAX_NODES} nodes"),
            });
        }
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq(_, items, _)) => items.push(node),
            Some(Frame::Map(_, entries, pending, _)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => {
                    if let Some(text) = key.scalar_text()
                        && let Some((first, _)) = entries
                            .iter()
                            .find(|(k, _)| k.scalar_text() == Some(text) && k.value == key.value)
                    {
                        self.duplicates.push(YamlError {
                            loc: key.loc,
                            message: format!(
                                "duplicate key `{text}` (first defined at {})",
                                first.loc
                            ),
                        });
                    }
                    entries.push((key, node));
                }
            },
        }
        Ok(())
    }
}

fn count(node: &Node) -> usize {
    let mut total = 0usize;
    let mut work = vec![node];
    while let Some(n) = work.pop() {
        total += 1;
        match &n.value {
            Value::Seq(items) => work.extend(items),
            Value::Map(entries) => {
                for (k, v) in entries {
                    work.push(k);
                    work.push(v);
                }
            }
            Value::Scalar { .. } => {}
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_one_based() {
        let doc = parse("a:\n  b: [1, two]\n").unwrap();
        let b = doc.get("a").unwrap().get("b").unwrap();
        assert_eq!(
            b.loc,
            Loc {
                source: 0,
                line: 2,
                col: 6
            }
        );
        let items = b.as_seq().unwrap();
        assert_eq!(
            items[1].loc,
            Loc {
                source: 0,
                line: 2,
                col: 10
            }
        );
        assert_eq!(items[0].scalar(), Some(Scalar::Int(1)));
        assert_eq!(items[1].as_str(), Some("two"));
    }

    #[test]
    fn quoted_scalars_stay_strings_and_tags_are_kept() {
        let doc = parse("a: \"42\"\nb: !include x.yaml\nc: ~\nd: 1.5\ne: yes\n").unwrap();
        assert_eq!(doc.get("a").unwrap().as_str(), Some("42"));
        assert_eq!(doc.get("b").unwrap().tag.as_deref(), Some("!include"));
        assert!(doc.get("c").unwrap().is_null());
        assert_eq!(doc.get("d").unwrap().scalar(), Some(Scalar::Float(1.5)));
        // YAML 1.2 core: `yes` is a string (the fingerprint applies YAML 1.1 itself).
        assert_eq!(doc.get("e").unwrap().as_str(), Some("yes"));
    }

    #[test]
    fn duplicate_keys_are_all_reported() {
        let errs = parse("a: 1\nb: 2\na: 3\nb: 4\n").unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!(
            errs[0].loc,
            Loc {
                source: 0,
                line: 3,
                col: 1
            }
        );
        assert!(errs[0].message.contains("first defined at 1:1"));
    }

    #[test]
    fn syntax_errors_have_locations() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(err.len(), 1);
        assert!(err[0].loc.line >= 1);
    }

    #[test]
    fn hostile_nesting_and_aliases_are_bounded() {
        let deep = "[".repeat(10_000);
        assert!(parse(&deep).is_err());
        let mut laughs = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            laughs.push_str(&format!(
                "l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let err = parse(&laughs).unwrap_err();
        assert!(err[0].message.contains("expands"));
    }

    #[test]
    fn core_schema_numbers() {
        assert_eq!(resolve_plain("0x1F"), Scalar::Int(31));
        assert_eq!(resolve_plain("-7"), Scalar::Int(-7));
        assert_eq!(resolve_plain("1e3"), Scalar::Float(1000.0));
        assert_eq!(resolve_plain("1.2.3"), Scalar::Str("1.2.3"));
        assert_eq!(resolve_plain("2024-01-01"), Scalar::Str("2024-01-01"));
    }
}
