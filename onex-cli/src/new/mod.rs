//! `onex new`: a new node crate that builds and passes its tests at once, either from a
//! template (`onex new effect greeter`) or ported from an existing Python ONEX node's
//! contract (`onex new effect --from-contract node/contract.yaml`).
//!
//! Everything is rendered in memory first ([`generate`] returns a [`Generated`] crate: a list
//! of files), so nothing is written when the name, the contract or the target directory is
//! not usable; [`write()`] then creates the crate directory. [`run`] is the command: it does
//! both and says what it did.
//!
//! - [`templates`]: the four scaffolds (a contract, a node struct with working sample logic,
//!   a test that passes);
//! - [`port`]: a Python node's contract, copied with its `!include`d files, and a Rust skeleton
//!   shaped by the macros' own traits (one method per operation or workflow step, each
//!   returning a typed "not ported yet" error), with Rust types for the models the contract
//!   only names.

pub mod port;
pub mod templates;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use onex_contracts::{NodeKind, names};

use crate::cli::{EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::render::Style;

/// The crates.io version requirement used when no onex checkout is found.
pub const REGISTRY_VERSION: &str = "0.1";

/// The node kinds `onex new` creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Kind {
    /// An EFFECT node: talks to the outside world (`#[effect_node]`).
    Effect,
    /// A COMPUTE node: a pure transformation (`#[compute_node]`).
    Compute,
    /// A REDUCER node: a state machine (`#[reducer_node]`).
    Reducer,
    /// An ORCHESTRATOR node: a workflow of steps (`#[orchestrator_node]`).
    Orchestrator,
}

impl Kind {
    /// Every kind, in the order of the ONEX four-node architecture.
    pub const ALL: [Kind; 4] = [
        Kind::Effect,
        Kind::Compute,
        Kind::Reducer,
        Kind::Orchestrator,
    ];

    /// The contracts' node kind.
    pub fn node_kind(self) -> NodeKind {
        match self {
            Kind::Effect => NodeKind::Effect,
            Kind::Compute => NodeKind::Compute,
            Kind::Reducer => NodeKind::Reducer,
            Kind::Orchestrator => NodeKind::Orchestrator,
        }
    }

    /// The kind of a node contract.
    pub fn of(kind: NodeKind) -> Kind {
        match kind {
            NodeKind::Effect => Kind::Effect,
            NodeKind::Compute => Kind::Compute,
            NodeKind::Reducer => Kind::Reducer,
            NodeKind::Orchestrator => Kind::Orchestrator,
        }
    }

    /// The lower-case name used on the command line (`effect`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Effect => "effect",
            Kind::Compute => "compute",
            Kind::Reducer => "reducer",
            Kind::Orchestrator => "orchestrator",
        }
    }

    /// The node attribute (`effect_node`, …).
    pub fn attribute(self) -> &'static str {
        match self {
            Kind::Effect => "effect_node",
            Kind::Compute => "compute_node",
            Kind::Reducer => "reducer_node",
            Kind::Orchestrator => "orchestrator_node",
        }
    }

    /// `node_type` as the templates write it (`EFFECT_GENERIC`, …).
    pub fn node_type(self) -> &'static str {
        match self {
            Kind::Effect => "EFFECT_GENERIC",
            Kind::Compute => "COMPUTE_GENERIC",
            Kind::Reducer => "REDUCER_GENERIC",
            Kind::Orchestrator => "ORCHESTRATOR_GENERIC",
        }
    }

    /// `EFFECT`, `COMPUTE`, … for prose.
    pub fn upper(self) -> &'static str {
        match self {
            Kind::Effect => "EFFECT",
            Kind::Compute => "COMPUTE",
            Kind::Reducer => "REDUCER",
            Kind::Orchestrator => "ORCHESTRATOR",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// `onex new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The node's kind.
    #[arg(value_enum)]
    pub kind: Kind,
    /// The node's name, in snake_case, kebab-case or CamelCase: the crate is named in
    /// snake_case, the node struct in CamelCase [default with --from-contract: the contract's
    /// `name`]
    #[arg(required_unless_present = "from_contract")]
    pub name: Option<String>,
    /// Create the crate in the directory `D/NAME` (D is created if needed).
    #[arg(long, value_name = "D", default_value = ".")]
    pub dir: PathBuf,
    /// Port this existing ONEX node contract (copied into the crate with its `!include`d
    /// files) instead of using the template.
    #[arg(long, value_name = "FILE")]
    pub from_contract: Option<PathBuf>,
    /// Depend on the `onex-runtime` crate in this directory (a path dependency) [default:
    /// the onex checkout this command was built from, when it still exists; else
    /// `onex-runtime = "0.1"` from crates.io]
    #[arg(long, value_name = "PATH", conflicts_with = "runtime_version")]
    pub runtime_path: Option<PathBuf>,
    /// Depend on `onex-runtime` from crates.io with this version requirement, even when an
    /// onex checkout is found.
    #[arg(long, value_name = "REQ")]
    pub runtime_version: Option<String>,
}

