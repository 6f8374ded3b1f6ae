//! `onex new`: scaffolds of the four node kinds, ports of existing node contracts
//! (`--from-contract`), and what it refuses.
//!
//! The fast tests check what `onex new` writes. Two heavy tests build what it writes; they are
//! `#[ignore]`d so that `cargo test --workspace` stays fast, and `.ci/run` runs them:
//!
//! - `scaffolds_build_and_pass_their_tests`: `onex new KIND NAME` for each kind, then
//!   `cargo test`, `cargo clippy --all-targets -- -D warnings` and `cargo fmt --check` in
//!   the new crate, timed;
//! - `every_corpus_node_contract_ports_and_compiles`: `onex new KIND --from-contract FILE`
//!   for every node contract of `../shared/onex-corpus/valid/nodes/` (and the `!include`
//!   fixture), all ported crates assembled as modules of one crate, which must pass clippy
//!   (the only warnings allowed are the contracts' own: fingerprint drift, …), `cargo test`
//!   (each port's test) and `cargo fmt --check`. The contracts `onex new` refuses must be
//!   exactly the ones the node attributes reject, with the attribute's own error, which a
//!   second crate proves by failing to build with it.
//!
//! Generated crates are written under `CARGO_TARGET_TMPDIR` (fixed paths, so repeated runs
//! reuse their artifacts) and built with one shared target directory, `target/onex-new`:
//! the dependencies compile once, then each crate takes seconds. Timings are printed
//! (`--nocapture` shows them).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{corpus, onex, stderr, stdout};

/// The contracts of `valid/nodes/` the node attributes reject, and why (the first line of
/// the attribute's error). `onex new --from-contract` must refuse exactly these.
const REFUSED: &[(&str, &str)] = &[
    (
        "omnibase_core__src__omnibase_core__contracts__validation__node_cross_repo_validation_orchestrator.yaml",
        "`#[orchestrator_node]` needs a workflow, and this contract has none",
    ),
    (
        "omnibase_core__src__omnibase_core__nodes__node_compliance_orchestrator__contract.yaml",
        "`#[orchestrator_node]` needs a workflow, and this contract has none",
    ),
    (
        "omnibase_core__src__omnibase_core__nodes__node_compliance_report_reducer__contract.yaml",
        "`#[reducer_node]` needs a state machine, and this contract has none",
    ),
    (
        "omnibase_infra__src__omnibase_infra__nodes__node_setup_orchestrator__contract.yaml",
        "`#[orchestrator_node]` needs a workflow, and this contract has none",
    ),
];

const KINDS: [&str; 4] = ["effect", "compute", "reducer", "orchestrator"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/new")
}

/// A fresh scratch directory `CARGO_TARGET_TMPDIR/onex-new/<name>` (a fixed path, so the
/// crates built in it keep their package ids from run to run).
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("onex-new")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The target directory every generated crate is built with.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("onex-new")
}

/// One build at a time: the heavy tests share `target_dir()`.
static BUILD: Mutex<()> = Mutex::new(());

/// Runs cargo in `dir` with the shared target directory; returns its output and duration.
fn cargo(dir: &Path, args: &[&str]) -> (Output, Duration) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let start = Instant::now();
    let output = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("CARGO_MANIFEST_DIR")
        .output()
        .unwrap();
    (output, start.elapsed())
}

/// `onex new …` run in `dir`; returns its output and duration.
fn onex_new(dir: &Path, args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let output = onex(dir).arg("new").args(args).output().unwrap();
    (output, start.elapsed())
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The node kind of a contract, as `onex new` spells it.
fn kind_of(path: &Path) -> &'static str {
    let loaded = onex_contracts::load_file(path, &path.display().to_string());
    let kind = loaded
        .contract
        .and_then(|c| c.node_kind())
        .unwrap_or_else(|| panic!("{} is not a node contract", path.display()));
    onex_cli::new::Kind::of(kind).as_str()
}

/// The `.yaml` files of a directory, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Every file under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                out.push(
                    path.strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------
// Fast tests: what `onex new` writes.

