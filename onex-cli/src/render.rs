//! Turning findings into text: rustc-like reports through miette (source snippet, a caret
//! at `line:col`, a label, help), and the stable JSON report.

use std::fmt::Write as _;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, Report,
};
use serde::Serialize;

use crate::validate::{self, FileReport, Finding, Level};

/// Version of the JSON report's shape; bumped on any incompatible change.
pub const JSON_VERSION: u32 = 1;

/// Width human reports are wrapped at.
pub const WIDTH: usize = 100;

/// How human output looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    /// ANSI colors on.
    pub color: bool,
    /// Wrap width.
    pub width: usize,
}

impl Style {
    /// No colors, [`WIDTH`] columns: the form tests compare against.
    pub const PLAIN: Style = Style {
        color: false,
        width: WIDTH,
    };
}

fn handler(style: Style) -> GraphicalReportHandler {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
}

/// Renders one finding; `text` is the source it points into (empty when unknown, then no
/// snippet is shown).
///
/// ```
/// use onex_cli::render::{self, Style};
/// use onex_cli::validate::{Finding, Level};
/// let finding = Finding {
///     file: "c.yaml".into(), line: Some(2), column: Some(1), severity: Level::Warning,
///     code: "unknown-key", message: "unknown key `nmae`".into(),
///     help: Some("did you mean `name`?".into()), source: 0,
/// };
/// let text = render::finding(&finding, "node_type: EFFECT\nnmae: x\n", Style::PLAIN);
/// assert!(text.contains("[c.yaml:2:1]"));
/// assert!(text.contains("help: did you mean `name`?"));
/// ```
pub fn finding(finding: &Finding, text: &str, style: Style) -> String {
    let severity = match finding.severity {
        Level::Error => miette::Severity::Error,
        Level::Warning => miette::Severity::Warning,
    };
    let mut diagnostic = MietteDiagnostic::new(finding.message.clone())
        .with_code(finding.code)
        .with_severity(severity);
    if let Some(help) = &finding.help {
        diagnostic = diagnostic.with_help(help.clone());
    }
    let located = match (finding.line, finding.column) {
        (Some(line), Some(col)) if !text.is_empty() => Some((line, col)),
        _ => None,
    };
    let report = match located {
        Some((line, col)) => {
            let (start, len) = span(text, line, col);
            let diagnostic =
                diagnostic.with_label(LabeledSpan::at(start..start + len, label(finding.code)));
            Report::new(diagnostic)
                .with_source_code(NamedSource::new(&finding.file, text.to_owned()))
        }
        None => {
            let place = match (finding.line, finding.column) {
                (Some(line), Some(col)) => format!("{}:{line}:{col}", finding.file),
                _ => finding.file.clone(),
            };
            // Without a snippet, say where, unless the message already does.
            let diagnostic = if finding.message.contains(&finding.file) {
                diagnostic
            } else {
                diagnostic.with_help(match &finding.help {
                    Some(help) => format!("{help}\n(in {place})"),
                    None => format!("in {place}"),
                })
            };
            Report::new(diagnostic)
        }
    };
    let mut out = String::new();
    if handler(style)
        .render_report(&mut out, report.as_ref())
        .is_err()
    {
        // Rendering into a String fails only if a span is out of range; fall back to the
        // plain `file:line:col: message` form rather than lose the finding.
        out = plain(finding);
    }
    out
}

