//! Loading a contract file: read, parse, resolve `!include`, read the model, lower, validate.

use std::path::{Component, Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::fingerprint::{self, Fingerprint};
use crate::kind::NodeKind;
use crate::model::Contract;
use crate::operations::{self, Operations};
use crate::valid;
use crate::yaml::{self, Loc, Node, Value};

/// Deepest `!include` chain accepted.
pub const MAX_INCLUDE_DEPTH: usize = 10;

/// A file read while loading a contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The path as opened.
    pub path: PathBuf,
    /// The name used in messages: the contract's name as given, includes relative to it.
    pub display: String,
    /// The file's text.
    pub text: String,
}

/// Everything known about a contract after loading it.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// Every file read: the contract first, then each included file.
    pub sources: Vec<Source>,
    /// The contract model, if the file parsed.
    pub contract: Option<Contract>,
    /// The lowered operations, for node contracts.
    pub operations: Option<Operations>,
    /// The computed fingerprint, if the contract has a `contract_version`.
    pub fingerprint: Option<Fingerprint>,
    /// The state machine of a reducer contract (`state_transitions` or `state_machine`),
    /// parsed and validated (its problems are in `diagnostics`); `None` for other kinds and
    /// for reducers without a state machine block.
    pub fsm: Option<crate::fsm::Fsm>,
    /// The workflow of an orchestrator contract
    /// (`workflow_coordination.workflow_definition`), parsed and validated (its problems are
    /// in `diagnostics`); `None` for other kinds and for orchestrators without an
    /// `execution_graph`.
    pub workflow: Option<crate::workflow::Workflow>,
    /// All findings, sorted by location.
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    /// True when any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }

    /// The display name of the file a location is in.
    pub fn file_of(&self, loc: Loc) -> &str {
        self.sources
            .get(loc.source as usize)
            .or(self.sources.first())
            .map_or("<contract>", |s| s.display.as_str())
    }

    /// Renders a finding as `file:LINE:COL: message` (+ help).
    pub fn render(&self, diagnostic: &Diagnostic) -> String {
        diagnostic.render(self.file_of(diagnostic.loc))
    }
}

/// Loads a contract file. `display` is the name used in messages (e.g. the path the user
/// wrote); includes are resolved relative to the file's directory.
pub fn load_file(path: &Path, display: &str) -> Loaded {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => load_source(path, display, text),
            Err(e) => failed(
                path,
                display,
                Diagnostic::error(
                    "not-utf8",
                    Loc {
                        source: 0,
                        line: 1,
                        col: 1,
                    },
                    format!(
                        "the contract is not UTF-8 text (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                ),
            ),
        },
        Err(e) => failed(
            path,
            display,
            Diagnostic::error(
                "read-failed",
                Loc {
                    source: 0,
                    line: 1,
                    col: 1,
                },
                format!("cannot read `{}`: {e}", path.display()),
            ),
        ),
    }
}

/// Loads a contract from text (`path` locates `!include`d files and names the source).
pub fn load_source(path: &Path, display: &str, text: String) -> Loaded {
    let mut sources = vec![Source {
        path: path.to_owned(),
        display: display.to_owned(),
        text,
    }];
    let mut d = Diagnostics::new();
    let parsed = yaml::parse(&sources[0].text);
    let root = match parsed {
        Ok(root) => root,
        Err(errors) => {
            for e in errors {
                d.push(yaml_error(e));
            }
            return Loaded {
                sources,
                contract: None,
                operations: None,
                fingerprint: None,
                fsm: None,
                workflow: None,
                diagnostics: d.into_sorted(),
            };
        }
    };

    let fingerprint = root
        .get("contract_version")
        .and_then(|_| fingerprint::compute(&root).ok());

    let mut expanded = root;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let mut chain = vec![canonical];
    expand_includes(
        &mut expanded,
        &base,
        &base,
        &mut chain,
        &mut sources,
        &mut d,
    );

    let contract = Contract::from_node(expanded, &mut d);
    let operations = contract
        .as_ref()
        .filter(|c| c.node_kind().is_some())
        .map(|c| {
            let ops = operations::lower(c);
            valid::validate(c, &ops, &mut d);
            ops
        });
    let fsm = contract
        .as_ref()
        .filter(|c| c.node_kind() == Some(NodeKind::Reducer))
        .and_then(|c| {
            let fsm = crate::fsm::parse::parse(c, &mut d)?;
            crate::fsm::valid::validate(&fsm, &mut d);
            if let Some(model) = c
                .input_model
                .as_ref()
                .and_then(|m| c.definition(&m.name.value))
            {
                crate::fsm::valid::check_context(&fsm, model, &c.definitions, &mut d);
            }
            Some(fsm)
        });
    let workflow = contract
        .as_ref()
        .filter(|c| c.node_kind() == Some(NodeKind::Orchestrator))
        .and_then(|c| {
            let workflow = crate::workflow::parse::parse(c, &mut d)?;
            crate::workflow::valid::validate(&workflow, &mut d);
            Some(workflow)
        });
    if let (Some(c), Some(computed)) = (&contract, &fingerprint)
        && let Some(declared) = &c.fingerprint
        && declared.value != computed.to_string()
    {
        d.push(
            Diagnostic::warning(
                "fingerprint-drift",
                declared.loc,
                format!(
                    "declared fingerprint `{}` differs from the computed `{computed}`",
                    declared.value
                ),
            )
            .with_help(format!(
                "the contract changed since it was fingerprinted: set `fingerprint: \"{computed}\"`"
            )),
        );
    }
    Loaded {
        sources,
        contract,
        operations,
        fingerprint,
        fsm,
        workflow,
        diagnostics: d.into_sorted(),
    }
}

