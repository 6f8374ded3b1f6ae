//! The SQL validator: what each operation may run, checked before the statement reaches the
//! database.
//!
//! [`SqlPolicy::check`] parses the statement with sqlparser's PostgreSQL dialect and walks
//! everything in it (nested queries, CTEs, subqueries, function calls):
//!
//! | rule | refused with |
//! |---|---|
//! | text longer than [`SqlPolicy::max_statement_len`] | [`ErrorCode::Validation`] |
//! | not parsable, empty, only comments, or holding a NUL byte | [`ErrorCode::InvalidInput`] |
//! | more than one statement (`SELECT 1; DROP TABLE t`) | [`ErrorCode::SecurityViolation`] |
//! | a statement kind outside the operation's [`Access`] | [`ErrorCode::SecurityViolation`] |
//! | a write nested in a read (`WITH d AS (DELETE …) SELECT …`) | [`ErrorCode::SecurityViolation`] |
//! | `SELECT … INTO` (it creates a table) | [`ErrorCode::SecurityViolation`] |
//! | row locks (`FOR UPDATE`, `FOR SHARE`) in a read | [`ErrorCode::SecurityViolation`] |
//! | `UPDATE` / `DELETE` without `WHERE` (unless allowed) | [`ErrorCode::SecurityViolation`] |
//! | a denied function (`pg_terminate_backend`, `set_config`, `dblink`, …) | [`ErrorCode::SecurityViolation`] |
//! | placeholders other than `$1..$n`, or `params` not matching them | [`ErrorCode::InvalidInput`] |
//!
//! Every refusal names the operation (message `operation \`query\`: …`, context
//! `operation`), says which rule it broke (context `rule`) and carries a `hint`.
//!
//! The validator is defence in depth, not the boundary: values only ever travel as bound
//! parameters (nothing here builds SQL text), `query` runs on read-only connections, and what
//! a statement may touch is finally up to the database role's privileges. A statement the
//! parser does not understand is refused even if PostgreSQL would accept it (the hint says
//! so); the tests list the PostgreSQL forms it accepts.
//!
//! Checking a statement costs a parse (a few µs for short ones), so accepted statements are
//! remembered, per access, in a small bounded cache (statements are usually a handful of
//! fixed texts with changing parameters).
//!
//! ```
//! use onex_runtime::ErrorCode;
//! use postgres_adapter::sql::{Access, SqlPolicy};
//!
//! let policy = SqlPolicy::default();
//! policy.check("query", Access::Read, "SELECT id, name FROM users WHERE name = $1", 1)?;
//!
//! let err = policy
//!     .check("query", Access::Read, "SELECT 1; DROP TABLE users", 0)
//!     .unwrap_err();
//! assert_eq!(*err.code(), ErrorCode::SecurityViolation);
//! assert!(err.message().starts_with("operation `query`: "));
//!
//! let err = policy.check("execute", Access::Write, "DELETE FROM users", 0).unwrap_err();
//! assert_eq!(err.context().get("rule"), Some(&"unfiltered_write".into()));
//! # Ok::<(), onex_runtime::OnexError>(())
//! ```

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::ops::ControlFlow;
use std::sync::{PoisonError, RwLock};

use onex_runtime::{ErrorCode, OnexError};
use sqlparser::ast::{
    Expr, ObjectName, Query, Select, SetExpr, Statement, TableFactor, Value, ValueWithSpan, Visit,
    Visitor,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// What an operation may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// Reads only: `SELECT`, `WITH … SELECT`, `VALUES` and set operations of them,
    /// without a write anywhere inside, `SELECT … INTO` or row locks. (`query`.)
    Read,
    /// One write: `INSERT`, `UPDATE` or `DELETE` (with `RETURNING`, CTEs and subqueries).
    /// (`execute`.)
    Write,
    /// A statement of a transaction: a read (row locks allowed: `SELECT … FOR UPDATE`) or a
    /// write. (`transaction`.)
    ReadWrite,
}

impl Access {
    /// The three of them, in cache-slot order.
    const ALL: [Access; 3] = [Access::Read, Access::Write, Access::ReadWrite];

    /// What the access allows, for messages.
    pub const fn allowed(self) -> &'static str {
        match self {
            Access::Read => "SELECT, WITH … SELECT or VALUES",
            Access::Write => "INSERT, UPDATE or DELETE",
            Access::ReadWrite => "SELECT, WITH … SELECT, VALUES, INSERT, UPDATE or DELETE",
        }
    }

    fn slot(self) -> usize {
        match self {
            Access::Read => 0,
            Access::Write => 1,
            Access::ReadWrite => 2,
        }
    }
}

