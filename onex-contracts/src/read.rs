//! Typed reads from the located YAML tree, each problem recorded and none fatal.
//!
//! Serde's `tag`, `flatten` and `untagged` lose positions, and serde stops at the first
//! error; the contract model is therefore read by hand through these helpers, which keep the
//! location of every value and push every problem into a [`Diagnostics`].

use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::yaml::{Loc, Node, Scalar};

/// A value with the location it was read from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub loc: Loc,
}

impl<T> Spanned<T> {
    /// Wraps a value with its location.
    pub fn new(value: T, loc: Loc) -> Self {
        Spanned { value, loc }
    }
}

impl Spanned<String> {
    /// The string value.
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// How unknown keys of a mapping are treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unknown {
    /// A typed section onex executes: unknown keys are errors.
    Deny,
    /// The lenient top level: unknown keys are kept and reported as warnings.
    Warn,
    /// Free-form (metadata, extension blocks): unknown keys are fine.
    Allow,
}

/// A mapping being read, with the keys its section knows.
pub struct Fields<'a> {
    node: &'a Node,
    entries: &'a [(Node, Node)],
}

impl<'a> Fields<'a> {
    /// Starts reading `node` as the mapping `section`; reports a non-mapping and unknown keys.
    ///
    /// Returns `None` (after recording an error) when `node` is not a mapping.
    pub fn new(
        node: &'a Node,
        section: &str,
        known: &[&str],
        unknown: Unknown,
        d: &mut Diagnostics,
    ) -> Option<Self> {
        let Some(entries) = node.as_map() else {
            d.push(type_error(node, section, "a mapping"));
            return None;
        };
        for (key, _) in entries {
            let Some(name) = key.scalar_text() else {
                d.error(
                    "bad-key",
                    key.loc,
                    format!("`{section}` keys must be strings"),
                );
                continue;
            };
            if unknown == Unknown::Allow || known.contains(&name) {
                continue;
            }
            let diagnostic = match unknown {
                Unknown::Deny => Diagnostic::error(
                    "unknown-key",
                    key.loc,
                    format!("unknown key `{name}` in `{section}`"),
                ),
                _ => Diagnostic::warning(
                    "unknown-key",
                    key.loc,
                    format!("unknown top-level key `{name}` (kept, not interpreted)"),
                ),
            };
            d.push(match did_you_mean(name, known) {
                Some(best) => diagnostic.with_help(format!("did you mean `{best}`?")),
                None if unknown == Unknown::Deny => {
                    diagnostic.with_help(format!("`{section}` accepts: {}", known.join(", ")))
                }
                None => diagnostic,
            });
        }
        Some(Fields { node, entries })
    }

