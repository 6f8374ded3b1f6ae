//! [`PgSettings`]: where the database is and how the pool behaves, with the password kept
//! out of every rendering.

use std::fmt;
use std::time::Duration;

use tokio_postgres::config::Host;

use crate::error::{ErrorCode, OnexError};

/// The default number of pooled connections.
const DEFAULT_MAX_SIZE: usize = 16;
/// The default time allowed to open a connection.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The default time a request may wait for a free connection.
const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(30);
/// The `application_name` connections report unless the connection string sets one.
const APPLICATION_NAME: &str = "onex";

/// How to reach PostgreSQL and how to pool connections to it.
///
/// Built from a connection string ([`PgSettings::parse`]: a `postgres://` URL or libpq
/// `key=value` pairs), from the environment ([`PgSettings::from_env`]) or for a local server
/// ([`PgSettings::local_default`]), then tuned with the `with_*` methods.
///
/// `Debug` and `Display` show the [redacted](PgSettings::redacted) form only: the password
/// never appears in logs.
///
/// ```
/// use std::time::Duration;
/// use onex_runtime::postgres::PgSettings;
///
/// let settings = PgSettings::parse("postgres://app:s3cret@db.internal:6432/orders")
///     .unwrap()
///     .with_max_size(8)
///     .with_connect_timeout(Duration::from_secs(1));
/// assert_eq!(settings.redacted(), "postgres://app:***@db.internal:6432/orders");
/// assert_eq!(settings.target(), "database orders at db.internal:6432");
/// assert!(!format!("{settings:?} {settings}").contains("s3cret"));
/// assert_eq!(settings.max_size(), 8);
/// ```
#[derive(Clone)]
pub struct PgSettings {
    config: tokio_postgres::Config,
    search_path: Option<String>,
    max_size: usize,
    connect_timeout: Duration,
    wait_timeout: Option<Duration>,
    read_only_transactions: bool,
}

impl PgSettings {
    /// The environment variable [`PgSettings::from_env`] reads first (`DATABASE_URL` second).
    pub const ENV: &'static str = "ONEX_POSTGRES_URL";

    /// The fallback environment variable [`PgSettings::from_env`] reads.
    pub const FALLBACK_ENV: &'static str = "DATABASE_URL";

