//! Every row of `../shared/onex-corpus/FINGERPRINTS.tsv`: onex must compute the
//! `computed` column exactly, and every declared fingerprint must parse.

mod common;

use onex_contracts::fingerprint::{self, Fingerprint};
use onex_contracts::yaml;

#[test]
fn corpus_fingerprints_match_the_python_reference() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let table = std::fs::read_to_string(corpus.join("FINGERPRINTS.tsv")).unwrap();
    let mut lines = table.lines();
    assert_eq!(
        lines.next(),
        Some("path\tdeclared\tcomputed"),
        "unexpected TSV header"
    );

    let mut rows = 0;
    let mut failures = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        rows += 1;
        let cols: Vec<&str> = line.split('\t').collect();
        let [path, declared, expected] = cols[..] else {
            failures.push(format!("malformed TSV row: {line:?}"));
            continue;
        };
        if declared != "-"
            && let Err(e) = declared.parse::<Fingerprint>()
        {
            failures.push(format!("{path}: declared fingerprint does not parse: {e}"));
        }
        let src = match std::fs::read_to_string(corpus.join("valid").join(path)) {
            Ok(src) => src,
            Err(e) => {
                failures.push(format!("{path}: cannot read: {e}"));
                continue;
            }
        };
        let doc = match yaml::parse(&src) {
            Ok(doc) => doc,
            Err(errs) => {
                failures.push(format!("{path}: YAML error: {}", errs[0]));
                continue;
            }
        };
        match fingerprint::compute(&doc) {
            Ok(fp) if fp.to_string() == expected => {
                let parsed: Fingerprint = expected.parse().unwrap();
                assert_eq!(parsed, fp, "{path}: FromStr disagrees with Display");
            }
            Ok(fp) => failures.push(format!("{path}: computed {fp}, expected {expected}")),
            Err(e) => failures.push(format!("{path}: {e} (expected {expected})")),
        }
    }
    assert!(rows > 0, "FINGERPRINTS.tsv has no rows");
    assert!(
        failures.is_empty(),
        "{} of {rows} corpus fingerprints wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{rows}/{rows} corpus fingerprints match");
}