fn failed(path: &Path, display: &str, diagnostic: Diagnostic) -> Loaded {
    Loaded {
        sources: vec![Source {
            path: path.to_owned(),
            display: display.to_owned(),
            text: String::new(),
        }],
        contract: None,
        operations: None,
        fingerprint: None,
        fsm: None,
        workflow: None,
        diagnostics: vec![diagnostic],
    }
}

fn yaml_error(e: yaml::YamlError) -> Diagnostic {
    let help = if e.message.starts_with("duplicate key") {
        "remove one of the two keys (YAML keeps only one)"
    } else {
        "check indentation and quoting near this position"
    };
    Diagnostic::error("yaml-syntax", e.loc, e.message).with_help(help)
}

/// Replaces every `!include path` node with the parsed file, enforcing the safety rules.
fn expand_includes(
    node: &mut Node,
    dir: &Path,
    root_dir: &Path,
    chain: &mut Vec<PathBuf>,
    sources: &mut Vec<Source>,
    d: &mut Diagnostics,
) {
    if node.tag.as_deref() == Some("!include") {
        // A failed include becomes null, so it is not also read as a string.
        let null = Node {
            loc: node.loc,
            tag: None,
            value: Value::Scalar {
                text: String::new(),
                style: yaml::Style::Plain,
            },
        };
        *node = include(node, dir, root_dir, chain, sources, d).unwrap_or(null);
        return;
    }
    match &mut node.value {
        Value::Seq(items) => {
            for item in items {
                expand_includes(item, dir, root_dir, chain, sources, d);
            }
        }
        Value::Map(entries) => {
            for (_, value) in entries {
                expand_includes(value, dir, root_dir, chain, sources, d);
            }
        }
        Value::Scalar { .. } => {}
    }
}

fn include(
    node: &Node,
    dir: &Path,
    root_dir: &Path,
    chain: &mut Vec<PathBuf>,
    sources: &mut Vec<Source>,
    d: &mut Diagnostics,
) -> Option<Node> {
    let Some(target) = node.as_str() else {
        d.push(
            Diagnostic::error("include", node.loc, "`!include` takes a relative file path")
                .with_help("write `key: !include subcontracts/file.yaml`"),
        );
        return None;
    };
    let rel = Path::new(target);
    if rel.is_absolute() || target.starts_with('/') || target.starts_with('\\') {
        d.push(
            Diagnostic::error(
                "include-security",
                node.loc,
                format!("absolute paths are not allowed in `!include` (`{target}`)"),
            )
            .with_help("include files by a path relative to the contract"),
        );
        return None;
    }
    if rel.components().any(|c| {
        matches!(
            c,
            Component::ParentDir | Component::Prefix(_) | Component::RootDir
        )
    }) {
        d.push(
            Diagnostic::error(
                "include-security",
                node.loc,
                format!("path traversal is not allowed in `!include` (`{target}`)"),
            )
            .with_help("included files must sit in the contract's directory or below it"),
        );
        return None;
    }
    if chain.len() > MAX_INCLUDE_DEPTH {
        d.push(Diagnostic::error(
            "include-depth",
            node.loc,
            format!("`!include` nested deeper than {MAX_INCLUDE_DEPTH} levels"),
        ));
        return None;
    }
    let path = dir.join(rel);
    let canonical = match std::fs::canonicalize(&path) {
        Ok(p) => p,
        Err(_) => {
            d.push(
                Diagnostic::error(
                    "include-not-found",
                    node.loc,
                    format!("include file not found: `{target}`"),
                )
                .with_help(format!("resolved against `{}`", dir.display())),
            );
            return None;
        }
    };
    if let Some(pos) = chain.iter().position(|p| *p == canonical) {
        let cycle: Vec<String> = chain[pos..]
            .iter()
            .chain(std::iter::once(&canonical))
            .map(|p| {
                p.file_name().map_or_else(
                    || p.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                )
            })
            .collect();
        d.push(
            Diagnostic::error(
                "include-cycle",
                node.loc,
                format!("circular include: {}", cycle.join(" → ")),
            )
            .with_help("a contract may not include itself, directly or through other files"),
        );
        return None;
    }
    let text = match std::fs::read_to_string(&canonical) {
        Ok(t) => t,
        Err(e) => {
            d.push(Diagnostic::error(
                "include-not-found",
                node.loc,
                format!("cannot read `{target}`: {e}"),
            ));
            return None;
        }
    };
    let source = u32::try_from(sources.len()).unwrap_or(u32::MAX);
    let display = path
        .strip_prefix(root_dir)
        .map_or_else(|_| target.to_owned(), |p| p.display().to_string());
    sources.push(Source {
        path: path.clone(),
        display,
        text,
    });
    let parsed = yaml::parse(&sources[source as usize].text);
    let mut included = match parsed {
        Ok(root) => root,
        Err(errors) => {
            for e in errors {
                d.push(yaml_error(yaml::YamlError {
                    loc: Loc { source, ..e.loc },
                    ..e
                }));
            }
            return None;
        }
    };
    set_source(&mut included, source);
    let sub_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    chain.push(canonical);
    expand_includes(&mut included, &sub_dir, root_dir, chain, sources, d);
    chain.pop();
    Some(included)
}

fn set_source(node: &mut Node, source: u32) {
    node.loc.source = source;
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| set_source(n, source)),
        Value::Map(entries) => {
            for (k, v) in entries {
                set_source(k, source);
                set_source(v, source);
            }
        }
        Value::Scalar { .. } => {}
    }
}