#[test]
fn scaffolds_are_complete_and_their_contracts_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let runtime = std::fs::canonicalize(workspace_root().join("onex-runtime")).unwrap();
    for kind in KINDS {
        let name = format!("demo_{kind}");
        let (output, took) = onex_new(tmp.path(), &[kind, &name]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        println!(
            "[new] onex new {kind} {name}: {:.1} ms",
            took.as_secs_f64() * 1e3
        );
        let dir = tmp.path().join(&name);
        assert_eq!(
            files_under(&dir),
            [
                "Cargo.lock".to_owned(),
                "Cargo.toml".to_owned(),
                "rust-toolchain.toml".to_owned(),
                "src/contract.yaml".to_owned(),
                "src/lib.rs".to_owned(),
                format!("tests/{name}.rs"),
            ]
        );
        let summary = stdout(&output);
        assert!(
            summary.starts_with(&format!("Created {kind} node `Demo")),
            "{summary}"
        );
        assert!(summary.contains("Next: cd "), "{summary}");

        // A standalone crate with a path dependency on this checkout's runtime.
        let manifest: toml::Table = toml::from_str(&read(&dir.join("Cargo.toml"))).unwrap();
        assert_eq!(manifest["package"]["name"].as_str(), Some(name.as_str()));
        assert!(manifest.contains_key("workspace"));
        assert_eq!(
            manifest["dependencies"]["onex-runtime"]["path"].as_str(),
            Some(runtime.to_str().unwrap())
        );
        assert_eq!(
            read(&dir.join("Cargo.lock")),
            read(&workspace_root().join("Cargo.lock"))
        );

        // The contract passes `onex validate --strict` (fingerprint declared, no warnings).
        let output = onex(&dir)
            .args(["validate", "--strict", "src/contract.yaml"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
        let output = onex(&dir)
            .args(["fingerprint", "--check", "src/contract.yaml"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));

        for file in ["src/lib.rs", &format!("tests/{name}.rs")] {
            let text = read(&dir.join(file));
            assert!(!text.contains("todo!") && !text.contains("unimplemented!"));
            assert!(text.contains(&format!("Demo{}", &kind[..1].to_uppercase())));
        }
    }
}

#[test]
fn runtime_dependency_choices() {
    let tmp = tempfile::tempdir().unwrap();
    let (output, _) = onex_new(
        tmp.path(),
        &["compute", "from_registry", "--runtime-version", "0.1"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let dir = tmp.path().join("from_registry");
    let manifest: toml::Table = toml::from_str(&read(&dir.join("Cargo.toml"))).unwrap();
    assert_eq!(
        manifest["dependencies"]["onex-runtime"].as_str(),
        Some("0.1")
    );
    assert!(!dir.join("Cargo.lock").exists());
    assert!(!dir.join("rust-toolchain.toml").exists());
    assert!(stdout(&output).contains("onex-runtime \"0.1\" from crates.io"));

    let runtime = workspace_root().join("onex-runtime");
    let (output, _) = onex_new(
        tmp.path(),
        &[
            "reducer",
            "from_path",
            "--runtime-path",
            runtime.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let manifest: toml::Table =
        toml::from_str(&read(&tmp.path().join("from_path/Cargo.toml"))).unwrap();
    assert_eq!(
        manifest["dependencies"]["onex-runtime"]["path"].as_str(),
        Some(std::fs::canonicalize(&runtime).unwrap().to_str().unwrap())
    );

    // A directory that is not onex-runtime is refused before anything is written.
    let (output, _) = onex_new(
        tmp.path(),
        &[
            "reducer",
            "wrong_path",
            "--runtime-path",
            env!("CARGO_MANIFEST_DIR"),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is not an onex-runtime crate"),
        "{}",
        stderr(&output)
    );
    assert!(!tmp.path().join("wrong_path").exists());
}

#[test]
fn refuses_bad_names_and_occupied_directories() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["2fast", "type", "serde", "-", "naïve"] {
        let (output, _) = onex_new(tmp.path(), &["effect", bad]);
        assert_eq!(output.status.code(), Some(2), "{bad}: {}", stdout(&output));
        assert!(
            stderr(&output).contains("cannot name a node"),
            "{bad}: {}",
            stderr(&output)
        );
    }
    // No name and no contract: a usage error from the argument parser.
    let (output, _) = onex_new(tmp.path(), &["effect"]);
    assert_eq!(output.status.code(), Some(2));

    std::fs::create_dir_all(tmp.path().join("taken")).unwrap();
    std::fs::write(tmp.path().join("taken/keep.txt"), "mine").unwrap();
    let (output, _) = onex_new(tmp.path(), &["effect", "taken"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("already exists and is not empty"));
    assert_eq!(files_under(&tmp.path().join("taken")), ["keep.txt"]);

    // An empty directory is fine.
    std::fs::create_dir_all(tmp.path().join("empty")).unwrap();
    let (output, _) = onex_new(tmp.path(), &["effect", "empty"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn ports_a_contract_with_its_includes() {
    let tmp = tempfile::tempdir().unwrap();
    let contract = fixtures().join("include/contract.yaml");
    let (output, took) = onex_new(
        tmp.path(),
        &["effect", "--from-contract", contract.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    println!(
        "[new] --from-contract with an include: {:.1} ms",
        took.as_secs_f64() * 1e3
    );
    let dir = tmp.path().join("inventory_effect");
    assert_eq!(
        files_under(&dir),
        [
            "Cargo.lock",
            "Cargo.toml",
            "rust-toolchain.toml",
            "src/contract.yaml",
            "src/lib.rs",
            "src/subcontracts/routing.yaml"
        ]
    );
    // Copied byte for byte.
    assert_eq!(read(&dir.join("src/contract.yaml")), read(&contract));
    assert_eq!(
        read(&dir.join("src/subcontracts/routing.yaml")),
        read(&fixtures().join("include/subcontracts/routing.yaml"))
    );
    let lib = read(&dir.join("src/lib.rs"));
    for expected in [
        "#[effect_node(contract = \"contract.yaml\")]",
        "impl InventoryEffectHandler for InventoryEffect {",
        "    async fn stock_reserve(",
        "        _input: ModelReservation,\n    ) -> Result<ModelReservationResult, OnexError> {",
        "        Err(not_ported(\"stock.reserve\"))",
        "        _input: ModelRelease,",
        "pub struct ModelReservation {",
        "/// The Python model: `inventory.models.model_reservation.ModelReservation`.",
        "    #[serde(flatten)]\n    pub fields: serde_json::Map<String, JsonValue>,",
        "assert_eq!(operations.join(\", \"), \"stock.reserve, stock.release\");",
    ] {
        assert!(lib.contains(expected), "{expected:?} not in:\n{lib}");
    }
    let manifest = read(&dir.join("Cargo.toml"));
    assert!(manifest.contains("serde = { version = \"1\", features = [\"derive\"] }"));
    let summary = stdout(&output);
    assert!(
        summary.contains("note: 2 handler methods to port"),
        "{summary}"
    );
    assert!(
        summary.contains("placeholder models (named by the contract, not defined in it): ModelReservation, ModelReservationResult, ModelRelease"),
        "{summary}"
    );

    // A name given on the command line wins over the contract's.
    let (output, _) = onex_new(
        tmp.path(),
        &[
            "effect",
            "stock",
            "--from-contract",
            contract.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(read(&tmp.path().join("stock/src/lib.rs")).contains("pub struct Stock;"));
}

#[test]
fn refuses_contracts_it_cannot_port() {
    let tmp = tempfile::tempdir().unwrap();
    let broken = fixtures().join("broken.yaml");
    let (output, _) = onex_new(
        tmp.path(),
        &["effect", "--from-contract", broken.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("unknown key `event_modle`"), "{err}");
    assert!(err.contains("did you mean `event_model`?"), "{err}");
    assert!(err.contains("error: the contract has errors"), "{err}");

    // The wrong kind: the message names the right command.
    let include = fixtures().join("include/contract.yaml");
    let (output, _) = onex_new(
        tmp.path(),
        &["reducer", "--from-contract", include.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("is an effect node contract (`node_type: EFFECT_GENERIC`), not a reducer one"),
        "{err}"
    );
    assert!(
        err.contains("help: run `onex new effect --from-contract"),
        "{err}"
    );

    // Not a node contract at all.
    let handler = tmp.path().join("handler.yaml");
    std::fs::write(
        &handler,
        "handler_id: demo.handler\ndescriptor: {purity: pure}\n",
    )
    .unwrap();
    let (output, _) = onex_new(tmp.path(), &["compute", "--from-contract", "handler.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("is a handler contract, not a node contract"),
        "{}",
        stderr(&output)
    );

    // A side-effecting compute contract: `#[compute_node]` would reject it.
    let impure = tmp.path().join("impure.yaml");
    std::fs::write(
        &impure,
        "name: impure\nnode_type: COMPUTE_GENERIC\ncontract_version: {major: 1, minor: 0, patch: 0}\ndescriptor: {purity: side_effecting}\n",
    )
    .unwrap();
    let (output, _) = onex_new(tmp.path(), &["compute", "--from-contract", "impure.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.starts_with("error: impure.yaml:4:22: `#[compute_node]` on a side-effecting contract"),
        "{err}"
    );
    assert!(
        err.contains("`#[compute_node]` rejects this contract, so no crate was generated"),
        "{err}"
    );

    // A missing file is a usage error.
    let (output, _) = onex_new(tmp.path(), &["effect", "--from-contract", "nowhere.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("nowhere.yaml"),
        "{}",
        stderr(&output)
    );

    // Nothing was written for any of them.
    assert_eq!(files_under(tmp.path()), ["handler.yaml", "impure.yaml"]);
}

/// Every node contract of the corpus is ported, except exactly those the node attributes
/// reject, each refused with the attribute's error (the heavy test builds the ports).
#[test]
fn corpus_contracts_port_or_are_refused_as_the_macros_would() {
    let Some(corpus) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut refused = Vec::new();
    let start = Instant::now();
    let files = yaml_files(&corpus.join("valid/nodes"));
    for (i, file) in files.iter().enumerate() {
        let kind = kind_of(file);
        let dir = tmp.path().join(i.to_string());
        let (output, _) = onex_new(
            tmp.path(),
            &[
                kind,
                "--from-contract",
                file.to_str().unwrap(),
                "--dir",
                dir.to_str().unwrap(),
            ],
        );
        let name = file.file_name().unwrap().to_str().unwrap().to_owned();
        match output.status.code() {
            Some(0) => {
                let written = files_under(&dir);
                assert!(
                    written.iter().any(|f| f.ends_with("src/lib.rs")),
                    "{name}: {written:?}"
                );
            }
            Some(1) => {
                refused.push((name, stderr(&output)));
                assert!(!dir.exists());
            }
            other => panic!("{name}: exit {other:?}: {}", stderr(&output)),
        }
    }
    println!(
        "[new] {} corpus contracts through `onex new --from-contract` in {:.2} s",
        files.len(),
        start.elapsed().as_secs_f64()
    );
    let names: Vec<&str> = refused.iter().map(|(n, _)| n.as_str()).collect();
    let expected: Vec<&str> = REFUSED.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, expected);
    for ((_, err), (_, why)) in refused.iter().zip(REFUSED) {
        assert!(err.contains(why), "{err}");
    }
}

// ---------------------------------------------------------------------------------------
// Heavy tests: what `onex new` writes builds.

#[test]
#[ignore = "builds generated crates: run by .ci/run"]
fn scaffolds_build_and_pass_their_tests() {
    let _build = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let root = scratch("scaffolds");
    let mut report = Vec::new();
    for kind in KINDS {
        let name = format!("sample_{kind}");
        let (output, generate) = onex_new(&root, &[kind, &name]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let dir = root.join(&name);

        let (output, test) = cargo(&dir, &["test"]);
        let err = stderr(&output);
        assert!(
            output.status.success(),
            "{kind}: cargo test failed:\n{err}\n{}",
            stdout(&output)
        );
        let passed: usize = stdout(&output)
            .lines()
            .filter_map(|l| l.strip_prefix("test result: ok. "))
            .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
            .sum();
        assert!(passed >= 2, "{kind}: only {passed} tests ran");
        let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning")).collect();
        assert!(warnings.is_empty(), "{kind}: {warnings:#?}\n{err}");

        let (output, clippy) = cargo(&dir, &["clippy", "--all-targets", "--", "-D", "warnings"]);
        assert!(
            output.status.success(),
            "{kind}: clippy:\n{}",
            stderr(&output)
        );
        let (output, _) = cargo(&dir, &["fmt", "--check"]);
        assert!(
            output.status.success(),
            "{kind}: rustfmt:\n{}",
            stdout(&output)
        );

        report.push(format!(
            "[new] {kind:<12} onex new: {:>5.1} ms   cargo test: {:>5.1} s ({passed} tests)   clippy: {:>5.1} s",
            generate.as_secs_f64() * 1e3,
            test.as_secs_f64(),
            clippy.as_secs_f64()
        ));
    }
    for line in report {
        println!("{line}");
    }
}

/// What one corpus contract became.
struct Ported {
    file: String,
    kind: &'static str,
    module: String,
    notes: Vec<String>,
}

#[test]
#[ignore = "builds generated crates: run by .ci/run"]
fn every_corpus_node_contract_ports_and_compiles() {
    let Some(corpus) = corpus() else { return };
    let _build = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let root = scratch("corpus");
    let ports = root.join("ports");
    let mut contracts = yaml_files(&corpus.join("valid/nodes"));
    contracts.push(fixtures().join("include/contract.yaml"));

    // 1. Port every contract.
    let start = Instant::now();
    let mut ported: Vec<(Ported, PathBuf)> = Vec::new();
    let mut refused: Vec<(PathBuf, &'static str, String)> = Vec::new();
    for (i, file) in contracts.iter().enumerate() {
        let kind = kind_of(file);
        let dir = ports.join(format!("{i:02}"));
        let (output, _) = onex_new(
            &root,
            &[
                kind,
                "--from-contract",
                file.to_str().unwrap(),
                "--dir",
                dir.to_str().unwrap(),
            ],
        );
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        match output.status.code() {
            Some(0) => {
                let krate = std::fs::read_dir(&dir)
                    .unwrap()
                    .next()
                    .unwrap()
                    .unwrap()
                    .path();
                let module = format!("p{i:02}_{}", krate.file_name().unwrap().to_string_lossy());
                let notes = stdout(&output)
                    .lines()
                    .filter_map(|l| l.strip_prefix("note: "))
                    .map(str::to_owned)
                    .collect();
                ported.push((
                    Ported {
                        file: name,
                        kind,
                        module,
                        notes,
                    },
                    krate,
                ));
            }
            Some(1) => refused.push((file.clone(), kind, stderr(&output))),
            other => panic!("{name}: exit {other:?}: {}", stderr(&output)),
        }
    }
    let porting = start.elapsed();

    // 2. One crate, one module per port (its `src/` with `lib.rs` as `mod.rs`).
    let all = root.join("corpus_ports");
    std::fs::create_dir_all(all.join("src")).unwrap();
    let runtime = std::fs::canonicalize(workspace_root().join("onex-runtime")).unwrap();
    std::fs::write(
        all.join("Cargo.toml"),
        format!(
            "[package]\nname = \"corpus_ports\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\nonex-runtime = {{ path = {:?} }}\n{}\n{}\n\n[workspace]\n",
            runtime.to_str().unwrap(),
            onex_cli::new::port::SERDE_DEPENDENCIES[0],
            onex_cli::new::port::SERDE_DEPENDENCIES[1],
        ),
    )
    .unwrap();
    for file in ["Cargo.lock", "rust-toolchain.toml"] {
        std::fs::copy(workspace_root().join(file), all.join(file)).unwrap();
    }
    let mut lib = String::from(
        "//! Every corpus node contract `onex new --from-contract` ports, one module each.\n\n",
    );
    for (p, krate) in &ported {
        let module_dir = all.join("src").join(&p.module);
        for file in files_under(&krate.join("src")) {
            let target = if file == "lib.rs" {
                module_dir.join("mod.rs")
            } else {
                module_dir.join(&file)
            };
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(krate.join("src").join(&file), &target).unwrap();
        }
        lib.push_str(&format!("pub mod {};\n", p.module));
    }
    std::fs::write(all.join("src/lib.rs"), lib).unwrap();

    // 3. Clippy: no warning but the contracts' own (deprecation notes the macros emit for
    // fingerprint drift, state machine and workflow findings).
    let (output, clippy) = cargo(&all, &["clippy", "--all-targets", "--message-format=json"]);
    assert!(output.status.success(), "clippy:\n{}", stderr(&output));
    // Lib and test targets both report each warning once: count distinct ones.
    let mut contract_warnings = std::collections::BTreeSet::new();
    let mut others = Vec::new();
    for line in stdout(&output).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-message" {
            continue;
        }
        let m = &message["message"];
        if m["level"] != "warning" && m["level"] != "error" {
            continue;
        }
        let text = m["message"].as_str().unwrap_or_default();
        if m["code"]["code"] == "deprecated" && text.contains("::onex_") {
            contract_warnings.insert(m["rendered"].as_str().unwrap_or(text).to_owned());
        } else if !(text.ends_with("warnings emitted") || text.ends_with("warning emitted")) {
            others.push(m["rendered"].as_str().unwrap_or(text).to_owned());
        }
    }
    assert!(
        others.is_empty(),
        "warnings in ported code:\n{}",
        others.join("\n")
    );

    // 4. Every port's test passes; the sources are rustfmt-clean.
    let (output, test) = cargo(&all, &["test"]);
    assert!(
        output.status.success(),
        "cargo test:\n{}\n{}",
        stderr(&output),
        stdout(&output)
    );
    let tests_passed =
        stdout(&output).contains(&format!("test result: ok. {} passed", ported.len()));
    assert!(tests_passed, "{}", stdout(&output));
    let (output, _) = cargo(&all, &["fmt", "--check"]);
    assert!(output.status.success(), "rustfmt:\n{}", stdout(&output));

    // 5. The refused contracts are exactly the ones the attributes reject: a crate putting
    // the attribute on each fails to build, with the error `onex new` printed.
    let names: Vec<&str> = refused
        .iter()
        .map(|(f, _, _)| f.file_name().unwrap().to_str().unwrap())
        .collect();
    let expected: Vec<&str> = REFUSED.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, expected);
    let rejected = root.join("refused");
    std::fs::create_dir_all(rejected.join("src")).unwrap();
    std::fs::write(
        rejected.join("Cargo.toml"),
        format!(
            "[package]\nname = \"corpus_refused\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\nonex-runtime = {{ path = {:?} }}\n\n[workspace]\n",
            runtime.to_str().unwrap()
        ),
    )
    .unwrap();
    std::fs::copy(
        workspace_root().join("Cargo.lock"),
        rejected.join("Cargo.lock"),
    )
    .unwrap();
    let mut lib = String::new();
    let mut expected_errors = Vec::new();
    for (i, (file, kind, err)) in refused.iter().enumerate() {
        let module = format!("r{i:02}");
        std::fs::create_dir_all(rejected.join("src").join(&module)).unwrap();
        std::fs::copy(
            file,
            rejected.join("src").join(&module).join("contract.yaml"),
        )
        .unwrap();
        std::fs::write(
            rejected.join("src").join(&module).join("mod.rs"),
            format!(
                "#[onex_runtime::{kind}_node(contract = \"contract.yaml\")]\npub struct Refused;\n"
            ),
        )
        .unwrap();
        lib.push_str(&format!("pub mod {module};\n"));
        // `error: <file>:LINE:COL: message` → `contract.yaml:LINE:COL: message`.
        let first = err.lines().next().unwrap();
        let located = first
            .strip_prefix("error: ")
            .and_then(|l| l.strip_prefix(file.to_str().unwrap()))
            .unwrap_or_else(|| panic!("unexpected refusal: {err}"));
        expected_errors.push(format!("contract.yaml{located}"));
    }
    std::fs::write(rejected.join("src/lib.rs"), lib).unwrap();
    let (output, _) = cargo(&rejected, &["build"]);
    assert!(!output.status.success(), "the refused contracts compiled");
    let build_errors = stderr(&output);
    for expected in &expected_errors {
        assert!(
            build_errors.contains(expected),
            "{expected:?} not in:\n{build_errors}"
        );
    }

    // The report.
    println!(
        "[new] {} contracts ported in {:.2} s (onex new, one process each); clippy {:.1} s, cargo test {:.1} s ({} tests); {} contract warnings (fingerprint drift)",
        ported.len(),
        porting.as_secs_f64(),
        clippy.as_secs_f64(),
        test.as_secs_f64(),
        ported.len(),
        contract_warnings.len()
    );
    for (p, _) in &ported {
        println!(
            "[new]   ported   {:<12} {}: {}",
            p.kind,
            p.file,
            p.notes.join("; ")
        );
    }
    for ((file, kind, _), expected) in refused.iter().zip(&expected_errors) {
        println!(
            "[new]   refused  {:<12} {}: {expected}",
            kind,
            file.file_name().unwrap().to_string_lossy()
        );
    }
}