/// Where the generated crate takes `onex-runtime` from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// A path dependency on the `onex-runtime` directory of an onex checkout (absolute).
    /// The checkout's `Cargo.lock` and `rust-toolchain.toml` are copied into the crate, so
    /// it builds with the dependency versions and the compiler onex is tested with.
    Path(PathBuf),
    /// A crates.io version requirement (`"0.1"`).
    Registry(String),
}

impl Runtime {
    /// The onex checkout this command was built from (`onex-cli/../onex-runtime`), when it
    /// is still there; else crates.io's `onex-runtime = "0.1"`.
    pub fn detect() -> Runtime {
        let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../onex-runtime");
        match Runtime::at(&checkout) {
            Ok(runtime) => runtime,
            Err(_) => Runtime::Registry(REGISTRY_VERSION.to_owned()),
        }
    }

    /// A path dependency on the `onex-runtime` crate in `dir`.
    ///
    /// # Errors
    ///
    /// When `dir` holds no `Cargo.toml` of a package named `onex-runtime`.
    pub fn at(dir: &Path) -> Result<Runtime, String> {
        let manifest = dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).map_err(|e| {
            format!(
                "`{}` is not an onex-runtime crate: cannot read `{}`: {}",
                dir.display(),
                manifest.display(),
                crate::walk::io_reason(&e)
            )
        })?;
        let named = toml::from_str::<toml::Table>(&text)
            .ok()
            .and_then(|t| {
                t.get("package")?
                    .get("name")?
                    .as_str()
                    .map(|n| n == "onex-runtime")
            })
            .unwrap_or(false);
        if !named {
            return Err(format!(
                "`{}` is not an onex-runtime crate: its Cargo.toml names another package",
                manifest.display()
            ));
        }
        let abs = std::fs::canonicalize(dir).map_err(|e| {
            format!(
                "cannot resolve `{}`: {}",
                dir.display(),
                crate::walk::io_reason(&e)
            )
        })?;
        Ok(Runtime::Path(abs))
    }

    /// The `onex-runtime = …` line of the generated `Cargo.toml`.
    pub fn dependency(&self) -> String {
        match self {
            Runtime::Path(dir) => format!(
                "onex-runtime = {{ path = {} }}",
                toml_string(&dir.to_string_lossy())
            ),
            Runtime::Registry(req) => format!("onex-runtime = {}", toml_string(req)),
        }
    }

    /// For messages: `onex-runtime from <path>` / `onex-runtime "0.1" from crates.io`.
    pub fn describe(&self) -> String {
        match self {
            Runtime::Path(dir) => format!("onex-runtime from {}", dir.display()),
            Runtime::Registry(req) => format!("onex-runtime {req:?} from crates.io"),
        }
    }

    /// Files of the checkout copied beside a path dependency: its `Cargo.lock` (when the
    /// checkout's workspace holds `onex-runtime`) and `rust-toolchain.toml`.
    fn checkout_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let Runtime::Path(dir) = self else {
            return Vec::new();
        };
        let Some(root) = dir.parent() else {
            return Vec::new();
        };
        let workspace = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
        let mut out = Vec::new();
        if workspace.contains("onex-runtime")
            && let Ok(lock) = std::fs::read(root.join("Cargo.lock"))
        {
            out.push((PathBuf::from("Cargo.lock"), lock));
        }
        if let Ok(pin) = std::fs::read(root.join("rust-toolchain.toml")) {
            out.push((PathBuf::from("rust-toolchain.toml"), pin));
        }
        out
    }
}

/// A TOML basic string.
pub fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Crate names that cannot be used: the generated crate's own dependencies and names Cargo
/// or rustc reserve.
pub const RESERVED_CRATE_NAMES: &[&str] = &[
    "onex_runtime",
    "onex_macros",
    "serde",
    "serde_json",
    "tokio",
    "std",
    "core",
    "alloc",
    "proc_macro",
    "test",
    "build",
    "deps",
    "examples",
    "incremental",
];

