//! Diagnostics: every problem found in a contract, with where it is and how to fix it.

use std::fmt;

use crate::yaml::Loc;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Accepted, but worth fixing (unknown top-level key, topic naming, fingerprint drift).
    Warning,
    /// The contract cannot be used.
    Error,
}

/// One finding about a contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable machine-readable code, e.g. `unknown-key`.
    pub code: &'static str,
    /// Where the problem is.
    pub loc: Loc,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is something to say.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error.
    pub fn error(code: &'static str, loc: Loc, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            loc,
            message: message.into(),
            help: None,
        }
    }

    /// A warning.
    pub fn warning(code: &'static str, loc: Loc, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, loc, message)
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Renders as `file:LINE:COL: message` plus `help: …`, the form the macros report.
    pub fn render(&self, file: &str) -> String {
        let mut out = format!(
            "{file}:{}:{}: {}",
            self.loc.line, self.loc.col, self.message
        );
        if let Some(help) = &self.help {
            out.push_str("\n  help: ");
            out.push_str(help);
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.loc, self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

/// An accumulator of diagnostics (serde's `Ctxt` idea): checks push, nobody stops early.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a finding.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// Records an error.
    pub fn error(&mut self, code: &'static str, loc: Loc, message: impl Into<String>) {
        self.push(Diagnostic::error(code, loc, message));
    }

    /// True if any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// All findings, in the order they were found.
    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }

    /// The findings sorted by location (stable for equal locations).
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by_key(|d| d.loc);
        self.items
    }

    /// Appends all findings of `other`.
    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(other);
    }
}

/// The closest candidate to `unknown`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(unknown: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(unknown, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_matches_only() {
        let keys = ["operations", "operation_name", "io_config"];
        assert_eq!(did_you_mean("operatoins", &keys), Some("operations"));
        assert_eq!(did_you_mean("zzz", &keys), None);
    }

    #[test]
    fn render_has_file_line_col_and_help() {
        let d = Diagnostic::error(
            "unknown-key",
            Loc {
                source: 0,
                line: 3,
                col: 5,
            },
            "unknown key `x`",
        )
        .with_help("did you mean `y`?");
        assert_eq!(
            d.render("c.yaml"),
            "c.yaml:3:5: unknown key `x`\n  help: did you mean `y`?"
        );
    }
}