/// Functions refused by default: they act on the server or other sessions, reach files or
/// other databases, run SQL given as text, or leave session state behind on a pooled
/// connection (session-level advisory locks, `set_config`).
pub const DEFAULT_DENIED_FUNCTIONS: &[&str] = &[
    // Other sessions and the server.
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_promote",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_backup_start",
    "pg_backup_stop",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_create_logical_replication_slot",
    "pg_create_physical_replication_slot",
    "pg_drop_replication_slot",
    "pg_logical_emit_message",
    // Session state that would outlive the request on a pooled connection.
    "set_config",
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
    "pg_advisory_unlock",
    "pg_advisory_unlock_shared",
    "pg_advisory_unlock_all",
    // Files and large objects on the server.
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_stat_file",
    "pg_ls_logdir",
    "pg_ls_waldir",
    "pg_ls_tmpdir",
    "pg_file_write",
    "pg_file_rename",
    "pg_file_unlink",
    "lo_import",
    "lo_export",
    "lo_unlink",
    // Other databases, and SQL given as text.
    "dblink",
    "dblink_exec",
    "dblink_connect",
    "dblink_connect_u",
    "dblink_send_query",
    "query_to_xml",
    "query_to_xmlschema",
    "query_to_xml_and_xmlschema",
    "cursor_to_xml",
];

/// The contract's statement limit (`max_length: 10000` of every `sql` field).
pub const DEFAULT_MAX_STATEMENT_LEN: usize = 10_000;

/// Accepted statements remembered by default.
pub const DEFAULT_CACHE_CAPACITY: usize = 1024;

/// The statement rules of the adapter (see the [module docs](self)).
///
/// [`SqlPolicy::default`] is the contract's spirit: statements of at most 10 000 bytes, the
/// [`DEFAULT_DENIED_FUNCTIONS`] refused, `UPDATE` / `DELETE` only with a `WHERE` (write
/// `WHERE true` to mean every row), and a cache of 1 024 accepted statements.
pub struct SqlPolicy {
    max_statement_len: usize,
    allow_unfiltered_writes: bool,
    denied_functions: BTreeSet<String>,
    cache: VerdictCache,
}

impl Default for SqlPolicy {
    fn default() -> Self {
        SqlPolicy {
            max_statement_len: DEFAULT_MAX_STATEMENT_LEN,
            allow_unfiltered_writes: false,
            denied_functions: DEFAULT_DENIED_FUNCTIONS
                .iter()
                .map(|f| (*f).to_owned())
                .collect(),
            cache: VerdictCache::new(DEFAULT_CACHE_CAPACITY),
        }
    }
}

impl Clone for SqlPolicy {
    /// The same rules, with an empty cache of the same capacity.
    fn clone(&self) -> Self {
        SqlPolicy {
            max_statement_len: self.max_statement_len,
            allow_unfiltered_writes: self.allow_unfiltered_writes,
            denied_functions: self.denied_functions.clone(),
            cache: VerdictCache::new(self.cache.capacity),
        }
    }
}

impl fmt::Debug for SqlPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlPolicy")
            .field("max_statement_len", &self.max_statement_len)
            .field("allow_unfiltered_writes", &self.allow_unfiltered_writes)
            .field("denied_functions", &self.denied_functions.len())
            .field("cache_capacity", &self.cache.capacity)
            .finish()
    }
}

impl SqlPolicy {
    /// The default policy.
    pub fn new() -> Self {
        SqlPolicy::default()
    }

    /// Sets the longest statement accepted, in bytes.
    #[must_use]
    pub fn with_max_statement_len(mut self, bytes: usize) -> Self {
        self.max_statement_len = bytes;
        self.cache.clear();
        self
    }

    /// Allows (or refuses, the default) `UPDATE` and `DELETE` without a `WHERE` clause.
    #[must_use]
    pub fn allow_unfiltered_writes(mut self, allow: bool) -> Self {
        self.allow_unfiltered_writes = allow;
        self.cache.clear();
        self
    }

    /// Refuses one more function (by its unqualified name, case-insensitively).
    #[must_use]
    pub fn deny_function(mut self, name: &str) -> Self {
        self.denied_functions.insert(name.to_ascii_lowercase());
        self.cache.clear();
        self
    }

    /// Allows a function the default policy refuses.
    #[must_use]
    pub fn allow_function(mut self, name: &str) -> Self {
        self.denied_functions.remove(&name.to_ascii_lowercase());
        self.cache.clear();
        self
    }

    /// Sets how many accepted statements are remembered (0: none, every check parses).
    #[must_use]
    pub fn with_cache_capacity(mut self, statements: usize) -> Self {
        self.cache = VerdictCache::new(statements);
        self
    }

    /// The longest statement accepted, in bytes.
    pub fn max_statement_len(&self) -> usize {
        self.max_statement_len
    }