    /// The mapping node itself.
    pub fn node(&self) -> &'a Node {
        self.node
    }

    /// The value of `key`, if present and not null.
    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.scalar_text() == Some(key))
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    }

    /// The location of `key` itself (for "missing value" style messages).
    pub fn key_loc(&self, key: &str) -> Option<Loc> {
        self.entries
            .iter()
            .find(|(k, _)| k.scalar_text() == Some(key))
            .map(|(k, _)| k.loc)
    }

    /// A string value; a non-string is an error.
    pub fn str(&self, key: &str, d: &mut Diagnostics) -> Option<Spanned<String>> {
        self.get(key).and_then(|v| string(v, key, d))
    }

    /// A string value that must be present.
    pub fn required_str(
        &self,
        key: &str,
        section: &str,
        d: &mut Diagnostics,
    ) -> Option<Spanned<String>> {
        if self.get(key).is_none() {
            // A misspelling of `key` was already reported with "did you mean": say it once.
            let misspelled = self.entries.iter().any(|(k, _)| {
                k.scalar_text()
                    .is_some_and(|t| t != key && did_you_mean(t, &[key]).is_some())
            });
            if misspelled {
                return None;
            }
            d.push(
                Diagnostic::error(
                    "missing-key",
                    self.key_loc(key).unwrap_or(self.node.loc),
                    format!("`{section}` needs `{key}`"),
                )
                .with_help(format!("add `{key}: …` to `{section}`")),
            );
            return None;
        }
        self.str(key, d)
    }

    /// A non-negative integer value.
    pub fn u64(&self, key: &str, d: &mut Diagnostics) -> Option<Spanned<u64>> {
        self.get(key).and_then(|v| unsigned(v, key, d))
    }

    /// A number (integer or float).
    pub fn f64(&self, key: &str, d: &mut Diagnostics) -> Option<Spanned<f64>> {
        let v = self.get(key)?;
        match v.scalar() {
            Some(Scalar::Int(i)) => Some(Spanned::new(i as f64, v.loc)),
            Some(Scalar::Float(f)) => Some(Spanned::new(f, v.loc)),
            _ => {
                d.push(type_error(v, key, "a number"));
                None
            }
        }
    }

    /// A boolean value.
    pub fn bool(&self, key: &str, d: &mut Diagnostics) -> Option<Spanned<bool>> {
        let v = self.get(key)?;
        match v.scalar() {
            Some(Scalar::Bool(b)) => Some(Spanned::new(b, v.loc)),
            _ => {
                d.push(type_error(v, key, "a boolean (`true` or `false`)"));
                None
            }
        }
    }

    /// A sequence value (its items).
    pub fn seq(&self, key: &str, d: &mut Diagnostics) -> Option<&'a [Node]> {
        let v = self.get(key)?;
        match v.as_seq() {
            Some(items) => Some(items),
            None => {
                d.push(type_error(v, key, "a sequence"));
                None
            }
        }
    }

    /// A list of strings.
    pub fn strings(&self, key: &str, d: &mut Diagnostics) -> Vec<Spanned<String>> {
        self.seq(key, d)
            .unwrap_or_default()
            .iter()
            .filter_map(|item| string(item, key, d))
            .collect()
    }
}

/// Reads a string scalar.
pub fn string(node: &Node, what: &str, d: &mut Diagnostics) -> Option<Spanned<String>> {
    match node.as_str() {
        Some(s) => Some(Spanned::new(s.to_owned(), node.loc)),
        None => {
            d.push(type_error(node, what, "a string"));
            None
        }
    }
}

/// Reads a non-negative integer scalar.
pub fn unsigned(node: &Node, what: &str, d: &mut Diagnostics) -> Option<Spanned<u64>> {
    match node.scalar() {
        Some(Scalar::Int(i)) if i >= 0 => Some(Spanned::new(i as u64, node.loc)),
        _ => {
            d.push(type_error(node, what, "a non-negative integer"));
            None
        }
    }
}

/// "`what` must be EXPECTED, found …".
pub fn type_error(node: &Node, what: &str, expected: &str) -> Diagnostic {
    Diagnostic::error(
        "wrong-type",
        node.loc,
        format!("`{what}` must be {expected}, found {}", node.type_name()),
    )
    .with_help(format!("write `{what}` as {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    #[test]
    fn unknown_keys_per_policy() {
        let doc = yaml::parse("operation_nme: x\nio_config: {}\n").unwrap();
        let mut d = Diagnostics::new();
        let f = Fields::new(
            &doc,
            "operations[0]",
            &["operation_name", "io_config"],
            Unknown::Deny,
            &mut d,
        )
        .unwrap();
        assert!(f.get("io_config").is_some());
        let items = d.items();
        assert_eq!(items.len(), 1, "{items:#?}");
        assert_eq!(items[0].loc.line, 1);
        assert_eq!(
            items[0].help.as_deref(),
            Some("did you mean `operation_name`?")
        );
        let mut d = Diagnostics::new();
        Fields::new(&doc, "top", &["operation_name"], Unknown::Warn, &mut d).unwrap();
        assert!(!d.has_errors());
        assert_eq!(
            d.items().len(),
            2,
            "both keys are unknown here, as warnings"
        );
    }

    #[test]
    fn wrong_types_are_reported_not_fatal() {
        let doc = yaml::parse("a: [1]\nb: yes\nc: -1\n").unwrap();
        let mut d = Diagnostics::new();
        let f = Fields::new(&doc, "t", &["a", "b", "c"], Unknown::Deny, &mut d).unwrap();
        assert!(f.str("a", &mut d).is_none());
        assert!(f.bool("b", &mut d).is_none());
        assert!(f.u64("c", &mut d).is_none());
        assert_eq!(d.items().len(), 3);
        assert!(d.items()[0].message.contains("found a sequence"));
    }
}
