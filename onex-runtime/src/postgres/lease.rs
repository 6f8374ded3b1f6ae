//! [`Lease`]: a pooled connection held for one request, which is returned to the pool when
//! the request finishes, and discarded (its running statement canceled) when the request is
//! abandoned half-way (its future dropped, typically by a policy timeout).

use std::ops::{Deref, DerefMut};

use deadpool_postgres::Object;
use tokio_postgres::{CancelToken, NoTls};

use super::error::{connection_broken, stale_statement};
use crate::error::OnexError;

/// A connection taken from the pool for one request.
pub(crate) struct Lease {
    /// The connection; `None` once [`Lease::finish`] handed it back.
    client: Option<Object>,
    /// Cancels the statement running on it, if the request is abandoned.
    cancel: CancelToken,
}

impl Lease {
    /// Leases `client`.
    pub(crate) fn new(client: Object) -> Self {
        let cancel = client.cancel_token();
        Lease {
            client: Some(client),
            cancel,
        }
    }

    /// Ends the request: the connection goes back to the pool, unless `result` says it
    /// broke (closed, lost, terminated by the server), in which case it is dropped so that
    /// the next request does not find it dead. A stale cached statement
    /// ([`stale_statement`]) clears the connection's statement cache.
    pub(crate) fn finish<T>(mut self, result: &Result<T, OnexError>) {
        let Some(client) = self.client.take() else {
            return;
        };
        if let Err(e) = result {
            if connection_broken(e) {
                drop(Object::take(client));
            } else if stale_statement(e) {
                client.statement_cache.clear();
            }
        }
    }
}

impl Lease {
    /// Ends the request and drops the connection instead of handing it back.
    pub(crate) fn discard(mut self) {
        if let Some(client) = self.client.take() {
            drop(Object::take(client));
        }
    }
}

impl Deref for Lease {
    type Target = Object;

    fn deref(&self) -> &Object {
        // `client` is only `None` after `finish`, which consumes the lease.
        self.client
            .as_ref()
            .unwrap_or_else(|| unreachable!("a finished lease is gone"))
    }
}

impl DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut Object {
        self.client
            .as_mut()
            .unwrap_or_else(|| unreachable!("a finished lease is gone"))
    }
}

impl Drop for Lease {
    /// The request was abandoned: whatever it was running may still be running. The
    /// connection is taken out of the pool (so a late cancel can never reach another
    /// request's statement), and the server is asked to cancel the statement, so an
    /// abandoned transaction is rolled back now rather than when its statement ends.
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        drop(Object::take(client));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let cancel = self.cancel.clone();
            runtime.spawn(async move {
                if let Err(e) = cancel.cancel_query(NoTls).await {
                    tracing::debug!(
                        target: "onex_runtime::postgres",
                        error = %e,
                        "canceling an abandoned statement failed"
                    );
                }
            });
        }
        tracing::debug!(
            target: "onex_runtime::postgres",
            "a request was abandoned; its connection was dropped"
        );
    }
}