    /// Whether `UPDATE` and `DELETE` without `WHERE` are accepted.
    pub fn allows_unfiltered_writes(&self) -> bool {
        self.allow_unfiltered_writes
    }

    /// The refused functions, lowercase, in order.
    pub fn denied_functions(&self) -> impl Iterator<Item = &str> {
        self.denied_functions.iter().map(String::as_str)
    }

    /// Checks one statement of `operation` and the number of parameters it is given.
    ///
    /// # Errors
    ///
    /// A typed [`OnexError`] naming `operation` (see the [module docs](self) for the codes),
    /// with the context keys `operation`, `rule` and `hint`.
    pub fn check(
        &self,
        operation: &str,
        access: Access,
        sql: &str,
        params: usize,
    ) -> Result<(), OnexError> {
        self.verdict(access, sql, params)
            .map_err(|refusal| refusal.into_error(operation, None))
    }

    /// Checks the statements of a transaction (`(sql, number of parameters)` each, in order);
    /// the first refusal names the statement by its index (from 0, as the pool's own errors
    /// do) as well as the operation.
    ///
    /// # Errors
    ///
    /// As [`check`](SqlPolicy::check), with the extra context key `statement` (the index).
    pub fn check_all<'s>(
        &self,
        operation: &str,
        access: Access,
        statements: impl ExactSizeIterator<Item = (&'s str, usize)>,
    ) -> Result<(), OnexError> {
        let total = statements.len();
        for (index, (sql, params)) in statements.enumerate() {
            self.verdict(access, sql, params)
                .map_err(|refusal| refusal.into_error(operation, Some((index, total))))?;
        }
        Ok(())
    }

    /// The checks, without the operation's name.
    fn verdict(&self, access: Access, sql: &str, params: usize) -> Result<(), Refusal> {
        if sql.len() > self.max_statement_len {
            return Err(Refusal::new(
                ErrorCode::Validation,
                "too_long",
                format!(
                    "the statement is {} bytes long, more than the {} allowed",
                    sql.len(),
                    self.max_statement_len
                ),
                "send shorter statements (large values belong in `params`, not in the text)",
            ));
        }
        if sql.contains('\0') {
            return Err(Refusal::new(
                ErrorCode::InvalidInput,
                "nul_byte",
                "the statement contains a NUL byte, which PostgreSQL cannot receive".to_owned(),
                "remove it from the SQL text (a value holding one belongs in `params`, as \
                 `bytea`)",
            ));
        }
        let placeholders = match self.cache.get(access, sql) {
            Some(placeholders) => placeholders,
            None => {
                let placeholders = self.parse_and_walk(access, sql)?;
                self.cache.insert(access, sql, placeholders);
                placeholders
            }
        };
        if placeholders != params {
            return Err(Refusal::new(
                ErrorCode::InvalidInput,
                "parameter_count",
                if placeholders == 0 {
                    format!("the statement has no placeholders but {params} parameters were given")
                } else {
                    format!(
                        "the statement uses $1..${placeholders} but {params} parameters were given"
                    )
                },
                "give one value in `params` per placeholder, in order",
            ));
        }
        Ok(())
    }

    /// Parses `sql` and walks it; returns the highest placeholder number.
    fn parse_and_walk(&self, access: Access, sql: &str) -> Result<usize, Refusal> {
        let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).map_err(|e| {
            Refusal::new(
                ErrorCode::InvalidInput,
                "parse",
                format!("the statement does not parse: {e}"),
                "check the SQL; the validator parses PostgreSQL with sqlparser, which may not \
                 know every PostgreSQL form: rewrite the statement in a more common form",
            )
        })?;
        let statement = match statements.as_slice() {
            [one] => one,
            [] => {
                return Err(Refusal::new(
                    ErrorCode::InvalidInput,
                    "empty",
                    "there is no statement (only whitespace or comments)".to_owned(),
                    "send one SQL statement",
                ));
            }
            many => {
                return Err(Refusal::new(
                    ErrorCode::SecurityViolation,
                    "multiple_statements",
                    format!(
                        "{} statements in one `sql`; one is allowed (the second is {})",
                        many.len(),
                        kind(&many[1])
                    ),
                    "send one statement per request; a `transaction` runs a list of them \
                     atomically",
                ));
            }
        };
        // `WITH … INSERT` is a query whose body is the write.
        let writes = match statement {
            Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => true,
            Statement::Query(query) => matches!(
                *query.body,
                SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_)
            ),
            _ => false,
        };
        let top_allowed = match access {
            // A write nested in a read is refused by the walk, with its own rule.
            Access::Read => matches!(statement, Statement::Query(_)),
            Access::Write => writes,
            Access::ReadWrite => writes || matches!(statement, Statement::Query(_)),
        };
        if !top_allowed {
            return Err(not_allowed(access, statement));
        }
        let mut walk = Walk {
            policy: self,
            access,
            placeholders: 0,
        };
        match statement.visit(&mut walk) {
            ControlFlow::Break(refusal) => Err(refusal),
            ControlFlow::Continue(()) => Ok(walk.placeholders),
        }
    }
}

