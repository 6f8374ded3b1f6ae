//! [`HostConfig`]: the limits and timings of a [`NodeHost`](super::NodeHost).

use std::time::Duration;

use crate::retry::RetryPolicy;

/// How a [`NodeHost`](super::NodeHost) consumes, retries and shuts down.
///
/// Build one with struct-update syntax over the defaults:
///
/// ```
/// use std::time::Duration;
/// use onex_runtime::host::HostConfig;
///
/// let config = HostConfig {
///     max_deliver: 3,
///     drain_timeout: Duration::from_secs(5),
///     ..HostConfig::default()
/// };
/// assert_eq!(config.max_envelope_bytes, 1024 * 1024);
/// assert_eq!(config.max_concurrency, 64);
/// assert_eq!(config.nack_delay(1), Duration::from_millis(100));
/// assert_eq!(config.nack_delay(3), Duration::from_millis(400));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct HostConfig {
    /// The largest envelope (in bytes) a node accepts; larger ones go to the DLQ with an
    /// [`ErrorCode::InvalidInput`](crate::ErrorCode::InvalidInput) error without being
    /// parsed. Default 1 MiB.
    pub max_envelope_bytes: usize,
    /// How many envelopes one node processes at once (each node has its own limit; a
    /// reducer always processes one at a time, in delivery order). Default 64; 0 counts as 1.
    pub max_concurrency: usize,
    /// How long a delivery may stay unsettled before the bus redelivers it (passed to the
    /// bus with each subscription). Default 30 s.
    pub ack_wait: Duration,
    /// How many times a message is delivered at most, the first delivery included. A
    /// transient failure on the last delivery sends the message to the DLQ. Default 5; 0
    /// counts as 1.
    pub max_deliver: u32,
    /// The delay before a redelivery after a transient failure: the `n`-th failed delivery
    /// waits the policy's `n`-th delay (its `max_retries` is ignored: `max_deliver` bounds
    /// the redeliveries). Default 100 ms, doubling, at most 10 s.
    pub retry_backoff: RetryPolicy,
    /// The backoff between attempts to (re)subscribe after a subscription failed or ended.
    /// `max_retries` bounds the attempts of one outage; once spent, the subscription is
    /// given up and the node reported failing. Default: forever, 100 ms doubling to at most
    /// 5 s, with a ±20 % jitter.
    pub resubscribe_backoff: RetryPolicy,
    /// How long [`NodeHost::shutdown`](super::NodeHost::shutdown) waits for in-flight
    /// envelopes to finish; those still running then are nacked for redelivery. Default 30 s.
    pub drain_timeout: Duration,
    /// The prefix of the durable consumer names (`<prefix>-<node-name-in-kebab-case>`).
    /// Hosts with the same prefix share the work of a node and resume where the last one
    /// stopped.
    /// Default `onex-host`.
    pub durable_prefix: String,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            max_envelope_bytes: 1024 * 1024,
            max_concurrency: 64,
            ack_wait: Duration::from_secs(30),
            max_deliver: 5,
            retry_backoff: RetryPolicy::new(u32::MAX, Duration::from_millis(100))
                .with_max_delay(Some(Duration::from_secs(10))),
            resubscribe_backoff: RetryPolicy::new(u32::MAX, Duration::from_millis(100))
                .with_max_delay(Some(Duration::from_secs(5)))
                .with_jitter(0.2),
            drain_timeout: Duration::from_secs(30),
            durable_prefix: "onex-host".to_owned(),
        }
    }
}

impl HostConfig {
    /// The delay before redelivering a message whose `attempt`-th delivery (1 for the
    /// first) failed transiently: the `attempt`-th delay of
    /// [`retry_backoff`](Self::retry_backoff).
    pub fn nack_delay(&self, attempt: u32) -> Duration {
        self.retry_backoff
            .with_max_retries(attempt.max(1))
            .delays()
            .last()
            .unwrap_or(Duration::ZERO)
    }

    /// [`max_deliver`](Self::max_deliver), at least 1.
    pub(crate) fn deliveries(&self) -> u32 {
        self.max_deliver.max(1)
    }

    /// [`max_concurrency`](Self::max_concurrency), between 1 and what a semaphore holds.
    pub(crate) fn concurrency(&self) -> usize {
        let most = tokio::sync::Semaphore::MAX_PERMITS.min(u32::MAX as usize);
        self.max_concurrency.clamp(1, most)
    }
}
