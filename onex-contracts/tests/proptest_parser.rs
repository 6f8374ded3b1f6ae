//! Property tests of the contract parser (DESIGN.md §8): no input makes it panic, and every
//! finding points at a real place (line ≥ 1, column ≥ 1, within the file it names).
//!
//! Three sources of input, each run through `yaml::parse`, `fingerprint::compute` (when the
//! YAML parses) and `load_source` (parse, `!include`, model, operations, validation):
//! random bytes (lossy UTF-8), random text over YAML's punctuation, and the compatibility
//! corpus (`../shared/onex-corpus/valid/`) after random mutations (deleted, inserted and
//! replaced ranges, duplicated lines, changed indentation, inserted `: `, `- `, `!include`,
//! anchors and aliases, flow brackets, unicode). The corpus test is skipped, with a printed
//! reason, when the shared data is absent.
//!
//! Contracts are loaded as `<scratch>/fuzz.yaml`, where `<scratch>` (under
//! `CARGO_TARGET_TMPDIR`) holds a few files for the inserted `!include`s to find, including a
//! self-include. Failures are not persisted (no `proptest-regressions/` file): proptest
//! prints the minimal failing input; add it to a unit test.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use onex_contracts::yaml::{self, Node, Value};
use onex_contracts::{Loaded, fingerprint, load_source};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};

const CASES: u32 = 512;

fn config() -> Config {
    Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    }
}

/// The directory fuzzed contracts live in, with files for `!include` to find.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("onex-proptest-parser");
        std::fs::create_dir_all(dir.join("sub")).expect("create the scratch directory");
        for (name, text) in [
            ("x", "a: 1\nb: [1, 2, {c: d}]\n"),
            ("x.yaml", "name: included\nnode_type: EFFECT_GENERIC\n"),
            ("cyc", "!include cyc\n"),
            ("sub/y.yaml", "k: !include z.yaml\n"),
            ("sub/z.yaml", "[unclosed\n"),
            ("bad", ": : :\n\t- [\n"),
        ] {
            std::fs::write(dir.join(name), text).expect("write a scratch file");
        }
        dir
    })
}

/// Lines in a text as YAML counts them (breaks at `\n`, `\r\n` and a lone `\r`).
fn line_count(text: &str) -> u32 {
    let breaks = text.replace("\r\n", "\n").matches(['\n', '\r']).count();
    u32::try_from(breaks).unwrap_or(u32::MAX).saturating_add(1)
}

fn loc_problem(
    what: &str,
    line: u32,
    col: u32,
    lines: u32,
    message: &str,
) -> Result<(), TestCaseError> {
    prop_assert!(
        line >= 1 && col >= 1,
        "{what} at {line}:{col} (must be 1-based): {message}"
    );
    // Tolerated: an error at the end of input may point one line past the last one
    // (`a: [` gives 2:1): the parser's end-of-stream marker sits after an implicit final
    // line break. Anything further out is a wrong location.
    prop_assert!(
        line <= lines + 1,
        "{what} at line {line}, but the text has {lines} lines: {message}"
    );
    Ok(())
}

fn check_node(node: &Node, lines: u32) -> Result<(), TestCaseError> {
    let mut work = vec![node];
    while let Some(n) = work.pop() {
        loc_problem("a YAML node", n.loc.line, n.loc.col, lines, "")?;
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
    Ok(())
}

fn check_loaded(loaded: &Loaded) -> Result<(), TestCaseError> {
    for d in &loaded.diagnostics {
        let rendered = loaded.render(d);
        let source = loaded.sources.get(d.loc.source as usize);
        prop_assert!(
            source.is_some(),
            "diagnostic names source #{} of {}: {rendered}",
            d.loc.source,
            loaded.sources.len()
        );
        let lines = line_count(source.map_or("", |s| s.text.as_str()));
        loc_problem("a diagnostic", d.loc.line, d.loc.col, lines, &rendered)?;
    }
    Ok(())
}

/// Everything the parser offers, on one input. A panic fails the case with the input
/// printed (the shrunk value alone would not show the mutated text).
fn check(text: &str) -> Result<(), TestCaseError> {
    match std::panic::catch_unwind(|| checks(text)) {
        Ok(result) => result.map_err(|e| TestCaseError::fail(format!("{e}\ninput: {text:?}"))),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(non-string panic)");
            Err(TestCaseError::fail(format!(
                "panicked: {message}\ninput: {text:?}"
            )))
        }
    }
}

fn checks(text: &str) -> Result<(), TestCaseError> {
    let lines = line_count(text);
    match yaml::parse(text) {
        Ok(node) => {
            check_node(&node, lines)?;
            let _ = fingerprint::compute(&node);
        }
        Err(errors) => {
            prop_assert!(!errors.is_empty(), "a parse error without a message");
            for e in &errors {
                loc_problem("a YAML error", e.loc.line, e.loc.col, lines, &e.message)?;
            }
        }
    }
    let path = scratch().join("fuzz.yaml");
    let loaded = load_source(&path, "fuzz.yaml", text.to_owned());
    check_loaded(&loaded)?;
    if let Some(fp) = &loaded.fingerprint {
        let _ = fp.to_string();
    }
    Ok(())
}

#[test]
fn random_bytes() {
    TestRunner::new(config())
        .run(&prop::collection::vec(any::<u8>(), 0..400), |bytes| {
            check(&String::from_utf8_lossy(&bytes))
        })
        .unwrap();
}

