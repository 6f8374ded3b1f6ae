//! The byte-preserving edit behind `onex fingerprint --write`.
//!
//! It edits text, not a re-serialized tree: only the value of the top-level `fingerprint:`
//! line changes (its quoting style and any trailing comment are kept), or, when the contract
//! declares none, one line `fingerprint: "M.m.p:<hash>"` is inserted right after the
//! `contract_version` entry (after its last indented line, at its indentation, with the
//! file's line ending). Every other byte, comments included, stays as it was. The result is
//! parsed again and must declare exactly the computed value, or nothing is written.

use onex_contracts::fingerprint::{self, Fingerprint};
use onex_contracts::yaml::{self, Node, Style, Value};

use crate::fingerprint::Declared;
use crate::render;

/// The top-level entry with this key: (key node, value node).
fn entry<'a>(doc: &'a Node, key: &str) -> Option<(&'a Node, &'a Node)> {
    doc.as_map()?
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(k, v)| (k, v))
}

/// The declared top-level `fingerprint` value, if there is one.
pub fn declared(doc: &Node) -> Option<Declared> {
    let (_, value) = entry(doc, "fingerprint")?;
    let text = match &value.value {
        Value::Scalar { text, .. } => text.clone(),
        _ => String::new(),
    };
    Some(Declared {
        value: text,
        loc: value.loc,
    })
}

/// How [`rewrite`] changed a contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// The declared value was already the computed one.
    Unchanged,
    /// The declared value was replaced; it was `old`.
    Updated {
        /// The previous value.
        old: String,
    },
    /// A `fingerprint:` line was inserted after `contract_version`.
    Inserted,
}

/// Rewrites the declared fingerprint of `text` to `computed` (which must be the text's
/// fingerprint: the result is checked against it), changing nothing else.
///
/// ```
/// use onex_cli::rewrite::{rewrite, Edit};
/// use onex_contracts::{fingerprint, yaml};
/// let text = "# keep me\nname: x\ncontract_version: {major: 1, minor: 0, patch: 0}\nnode_type: COMPUTE # too\n";
/// let computed = fingerprint::compute(&yaml::parse(text).unwrap()).unwrap();
/// let (new, edit) = rewrite(text, &computed).unwrap();
/// assert_eq!(edit, Edit::Inserted);
/// assert_eq!(
///     new,
///     format!("# keep me\nname: x\ncontract_version: {{major: 1, minor: 0, patch: 0}}\nfingerprint: \"{computed}\"\nnode_type: COMPUTE # too\n")
/// );
/// ```
pub fn rewrite(text: &str, computed: &Fingerprint) -> Result<(String, Edit), String> {
    let doc = yaml::parse(text).map_err(|e| {
        e.first().map_or_else(
            || "invalid YAML".to_owned(),
            |e| format!("{}: {}", e.loc, e.message),
        )
    })?;
    let wanted = computed.to_string();
    let (new, edit) = match entry(&doc, "fingerprint") {
        Some((key, value)) => replace_value(text, key, value, &wanted)?,
        None => insert_line(text, &doc, &wanted)?,
    };
    if edit == Edit::Unchanged {
        return Ok((new, edit));
    }
    // Never write something that does not say what we meant to write.
    let check = yaml::parse(&new).map_err(|_| refuse("the edited contract does not parse"))?;
    let now = declared(&check).map(|d| d.value);
    if now.as_deref() != Some(wanted.as_str()) {
        return Err(refuse(
            "the edited contract would not declare the new value",
        ));
    }
    if fingerprint::compute(&check).ok().as_ref() != Some(computed) {
        return Err(refuse("the edit would change the contract's fingerprint"));
    }
    Ok((new, edit))
}

fn refuse(why: &str) -> String {
    format!("cannot rewrite `fingerprint:` safely ({why}); set it by hand")
}

fn replace_value(
    text: &str,
    key: &Node,
    value: &Node,
    wanted: &str,
) -> Result<(String, Edit), String> {
    let Value::Scalar { text: old, style } = &value.value else {
        return Err(format!(
            "`fingerprint` at {} is a {}, not a string; set it by hand",
            value.loc,
            value.type_name()
        ));
    };
    if old == wanted && value.tag.is_none() {
        return Ok((text.to_owned(), Edit::Unchanged));
    }
    if value.tag.is_some() || matches!(style, Style::Literal | Style::Folded) {
        return Err(refuse("its value is tagged or a block scalar"));
    }
    let empty_plain = *style == Style::Plain && old.is_empty();
    let (start, len, replacement) = if empty_plain {
        // `fingerprint:` with no value: write one right after the colon.
        let (key_start, key_len) = render::span(text, key.loc.line, key.loc.col);
        let after_key = key_start + key_len;
        let colon = text[after_key..]
            .find(':')
            .map(|i| after_key + i + 1)
            .ok_or_else(|| refuse("no `:` after the key"))?;
        (colon, 0, format!(" \"{wanted}\""))
    } else {
        let (start, len) = render::span(text, value.loc.line, value.loc.col);
        let replacement = match style {
            Style::SingleQuoted => format!("'{wanted}'"),
            Style::Plain if !is_null_word(old) => wanted.to_owned(),
            _ => format!("\"{wanted}\""),
        };
        (start, len, replacement)
    };
    let mut new = String::with_capacity(text.len() + replacement.len());
    new.push_str(&text[..start]);
    new.push_str(&replacement);
    new.push_str(&text[start + len..]);
    Ok((new, Edit::Updated { old: old.clone() }))
}