/// Every name derived from the node's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeNames {
    /// The name as given.
    pub given: String,
    /// The crate (package and library) name and the contract's `name`: `user_directory`.
    pub snake: String,
    /// The node struct: `UserDirectory`.
    pub node: String,
    /// The module the attribute generates (the struct's snake_case name): `user_directory`.
    pub module: String,
    /// For topics: `user-directory`.
    pub kebab: String,
}

impl NodeNames {
    /// Derives the names from `name` (snake_case, kebab-case or CamelCase).
    ///
    /// ```
    /// let n = onex_cli::new::NodeNames::new("user-directory").unwrap();
    /// assert_eq!((n.snake.as_str(), n.node.as_str()), ("user_directory", "UserDirectory"));
    /// assert!(onex_cli::new::NodeNames::new("2fast").is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// A name that gives no Rust identifier, a Rust keyword, or a reserved crate name.
    pub fn new(name: &str) -> Result<NodeNames, String> {
        let snake = names::snake(name);
        let node = names::camel(name);
        let bad = |why: String| {
            Err(format!(
                "`{name}` cannot name a node: {why}\n  help: use letters, digits and `_` or `-`, starting with a letter (e.g. `user_directory`)"
            ))
        };
        if snake.is_empty() {
            return bad("it has no letters or digits".into());
        }
        if !snake.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return bad(format!(
                "`{snake}` holds characters a crate name cannot (ASCII letters, digits and `_` only)"
            ));
        }
        if !snake.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return bad(format!("`{snake}` does not start with a letter"));
        }
        if names::is_keyword(&snake) || names::is_keyword(&node) {
            return bad(format!("`{snake}` is a Rust keyword"));
        }
        if RESERVED_CRATE_NAMES.contains(&snake.as_str()) {
            return bad(format!(
                "`{snake}` is a reserved crate name or a dependency of the generated crate"
            ));
        }
        if node.is_empty() || names::ident_problem(&node).is_some() {
            return bad(format!("`{node}` is not a Rust type name"));
        }
        Ok(NodeNames {
            given: name.to_owned(),
            module: names::snake(&node),
            kebab: snake.replace('_', "-"),
            snake,
            node,
        })
    }

    /// The same names with another struct name (when a contract's model takes the first).
    fn with_node(&self, node: String) -> NodeNames {
        NodeNames {
            module: names::snake(&node),
            node,
            ..self.clone()
        }
    }
}

/// A crate, rendered in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    /// The crate's directory name (its package name).
    pub name: String,
    /// The node struct.
    pub node: String,
    /// The node's kind.
    pub kind: Kind,
    /// Every file, relative to the crate directory, in the order they are listed.
    pub files: Vec<(PathBuf, Vec<u8>)>,
    /// What the user should know (placeholders, contract warnings, what is left to port).
    pub notes: Vec<String>,
}

/// Why no crate was generated.
#[derive(Clone, Debug)]
pub enum Failure {
    /// A usage problem: a bad name, an unreadable file, a directory in the way (exit 2).
    Usage(String),
    /// The contract has errors (exit 1): the validation report of the file, for rendering.
    Contract(Box<crate::validate::FileReport>),
    /// The contract cannot become this node (exit 1): the wrong kind, or a contract the
    /// node attribute rejects (the message says which, like the macro would).
    Refused(String),
}

/// What `onex new` needs besides the arguments' text.
#[derive(Clone, Debug)]
pub struct Request {
    /// The kind asked for.
    pub kind: Kind,
    /// The node's name; `None` only with `from_contract` (then the contract's name).
    pub name: Option<String>,
    /// The contract to port, if any.
    pub from_contract: Option<PathBuf>,
    /// Where `onex-runtime` comes from.
    pub runtime: Runtime,
}

/// Renders the crate `request` asks for, without writing anything.
///
/// # Errors
///
/// See [`Failure`].
pub fn generate(request: &Request) -> Result<Generated, Failure> {
    match &request.from_contract {
        None => {
            let name = request
                .name
                .as_deref()
                .ok_or_else(|| Failure::Usage("a node name is required".into()))?;
            let names = NodeNames::new(name).map_err(Failure::Usage)?;
            let node = templates::render(request.kind, &names);
            Ok(assemble(request, &names, node))
        }
        Some(path) => {
            let report = crate::validate::check_path(path, false);
            if report.unreadable() {
                let text: String = report.findings.iter().map(crate::render::plain).collect();
                return Err(Failure::Usage(text.trim_end().to_owned()));
            }
            if report.loaded.has_errors() {
                return Err(Failure::Contract(Box::new(report)));
            }
            let names = match &request.name {
                Some(name) => NodeNames::new(name).map_err(Failure::Usage)?,
                None => {
                    let name = port::default_name(&report.loaded, path);
                    NodeNames::new(&name).map_err(|e| {
                        Failure::Usage(format!(
                            "{e}\n  note: the name comes from the contract; give one: `onex new {} NAME --from-contract …`",
                            request.kind
                        ))
                    })?
                }
            };
            let ported = port::port(&report.loaded, request.kind, &names, path)?;
            let names = names.with_node(ported.node.clone());
            let node = NodeFiles {
                files: ported.files,
                notes: ported.notes,
                dependencies: ported.dependencies,
                dev_dependencies: Vec::new(),
                description: ported.description,
            };
            Ok(assemble(request, &names, node))
        }
    }
}

