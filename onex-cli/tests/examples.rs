//! The examples' READMEs embed `onex graph` diagrams of their nodes; each copy must equal
//! what `onex graph` draws from the contract today.
//!
//! A README marks a diagram with `<!-- onex graph <contract path> -->` followed by a
//! ```` ```mermaid ```` block; the path is relative to the example's directory.

mod common;
use common::{onex, stderr, stdout};

use std::path::Path;

const MARKER: &str = "<!-- onex graph ";

#[test]
fn readme_diagrams_match_the_contracts() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let dir = entry.unwrap().path();
        let Ok(readme) = std::fs::read_to_string(dir.join("README.md")) else {
            continue;
        };
        let mut rest = readme.as_str();
        while let Some(start) = rest.find(MARKER) {
            let after = &rest[start + MARKER.len()..];
            let (contract, after) = after.split_once(" -->").expect("a closed marker");
            let body = after
                .trim_start()
                .strip_prefix("```mermaid\n")
                .expect("a mermaid block right after the marker");
            let (embedded, after) = body.split_once("```").expect("a closed mermaid block");
            let output = onex(&dir).args(["graph", contract]).output().unwrap();
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            assert_eq!(
                embedded,
                stdout(&output),
                "{}: the diagram of `{contract}` is out of date; paste `onex graph {contract}`",
                dir.join("README.md").display()
            );
            checked += 1;
            rest = after;
        }
    }
    assert!(
        checked >= 2,
        "the reducer and orchestrator examples embed their diagrams"
    );
}
