//! [`PgPool::health`]: can the database be reached, how fast, and how busy is the pool.

use std::time::{Duration, Instant};

use tokio_postgres::SimpleQueryMessage;

use super::PgHealth;
use super::pool::PgPool;
use crate::error::{ErrorCode, OnexError};

/// What the health check asks (one round trip, simple protocol: nothing is prepared).
const PROBE: &str = "SELECT 1, current_setting('server_version')";

impl PgPool {
    /// Checks the database: `SELECT 1` and the server version, on a pooled write connection,
    /// within the connect timeout plus one second. Never fails: an unreachable or failing database
    /// is `healthy: false` with the reason (which never holds credentials).
    ///
    /// With `reconnect`, idle pooled connections (write and read) are dropped first, so the
    /// check (and the requests after it) open fresh ones: a way to recover after the
    /// database restarted. Connections in use are not touched. The report has both sets'
    /// status: `pool` ([`PgPool::status`]) and `read_pool` ([`PgPool::read_status`]).
    pub async fn health(&self, reconnect: bool) -> PgHealth {
        if reconnect {
            let dropped = self.pool().retain(|_, _| false).removed.len()
                + self.read_pool().retain(|_, _| false).removed.len();
            tracing::debug!(
                target: "onex_runtime::postgres",
                dropped,
                "dropped idle connections for a health check"
            );
        }
        let started = Instant::now();
        let limit = self.settings().connect_timeout() + Duration::from_secs(1);
        let result = match tokio::time::timeout(limit, self.probe()).await {
            Ok(result) => result,
            Err(_) => {
                let status = self.status();
                let why = if status.available == 0 && status.size >= status.max_size {
                    format!(
                        "all {} pooled connections to {} stayed busy for {} ms",
                        status.max_size,
                        self.settings().target(),
                        limit.as_millis()
                    )
                } else {
                    format!(
                        "no answer from {} within {} ms",
                        self.settings().target(),
                        limit.as_millis()
                    )
                };
                Err(self.scope("health").error(ErrorCode::OperationFailed, &why))
            }
        };
        let latency = started.elapsed();
        let (server_version, error) = match result {
            Ok(version) => (Some(version), None),
            Err(e) => (None, Some(e.message().to_owned())),
        };
        PgHealth {
            healthy: error.is_none(),
            latency,
            server_version,
            error,
            pool: self.status(),
            read_pool: self.read_status(),
        }
    }

    async fn probe(&self) -> Result<String, OnexError> {
        let scope = self.scope("health");
        let client = self.client(scope).await?;
        let result = client
            .simple_query(PROBE)
            .await
            .map_err(|e| scope.pg(&e))
            .and_then(|messages| {
                messages
                    .iter()
                    .find_map(|m| match m {
                        SimpleQueryMessage::Row(row) => row.get(1).map(str::to_owned),
                        _ => None,
                    })
                    .ok_or_else(|| {
                        scope.error(
                            ErrorCode::OperationFailed,
                            "the health query returned no row",
                        )
                    })
            });
        client.finish(&result);
        result
    }
}
