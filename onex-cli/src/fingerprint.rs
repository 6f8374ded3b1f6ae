//! `onex fingerprint`: print, check or write the ONEX fingerprint of contracts
//! (DESIGN.md §4.6; `onex-contracts` computes it).
//!
//! `--write` edits the text through [`crate::rewrite`], so comments and formatting survive.

use std::path::{Path, PathBuf};

use onex_contracts::fingerprint::{self, Fingerprint, FingerprintError};
use onex_contracts::yaml::{self, Loc};

use crate::rewrite::{self, Edit};
use crate::walk::{self, Target};

/// What the command does with each file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Print `<fingerprint>  <file>`.
    Print,
    /// Report drift and missing declarations; exit 1 if there are any.
    Check,
    /// Rewrite drifted or missing declarations in place.
    Write,
}

/// A declared `fingerprint:` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declared {
    /// The value as written (empty for `fingerprint:` with no value).
    pub value: String,
    /// Where the value is.
    pub loc: Loc,
}

/// What was found in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The fingerprint was computed.
    Computed {
        /// The computed value.
        computed: Fingerprint,
        /// The declared value, if the contract has a top-level `fingerprint` key.
        declared: Option<Declared>,
    },
    /// A file found by walking a directory has no `contract_version`, so it has no
    /// fingerprint (handler contracts, include fragments, …).
    Skipped,
    /// The file cannot be fingerprinted (YAML error, no or malformed `contract_version`, …).
    Failed {
        /// Where, when known.
        loc: Option<Loc>,
        /// What is wrong.
        message: String,
    },
    /// The file cannot be read.
    Unreadable(String),
}

impl Outcome {
    /// True when the declared value is missing or differs from the computed one.
    pub fn is_stale(&self) -> bool {
        match self {
            Outcome::Computed { computed, declared } => declared
                .as_ref()
                .is_none_or(|d| d.value != computed.to_string()),
            _ => false,
        }
    }
}

/// Computes the fingerprint of the file at `path`; `explicit` files without a
/// `contract_version` fail, walked ones are [`Outcome::Skipped`].
pub fn inspect(path: &Path, explicit: bool) -> (Outcome, Option<String>) {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            return (
                Outcome::Unreadable(format!(
                    "cannot read `{}`: {}",
                    path.display(),
                    walk::io_reason(&e)
                )),
                None,
            );
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let outcome = Outcome::Failed {
                loc: None,
                message: format!(
                    "not UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            };
            return (outcome, None);
        }
    };
    let outcome = outcome_of(&text, explicit);
    (outcome, Some(text))
}

/// The outcome for a contract's text.
pub fn outcome_of(text: &str, explicit: bool) -> Outcome {
    let doc = match yaml::parse(text) {
        Ok(doc) => doc,
        Err(errors) => {
            let first = errors.into_iter().next();
            return Outcome::Failed {
                loc: first.as_ref().map(|e| e.loc),
                message: first.map_or_else(
                    || "invalid YAML".to_owned(),
                    |e| format!("invalid YAML: {}", e.message),
                ),
            };
        }
    };
    match fingerprint::compute(&doc) {
        Ok(computed) => Outcome::Computed {
            computed,
            declared: rewrite::declared(&doc),
        },
        Err(FingerprintError::MissingContractVersion { .. }) if !explicit => Outcome::Skipped,
        Err(e) => Outcome::Failed {
            loc: error_loc(&e),
            message: strip_loc(&e.to_string()),
        },
    }
}

fn error_loc(e: &FingerprintError) -> Option<Loc> {
    match e {
        FingerprintError::NotAMapping { loc, .. }
        | FingerprintError::MissingContractVersion { loc }
        | FingerprintError::MalformedContractVersion { loc, .. }
        | FingerprintError::InvalidScalar { loc, .. }
        | FingerprintError::UnsupportedTag { loc, .. }
        | FingerprintError::UnsupportedKey { loc, .. } => Some(*loc),
        _ => None,
    }
}

/// Error messages start with `LINE:COL: `; the CLI prints the file in front instead.
fn strip_loc(message: &str) -> String {
    let mut parts = message.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(l), Some(c), Some(rest))
            if l.bytes().all(|b| b.is_ascii_digit()) && c.bytes().all(|b| b.is_ascii_digit()) =>
        {
            rest.trim_start().to_owned()
        }
        _ => message.to_owned(),
    }
}

/// One file's result, for printing.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The file.
    pub path: PathBuf,
    /// What was found.
    pub outcome: Outcome,
    /// What `--write` did, or why it could not.
    pub written: Option<Result<Edit, String>>,
}

