//! Naming rules shared by validation and code generation: contract names → Rust names.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Rust keywords (strict and reserved, 2024 edition).
pub const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Keywords that cannot be raw identifiers (`r#self` is not allowed).
pub const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// The snake_case method/field name for a contract name (`postgres.query` → `postgres_query`).
///
/// ```
/// assert_eq!(onex_contracts::names::snake("postgres.query"), "postgres_query");
/// assert_eq!(onex_contracts::names::snake("ModelQueryRequest"), "model_query_request");
/// ```
pub fn snake(name: &str) -> String {
    name.to_snake_case()
}

/// The UpperCamelCase type/variant name (`postgres.query` → `PostgresQuery`).
///
/// ```
/// assert_eq!(onex_contracts::names::camel("postgres.query"), "PostgresQuery");
/// ```
pub fn camel(name: &str) -> String {
    name.to_upper_camel_case()
}

/// Why a derived name cannot be a Rust identifier, if it cannot.
pub fn ident_problem(derived: &str) -> Option<String> {
    let mut chars = derived.chars();
    match chars.next() {
        None => return Some("it has no letters or digits".into()),
        Some(c) if !(c.is_alphabetic() || c == '_') => {
            return Some(format!("`{derived}` starts with `{c}`"));
        }
        _ => {}
    }
    if !derived.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Some(format!(
            "`{derived}` has characters Rust identifiers cannot hold"
        ));
    }
    if NOT_RAW.contains(&derived) {
        return Some(format!(
            "`{derived}` is a Rust keyword that cannot be a raw identifier"
        ));
    }
    None
}

/// True when `ident` needs the `r#` prefix.
pub fn is_keyword(ident: &str) -> bool {
    KEYWORDS.contains(&ident)
}

/// True when `name` is usable as-is as a Rust type name in generated code.
pub fn is_type_name(name: &str) -> bool {
    ident_problem(name).is_none() && !is_keyword(name)
}
