//! Declarative `db` operations (DESIGN.md §5): an effect operation whose `io_config` has
//! `handler_type: db` and a `query_template` needs no handler code, `#[effect_node]`
//! generates its execution. This module says which operations are declarative, what they
//! bind, and checks what can be checked before any SQL runs:
//!
//! - each `query_params` entry reads `${input.<field>}` (`sql-param-syntax`);
//! - the field is one of the input model's (`sql-param-field`, with a did-you-mean);
//! - the output model can be filled from a result: it needs nothing but `rows`,
//!   `rows_affected` and `columns` (`db-output-model`).
//!
//! The placeholders' numbering (`$1..$n`, one per `query_params` entry) and the ban on
//! `${…}` inside the SQL are checked with the other `io_config` rules in [`crate::valid`].
//! Operations that bind `${previous.<operation>.<field>}` (the Python executor's chaining of
//! earlier results) are left to a handler method, with a warning (`db-not-generated`).

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::Contract;
use crate::operations::{Operation, Operations, TypeRef};
use crate::read::Spanned;
use crate::schema::{ModelShape, TypeExpr};
use crate::yaml::Loc;

/// The fields a declarative operation's output model is filled from.
pub const OUTCOME_FIELDS: &[&str] = &["rows", "rows_affected", "columns"];

/// A declarative `db` operation, ready to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct DbTemplate {
    /// `query_template`, with `$1..$n` placeholders.
    pub sql: Spanned<String>,
    /// The input fields bound to `$1..$n`, in order.
    pub params: Vec<Spanned<String>>,
    /// `io_config.read_only` (also true for `operation: select` when `read_only` is unset).
    pub read_only: bool,
    /// `response_handling.fail_on_empty`.
    pub fail_on_empty: bool,
}

/// What one `query_params` entry binds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Param {
    /// `${input.<field>}`.
    Input(String),
    /// `${previous.<operation>.<field>}`: an earlier operation's result (not generated).
    Previous(String),
}

/// Parses one `query_params` entry; `None` when it is neither form.
pub fn param(text: &str) -> Option<Param> {
    let inner = text.trim().strip_prefix("${")?.strip_suffix('}')?;
    if let Some(field) = inner.strip_prefix("input.") {
        return is_field_name(field).then(|| Param::Input(field.to_owned()));
    }
    let path = inner.strip_prefix("previous.")?;
    let mut parts = path.split('.');
    let ok = parts.next().is_some_and(is_field_name)
        && parts.next().is_some_and(is_field_name)
        && parts.next().is_none();
    ok.then(|| Param::Previous(path.to_owned()))
}

fn is_field_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The declarative form of `op`, when it has one: a `db` `io_config` with a
/// `query_template` whose every `query_params` entry is `${input.<field>}`.
pub fn template(op: &Operation) -> Option<DbTemplate> {
    let io = op.io_config.as_ref()?;
    if io.handler_type.value != "db" {
        return None;
    }
    let sql = io.query_template.clone()?;
    let mut params = Vec::with_capacity(io.query_params.len());
    for entry in &io.query_params {
        match param(&entry.value)? {
            Param::Input(field) => params.push(Spanned::new(field, entry.loc)),
            Param::Previous(_) => return None,
        }
    }
    let select = io
        .operation
        .as_ref()
        .is_some_and(|o| o.value.eq_ignore_ascii_case("select"));
    Some(DbTemplate {
        sql,
        params,
        read_only: io.read_only.as_ref().map_or(select, |r| r.value),
        fail_on_empty: op.fail_on_empty.as_ref().is_some_and(|f| f.value),
    })
}

