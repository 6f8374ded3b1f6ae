//! SQL execution for `db` effect operations.
//!
//! A contract operation with `io_config.handler_type: db` and a `query_template` needs no
//! handler code: `#[effect_node]` generates its execution. The generated code binds the
//! operation's `query_params` (`${input.email}` → the input's `email` field, as JSON) to the
//! template's `$1..$n` placeholders and hands the statement to the node's [`SqlExecutor`],
//! which the node provides by implementing [`SqlSource`]. The rows come back as an
//! [`SqlOutcome`], which is deserialized into the operation's output model: the model's
//! fields are taken from `rows`, `rows_affected` and `columns`.
//!
//! With the `postgres` feature, [`crate::postgres::PgPool`] is an executor for PostgreSQL.
//!
//! ```
//! use onex_runtime::db::{SqlExecutor, SqlOutcome, SqlStatement};
//! use onex_runtime::OnexError;
//!
//! /// An executor that answers every statement with one row: how tests stand in for a database.
//! struct OneRow;
//!
//! #[onex_runtime::async_trait]
//! impl SqlExecutor for OneRow {
//!     async fn run(&self, statement: SqlStatement<'_>) -> Result<SqlOutcome, OnexError> {
//!         let mut row = serde_json::Map::new();
//!         row.insert("echo".into(), statement.params.first().cloned().unwrap_or_default());
//!         Ok(SqlOutcome { rows: vec![row], rows_affected: 1, columns: Vec::new() })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let statement = SqlStatement {
//!     operation: "find_user",
//!     sql: "SELECT $1::text AS echo",
//!     params: vec![serde_json::json!("ada")],
//!     read_only: true,
//! };
//! let outcome = OneRow.run(statement).await.unwrap();
//! assert_eq!(outcome.rows[0]["echo"], "ada");
//! # }
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ErrorCode, OnexError};

/// One row: column name → value as typed JSON (numbers, booleans, strings, nested JSON).
pub type SqlRow = Map<String, Value>;

/// One SQL statement with its parameters, bound positionally to `$1..$n`.
#[derive(Clone, Debug, PartialEq)]
pub struct SqlStatement<'a> {
    /// The contract operation running it (named in errors and spans).
    pub operation: &'a str,
    /// The SQL text, with `$1..$n` placeholders; values are never interpolated into it.
    pub sql: &'a str,
    /// The parameter values, in placeholder order, as JSON; the executor converts each to
    /// the type the database expects for its placeholder (a mismatch is a typed error).
    pub params: Vec<Value>,
    /// Run it where it cannot write (`io_config.read_only: true`).
    pub read_only: bool,
}

/// A column of a result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlColumn {
    /// Its name.
    pub name: String,
    /// The database's name for its type (`int8`, `text`, `timestamptz`, `jsonb`, …).
    #[serde(rename = "type")]
    pub type_name: String,
}

/// What a statement returned.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SqlOutcome {
    /// The rows it returned (a `SELECT`, or `RETURNING`), in order.
    pub rows: Vec<SqlRow>,
    /// Rows returned by a query, else rows inserted, updated or deleted.
    pub rows_affected: u64,
    /// The result's columns, in order (empty when it returns no rows).
    pub columns: Vec<SqlColumn>,
}

/// Runs SQL statements: the database behind generated `db` operations.
#[async_trait::async_trait]
pub trait SqlExecutor: Send + Sync {
    /// Runs one statement. Errors are typed and name `statement.operation`.
    async fn run(&self, statement: SqlStatement<'_>) -> Result<SqlOutcome, OnexError>;
}

/// Implemented by an effect node whose contract has declarative `db` operations: where the
/// generated code runs their SQL.
///
/// ```ignore
/// impl SqlSource for UserStore {
///     fn sql_executor(&self) -> &dyn SqlExecutor { &self.pool }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has declarative `db` operations but does not say where their SQL runs",
    label = "implement `onex_runtime::db::SqlSource` for `{Self}`",
    note = "`impl SqlSource for {Self} {{ fn sql_executor(&self) -> &dyn SqlExecutor {{ &self.pool }} }}` (a `PgPool` with the `postgres` feature, or any `SqlExecutor`)"
)]
pub trait SqlSource {
    /// The executor the node's `db` operations run on.
    fn sql_executor(&self) -> &dyn SqlExecutor;
}