/// `file:LINE:COL: severity[code]: message` (+ `help:`), for places where a snippet does
/// not fit.
pub fn plain(f: &Finding) -> String {
    let severity = match f.severity {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    let mut out = match (f.line, f.column) {
        (Some(line), Some(col)) => format!("{}:{line}:{col}: ", f.file),
        _ => format!("{}: ", f.file),
    };
    let _ = write!(out, "{severity}[{}]: {}", f.code, f.message);
    if let Some(help) = &f.help {
        let _ = write!(out, "\n  help: {help}");
    }
    out.push('\n');
    out
}

/// The label under the caret: the finding's code in words (`fsm-dead-end` → `fsm dead end`).
fn label(code: &str) -> String {
    code.replace('-', " ")
}

/// Byte offset and length of the token at 1-based `line`/`col` (characters) in `text`.
///
/// The token is a quoted scalar up to its closing quote, or a plain word up to `: `, a
/// comment or the end of the line. Out-of-range positions are clamped to the text.
pub fn span(text: &str, line: u32, col: u32) -> (usize, usize) {
    let mut start = 0usize;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return (text.len(), 0),
        }
    }
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line_text = text[start..end].trim_end_matches('\r');
    let byte = line_text
        .char_indices()
        .nth(col.max(1) as usize - 1)
        .map_or(line_text.len(), |(i, _)| i);
    let rest = &line_text[byte..];
    (start + byte, token_len(rest))
}

fn token_len(rest: &str) -> usize {
    let mut chars = rest.char_indices();
    let Some((_, first)) = chars.next() else {
        return 0;
    };
    match first {
        '"' => {
            let mut escaped = false;
            for (i, c) in chars {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => return i + 1,
                    _ => escaped = false,
                }
            }
            rest.len()
        }
        '\'' => {
            let bytes = rest.as_bytes();
            let mut i = 1;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return i + 1;
                }
                i += 1;
            }
            rest.len()
        }
        '[' | '{' | '-' | '|' | '>' | '&' | '*' | '!' => first.len_utf8(),
        _ => {
            let mut end = rest.len();
            let mut prev = ' ';
            for (i, c) in rest.char_indices() {
                let next = rest[i + c.len_utf8()..].chars().next();
                if (c == ':' && next.is_none_or(char::is_whitespace))
                    || (c == '#' && prev.is_whitespace())
                    || matches!(c, ',' | ']' | '}')
                {
                    end = i;
                    break;
                }
                prev = c;
            }
            rest[..end].trim_end().len().max(first.len_utf8())
        }
    }
}

/// A one-line English count: `1 error`, `3 warnings`, `no errors`.
pub fn count(n: usize, what: &str) -> String {
    match n {
        0 => format!("no {what}s"),
        1 => format!("1 {what}"),
        _ => format!("{n} {what}s"),
    }
}

/// The human report of `onex validate`: every finding with its snippet, notes on files that
/// are not ONEX documents, and a summary line.
pub fn human(report: &validate::Report, style: Style) -> String {
    let mut out = String::new();
    for f in &report.path_errors {
        out.push_str(&finding(f, "", style));
        out.push('\n');
    }
    for file in &report.files {
        for f in &file.findings {
            let text = file
                .loaded
                .sources
                .get(f.source)
                .map_or("", |s| s.text.as_str());
            out.push_str(&finding(f, text, style));
            out.push('\n');
        }
    }
    for file in report.files.iter().filter(|f| f.is_fragment()) {
        let _ = writeln!(
            out,
            "note: {}: not an ONEX contract (no `node_type`, `handler_id`, `workflow_id` or `db_repository`); only its YAML was checked",
            file.path.display()
        );
    }
    for dir in &report.empty_dirs {
        let _ = writeln!(out, "note: {}: no .yaml or .yml file here", dir.display());
    }
    if report.nothing_found() {
        out.push_str("error: no contract files found (looked for .yaml and .yml files)\n");
    }
    out.push_str(&summary(report));
    out.push('\n');
    out
}