/// Runs `onex fingerprint` over `paths`: the report text, what goes to stderr and the exit
/// code (0 fine; 1 drift or a missing declaration under `--check`, or a file that cannot be
/// fingerprinted; 2 a path that cannot be read).
pub fn run(paths: &[PathBuf], mode: Mode) -> (String, String, u8) {
    let walked = walk::walk(paths);
    let mut out = String::new();
    let mut err = String::new();
    let mut code = 0u8;
    for e in &walked.errors {
        err.push_str(&format!("error: {}\n", e.message));
        code = 2;
    }
    let entries: Vec<Entry> = walked.files.iter().map(|t| process(t, mode)).collect();
    let (mut ok, mut stale, mut missing, mut failed, mut skipped, mut updated, mut inserted) =
        (0, 0, 0, 0, 0, 0, 0);
    for entry in &entries {
        let file = entry.path.display();
        match &entry.outcome {
            Outcome::Unreadable(message) => {
                err.push_str(&format!("error: {message}\n"));
                code = 2;
            }
            Outcome::Failed { loc, message } => {
                failed += 1;
                match loc {
                    Some(loc) => err.push_str(&format!("error: {file}:{loc}: {message}\n")),
                    None => err.push_str(&format!("error: {file}: {message}\n")),
                }
                code = code.max(1);
            }
            Outcome::Skipped => skipped += 1,
            Outcome::Computed { computed, declared } => {
                let is_missing = declared.is_none();
                let is_stale = entry.outcome.is_stale();
                match mode {
                    Mode::Print => out.push_str(&format!("{computed}  {file}\n")),
                    Mode::Check => match declared {
                        None => out.push_str(&format!(
                            "{file}: missing: no `fingerprint` declared (computed \"{computed}\")\n"
                        )),
                        Some(d) if is_stale => out.push_str(&format!(
                            "{file}:{}: drift: declared \"{}\", computed \"{computed}\"\n",
                            d.loc, d.value
                        )),
                        Some(_) => {}
                    },
                    Mode::Write => match &entry.written {
                        Some(Ok(Edit::Updated { old })) => {
                            updated += 1;
                            out.push_str(&format!("{file}: updated \"{old}\" -> \"{computed}\"\n"));
                        }
                        Some(Ok(Edit::Inserted)) => {
                            inserted += 1;
                            out.push_str(&format!(
                                "{file}: inserted \"{computed}\" after `contract_version`\n"
                            ));
                        }
                        Some(Err(message)) => {
                            err.push_str(&format!("error: {file}: {message}\n"));
                            code = code.max(1);
                        }
                        Some(Ok(Edit::Unchanged)) | None => {}
                    },
                }
                if is_missing {
                    missing += 1;
                } else if is_stale {
                    stale += 1;
                } else {
                    ok += 1;
                }
            }
        }
    }
    if mode == Mode::Check && stale + missing > 0 {
        code = code.max(1);
    }
    if walked.files.is_empty() && walked.errors.is_empty() {
        err.push_str("error: no contract files found (looked for .yaml and .yml files)\n");
        code = 2;
    }
    let skipped_note = if skipped > 0 {
        format!("; {skipped} without `contract_version` skipped")
    } else {
        String::new()
    };
    match mode {
        Mode::Print if skipped > 0 => err.push_str(&format!(
            "note: {skipped} file(s) without `contract_version` skipped (not fingerprinted)\n"
        )),
        Mode::Print => {}
        Mode::Check => out.push_str(&format!(
            "Checked {}: {ok} up to date, {stale} drifted, {missing} missing{skipped_note}{}.\n",
            files(ok + stale + missing, "fingerprint"),
            failed_note(failed)
        )),
        Mode::Write => out.push_str(&format!(
            "Wrote {} ({updated} updated, {inserted} inserted); {ok} already up to date{skipped_note}{}.\n",
            files(updated + inserted, "file"),
            failed_note(failed)
        )),
    }
    (out, err, code)
}

fn files(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn failed_note(failed: usize) -> String {
    if failed > 0 {
        format!("; {failed} could not be fingerprinted")
    } else {
        String::new()
    }
}

fn process(target: &Target, mode: Mode) -> Entry {
    let (outcome, text) = inspect(&target.path, target.explicit);
    let written = match (&outcome, mode, text) {
        (Outcome::Computed { computed, .. }, Mode::Write, Some(text)) if outcome.is_stale() => {
            Some(rewrite::rewrite(&text, computed).and_then(|(new, edit)| {
                std::fs::write(&target.path, new)
                    .map(|()| edit)
                    .map_err(|e| format!("cannot write: {}", walk::io_reason(&e)))
            }))
        }
        _ => None,
    };
    Entry {
        path: target.path.clone(),
        outcome,
        written,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walked_files_without_contract_version_are_skipped() {
        assert_eq!(outcome_of("handler_id: x\n", false), Outcome::Skipped);
        assert!(matches!(
            outcome_of("handler_id: x\n", true),
            Outcome::Failed { .. }
        ));
        assert_eq!(strip_loc("3:4: bad"), "bad");
        assert_eq!(strip_loc("malformed: x"), "malformed: x");
    }
}