/// The node-specific part of a crate: sources, contract files and dependencies.
#[derive(Clone, Debug, Default)]
pub struct NodeFiles {
    /// Files relative to the crate directory (`src/lib.rs`, `src/contract.yaml`, …).
    pub files: Vec<(PathBuf, Vec<u8>)>,
    /// Notes for the user.
    pub notes: Vec<String>,
    /// Extra `[dependencies]` lines (`serde = …`).
    pub dependencies: Vec<String>,
    /// `[dev-dependencies]` lines.
    pub dev_dependencies: Vec<String>,
    /// The package description.
    pub description: String,
}

fn assemble(request: &Request, names: &NodeNames, node: NodeFiles) -> Generated {
    let mut files = vec![(
        PathBuf::from("Cargo.toml"),
        manifest(names, &request.runtime, &node).into_bytes(),
    )];
    files.extend(request.runtime.checkout_files());
    files.extend(node.files);
    Generated {
        name: names.snake.clone(),
        node: names.node.clone(),
        kind: request.kind,
        files,
        notes: node.notes,
    }
}

/// The generated `Cargo.toml`.
fn manifest(names: &NodeNames, runtime: &Runtime, node: &NodeFiles) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "[package]");
    let _ = writeln!(out, "name = {}", toml_string(&names.snake));
    let _ = writeln!(out, "version = \"0.1.0\"");
    let _ = writeln!(out, "edition = \"2024\"");
    let _ = writeln!(out, "description = {}", toml_string(&node.description));
    let _ = writeln!(out, "publish = false");
    let _ = writeln!(out);
    let _ = writeln!(out, "[dependencies]");
    match runtime {
        Runtime::Path(_) => {
            let _ = writeln!(
                out,
                "# The onex runtime (it re-exports the node macros), from the onex checkout `onex new`\n# ran from. With onex from crates.io: onex-runtime = \"{REGISTRY_VERSION}\""
            );
        }
        Runtime::Registry(_) => {
            let _ = writeln!(out, "# The onex runtime (it re-exports the node macros).");
        }
    }
    let _ = writeln!(out, "{}", runtime.dependency());
    for dep in &node.dependencies {
        let _ = writeln!(out, "{dep}");
    }
    if !node.dev_dependencies.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "[dev-dependencies]");
        for dep in &node.dev_dependencies {
            let _ = writeln!(out, "{dep}");
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "# A workspace of its own, so the crate builds wherever it was created. To make it a\n# member of an existing workspace, delete these two lines and list it there."
    );
    let _ = writeln!(out, "[workspace]");
    out
}

/// Writes `generated` into `parent/<name>`; returns the crate directory.
///
/// # Errors
///
/// When the directory exists and is not empty, or a file cannot be written.
pub fn write(generated: &Generated, parent: &Path) -> Result<PathBuf, String> {
    let dir = parent.join(&generated.name);
    match std::fs::read_dir(&dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(format!(
                    "`{}` already exists and is not empty: nothing was written\n  help: choose another name or `--dir`, or remove it",
                    dir.display()
                ));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(format!(
                "cannot use `{}`: {}",
                dir.display(),
                crate::walk::io_reason(&e)
            ));
        }
    }
    for (path, bytes) in &generated.files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                format!(
                    "cannot create `{}`: {}",
                    parent.display(),
                    crate::walk::io_reason(&e)
                )
            })?;
        }
        std::fs::write(&target, bytes).map_err(|e| {
            format!(
                "cannot write `{}`: {}",
                target.display(),
                crate::walk::io_reason(&e)
            )
        })?;
    }
    Ok(dir)
}