/// `Checked 47 files (40 node contracts, 6 other ONEX documents, 1 not a contract): no errors, 57 warnings.`
pub fn summary(report: &validate::Report) -> String {
    let nodes = report
        .files
        .iter()
        .filter(|f| matches!(f.kind(), Some(onex_contracts::DocumentKind::Node(_))))
        .count();
    let fragments = report.files.iter().filter(|f| f.is_fragment()).count();
    let unreadable = report.files.iter().filter(|f| f.unreadable()).count();
    let unparsed = report
        .files
        .iter()
        .filter(|f| f.kind().is_none() && !f.unreadable())
        .count();
    let others = report.files.len() - nodes - fragments - unparsed - unreadable;
    let mut parts = vec![plural(nodes, "node contract", "node contracts")];
    if others > 0 {
        parts.push(plural(
            others,
            "other ONEX document",
            "other ONEX documents",
        ));
    }
    if fragments > 0 {
        parts.push(plural(fragments, "not a contract", "not contracts"));
    }
    if unparsed > 0 {
        parts.push(plural(unparsed, "not parsed", "not parsed"));
    }
    if unreadable > 0 {
        parts.push(plural(unreadable, "unreadable", "unreadable"));
    }
    let errors = report.count(Level::Error);
    let failing = report
        .files
        .iter()
        .filter(|f| f.count(Level::Error) > 0)
        .count();
    let mut line = format!(
        "Checked {} ({}): {}, {}",
        plural(report.files.len(), "file", "files"),
        parts.join(", "),
        count(errors, "error"),
        count(report.count(Level::Warning), "warning"),
    );
    if failing > 0 {
        let _ = write!(line, "; {} with errors", plural(failing, "file", "files"));
    }
    line.push('.');
    line
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One file in the JSON report.
#[derive(Serialize)]
struct JsonFile {
    file: String,
    kind: Option<&'static str>,
    status: &'static str,
    errors: usize,
    warnings: usize,
}

/// The JSON report's counts.
#[derive(Serialize)]
struct JsonSummary {
    files: usize,
    errors: usize,
    warnings: usize,
    exit_code: u8,
}

/// The whole JSON report.
#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    findings: Vec<&'a Finding>,
    files: Vec<JsonFile>,
    summary: JsonSummary,
}

/// The JSON report of `onex validate`: `{version, findings: [{file, line, column, severity,
/// code, message, help}], files: [{file, kind, status, errors, warnings}], summary: {files,
/// errors, warnings, exit_code}}`, pretty-printed, keys in that order.
pub fn json(report: &validate::Report) -> String {
    let files = report
        .files
        .iter()
        .map(|f: &FileReport| JsonFile {
            file: f.path.display().to_string(),
            kind: f.kind().map(validate::kind_name),
            status: f.status(),
            errors: f.count(Level::Error),
            warnings: f.count(Level::Warning),
        })
        .collect();
    let doc = JsonReport {
        version: JSON_VERSION,
        findings: report.findings().collect(),
        files,
        summary: JsonSummary {
            files: report.files.len(),
            errors: report.count(Level::Error),
            warnings: report.count(Level::Warning),
            exit_code: report.exit_code(),
        },
    };
    // Serializing plain structs of strings and numbers cannot fail.
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_the_token() {
        let text = "name: demo\nnmae:   \"quoted\" # c\nkey: plain value # comment\n";
        assert_eq!(span(text, 1, 1), (0, 4));
        assert_eq!(span(text, 1, 7), (6, 4));
        assert_eq!(span(text, 2, 9), (19, 8));
        assert_eq!(span(text, 3, 6), (37, 11));
        // Out of range: clamped.
        assert_eq!(span(text, 9, 1), (text.len(), 0));
        assert_eq!(span(text, 1, 99), (10, 0));
    }

    #[test]
    fn spans_count_columns_in_characters() {
        let text = "é: ünïcode\n";
        let (start, len) = span(text, 1, 4);
        assert_eq!(&text[start..start + len], "ünïcode");
    }

    #[test]
    fn single_quotes_escape_by_doubling() {
        assert_eq!(token_len("'it''s' # x"), 7);
        assert_eq!(token_len("'open"), 5);
        assert_eq!(token_len("\"a\\\"b\" x"), 6);
    }
}