fn is_null_word(text: &str) -> bool {
    matches!(text, "~" | "null" | "Null" | "NULL")
}

fn insert_line(text: &str, doc: &Node, wanted: &str) -> Result<(String, Edit), String> {
    let (key, _) = entry(doc, "contract_version")
        .ok_or_else(|| "the contract has no `contract_version`".to_owned())?;
    let (root_start, _) = render::span(text, doc.loc.line, doc.loc.col);
    if text[root_start..].starts_with('{') {
        return Err(refuse("the contract is a flow mapping `{…}`"));
    }
    let indent = key.loc.col.saturating_sub(1) as usize;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let key_line = key.loc.line as usize - 1;
    let mut last = key_line;
    for (i, line) in lines.iter().enumerate().skip(key_line + 1) {
        let content = line.trim_end_matches(['\n', '\r']);
        if content.trim().is_empty() {
            continue;
        }
        let line_indent = content.len() - content.trim_start().len();
        if line_indent > indent {
            last = i;
        } else {
            break;
        }
    }
    let at: usize = lines[..=last].iter().map(|l| l.len()).sum();
    let previous = lines.get(last).copied().unwrap_or_default();
    let eol = if previous.ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut line = String::new();
    if !previous.ends_with('\n') {
        line.push_str(eol);
    }
    line.push_str(&" ".repeat(indent));
    line.push_str(&format!("fingerprint: \"{wanted}\""));
    if previous.ends_with('\n') {
        line.push_str(eol);
    }
    let mut new = String::with_capacity(text.len() + line.len());
    new.push_str(&text[..at]);
    new.push_str(&line);
    new.push_str(&text[at..]);
    Ok((new, Edit::Inserted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(text: &str) -> Fingerprint {
        fingerprint::compute(&yaml::parse(text).unwrap()).unwrap()
    }

    #[test]
    fn updates_keep_quotes_and_comments() {
        for (before, after) in [
            ("fingerprint: \"1.0.0:000000000000\" # c\n", "\"X\" # c\n"),
            ("fingerprint: '1.0.0:000000000000'\n", "'X'\n"),
            ("fingerprint: 1.0.0:000000000000\n", "X\n"),
            ("fingerprint:\n", " \"X\"\n"),
            ("fingerprint: ~ # none yet\n", "\"X\" # none yet\n"),
        ] {
            let text =
                format!("contract_version: {{major: 1, minor: 0, patch: 0}}\n{before}name: a\n");
            let computed = fp(&text);
            let (new, edit) = rewrite(&text, &computed).unwrap();
            assert!(matches!(edit, Edit::Updated { .. }), "{before}");
            let expected = format!(
                "contract_version: {{major: 1, minor: 0, patch: 0}}\nfingerprint:{}{}name: a\n",
                if after.starts_with(' ') { "" } else { " " },
                after.replace('X', &computed.to_string())
            );
            assert_eq!(new, expected, "{before}");
        }
    }

    #[test]
    fn inserts_after_a_block_contract_version() {
        let text = "name: a\ncontract_version:\n  major: 1\n  # inner\n  minor: 2\n  patch: 0\n\n# next\nnode_type: effect\n";
        let computed = fp(text);
        let (new, edit) = rewrite(text, &computed).unwrap();
        assert_eq!(edit, Edit::Inserted);
        assert_eq!(
            new,
            format!(
                "name: a\ncontract_version:\n  major: 1\n  # inner\n  minor: 2\n  patch: 0\nfingerprint: \"{computed}\"\n\n# next\nnode_type: effect\n"
            )
        );
    }

    #[test]
    fn inserts_at_end_without_newline_and_keeps_crlf() {
        let text = "name: a\r\ncontract_version: {major: 1, minor: 0, patch: 0}";
        let computed = fp(text);
        let (new, _) = rewrite(text, &computed).unwrap();
        assert_eq!(new, format!("{text}\nfingerprint: \"{computed}\""));
        let text = "contract_version: {major: 1, minor: 0, patch: 0}\r\nname: a\r\n";
        let (new, _) = rewrite(text, &fp(text)).unwrap();
        assert!(new.contains(&format!("\r\nfingerprint: \"{}\"\r\nname: a\r\n", fp(text))));
    }

    #[test]
    fn refuses_what_it_cannot_edit_safely() {
        let text = "{contract_version: {major: 1, minor: 0, patch: 0}, name: a}\n";
        assert!(rewrite(text, &fp(text)).is_err());
        let text = "contract_version: {major: 1, minor: 0, patch: 0}\nfingerprint: [a]\n";
        assert!(rewrite(text, &fp(text)).is_err());
        let text = "contract_version: {major: 1, minor: 0, patch: 0}\nfingerprint: |\n  x\n";
        assert!(rewrite(text, &fp(text)).is_err());
    }

    #[test]
    fn up_to_date_is_unchanged() {
        let base = "contract_version: {major: 1, minor: 0, patch: 0}\n";
        let computed = fp(base);
        let text = format!("{base}fingerprint: \"{computed}\"\n");
        assert_eq!(
            rewrite(&text, &computed).unwrap(),
            (text.clone(), Edit::Unchanged)
        );
    }
}