/// Why a statement was refused, before the operation is named.
#[derive(Debug)]
struct Refusal {
    code: ErrorCode,
    rule: &'static str,
    what: String,
    hint: &'static str,
}

impl Refusal {
    fn new(code: ErrorCode, rule: &'static str, what: String, hint: &'static str) -> Self {
        Refusal {
            code,
            rule,
            what,
            hint,
        }
    }

    /// The error, naming the operation and, in a transaction, the statement's index (from
    /// 0) and the number of statements.
    fn into_error(self, operation: &str, statement: Option<(usize, usize)>) -> OnexError {
        let message = match statement {
            Some((index, total)) => format!(
                "operation `{operation}`, statement index {index} (of {total}): {}",
                self.what
            ),
            None => format!("operation `{operation}`: {}", self.what),
        };
        let error = OnexError::new(self.code, message)
            .with_context("operation", operation)
            .with_context("rule", self.rule)
            .with_context("hint", self.hint);
        match statement {
            Some((index, _)) => error.with_context("statement", index),
            None => error,
        }
    }
}

fn not_allowed(access: Access, statement: &Statement) -> Refusal {
    Refusal::new(
        ErrorCode::SecurityViolation,
        "statement_kind",
        format!(
            "{} is not allowed here (only {})",
            kind(statement),
            access.allowed()
        ),
        match access {
            Access::Read => "`query` only reads; send writes to `execute` or `transaction`",
            Access::Write | Access::ReadWrite => {
                "schema changes, session settings and server commands are not run through \
                 the adapter; apply them with a migration tool"
            }
        },
    )
}

/// The statement's kind for messages: its first keyword (two for `CREATE`, `DROP`, `ALTER`),
/// never its text (which may carry values).
fn kind(statement: &Statement) -> String {
    let text = statement.to_string();
    let mut words = text.split_whitespace().map(str::to_ascii_uppercase);
    let first = words.next().unwrap_or_default();
    let kind = match first.as_str() {
        "CREATE" | "DROP" | "ALTER" => match words.find(|w| {
            !matches!(
                w.as_str(),
                "OR" | "REPLACE"
                    | "TEMPORARY"
                    | "TEMP"
                    | "UNIQUE"
                    | "UNLOGGED"
                    | "GLOBAL"
                    | "LOCAL"
                    | "IF"
                    | "NOT"
                    | "EXISTS"
            )
        }) {
            Some(what) => format!("{first} {what}"),
            None => first,
        },
        // A read shows as its first keyword too (`SELECT`, `WITH`, `VALUES`).
        _ => first,
    };
    let kind: String = kind
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ' || *c == '_')
        .collect();
    format!("`{kind}`")
}

/// The walk over one parsed statement: nested statements, queries, functions, placeholders.
struct Walk<'p> {
    policy: &'p SqlPolicy,
    access: Access,
    placeholders: usize,
}

impl Walk<'_> {
    fn function(&self, name: &ObjectName) -> ControlFlow<Refusal> {
        let Some(last) = name.0.last().and_then(|part| part.as_ident()) else {
            return ControlFlow::Continue(());
        };
        let lower = last.value.to_ascii_lowercase();
        if self.policy.denied_functions.contains(&lower) {
            return ControlFlow::Break(Refusal::new(
                ErrorCode::SecurityViolation,
                "denied_function",
                format!("the function `{lower}` is not allowed"),
                "it acts beyond the request (the server, other sessions, files, other \
                 databases or SQL given as text); `SqlPolicy::allow_function` lifts this",
            ));
        }
        ControlFlow::Continue(())
    }
}

