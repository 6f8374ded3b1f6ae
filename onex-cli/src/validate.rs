//! `onex validate`: every contract under the given paths, checked with the rules the macros
//! apply (the `onex-contracts` loader), collected into a [`Report`].
//!
//! Nothing here prints: [`crate::render`] turns a report into the human or JSON form.

use std::path::{Path, PathBuf};

use onex_contracts::{DocumentKind, Loaded, NodeKind, Severity, load_file};

use crate::walk::{self, Target};

/// Codes of findings that mean a file could not be read at all (exit code 2).
pub const IO_CODES: &[&str] = &["read-failed", "unreadable-path"];

/// How serious a finding is, after `--strict`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Accepted, but worth fixing.
    Warning,
    /// The contract cannot be used.
    Error,
}

/// One finding, located in a file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The file the finding is in (an `!include`d file for problems inside it).
    pub file: String,
    /// 1-based line; `None` when the problem has no place in a file (a missing path).
    pub line: Option<u32>,
    /// 1-based column in characters; `None` as for `line`.
    pub column: Option<u32>,
    /// Error or warning (warnings are errors under `--strict`).
    pub severity: Level,
    /// Stable machine-readable code, e.g. `unknown-key`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is something to say.
    pub help: Option<String>,
    /// Index of the source text in [`FileReport::loaded`]'s `sources` (for snippets).
    #[serde(skip)]
    pub source: usize,
}

/// What was found in one file.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The file, as walked.
    pub path: PathBuf,
    /// The loaded contract (sources, model, diagnostics).
    pub loaded: Loaded,
    /// The findings, in location order, severities adjusted for `--strict`.
    pub findings: Vec<Finding>,
}

impl FileReport {
    /// What kind of document the file is, when it parsed.
    pub fn kind(&self) -> Option<DocumentKind> {
        self.loaded.contract.as_ref().map(|c| c.kind)
    }

    /// Number of findings at `level`.
    pub fn count(&self, level: Level) -> usize {
        self.findings.iter().filter(|f| f.severity == level).count()
    }

    /// `valid`, `warnings` or `errors`.
    pub fn status(&self) -> &'static str {
        if self.count(Level::Error) > 0 {
            "errors"
        } else if self.count(Level::Warning) > 0 {
            "warnings"
        } else {
            "valid"
        }
    }

    /// True when the file could not be read.
    pub fn unreadable(&self) -> bool {
        self.findings.iter().any(|f| IO_CODES.contains(&f.code))
    }

    /// True for a YAML file that is no ONEX document (no `node_type`, no `handler_id`, …):
    /// only its syntax was checked.
    pub fn is_fragment(&self) -> bool {
        self.kind() == Some(DocumentKind::Fragment)
    }
}

/// A stable lower-case name for a document kind (the JSON report's `kind`).
pub fn kind_name(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Node(NodeKind::Effect) => "effect",
        DocumentKind::Node(NodeKind::Compute) => "compute",
        DocumentKind::Node(NodeKind::Reducer) => "reducer",
        DocumentKind::Node(NodeKind::Orchestrator) => "orchestrator",
        DocumentKind::Workflow => "workflow",
        DocumentKind::HandlerContract => "handler_contract",
        DocumentKind::DbRepository => "db_repository",
        DocumentKind::Fragment => "fragment",
    }
}

/// Everything `onex validate` found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// One entry per file looked at, in path order.
    pub files: Vec<FileReport>,
    /// Paths that could not be walked (missing, unlistable), as findings.
    pub path_errors: Vec<Finding>,
    /// Directories given on the command line that hold no `.yaml`/`.yml` file.
    pub empty_dirs: Vec<PathBuf>,
}

impl Report {
    /// Every finding: path problems first, then each file's in path order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.path_errors
            .iter()
            .chain(self.files.iter().flat_map(|f| &f.findings))
    }

    /// Number of findings at `level`.
    pub fn count(&self, level: Level) -> usize {
        self.findings().filter(|f| f.severity == level).count()
    }

    /// True when nothing at all was found to validate (and nothing failed).
    pub fn nothing_found(&self) -> bool {
        self.files.is_empty() && self.path_errors.is_empty()
    }

    /// The process exit code: 2 when a path could not be read or nothing was found,
    /// else 1 when there is an error, else 0.
    pub fn exit_code(&self) -> u8 {
        if !self.path_errors.is_empty()
            || self.nothing_found()
            || self.files.iter().any(FileReport::unreadable)
        {
            2
        } else if self.count(Level::Error) > 0 {
            1
        } else {
            0
        }
    }
}

/// Validates every contract under `paths`; `strict` turns warnings into errors.
pub fn validate(paths: &[PathBuf], strict: bool) -> Report {
    let walked = walk::walk(paths);
    let path_errors = walked
        .errors
        .into_iter()
        .map(|e| Finding {
            file: e.path.display().to_string(),
            line: None,
            column: None,
            severity: Level::Error,
            code: "unreadable-path",
            message: e.message,
            help: None,
            source: 0,
        })
        .collect();
    Report {
        files: walked.files.iter().map(|t| check(t, strict)).collect(),
        path_errors,
        empty_dirs: walked.empty_dirs,
    }
}

/// Loads and validates one file.
pub fn check(target: &Target, strict: bool) -> FileReport {
    check_path(&target.path, strict)
}

/// Loads and validates the file at `path` (shown as given).
pub fn check_path(path: &Path, strict: bool) -> FileReport {
    let display = path.display().to_string();
    let loaded = load_file(path, &display);
    let mut findings = findings(&loaded, &display, strict);
    if loaded
        .contract
        .as_ref()
        .is_some_and(|c| c.kind == DocumentKind::Fragment)
    {
        // Not an ONEX document (an `!include` target, some other YAML): its keys are not
        // contract keys, so only real errors (YAML syntax) are worth reporting.
        findings.retain(|f| f.code != "unknown-key");
    }
    FileReport {
        path: path.to_owned(),
        loaded,
        findings,
    }
}

/// The loader's diagnostics as findings: located in the file they concern, severities
/// raised to errors under `strict`.
pub fn findings(loaded: &Loaded, display: &str, strict: bool) -> Vec<Finding> {
    loaded
        .diagnostics
        .iter()
        .map(|d| {
            let source = d.loc.source as usize;
            let file = match source {
                0 => display.to_owned(),
                _ => loaded
                    .sources
                    .get(source)
                    .map_or_else(|| display.to_owned(), |s| s.path.display().to_string()),
            };
            let severity = match d.severity {
                Severity::Error => Level::Error,
                Severity::Warning if strict => Level::Error,
                Severity::Warning => Level::Warning,
            };
            Finding {
                file,
                line: Some(d.loc.line),
                column: Some(d.loc.col),
                severity,
                code: d.code,
                message: d.message.clone(),
                help: d.help.clone(),
                source,
            }
        })
        .collect()
}