#[test]
fn random_yaml_punctuation() {
    let strategy = "([a-z_]{1,6}|[0-9.]{1,4}|: |- |-|:|\\? |\\n|\\n  |\\n    | |\\t|\\[|\\]|\\{|\\}|,|&a |\\*a|&b |\\*b|!include x|!include cyc|!!str |!!binary |#|\\||>|'|\"|\\\\|---\\n|\\.\\.\\.\\n|%YAML 1\\.2\\n|<<: |~|é|😀|\u{feff}|\u{0}|\r){0,80}";
    TestRunner::new(config())
        .run(&strategy, |text| check(&text))
        .unwrap();
}

/// A corpus file's text and name.
#[derive(Clone)]
struct CorpusFile {
    name: String,
    text: String,
}

impl std::fmt::Debug for CorpusFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

fn corpus() -> Option<Vec<CorpusFile>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/onex-corpus/valid");
    if !dir.is_dir() {
        return None;
    }
    let mut files = Vec::new();
    let mut dirs = vec![dir];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).ok()? {
            let path = entry.ok()?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                let text = std::fs::read_to_string(&path).ok()?;
                let name = path.file_name()?.to_string_lossy().into_owned();
                files.push(CorpusFile { name, text });
            }
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    (!files.is_empty()).then_some(files)
}

const SNIPPETS: &[&str] = &[
    ": ",
    "- ",
    ":",
    "-",
    "? ",
    "!include x",
    "!include x.yaml",
    "!include cyc",
    "!include sub/y.yaml",
    "!include bad",
    "!include missing.yaml",
    "!include ../x",
    "!include /etc/hostname",
    "!include ",
    "&a ",
    "*a",
    "&a [1, *a]",
    "<<: *a",
    "{",
    "}",
    "[",
    "]",
    "{a: [",
    "\"",
    "'",
    "|",
    ">-",
    "#",
    "\t",
    "\n",
    "\n  ",
    "\r\n",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "!!str ",
    "!!binary ",
    "~",
    "null",
    "yes",
    "0x1F",
    "1e999",
    "-.inf",
    "2024-01-01",
    "é",
    "😀",
    "\u{feff}",
    "\u{0}",
    "\u{2028}",
    "\u{85}",
    "contract_version: {major: 1, minor: 0, patch: 0}\n",
    "node_type: EFFECT_GENERIC\n",
    "definitions: {M: {type: object, properties: {f: {$ref: '#/definitions/M'}}}}\n",
];

/// One edit of a text (positions are chosen relative to its current length).
#[derive(Clone, Debug)]
enum Mutation {
    Delete(Index, usize),
    Insert(Index, &'static str),
    Replace(Index, usize, &'static str),
    DuplicateLine(Index),
    Indent(Index, i8),
    InsertUnicode(Index, char),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippet = prop::sample::select(SNIPPETS);
    prop_oneof![
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<Index>(), snippet.clone()).prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<Index>(), 1usize..16, snippet).prop_map(|(i, n, s)| Mutation::Replace(i, n, s)),
        any::<Index>().prop_map(Mutation::DuplicateLine),
        (any::<Index>(), -4i8..=4).prop_map(|(i, d)| Mutation::Indent(i, d)),
        (any::<Index>(), any::<char>()).prop_map(|(i, c)| Mutation::InsertUnicode(i, c)),
    ]
}

/// Applies a mutation on characters, so the text stays valid UTF-8.
fn apply(text: &str, m: &Mutation) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let at = |i: &Index, len: usize| i.index(len + 1);
    match m {
        Mutation::Delete(i, n) => {
            let start = at(i, chars.len());
            let end = (start + n).min(chars.len());
            chars.drain(start..end);
        }
        Mutation::Insert(i, s) => {
            let pos = at(i, chars.len());
            chars.splice(pos..pos, s.chars());
        }
        Mutation::Replace(i, n, s) => {
            let start = at(i, chars.len());
            let end = (start + n).min(chars.len());
            chars.splice(start..end, s.chars());
        }
        Mutation::InsertUnicode(i, c) => {
            let pos = at(i, chars.len());
            chars.insert(pos, *c);
        }
        Mutation::DuplicateLine(i) | Mutation::Indent(i, _) => {
            let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
            let n = i.index(lines.len());
            match m {
                Mutation::DuplicateLine(_) => {
                    let line = lines[n].clone();
                    lines.insert(n, line);
                }
                Mutation::Indent(_, delta) => {
                    let line = &lines[n];
                    lines[n] = if *delta >= 0 {
                        format!("{}{line}", " ".repeat(*delta as usize))
                    } else {
                        let strip = line
                            .chars()
                            .take(delta.unsigned_abs() as usize)
                            .take_while(|c| *c == ' ')
                            .count();
                        line[strip..].to_owned()
                    };
                }
                _ => unreachable!(),
            }
            return lines.join("\n");
        }
    }
    chars.into_iter().collect()
}

#[test]
fn mutated_corpus() {
    let Some(files) = corpus() else {
        eprintln!(
            "skipping mutated_corpus: ../shared/onex-corpus/valid not found (a user's clone has no shared data)"
        );
        return;
    };
    // The unmutated files first: they must pass the same checks.
    for file in &files {
        check(&file.text).unwrap_or_else(|e| panic!("{}: {e}", file.name));
    }
    let strategy = (
        prop::sample::select(files),
        prop::collection::vec(mutation(), 1..8),
    );
    TestRunner::new(Config {
        cases: CASES * 2,
        ..config()
    })
    .run(&strategy, |(file, mutations)| {
        let mut text = file.text.clone();
        for m in &mutations {
            text = apply(&text, m);
        }
        check(&text)
    })
    .unwrap();
}