/// Checks every `db` operation with a `query_template` (see the module docs).
pub fn validate(contract: &Contract, ops: &Operations, d: &mut Diagnostics) {
    for op in &ops.operations {
        let Some(io) = &op.io_config else { continue };
        if io.handler_type.value != "db" || io.query_template.is_none() {
            continue;
        }
        let mut chained = None;
        for entry in &io.query_params {
            match param(&entry.value) {
                Some(Param::Input(field)) => input_field(contract, op, &field, entry.loc, d),
                Some(Param::Previous(_)) => chained = chained.or(Some(entry.loc)),
                None => d.push(
                    Diagnostic::error(
                        "sql-param-syntax",
                        entry.loc,
                        format!(
                            "`query_params` entry `{}` of `{}` is not `${{input.<field>}}`",
                            entry.value, op.name.value
                        ),
                    )
                    .with_help(match suggestion(&entry.value) {
                        Some(field) => format!("write `${{input.{field}}}`"),
                        None => "name a field of the operation's input model: `${input.email}`"
                            .to_owned(),
                    }),
                ),
            }
        }
        if let Some(loc) = chained {
            d.push(
                Diagnostic::warning(
                    "db-not-generated",
                    loc,
                    format!(
                        "`{}` binds an earlier operation's result (`${{previous.…}}`): onex does not chain operations, so its SQL is not generated",
                        op.name.value
                    ),
                )
                .with_help("implement the operation's handler method, or bind `${input.<field>}` values only"),
            );
        } else {
            output_model(contract, op, d);
        }
    }
}

/// The field a malformed entry most likely means (`email`, `${email}`, `{input.email}`).
fn suggestion(text: &str) -> Option<&str> {
    let inner = text.trim().trim_start_matches('$').trim_start_matches('{');
    let last = inner.trim_end_matches('}').rsplit('.').next()?;
    is_field_name(last).then_some(last)
}

fn input_field(contract: &Contract, op: &Operation, field: &str, loc: Loc, d: &mut Diagnostics) {
    let TypeRef::Model(model) = &op.input else {
        return; // untyped input: looked up at run time
    };
    let Some(def) = contract.definition(&model.value) else {
        return; // a Rust type of the user's: rustc checks the field access
    };
    let ModelShape::Object(fields) = &def.shape else {
        return; // reported elsewhere: an enum is no input model
    };
    if fields.iter().any(|f| f.name.value == field) {
        return;
    }
    let names: Vec<&str> = fields.iter().map(|f| f.name.value.as_str()).collect();
    let diag = Diagnostic::error(
        "sql-param-field",
        loc,
        format!(
            "`${{input.{field}}}` of `{}`: the input model `{}` has no field `{field}`",
            op.name.value, model.value
        ),
    );
    d.push(match crate::diag::did_you_mean(field, &names) {
        Some(best) => diag.with_help(format!("did you mean `${{input.{best}}}`?")),
        None if names.is_empty() => diag.with_help(format!("`{}` has no fields", model.value)),
        None => diag.with_help(format!("`{}` has: {}", model.value, names.join(", "))),
    });
}

fn output_model(contract: &Contract, op: &Operation, d: &mut Diagnostics) {
    let TypeRef::Model(model) = &op.output else {
        return; // untyped output: the outcome as JSON
    };
    let Some(def) = contract.definition(&model.value) else {
        return; // a Rust type of the user's: deserialized at run time
    };
    let ModelShape::Object(fields) = &def.shape else {
        return;
    };
    for field in fields {
        let name = field.name.value.as_str();
        let fits = match name {
            "rows" | "columns" => matches!(field.ty, TypeExpr::Array(_) | TypeExpr::Any),
            "rows_affected" => matches!(
                field.ty,
                TypeExpr::Integer | TypeExpr::Number | TypeExpr::Any
            ),
            _ => !field.required || field.default.is_some(),
        };
        if fits {
            continue;
        }
        let message = if OUTCOME_FIELDS.contains(&name) {
            format!(
                "`{}.{name}` cannot hold a db result's `{name}` ({})",
                model.value,
                if name == "rows_affected" {
                    "an integer"
                } else {
                    "an array"
                }
            )
        } else {
            format!(
                "the output model `{}` of db operation `{}` requires `{name}`, which a query result does not have",
                model.value, op.name.value
            )
        };
        d.push(
            Diagnostic::error("db-output-model", field.name.loc, message).with_help(
                "a db operation's output model is filled from `rows` (array of row objects), `rows_affected` (integer) and `columns`; make other fields optional",
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_parse() {
        assert_eq!(param("${input.email}"), Some(Param::Input("email".into())));
        assert_eq!(
            param(" ${input.user_id} "),
            Some(Param::Input("user_id".into()))
        );
        assert_eq!(
            param("${previous.pay.id}"),
            Some(Param::Previous("pay.id".into()))
        );
        for bad in [
            "email",
            "${email}",
            "${input.}",
            "${input.a.b}",
            "${input.1x}",
            "$1",
            "${previous.x}",
            "${input.email",
        ] {
            assert_eq!(param(bad), None, "{bad}");
        }
    }
}
