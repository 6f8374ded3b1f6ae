//! The per-envelope context handlers receive: correlation id, deadline, tracing span, attempt.

use std::time::Duration;

use tokio::time::Instant;
use uuid::Uuid;

use crate::envelope::Envelope;
use crate::error::OnexError;

/// What a handler knows about the envelope it is processing.
///
/// Built by the node (see [`EffectNode::process`](crate::EffectNode::process)) from the
/// incoming envelope: the correlation id (the envelope's, else its `envelope_id`), the node
/// name, a deadline from the envelope's `timeout_seconds` (counted from when the context is
/// created), the attempt number (the envelope's `retry_count`) and a `tracing` span
/// `onex.node` with the fields `node`, `correlation_id` and `operation` (recorded later with
/// [`record_operation`](EffectContext::record_operation)).
///
/// Creating a context needs no tokio runtime.
///
/// ```
/// use onex_runtime::{EffectContext, Envelope};
///
/// let envelope = Envelope::new(()).with_timeout_seconds(30);
/// let ctx = EffectContext::for_envelope(&envelope, "node_postgres_adapter_effect");
/// assert_eq!(ctx.correlation_id(), envelope.envelope_id);
/// assert_eq!(ctx.node_name(), "node_postgres_adapter_effect");
/// assert!(ctx.remaining().is_some_and(|left| left.as_secs() <= 30));
/// assert!(!ctx.is_expired());
/// ```
#[derive(Clone, Debug)]
pub struct EffectContext {
    correlation_id: Uuid,
    node_name: &'static str,
    deadline: Option<Instant>,
    span: tracing::Span,
    attempt: u32,
}

/// The `onex.node` span.
fn node_span(node_name: &'static str, correlation_id: Uuid) -> tracing::Span {
    tracing::info_span!(
        "onex.node",
        node = node_name,
        correlation_id = %correlation_id,
        operation = tracing::field::Empty,
    )
}

impl EffectContext {
    /// A context for the given correlation id, without node name (empty), deadline or retries.
    pub fn new(correlation_id: Uuid) -> Self {
        EffectContext {
            correlation_id,
            node_name: "",
            deadline: None,
            span: node_span("", correlation_id),
            attempt: 0,
        }
    }

    /// The context for processing `envelope` in the node `node_name`.
    ///
    /// The correlation id is the envelope's `correlation_id`, else its `envelope_id`; the
    /// deadline is now plus `timeout_seconds` (none without a timeout); the attempt is the
    /// envelope's `retry_count`.
    pub fn for_envelope<T>(envelope: &Envelope<T>, node_name: &'static str) -> Self {
        let correlation_id = envelope.correlation_id.unwrap_or(envelope.envelope_id);
        let deadline = envelope
            .timeout_seconds
            .and_then(|secs| Instant::now().checked_add(Duration::from_secs(u64::from(secs))));
        EffectContext {
            correlation_id,
            node_name,
            deadline,
            span: node_span(node_name, correlation_id),
            attempt: envelope.retry_count,
        }
    }

    /// Sets the deadline (replacing any previous one).
    #[must_use]
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Names the node handling the request (and renames the span's `node` field).
    #[must_use]
    pub fn with_node_name(mut self, node_name: &'static str) -> Self {
        self.node_name = node_name;
        self.span = node_span(node_name, self.correlation_id);
        self
    }

    /// Sets the attempt number (0 for the first attempt).
    #[must_use]
    pub fn with_attempt(mut self, attempt: u32) -> Self {
        self.attempt = attempt;
        self
    }

    /// The correlation id of the request being processed.
    pub fn correlation_id(&self) -> Uuid {
        self.correlation_id
    }

    /// The name of the node processing the request (empty when unknown).
    pub fn node_name(&self) -> &'static str {
        self.node_name
    }

    /// When processing must be finished, if the request has a timeout.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The time left before the deadline (zero once it has passed), if there is one.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }

    /// True once the deadline has passed (never without a deadline).
    pub fn is_expired(&self) -> bool {
        self.deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
    }

    /// An [`ErrorCode::Timeout`](crate::ErrorCode::Timeout) error (with the correlation id)
    /// if the deadline has passed.
    pub fn check_deadline(&self) -> Result<(), OnexError> {
        if self.is_expired() {
            Err(
                OnexError::timeout(format!("deadline exceeded in node '{}'", self.node_name))
                    .with_correlation_id(self.correlation_id),
            )
        } else {
            Ok(())
        }
    }

    /// The `onex.node` tracing span of this request.
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Records the operation being processed in the span's `operation` field.
    pub fn record_operation(&self, operation: &str) {
        self.span.record("operation", operation);
    }

    /// The attempt number: 0 for the first attempt, then the envelope's retry count.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn new_has_no_deadline() {
        let id = Uuid::new_v4();
        let ctx = EffectContext::new(id);
        assert_eq!(ctx.correlation_id(), id);
        assert_eq!(ctx.node_name(), "");
        assert_eq!(ctx.deadline(), None);
        assert_eq!(ctx.remaining(), None);
        assert!(!ctx.is_expired());
        assert!(ctx.check_deadline().is_ok());
        assert_eq!(ctx.attempt(), 0);
    }

    #[test]
    fn for_envelope_takes_correlation_timeout_and_retries() {
        let correlation = Uuid::new_v4();
        let mut env = Envelope::new(())
            .with_correlation_id(correlation)
            .with_timeout_seconds(5);
        env.retry_count = 2;
        let ctx = EffectContext::for_envelope(&env, "node_x");
        assert_eq!(ctx.correlation_id(), correlation);
        assert_eq!(ctx.node_name(), "node_x");
        assert_eq!(ctx.attempt(), 2);
        let left = ctx.remaining().unwrap_or_default();
        assert!(left > Duration::from_secs(4) && left <= Duration::from_secs(5));
        ctx.record_operation("x.op");
        let _entered = ctx.span().enter();

        let uncorrelated = Envelope::new(1);
        let ctx = EffectContext::for_envelope(&uncorrelated, "node_x");
        assert_eq!(ctx.correlation_id(), uncorrelated.envelope_id);
        assert_eq!(ctx.deadline(), None);
    }

    #[test]
    fn past_deadline_is_expired() {
        let ctx = EffectContext::new(Uuid::new_v4()).with_deadline(Instant::now());
        assert!(ctx.is_expired());
        assert_eq!(ctx.remaining(), Some(Duration::ZERO));
        let err = ctx.check_deadline().err();
        assert_eq!(err.as_ref().map(OnexError::code), Some(&ErrorCode::Timeout));
        assert_eq!(
            err.and_then(|e| e.correlation_id()),
            Some(ctx.correlation_id())
        );
    }
}