/// A declarative `db` operation, as the contract describes it (embedded by `#[effect_node]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqlSpec {
    /// The contract operation.
    pub operation: &'static str,
    /// `io_config.query_template`.
    pub sql: &'static str,
    /// `io_config.read_only`.
    pub read_only: bool,
    /// `response_handling.fail_on_empty`: no row returned or affected is an error.
    pub fail_on_empty: bool,
}

/// Converts one `query_params` value of an operation to its JSON parameter.
pub fn sql_param<T: Serialize + ?Sized>(
    spec: &SqlSpec,
    field: &str,
    value: &T,
) -> Result<Value, OnexError> {
    serde_json::to_value(value).map_err(|e| {
        OnexError::new(
            ErrorCode::InvalidInput,
            format!(
                "operation `{}`: parameter `{field}` cannot be sent to the database: {e}",
                spec.operation
            ),
        )
        .with_context("operation", spec.operation)
        .with_context("field", field)
    })
}

/// Looks up one `query_params` field in an untyped (JSON) input.
pub fn sql_json_param(spec: &SqlSpec, input: &Value, field: &str) -> Result<Value, OnexError> {
    match input.get(field) {
        Some(v) => Ok(v.clone()),
        None => Err(OnexError::new(
            ErrorCode::InvalidInput,
            format!(
                "operation `{}`: the input has no field `{field}` (its `query_params` bind `${{input.{field}}}`)",
                spec.operation
            ),
        )
        .with_context("operation", spec.operation)
        .with_context("field", field)),
    }
}

/// Runs a declarative `db` operation and turns its outcome into the operation's output.
pub async fn sql_call<T: serde::de::DeserializeOwned>(
    executor: &dyn SqlExecutor,
    spec: &'static SqlSpec,
    params: Result<Vec<Value>, OnexError>,
) -> Result<T, OnexError> {
    let statement = SqlStatement {
        operation: spec.operation,
        sql: spec.sql,
        params: params?,
        read_only: spec.read_only,
    };
    let outcome = executor.run(statement).await?;
    if spec.fail_on_empty && outcome.rows.is_empty() && outcome.rows_affected == 0 {
        return Err(OnexError::new(
            ErrorCode::OperationFailed,
            format!(
                "operation `{}` returned and affected no rows (`fail_on_empty: true`)",
                spec.operation
            ),
        )
        .with_context("operation", spec.operation)
        .with_context("retryable", false));
    }
    sql_output(spec, outcome)
}

/// Deserializes an outcome (`rows`, `rows_affected`, `columns`) into an output model.
pub fn sql_output<T: serde::de::DeserializeOwned>(
    spec: &SqlSpec,
    outcome: SqlOutcome,
) -> Result<T, OnexError> {
    // The rows move into the JSON object as they are: no serialization, no copy.
    let columns = outcome
        .columns
        .into_iter()
        .map(|c| {
            let mut column = Map::new();
            column.insert("name".to_owned(), Value::String(c.name));
            column.insert("type".to_owned(), Value::String(c.type_name));
            Value::Object(column)
        })
        .collect();
    let mut value = Map::new();
    value.insert(
        "rows".to_owned(),
        Value::Array(outcome.rows.into_iter().map(Value::Object).collect()),
    );
    value.insert("rows_affected".to_owned(), outcome.rows_affected.into());
    value.insert("columns".to_owned(), Value::Array(columns));
    serde_json::from_value(Value::Object(value)).map_err(|e| {
        OnexError::new(
            ErrorCode::ContractViolation,
            format!(
                "operation `{}`: the rows do not fit its output model: {e}",
                spec.operation
            ),
        )
        .with_context("operation", spec.operation)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_fills_an_output_like_its_serialized_form() {
        let spec = SqlSpec {
            operation: "find",
            sql: "SELECT 1 AS one",
            read_only: true,
            fail_on_empty: false,
        };
        let mut row = SqlRow::new();
        row.insert("one".to_owned(), Value::from(1));
        let outcome = SqlOutcome {
            rows: vec![row],
            rows_affected: 1,
            columns: vec![SqlColumn {
                name: "one".to_owned(),
                type_name: "int4".to_owned(),
            }],
        };
        let expected = serde_json::to_value(&outcome).unwrap();
        let filled: Value = sql_output(&spec, outcome).unwrap();
        assert_eq!(filled, expected);
    }
}