    /// Settings from `ONEX_POSTGRES_URL`, else `DATABASE_URL`; `None` when neither is set (or
    /// both are empty).
    ///
    /// An unparsable value is an [`ErrorCode::InvalidInput`] error naming the variable (never
    /// its value).
    pub fn from_env() -> Result<Option<PgSettings>, OnexError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`PgSettings::from_env`] with the environment read through `lookup` (for tests, and for
    /// configuration sources other than the process environment).
    ///
    /// ```
    /// use onex_runtime::postgres::PgSettings;
    ///
    /// let env = |name: &str| (name == "DATABASE_URL").then(|| "postgres://u@h/db".to_owned());
    /// let settings = PgSettings::from_lookup(env).unwrap().unwrap();
    /// assert_eq!(settings.target(), "database db at h:5432");
    /// assert!(PgSettings::from_lookup(|_| None).unwrap().is_none());
    /// ```
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<PgSettings>, OnexError> {
        for name in [Self::ENV, Self::FALLBACK_ENV] {
            let Some(value) = lookup(name).filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            return Self::parse(&value).map(Some).map_err(|e| {
                OnexError::new(
                    e.code().clone(),
                    format!("environment variable {name}: {}", e.message()),
                )
                .with_context("variable", name)
            });
        }
        Ok(None)
    }

    /// Parses a connection string: a URL (`postgres://user:password@host:port/dbname?…`) or
    /// libpq `key=value` pairs (`host=… port=… user=… password=… dbname=…`).
    ///
    /// A `connect_timeout` in the string is kept; otherwise it is 2 s. An error is
    /// [`ErrorCode::InvalidInput`] and never quotes the string (it may hold a password).
    pub fn parse(conn: &str) -> Result<PgSettings, OnexError> {
        let config: tokio_postgres::Config = conn.trim().parse().map_err(|e| {
            let detail = std::error::Error::source(&e)
                .map(ToString::to_string)
                .filter(|d| d.starts_with("invalid value for") || d.starts_with("unknown option"));
            let message = match detail {
                Some(detail) => format!("invalid PostgreSQL connection string: {detail}"),
                None => "invalid PostgreSQL connection string".to_owned(),
            };
            OnexError::new(ErrorCode::InvalidInput, message)
        })?;
        Ok(Self::from_config(config))
    }

    /// Settings for a local server: `host=127.0.0.1 port=5432 user=postgres dbname=test`.
    pub fn local_default() -> PgSettings {
        let mut config = tokio_postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(5432)
            .user("postgres")
            .dbname("test");
        Self::from_config(config)
    }

    /// Settings around an already-built `tokio_postgres` configuration.
    pub fn from_config(config: tokio_postgres::Config) -> PgSettings {
        let connect_timeout = config
            .get_connect_timeout()
            .copied()
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        PgSettings {
            config,
            search_path: None,
            max_size: DEFAULT_MAX_SIZE,
            connect_timeout,
            wait_timeout: Some(DEFAULT_WAIT_TIMEOUT),
            read_only_transactions: false,
        }
    }

    /// Every connection runs with `search_path` set to this one schema (set at connection
    /// start-up, so it costs no round trip). Unqualified table names, and the idempotency
    /// table, resolve in it.
    #[must_use]
    pub fn with_search_path(mut self, schema: &str) -> Self {
        self.search_path = Some(schema.to_owned());
        self
    }

    /// The most connections the pool opens (default 16; at least 1).
    #[must_use]
    pub fn with_max_size(mut self, n: usize) -> Self {
        self.max_size = n.max(1);
        self
    }

    /// How long opening a connection may take (default 2 s).
    #[must_use]
    pub fn with_connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// How long a request may queue for a free connection (default 30 s; `None`: forever).
    #[must_use]
    pub fn with_wait_timeout(mut self, d: Option<Duration>) -> Self {
        self.wait_timeout = d;
        self
    }

    /// How reads ([`PgPool::query`](super::PgPool::query)) are kept read-only.
    ///
    /// `false` (the default): reads run as one plain statement on a second set of
    /// connections opened with `default_transaction_read_only=on` (no extra command per
    /// read; see the [module documentation](super#read-only-queries) for what that
    /// enforces and where). `true`: every read runs inside its own pipelined
    /// `BEGIN READ ONLY … COMMIT` on the ordinary connections, which also holds against a
    /// session setting changed half-way through a connection's life, at the cost of two more
    /// commands per read (about +60 µs per read on a development VM).
    ///
    /// ```
    /// use onex_runtime::postgres::PgSettings;
    ///
    /// let settings = PgSettings::local_default();
    /// assert!(!settings.read_only_transactions());
    /// assert!(settings.with_read_only_transactions(true).read_only_transactions());
    /// ```
    #[must_use]
    pub fn with_read_only_transactions(mut self, on: bool) -> Self {
        self.read_only_transactions = on;
        self
    }

    /// Whether every read runs in its own `BEGIN READ ONLY … COMMIT`
    /// ([`PgSettings::with_read_only_transactions`]).
    pub fn read_only_transactions(&self) -> bool {
        self.read_only_transactions
    }

    /// The schema set by [`PgSettings::with_search_path`].
    pub fn search_path(&self) -> Option<&str> {
        self.search_path.as_deref()
    }

    /// The pool size.
    pub fn max_size(&self) -> usize {
        self.max_size
    }

    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The wait timeout (`None`: forever).
    pub fn wait_timeout(&self) -> Option<Duration> {
        self.wait_timeout
    }

    /// The connection as a URL with the password, if any, replaced by `***`:
    /// `postgres://postgres:***@127.0.0.1:5432/test`.
    pub fn redacted(&self) -> String {
        let mut out = String::from("postgres://");
        if let Some(user) = self.config.get_user() {
            out.push_str(user);
            if self.config.get_password().is_some() {
                out.push_str(":***");
            }
            out.push('@');
        } else if self.config.get_password().is_some() {
            out.push_str(":***@");
        }
        out.push_str(&self.hosts());
        if let Some(db) = self.config.get_dbname() {
            out.push('/');
            out.push_str(db);
        }
        out
    }

    /// What the settings point at, without credentials: `database test at 127.0.0.1:5432`.
    pub fn target(&self) -> String {
        let db = self
            .config
            .get_dbname()
            .or(self.config.get_user())
            .unwrap_or("(default)");
        format!("database {db} at {}", self.hosts())
    }

    /// The password, for scrubbing it out of error messages.
    pub(crate) fn password(&self) -> Option<&[u8]> {
        self.config.get_password().filter(|p| !p.is_empty())
    }

    /// The `tokio_postgres` configuration connections are opened with: the parsed one plus the
    /// search path (as a start-up option), the connect timeout and an application name.
    pub(crate) fn connection_config(&self) -> tokio_postgres::Config {
        let mut config = self.config.clone();
        config.connect_timeout(self.connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name(APPLICATION_NAME);
        }
        if let Some(schema) = &self.search_path {
            let option = format!(
                "-c search_path={}",
                escape_option(&quote_identifier(schema))
            );
            append_option(&mut config, &option);
        }
        config
    }

    /// The configuration of the read connections: [`PgSettings::connection_config`] with
    /// `default_transaction_read_only` turned on at start-up (after any option already set,
    /// so it wins over one in the connection string).
    pub(crate) fn read_connection_config(&self) -> tokio_postgres::Config {
        let mut config = self.connection_config();
        append_option(&mut config, "-c default_transaction_read_only=on");
        config
    }

    /// `host:port` for every host, comma-separated.
    fn hosts(&self) -> String {
        let hosts = self.config.get_hosts();
        let ports = self.config.get_ports();
        let port_of = |i: usize| match ports {
            [] => 5432,
            [one] => *one,
            many => many.get(i).copied().unwrap_or(5432),
        };
        if hosts.is_empty() {
            let addrs = self.config.get_hostaddrs();
            if addrs.is_empty() {
                return "(no host)".to_owned();
            }
            return addrs
                .iter()
                .enumerate()
                .map(|(i, a)| format!("{a}:{}", port_of(i)))
                .collect::<Vec<_>>()
                .join(",");
        }
        hosts
            .iter()
            .enumerate()
            .map(|(i, h)| match h {
                Host::Tcp(name) => format!("{name}:{}", port_of(i)),
                #[cfg(unix)]
                Host::Unix(path) => format!("{}:{}", path.display(), port_of(i)),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgSettings")
            .field("url", &self.redacted())
            .field("search_path", &self.search_path)
            .field("max_size", &self.max_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("wait_timeout", &self.wait_timeout)
            .field("read_only_transactions", &self.read_only_transactions)
            .finish()
    }
}

impl fmt::Display for PgSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Adds a start-up option after those already in `config`.
fn append_option(config: &mut tokio_postgres::Config, option: &str) {
    let options = match config.get_options() {
        Some(existing) if !existing.trim().is_empty() => format!("{existing} {option}"),
        _ => option.to_owned(),
    };
    config.options(options);
}

/// `name` as a double-quoted SQL identifier.
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Escapes a value for the start-up `options` string, where spaces separate arguments and a
/// backslash escapes the next character.
fn escape_option(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c == '\\' || c.is_whitespace() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_and_key_value_parse_alike() {
        let url = PgSettings::parse("postgres://app:pw%40x@db:6000/orders").expect("url");
        let kv = PgSettings::parse("host=db port=6000 user=app password='pw@x' dbname=orders")
            .expect("key=value");
        assert_eq!(url.redacted(), "postgres://app:***@db:6000/orders");
        assert_eq!(kv.redacted(), url.redacted());
        assert_eq!(url.password(), Some(&b"pw@x"[..]));
        assert_eq!(kv.password(), Some(&b"pw@x"[..]));
        assert_eq!(url.target(), "database orders at db:6000");
    }

    #[test]
    fn defaults_and_builders() {
        let s = PgSettings::local_default();
        assert_eq!(s.redacted(), "postgres://postgres@127.0.0.1:5432/test");
        assert_eq!(s.target(), "database test at 127.0.0.1:5432");
        assert_eq!(s.max_size(), 16);
        assert_eq!(s.connect_timeout(), Duration::from_secs(2));
        assert_eq!(s.wait_timeout(), Some(Duration::from_secs(30)));
        let s = s
            .with_max_size(0)
            .with_wait_timeout(None)
            .with_connect_timeout(Duration::from_millis(300))
            .with_search_path("tenant a");
        assert_eq!(s.max_size(), 1);
        assert_eq!(s.wait_timeout(), None);
        let config = s.connection_config();
        assert_eq!(config.get_options(), Some("-c search_path=\"tenant\\ a\""));
        assert_eq!(
            config.get_connect_timeout(),
            Some(&Duration::from_millis(300))
        );
        assert_eq!(config.get_application_name(), Some("onex"));
    }

    #[test]
    fn connect_timeout_from_the_string_is_kept_and_options_are_appended() {
        let s = PgSettings::parse(
            "postgres://u@h/db?connect_timeout=7&options=-c%20statement_timeout%3D5000",
        )
        .expect("parses")
        .with_search_path("s");
        assert_eq!(s.connect_timeout(), Duration::from_secs(7));
        assert_eq!(
            s.connection_config().get_options(),
            Some("-c statement_timeout=5000 -c search_path=\"s\"")
        );
        assert_eq!(
            s.read_connection_config().get_options(),
            Some(
                "-c statement_timeout=5000 -c search_path=\"s\" \
                 -c default_transaction_read_only=on"
            )
        );
        assert_eq!(
            PgSettings::local_default()
                .read_connection_config()
                .get_options(),
            Some("-c default_transaction_read_only=on")
        );
    }

    #[test]
    fn renderings_never_show_the_password() {
        let s = PgSettings::parse("postgres://admin:hunter2-secret@10.0.0.5:5432/prod")
            .expect("parses");
        for text in [
            format!("{s:?}"),
            format!("{s:#?}"),
            format!("{s}"),
            s.redacted(),
            s.target(),
        ] {
            assert!(!text.contains("hunter2"), "{text}");
        }
        assert!(format!("{s}").contains("admin:***@10.0.0.5"));
    }

    #[test]
    fn parse_errors_do_not_quote_the_string() {
        let err = PgSettings::parse("host=h port=notaport password=hunter2").unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert!(err.message().contains("port"), "{}", err.message());
        assert!(!err.message().contains("hunter2"));
        let err = PgSettings::parse("postgres://u:hunter2@h/db?bogus=1").unwrap_err();
        assert!(!err.message().contains("hunter2"), "{}", err.message());
        assert!(err.message().contains("bogus"), "{}", err.message());
    }

    #[test]
    fn env_precedence() {
        let both = |name: &str| match name {
            "ONEX_POSTGRES_URL" => Some("postgres://u@first/a".to_owned()),
            "DATABASE_URL" => Some("postgres://u@second/b".to_owned()),
            _ => None,
        };
        let s = PgSettings::from_lookup(both).expect("ok").expect("some");
        assert_eq!(s.target(), "database a at first:5432");

        let fallback = |name: &str| match name {
            "ONEX_POSTGRES_URL" => Some("  ".to_owned()),
            "DATABASE_URL" => Some("postgres://u@second/b".to_owned()),
            _ => None,
        };
        let s = PgSettings::from_lookup(fallback)
            .expect("ok")
            .expect("some");
        assert_eq!(s.target(), "database b at second:5432");

        assert!(PgSettings::from_lookup(|_| None).expect("ok").is_none());

        let bad = |name: &str| {
            (name == "ONEX_POSTGRES_URL").then(|| "host=h port=x password=topsecret".to_owned())
        };
        let err = PgSettings::from_lookup(bad).unwrap_err();
        assert!(err.message().contains("ONEX_POSTGRES_URL"));
        assert!(!err.message().contains("topsecret"));
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(escape_option("a b\\c"), "a\\ b\\\\c");
    }
}