impl Visitor for Walk<'_> {
    type Break = Refusal;

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<Refusal> {
        let allowed = match (self.access, statement) {
            (_, Statement::Query(_)) => true,
            (Access::Write | Access::ReadWrite, Statement::Insert(_)) => true,
            (Access::Write | Access::ReadWrite, Statement::Update(update)) => {
                if update.selection.is_none() && !self.policy.allow_unfiltered_writes {
                    return ControlFlow::Break(unfiltered("UPDATE"));
                }
                true
            }
            (Access::Write | Access::ReadWrite, Statement::Delete(delete)) => {
                if delete.selection.is_none() && !self.policy.allow_unfiltered_writes {
                    return ControlFlow::Break(unfiltered("DELETE"));
                }
                true
            }
            _ => false,
        };
        if allowed {
            ControlFlow::Continue(())
        } else if self.access == Access::Read
            && matches!(
                statement,
                Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_)
            )
        {
            ControlFlow::Break(Refusal::new(
                ErrorCode::SecurityViolation,
                "write_in_read",
                format!("a read may not contain a write ({})", kind(statement)),
                "`query` only reads; send data-modifying CTEs to `execute` or `transaction`",
            ))
        } else {
            ControlFlow::Break(not_allowed(self.access, statement))
        }
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<Refusal> {
        if self.access == Access::Read && !query.locks.is_empty() {
            return ControlFlow::Break(Refusal::new(
                ErrorCode::SecurityViolation,
                "row_lock_in_read",
                "row locks (`FOR UPDATE`, `FOR SHARE`, …) are not allowed in a read".to_owned(),
                "lock rows inside a `transaction`, where the lock means something",
            ));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<Refusal> {
        if select.into.is_some() {
            return ControlFlow::Break(Refusal::new(
                ErrorCode::SecurityViolation,
                "select_into",
                "`SELECT … INTO` creates a table and is not allowed".to_owned(),
                "select the rows, or `INSERT INTO existing_table SELECT …` in `execute`",
            ));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<Refusal> {
        match factor {
            // `FROM f(…)`: a set-returning function.
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            }
            | TableFactor::Function { name, .. } => self.function(name),
            _ => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<Refusal> {
        match expr {
            Expr::Function(function) => self.function(&function.name),
            _ => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_value(&mut self, value: &ValueWithSpan) -> ControlFlow<Refusal> {
        if let Value::Placeholder(placeholder) = &value.value {
            let number = placeholder
                .strip_prefix('$')
                .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|digits| digits.parse::<usize>().ok())
                .filter(|n| *n >= 1);
            match number {
                Some(n) => self.placeholders = self.placeholders.max(n),
                None => {
                    return ControlFlow::Break(Refusal::new(
                        ErrorCode::InvalidInput,
                        "placeholder",
                        format!("`{placeholder}` is not a placeholder PostgreSQL binds"),
                        "write placeholders as $1, $2, … and put the values in `params`",
                    ));
                }
            }
        }
        ControlFlow::Continue(())
    }
}

fn unfiltered(what: &str) -> Refusal {
    Refusal::new(
        ErrorCode::SecurityViolation,
        "unfiltered_write",
        format!("`{what}` without `WHERE` would touch every row of the table"),
        "add a `WHERE` clause (`WHERE true` if every row is meant), or build the adapter with \
         `SqlPolicy::allow_unfiltered_writes(true)`",
    )
}

/// Accepted statements and their highest placeholder, per access. Bounded: when full, it
/// starts over (statements in use come back at once; a flood of distinct texts cannot grow
/// it).
struct VerdictCache {
    capacity: usize,
    entries: RwLock<HashMap<Box<str>, [Option<usize>; 3]>>,
}

impl VerdictCache {
    fn new(capacity: usize) -> Self {
        VerdictCache {
            capacity,
            entries: RwLock::new(HashMap::new()),
        }
    }

    fn get(&self, access: Access, sql: &str) -> Option<usize> {
        if self.capacity == 0 {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries.get(sql).and_then(|slots| slots[access.slot()])
    }

    fn insert(&self, access: Access, sql: &str, placeholders: usize) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity && !entries.contains_key(sql) {
            entries.clear();
        }
        entries
            .entry(sql.into())
            .or_insert([None; Access::ALL.len()])[access.slot()] = Some(placeholders);
    }

    fn clear(&mut self) {
        self.entries
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Ok(())` or the rule that refused it.
    fn rule(policy: &SqlPolicy, access: Access, sql: &str, params: usize) -> Result<(), String> {
        policy.check("op", access, sql, params).map_err(|e| {
            e.context()
                .get("rule")
                .and_then(|r| r.as_str())
                .unwrap_or("?")
                .to_owned()
        })
    }

    const ACCEPTED_READS: &[(&str, usize)] = &[
        ("SELECT 1", 0),
        ("select 1;", 0),
        ("SELECT 1; -- trailing comment", 0),
        ("SELECT 1 /* ; DROP TABLE x; */", 0),
        ("  -- leading comment\nSELECT $1::int + $2::int", 2),
        (
            "SELECT id, name FROM users WHERE name = $1 ORDER BY id LIMIT 10",
            1,
        ),
        ("SELECT 'a;b; DROP TABLE users; --' AS text", 0),
        ("SELECT $$ ; DROP TABLE users; $$ AS text", 0),
        ("SELECT $tag$ it's; $$ nested $$ ; $tag$", 0),
        ("SELECT E'it\\'s; DROP TABLE x'", 0),
        (
            "WITH recent AS (SELECT * FROM events WHERE at > now() - interval '1 day') SELECT count(*) FROM recent",
            0,
        ),
        (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) SELECT i FROM n",
            1,
        ),
        ("VALUES (1, 'a'), (2, 'b')", 0),
        ("SELECT * FROM users WHERE id = ANY($1)", 1),
        ("SELECT doc->>'name', doc @> $1::jsonb FROM docs", 1),
        (
            "SELECT DISTINCT ON (kind) kind, at FROM events ORDER BY kind, at DESC",
            0,
        ),
        ("SELECT count(*) FILTER (WHERE ok) FROM checks", 0),
        ("SELECT a IS DISTINCT FROM b FROM t", 0),
        ("SELECT * FROM generate_series(1, $1) AS g(i)", 1),
        (
            "SELECT * FROM a JOIN LATERAL (SELECT * FROM b WHERE b.a = a.id LIMIT 1) x ON true",
            0,
        ),
        ("SELECT pg_sleep(0.01)", 0),
        ("SELECT 1 UNION SELECT 2 EXCEPT SELECT 3", 0),
        ("SELECT (SELECT max(id) FROM users) AS top", 0),
        ("SELECT $1::text, $1::text", 1),
        (
            "SELECT now()::timestamptz, '550e8400-e29b-41d4-a716-446655440000'::uuid",
            0,
        ),
        ("SELECT ARRAY[1, 2, 3], $1::int[]", 1),
    ];

    const REFUSED_READS: &[(&str, &str)] = &[
        ("SELECT 1; DROP TABLE x", "multiple_statements"),
        ("SELECT 1;DROP TABLE x", "multiple_statements"),
        ("SELECT 1; SELECT 2", "multiple_statements"),
        ("SELECT 1; COMMIT", "multiple_statements"),
        (
            "SELECT '' ; DELETE FROM users WHERE true; --'",
            "multiple_statements",
        ),
        // A backslash does not escape a quote in a standard string (PostgreSQL's default,
        // `standard_conforming_strings = on`): the string ends, a statement follows.
        ("SELECT '\\'; DROP TABLE x; --'", "multiple_statements"),
        ("DROP TABLE users", "statement_kind"),
        ("DELETE FROM users WHERE id = 1", "statement_kind"),
        ("INSERT INTO users VALUES (1)", "statement_kind"),
        ("UPDATE users SET a = 1 WHERE id = 1", "statement_kind"),
        ("CREATE TABLE x (id int)", "statement_kind"),
        ("ALTER TABLE users ADD COLUMN x int", "statement_kind"),
        ("TRUNCATE users", "statement_kind"),
        ("GRANT ALL ON users TO public", "statement_kind"),
        ("SET search_path = evil", "statement_kind"),
        ("RESET ALL", "statement_kind"),
        ("BEGIN", "statement_kind"),
        ("COMMIT", "statement_kind"),
        ("COPY users TO '/tmp/x'", "statement_kind"),
        ("LISTEN channel", "statement_kind"),
        ("VACUUM users", "statement_kind"),
        ("EXPLAIN ANALYZE DELETE FROM users", "statement_kind"),
        ("EXPLAIN SELECT 1", "statement_kind"),
        ("LOCK TABLE users", "statement_kind"),
        ("CALL do_things()", "statement_kind"),
        (
            "WITH d AS (DELETE FROM users WHERE true RETURNING *) SELECT * FROM d",
            "write_in_read",
        ),
        (
            "WITH i AS (INSERT INTO users VALUES (1) RETURNING id) SELECT * FROM i",
            "write_in_read",
        ),
        ("SELECT * INTO copy_of_users FROM users", "select_into"),
        ("SELECT * FROM users FOR UPDATE", "row_lock_in_read"),
        (
            "SELECT * FROM users FOR SHARE SKIP LOCKED",
            "row_lock_in_read",
        ),
        ("SELECT pg_terminate_backend(123)", "denied_function"),
        ("SELECT PG_CATALOG.PG_CANCEL_BACKEND($1)", "denied_function"),
        (
            "SELECT set_config('search_path', 'evil', false)",
            "denied_function",
        ),
        ("SELECT pg_read_file('/etc/passwd')", "denied_function"),
        (
            "SELECT * FROM dblink('host=evil', 'SELECT 1') AS t(x int)",
            "denied_function",
        ),
        (
            "SELECT query_to_xml('DELETE FROM users', true, true, '')",
            "denied_function",
        ),
        ("SELECT (SELECT pg_advisory_lock(1))", "denied_function"),
        ("SELEC 1", "parse"),
        ("SELECT * FROM", "parse"),
        ("SELECT (1", "parse"),
        // PostgreSQL's `TABLE t` is not parsed: `SELECT * FROM t` is.
        ("TABLE users", "parse"),
        ("SELECT 'unterminated", "parse"),
        ("", "empty"),
        ("   ", "empty"),
        ("-- only a comment", "empty"),
        ("SELECT ?", "parse"),
        ("SELECT $0", "placeholder"),
        ("SELECT 'a\0b'", "nul_byte"),
    ];

    #[test]
    fn reads_accepted() {
        let policy = SqlPolicy::default();
        let mut wrong = Vec::new();
        for (sql, params) in ACCEPTED_READS {
            // Reads are fine in a transaction too.
            for access in [Access::Read, Access::ReadWrite] {
                let got = rule(&policy, access, sql, *params);
                if got.is_err() {
                    wrong.push(format!("{access:?} {sql}: {got:?}"));
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn reads_refused() {
        let policy = SqlPolicy::default();
        let mut wrong = Vec::new();
        for (sql, expected) in REFUSED_READS {
            let got = rule(&policy, Access::Read, sql, 0);
            if got != Err((*expected).to_owned()) {
                wrong.push(format!("{sql}: {got:?}, expected {expected}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn writes() {
        let policy = SqlPolicy::default();
        let accepted: &[(&str, usize)] = &[
            ("INSERT INTO users (id, name) VALUES ($1, $2)", 2),
            (
                "INSERT INTO users (id, name) VALUES ($1, $2) RETURNING id",
                2,
            ),
            ("INSERT INTO users SELECT * FROM staged WHERE ok", 0),
            (
                "INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
                2,
            ),
            ("UPDATE users SET name = $1 WHERE id = $2", 2),
            ("UPDATE users SET seen = now() WHERE true", 0),
            (
                "UPDATE users u SET n = s.n FROM staged s WHERE s.id = u.id",
                0,
            ),
            ("DELETE FROM users WHERE id = $1 RETURNING *", 1),
            ("DELETE FROM users WHERE id IN (SELECT id FROM banned)", 0),
            (
                "WITH moved AS (DELETE FROM inbox WHERE id = $1 RETURNING *) INSERT INTO archive SELECT * FROM moved",
                1,
            ),
            (
                "INSERT INTO t (note) VALUES ('it''s; DROP TABLE users; --')",
                0,
            ),
        ];
        let mut wrong = Vec::new();
        for (sql, params) in accepted {
            for access in [Access::Write, Access::ReadWrite] {
                let got = rule(&policy, access, sql, *params);
                if got.is_err() {
                    wrong.push(format!("{access:?} {sql}: {got:?}"));
                }
            }
        }
        let refused: &[(&str, &str)] = &[
            ("SELECT 1", "statement_kind"),
            ("DELETE FROM users", "unfiltered_write"),
            ("UPDATE users SET name = 'x'", "unfiltered_write"),
            (
                "WITH d AS (DELETE FROM users RETURNING *) INSERT INTO t SELECT * FROM d",
                "unfiltered_write",
            ),
            (
                "INSERT INTO t VALUES (1); DROP TABLE t",
                "multiple_statements",
            ),
            ("DROP TABLE users", "statement_kind"),
            ("CREATE INDEX i ON users (name)", "statement_kind"),
            (
                "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
                "statement_kind",
            ),
            ("COPY users FROM STDIN", "statement_kind"),
            (
                "INSERT INTO log SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
                "denied_function",
            ),
        ];
        for (sql, expected) in refused {
            let got = rule(&policy, Access::Write, sql, 0);
            if got != Err((*expected).to_owned()) {
                wrong.push(format!("{sql}: {got:?}, expected {expected}"));
            }
        }
        // A transaction may read (and lock rows), not change the schema or the session.
        for (sql, expected) in [
            ("SELECT * FROM users WHERE id = 1 FOR UPDATE", Ok(())),
            ("BEGIN", Err("statement_kind")),
            ("COMMIT", Err("statement_kind")),
            ("ROLLBACK", Err("statement_kind")),
            ("SAVEPOINT a", Err("statement_kind")),
            ("SET LOCAL statement_timeout = 0", Err("statement_kind")),
            ("CREATE TABLE x (id int)", Err("statement_kind")),
        ] {
            let got = rule(&policy, Access::ReadWrite, sql, 0);
            if got != expected.map_err(str::to_owned) {
                wrong.push(format!("ReadWrite {sql}: {got:?}, expected {expected:?}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn the_policy_is_configurable() {
        let lenient = SqlPolicy::default()
            .allow_unfiltered_writes(true)
            .allow_function("PG_SLEEP")
            .allow_function("set_config")
            .deny_function("PG_SLEEP");
        assert!(lenient.allows_unfiltered_writes());
        assert_eq!(rule(&lenient, Access::Write, "DELETE FROM t", 0), Ok(()));
        assert_eq!(
            rule(
                &lenient,
                Access::Read,
                "SELECT set_config('a.b', 'c', true)",
                0
            ),
            Ok(())
        );
        assert_eq!(
            rule(&lenient, Access::Read, "SELECT pg_sleep(1)", 0),
            Err("denied_function".to_owned())
        );
        assert!(lenient.denied_functions().any(|f| f == "pg_sleep"));

        let short = SqlPolicy::default().with_max_statement_len(8);
        assert_eq!(short.max_statement_len(), 8);
        assert_eq!(rule(&short, Access::Read, "SELECT 1", 0), Ok(()));
        assert_eq!(
            rule(&short, Access::Read, "SELECT 10", 0),
            Err("too_long".to_owned())
        );
        let long = format!("SELECT '{}'", "x".repeat(DEFAULT_MAX_STATEMENT_LEN));
        assert_eq!(
            rule(&SqlPolicy::default(), Access::Read, &long, 0),
            Err("too_long".to_owned())
        );
    }

    #[test]
    fn parameters_must_match_the_placeholders() {
        let policy = SqlPolicy::default();
        let sql = "SELECT $1::int + $3::int";
        assert_eq!(rule(&policy, Access::Read, sql, 3), Ok(()));
        for given in [0, 2, 4] {
            assert_eq!(
                rule(&policy, Access::Read, sql, given),
                Err("parameter_count".to_owned())
            );
        }
        // The cached verdict still checks the count.
        assert_eq!(
            rule(&policy, Access::Read, sql, 1),
            Err("parameter_count".to_owned())
        );
        assert_eq!(
            rule(&policy, Access::Read, "SELECT 1", 1),
            Err("parameter_count".to_owned())
        );
    }

    #[test]
    fn errors_name_the_operation_and_never_echo_the_statement() {
        let policy = SqlPolicy::default();
        let err = policy
            .check(
                "query",
                Access::Read,
                "DELETE FROM t WHERE secret = 'hunter2'",
                0,
            )
            .unwrap_err();
        assert_eq!(*err.code(), ErrorCode::SecurityViolation);
        assert_eq!(
            err.message(),
            "operation `query`: `DELETE` is not allowed here (only SELECT, WITH … SELECT or \
             VALUES)"
        );
        assert_eq!(err.context().get("operation"), Some(&"query".into()));
        assert!(err.context().get("hint").is_some());
        assert!(!err.to_string().contains("hunter2"));

        let err = policy
            .check_all(
                "transaction",
                Access::ReadWrite,
                [
                    ("INSERT INTO t VALUES ($1)", 1),
                    ("DROP TABLE IF EXISTS t", 0),
                ]
                .into_iter(),
            )
            .unwrap_err();
        assert_eq!(
            err.message(),
            "operation `transaction`, statement index 1 (of 2): `DROP TABLE` is not allowed here \
             (only SELECT, WITH … SELECT, VALUES, INSERT, UPDATE or DELETE)"
        );
        assert_eq!(err.context().get("statement"), Some(&1.into()));

        let err = policy
            .check("query", Access::Read, "SELEC 1", 0)
            .unwrap_err();
        assert_eq!(*err.code(), ErrorCode::InvalidInput);
        assert!(
            err.message()
                .starts_with("operation `query`: the statement does not parse")
        );
    }

    #[test]
    fn the_cache_is_bounded_and_per_access() {
        let policy = SqlPolicy::default().with_cache_capacity(2);
        policy.check("q", Access::Read, "SELECT 1", 0).unwrap();
        // Accepted as a read, still refused as a write.
        assert_eq!(
            rule(&policy, Access::Write, "SELECT 1", 0),
            Err("statement_kind".to_owned())
        );
        for n in 0..10 {
            policy
                .check("q", Access::Read, &format!("SELECT {n}"), 0)
                .unwrap();
        }
        let entries = policy.cache.entries.read().unwrap().len();
        assert!(entries <= 2, "{entries}");
        // No cache: every check parses, with the same verdicts.
        let uncached = SqlPolicy::default().with_cache_capacity(0);
        for (sql, params) in ACCEPTED_READS {
            assert_eq!(rule(&uncached, Access::Read, sql, *params), Ok(()), "{sql}");
        }
        assert!(uncached.cache.entries.read().unwrap().is_empty());
        // A clone keeps the rules, not the cache.
        let clone = policy.clone();
        assert!(clone.cache.entries.read().unwrap().is_empty());
        assert_eq!(clone.cache.capacity, 2);
    }
}