/// Runs `onex new`; returns stdout, stderr and the exit code.
pub fn run(args: &NewArgs, style: Style) -> (String, String, u8) {
    let runtime = match (&args.runtime_path, &args.runtime_version) {
        (Some(path), _) => match Runtime::at(path) {
            Ok(runtime) => runtime,
            Err(message) => return (String::new(), format!("error: {message}\n"), EXIT_USAGE),
        },
        (None, Some(req)) => Runtime::Registry(req.clone()),
        (None, None) => Runtime::detect(),
    };
    let request = Request {
        kind: args.kind,
        name: args.name.clone(),
        from_contract: args.from_contract.clone(),
        runtime,
    };
    let generated = match generate(&request) {
        Ok(generated) => generated,
        Err(Failure::Usage(message)) => {
            return (String::new(), format!("error: {message}\n"), EXIT_USAGE);
        }
        Err(Failure::Refused(message)) => {
            return (String::new(), format!("error: {message}\n"), EXIT_ERRORS);
        }
        Err(Failure::Contract(report)) => {
            let mut text = String::new();
            for f in report
                .findings
                .iter()
                .filter(|f| f.severity == crate::validate::Level::Error)
            {
                let source = report
                    .loaded
                    .sources
                    .get(f.source)
                    .map_or("", |s| s.text.as_str());
                text.push_str(&crate::render::finding(f, source, style));
                text.push('\n');
            }
            text.push_str(
                "error: the contract has errors (the node attribute would reject it); fix them and run `onex new` again\n",
            );
            return (String::new(), text, EXIT_ERRORS);
        }
    };
    let dir = match write(&generated, &args.dir) {
        Ok(dir) => dir,
        Err(message) => return (String::new(), format!("error: {message}\n"), EXIT_USAGE),
    };
    (summary(&generated, &dir, &request), String::new(), EXIT_OK)
}

/// What `onex new` prints after writing a crate.
fn summary(generated: &Generated, dir: &Path, request: &Request) -> String {
    let mut out = String::new();
    let how = match &request.from_contract {
        Some(path) => format!("ported from {}", path.display()),
        None => "from the template".to_owned(),
    };
    let _ = writeln!(
        out,
        "Created {} node `{}` in {} ({how}; {}):",
        generated.kind,
        generated.node,
        dir.display(),
        request.runtime.describe()
    );
    for (path, _) in &generated.files {
        let _ = writeln!(out, "  {}", dir.join(path).display());
    }
    for note in &generated.notes {
        let _ = writeln!(out, "note: {note}");
    }
    let _ = writeln!(out, "Next: cd {} && cargo test", dir.display());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let n = NodeNames::new("UserDirectory").unwrap();
        assert_eq!(
            (
                n.snake.as_str(),
                n.node.as_str(),
                n.module.as_str(),
                n.kebab.as_str()
            ),
            (
                "user_directory",
                "UserDirectory",
                "user_directory",
                "user-directory"
            )
        );
        assert_eq!(
            NodeNames::new("user-directory").unwrap(),
            NodeNames {
                given: "user-directory".into(),
                ..n.clone()
            }
        );
        for bad in [
            "",
            "--",
            "2fast",
            "type",
            "self",
            "serde",
            "test",
            "caf\u{e9}",
        ] {
            assert!(NodeNames::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn toml_strings() {
        assert_eq!(toml_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(toml_string("x\u{1}"), "\"x\\u0001\"");
    }

    #[test]
    fn manifest_is_valid_toml() {
        let names = NodeNames::new("greeter").unwrap();
        for runtime in [
            Runtime::Path(PathBuf::from("/some \"odd\" path/onex-runtime")),
            Runtime::Registry("0.1".into()),
        ] {
            let node = NodeFiles {
                dependencies: vec!["serde_json = \"1\"".into()],
                dev_dependencies: vec![
                    "tokio = { version = \"1\", features = [\"macros\", \"rt\"] }".into(),
                ],
                description: "A \"node\".".into(),
                ..NodeFiles::default()
            };
            let text = manifest(&names, &runtime, &node);
            let table: toml::Table = toml::from_str(&text).unwrap();
            assert_eq!(table["package"]["name"].as_str(), Some("greeter"));
            assert!(table.contains_key("workspace"));
            assert!(table["dependencies"].get("onex-runtime").is_some());
            assert!(table["dev-dependencies"].get("tokio").is_some());
        }
    }

    #[test]
    fn detects_this_checkout() {
        // The tests run from the checkout, so its onex-runtime is there.
        match Runtime::detect() {
            Runtime::Path(dir) => assert!(dir.join("Cargo.toml").is_file()),
            Runtime::Registry(_) => panic!("the checkout's onex-runtime was not found"),
        }
        assert!(Runtime::at(Path::new(env!("CARGO_MANIFEST_DIR"))).is_err());
    }
}
