//! The ONEX event envelope, wire-compatible with ONEX `ModelEventEnvelope`.
//!
//! Field names, types and defaults follow the Python reference (omnibase_core 0.46.8,
//! `models/events/model_event_envelope.py`, `models/core/model_envelope_metadata.py` and
//! `models/primitives/model_semver.py`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::ser::{Error as _, SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::error::OnexError;

/// The metadata tag under which the reference records causation
/// (`runtime_envelope_router.CAUSATION_ID_TAG`): the `envelope_id` of the envelope that caused
/// this one.
const CAUSATION_ID_TAG: &str = "causation_id";

/// The current time in UTC, truncated to microseconds (the precision of the wire format).
pub(crate) fn now_micros() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Formats a timestamp as the reference (pydantic) does: RFC 3339 in UTC with `Z`, six
/// fractional digits, the fraction omitted when it is zero (`2026-11-20T12:30:45.123456Z`).
pub(crate) fn format_timestamp(at: &DateTime<Utc>) -> String {
    if at.timestamp_subsec_micros() == 0 {
        at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }
}

/// Parses an RFC 3339 timestamp (any offset, converted to UTC; a timestamp without offset is
/// taken as UTC), truncated to microseconds.
pub(crate) fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc).trunc_subsecs(6));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|naive| naive.and_utc().trunc_subsecs(6))
        .map_err(|e| format!("invalid timestamp {text:?} (expected RFC 3339): {e}"))
}

/// Serde helpers for `envelope_timestamp`.
mod timestamp {
    use super::*;

    pub(super) fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_timestamp(at))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => parse_timestamp(&text).map_err(D::Error::custom),
            None => Ok(now_micros()),
        }
    }
}

/// Serde helpers for `priority` (1..=10).
mod priority {
    use super::*;

    pub(super) fn serialize<S: Serializer>(p: &u8, s: S) -> Result<S::Ok, S::Error> {
        if (Envelope::<()>::MIN_PRIORITY..=Envelope::<()>::MAX_PRIORITY).contains(p) {
            s.serialize_u8(*p)
        } else {
            Err(S::Error::custom(format!(
                "priority must be between 1 and 10, got {p}"
            )))
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
        match Option::<i64>::deserialize(d)? {
            None => Ok(Envelope::<()>::DEFAULT_PRIORITY),
            Some(p) => u8::try_from(p)
                .ok()
                .filter(|p| {
                    (Envelope::<()>::MIN_PRIORITY..=Envelope::<()>::MAX_PRIORITY).contains(p)
                })
                .ok_or_else(|| {
                    D::Error::custom(format!("priority must be between 1 and 10, got {p}"))
                }),
        }
    }
}

/// Serde helpers for `timeout_seconds` (a positive integer or null).
mod timeout {
    use super::*;

    pub(super) fn serialize<S: Serializer>(t: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            None => s.serialize_none(),
            Some(0) => Err(S::Error::custom(
                "timeout_seconds must be greater than 0 (use None for no timeout)",
            )),
            Some(t) => s.serialize_some(t),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        match Option::<i64>::deserialize(d)? {
            None => Ok(None),
            Some(t) => u32::try_from(t)
                .ok()
                .filter(|t| *t > 0)
                .map(Some)
                .ok_or_else(|| {
                    D::Error::custom(format!(
                        "timeout_seconds must be a positive integer below 2^32, got {t}"
                    ))
                }),
        }
    }
}

/// Deserializes `null` as the type's default (the reference's defaults apply to absent fields;
/// onex also applies them to explicit nulls).
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn default_onex_version<'de, D: Deserializer<'de>>(d: D) -> Result<SemVer, D::Error> {
    Ok(Option::<SemVer>::deserialize(d)?.unwrap_or(SemVer::ONEX_VERSION))
}

fn default_envelope_version<'de, D: Deserializer<'de>>(d: D) -> Result<SemVer, D::Error> {
    Ok(Option::<SemVer>::deserialize(d)?.unwrap_or(SemVer::ENVELOPE_VERSION))
}

/// A semantic version, as the reference's `ModelSemVer`.
///
/// On the wire: `{"major": 1, "minor": 0, "patch": 0, "prerelease": null, "build": null}`.
/// The reference stores prerelease and build identifiers as JSON arrays (`["alpha", 1]`,
/// `["build", "123"]`); here they are kept in their dot-joined string form (`"alpha.1"`,
/// `"build.123"`) and converted back to arrays when serialized (purely numeric prerelease
/// identifiers without leading zeros become JSON numbers, as the reference normalizes them).
/// Strings are accepted on input too.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SemVer {
    /// Major version.
    pub major: u64,
    /// Minor version.
    pub minor: u64,
    /// Patch version.
    pub patch: u64,
    /// Prerelease identifiers, dot-separated (`alpha.1`), without the leading `-`.
    pub prerelease: Option<String>,
    /// Build metadata identifiers, dot-separated (`build.123`), without the leading `+`.
    pub build: Option<String>,
}

impl SemVer {
    /// The default `onex_version` of an envelope: 1.0.0.
    pub const ONEX_VERSION: SemVer = SemVer::new(1, 0, 0);
    /// The default `envelope_version` of an envelope: 2.1.0.
    pub const ENVELOPE_VERSION: SemVer = SemVer::new(2, 1, 0);

    /// A release version `major.minor.patch` (no prerelease, no build metadata).
    pub const fn new(major: u64, minor: u64, patch: u64) -> Self {
        SemVer {
            major,
            minor,
            patch,
            prerelease: None,
            build: None,
        }
    }
}

impl fmt::Display for SemVer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some(pre) = &self.prerelease {
            write!(f, "-{pre}")?;
        }
        if let Some(build) = &self.build {
            write!(f, "+{build}")?;
        }
        Ok(())
    }
}

impl FromStr for SemVer {
    type Err = OnexError;

    /// Parses `MAJOR.MINOR.PATCH[-prerelease][+build]`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || OnexError::invalid_input(format!("invalid semantic version {s:?}"));
        let (rest, build) = match s.split_once('+') {
            Some((rest, build)) => (rest, Some(build)),
            None => (s, None),
        };
        let (core, prerelease) = match rest.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (rest, None),
        };
        let mut numbers = core.split('.').map(|n| {
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                n.parse::<u64>().ok()
            }
        });
        let (Some(Some(major)), Some(Some(minor)), Some(Some(patch)), None) = (
            numbers.next(),
            numbers.next(),
            numbers.next(),
            numbers.next(),
        ) else {
            return Err(invalid());
        };
        let identifiers_ok = |text: &str| {
            text.split('.').all(|id| {
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
        };
        if prerelease.is_some_and(|p| !identifiers_ok(p))
            || build.is_some_and(|b| !identifiers_ok(b))
        {
            return Err(invalid());
        }
        Ok(SemVer {
            major,
            minor,
            patch,
            prerelease: prerelease.map(str::to_owned),
            build: build.map(str::to_owned),
        })
    }
}

/// Converts a dot-joined identifier string to the reference's array form.
fn identifiers_to_json(text: &Option<String>, numeric: bool) -> Value {
    match text {
        None => Value::Null,
        Some(text) if text.is_empty() => Value::Null,
        Some(text) => Value::Array(
            text.split('.')
                .map(|id| {
                    let is_number = numeric
                        && !id.is_empty()
                        && id.bytes().all(|b| b.is_ascii_digit())
                        && (id == "0" || !id.starts_with('0'));
                    match id.parse::<u64>() {
                        Ok(n) if is_number => Value::from(n),
                        _ => Value::from(id),
                    }
                })
                .collect(),
        ),
    }
}

/// Converts the reference's array form (or a dot-joined string) to a dot-joined string.
fn identifiers_from_json<E: serde::de::Error>(
    value: Value,
    field: &str,
) -> Result<Option<String>, E> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) if text.is_empty() => Ok(None),
        Value::String(text) => Ok(Some(text)),
        Value::Array(items) if items.is_empty() => Ok(None),
        Value::Array(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => parts.push(s),
                    Value::Number(n) if n.is_u64() => parts.push(n.to_string()),
                    other => {
                        return Err(E::custom(format!(
                            "{field} identifiers must be strings or non-negative integers, got {other}"
                        )));
                    }
                }
            }
            Ok(Some(parts.join(".")))
        }
        other => Err(E::custom(format!(
            "{field} must be an array of identifiers or null, got {other}"
        ))),
    }
}

impl Serialize for SemVer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("SemVer", 5)?;
        s.serialize_field("major", &self.major)?;
        s.serialize_field("minor", &self.minor)?;
        s.serialize_field("patch", &self.patch)?;
        s.serialize_field("prerelease", &identifiers_to_json(&self.prerelease, true))?;
        s.serialize_field("build", &identifiers_to_json(&self.build, false))?;
        s.end()
    }
}

impl<'de> Deserialize<'de> for SemVer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            major: u64,
            minor: u64,
            patch: u64,
            #[serde(default)]
            prerelease: Value,
            #[serde(default)]
            build: Value,
        }
        let wire = Wire::deserialize(deserializer)?;
        Ok(SemVer {
            major: wire.major,
            minor: wire.minor,
            patch: wire.patch,
            prerelease: identifiers_from_json(wire.prerelease, "prerelease")?,
            build: identifiers_from_json(wire.build, "build")?,
        })
    }
}

/// Envelope metadata, as the reference's `ModelEnvelopeMetadata`: tracing ids, request id,
/// protocol headers and tags (both string-to-string maps in the reference).
///
/// Causation is recorded as the reference does, in `tags["causation_id"]` (see
/// [`Envelope::causation_id`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EnvelopeMetadata {
    /// Distributed tracing id (for example an OpenTelemetry trace id).
    pub trace_id: Option<String>,
    /// Span id of the current operation.
    pub span_id: Option<String>,
    /// Span id of the parent operation.
    pub parent_span_id: Option<String>,
    /// Request identifier, as set by the originating service or gateway.
    pub request_id: Option<String>,
    /// Protocol headers.
    #[serde(deserialize_with = "null_default")]
    pub headers: BTreeMap<String, String>,
    /// Tags and labels (`message_category`, `causation_id`, environment, …).
    #[serde(deserialize_with = "null_default")]
    pub tags: BTreeMap<String, String>,
}

/// An ONEX event envelope carrying a payload of type `T`, JSON-compatible with the reference's
/// `ModelEventEnvelope`.
///
/// Every field of the reference is here and is always serialized (nulls included). On input,
/// unknown fields are ignored and absent fields take the reference's defaults (a fresh
/// `envelope_id`, the current time, priority 5, versions 1.0.0 and 2.1.0); only `payload` is
/// required. Timestamps are written as RFC 3339 UTC with microseconds
/// (`2026-11-20T12:30:45.123456Z`, the fraction omitted when zero, as pydantic does).
///
/// ```
/// use onex_runtime::Envelope;
/// use serde_json::json;
///
/// let json = br#"{"payload": {"operation": "postgres.query", "sql": "SELECT 1"},
///                 "correlation_id": "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
///                 "source_tool": "node_orchestrator", "priority": 7}"#;
/// let request = Envelope::from_json(json).unwrap();
/// assert_eq!(request.payload["sql"], "SELECT 1");
/// assert_eq!(request.priority, 7);
///
/// let (payload, request) = request.take_payload();
/// assert_eq!(payload["operation"], "postgres.query");
/// let reply = request.reply(json!({"rows": []}));
/// assert_eq!(reply.correlation_id, request.correlation_id);
/// assert_eq!(reply.causation_id(), Some(request.envelope_id));
/// assert_eq!(reply.target_tool.as_deref(), Some("node_orchestrator"));
///
/// let wire = reply.to_json().unwrap();
/// let back = Envelope::from_json(&wire).unwrap();
/// assert_eq!(back, reply);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "T: Serialize", deserialize = "T: Deserialize<'de>"))]
pub struct Envelope<T> {
    /// The wrapped payload.
    pub payload: T,
    /// Unique id of this envelope.
    #[serde(default = "Uuid::new_v4")]
    pub envelope_id: Uuid,
    /// When the envelope was created (UTC, microsecond precision on the wire).
    #[serde(default = "now_micros", with = "timestamp")]
    pub envelope_timestamp: DateTime<Utc>,
    /// Correlation id shared by a request and everything it causes.
    #[serde(default)]
    pub correlation_id: Option<Uuid>,
    /// The tool (node) that created the envelope.
    #[serde(default)]
    pub source_tool: Option<String>,
    /// The intended recipient tool (node).
    #[serde(default)]
    pub target_tool: Option<String>,
    /// Tracing ids, headers and tags.
    #[serde(default, deserialize_with = "null_default")]
    pub metadata: EnvelopeMetadata,
    /// The reference's `ModelSecurityContext`, kept as raw JSON.
    #[serde(default)]
    pub security_context: Option<Value>,
    /// Dot-path routing key, usually the topic (`onex.cmd.postgres-adapter.query.v1`).
    #[serde(default)]
    pub event_type: Option<String>,
    /// Model name of the payload (`ModelUserCreatedEvent`), used by `payload_type_match`
    /// routing.
    #[serde(default)]
    pub payload_type: Option<String>,
    /// Schema version of the payload type.
    #[serde(default)]
    pub payload_schema_version: Option<SemVer>,
    /// Priority, 1..=10 (10 highest), default 5. Out-of-range values fail (de)serialization.
    #[serde(default = "default_priority", with = "priority")]
    pub priority: u8,
    /// Timeout in seconds (positive), if any.
    #[serde(default, with = "timeout")]
    pub timeout_seconds: Option<u32>,
    /// Number of retries so far (0 on the first attempt).
    #[serde(default, deserialize_with = "null_default")]
    pub retry_count: u32,
    /// Request id (a UUID in the reference).
    #[serde(default)]
    pub request_id: Option<Uuid>,
    /// Distributed trace id (a UUID in the reference).
    #[serde(default)]
    pub trace_id: Option<Uuid>,
    /// Trace span id (a UUID in the reference).
    #[serde(default)]
    pub span_id: Option<Uuid>,
    /// ONEX standard version, default 1.0.0.
    #[serde(
        default = "default_onex_version_value",
        deserialize_with = "default_onex_version"
    )]
    pub onex_version: SemVer,
    /// Envelope schema version, default 2.1.0.
    #[serde(
        default = "default_envelope_version_value",
        deserialize_with = "default_envelope_version"
    )]
    pub envelope_version: SemVer,
}

fn default_priority() -> u8 {
    Envelope::<()>::DEFAULT_PRIORITY
}

fn default_onex_version_value() -> SemVer {
    SemVer::ONEX_VERSION
}

fn default_envelope_version_value() -> SemVer {
    SemVer::ENVELOPE_VERSION
}

impl<T> Envelope<T> {
    /// The default priority (5).
    pub const DEFAULT_PRIORITY: u8 = 5;
    /// The lowest priority (1).
    pub const MIN_PRIORITY: u8 = 1;
    /// The highest priority (10).
    pub const MAX_PRIORITY: u8 = 10;

    /// A new envelope around `payload`: a fresh v4 `envelope_id`, the current time, and the
    /// reference's defaults for everything else.
    pub fn new(payload: T) -> Self {
        Envelope {
            payload,
            envelope_id: Uuid::new_v4(),
            envelope_timestamp: now_micros(),
            correlation_id: None,
            source_tool: None,
            target_tool: None,
            metadata: EnvelopeMetadata::default(),
            security_context: None,
            event_type: None,
            payload_type: None,
            payload_schema_version: None,
            priority: Self::DEFAULT_PRIORITY,
            timeout_seconds: None,
            retry_count: 0,
            request_id: None,
            trace_id: None,
            span_id: None,
            onex_version: SemVer::ONEX_VERSION,
            envelope_version: SemVer::ENVELOPE_VERSION,
        }
    }

    /// Replaces the payload, keeping every other field; returns the old payload and the new
    /// envelope.
    fn replace_payload<U>(self, payload: U) -> (T, Envelope<U>) {
        let Envelope {
            payload: old,
            envelope_id,
            envelope_timestamp,
            correlation_id,
            source_tool,
            target_tool,
            metadata,
            security_context,
            event_type,
            payload_type,
            payload_schema_version,
            priority,
            timeout_seconds,
            retry_count,
            request_id,
            trace_id,
            span_id,
            onex_version,
            envelope_version,
        } = self;
        let envelope = Envelope {
            payload,
            envelope_id,
            envelope_timestamp,
            correlation_id,
            source_tool,
            target_tool,
            metadata,
            security_context,
            event_type,
            payload_type,
            payload_schema_version,
            priority,
            timeout_seconds,
            retry_count,
            request_id,
            trace_id,
            span_id,
            onex_version,
            envelope_version,
        };
        (old, envelope)
    }

    /// Splits the payload off, keeping everything else in an `Envelope<()>`.
    pub fn take_payload(self) -> (T, Envelope<()>) {
        self.replace_payload(())
    }

    /// Transforms the payload, keeping everything else.
    pub fn map_payload<U>(self, f: impl FnOnce(T) -> U) -> Envelope<U> {
        let (payload, envelope) = self.take_payload();
        envelope.replace_payload(f(payload)).1
    }

    /// Transforms the payload with a fallible function that also sees the envelope's
    /// `payload_type` (for `payload_type_match` routing), keeping everything else.
    pub fn try_map_payload<U, E>(
        self,
        f: impl FnOnce(Option<&str>, T) -> Result<U, E>,
    ) -> Result<Envelope<U>, E> {
        let (payload, envelope) = self.take_payload();
        let mapped = f(envelope.payload_type.as_deref(), payload)?;
        Ok(envelope.replace_payload(mapped).1)
    }

    /// A reply to this envelope carrying `payload`.
    ///
    /// The reply has a new `envelope_id` and timestamp; the same `correlation_id` (this
    /// envelope's `envelope_id` when it had none); causation recorded as the reference does,
    /// in `metadata.tags["causation_id"]` = this envelope's `envelope_id`; `source_tool` and
    /// `target_tool` swapped; the metadata's `trace_id`, `request_id` and headers kept, its
    /// `parent_span_id` set to this envelope's `metadata.span_id` (its `span_id` left for the
    /// replier to set); the top-level `request_id` and `trace_id` kept; the same priority;
    /// `retry_count` 0. Event type, payload type, timeout and security context are not carried
    /// over.
    pub fn reply<U>(&self, payload: U) -> Envelope<U> {
        let mut tags = BTreeMap::new();
        tags.insert(CAUSATION_ID_TAG.to_owned(), self.envelope_id.to_string());
        Envelope {
            correlation_id: Some(self.correlation_id.unwrap_or(self.envelope_id)),
            source_tool: self.target_tool.clone(),
            target_tool: self.source_tool.clone(),
            metadata: EnvelopeMetadata {
                trace_id: self.metadata.trace_id.clone(),
                span_id: None,
                parent_span_id: self.metadata.span_id.clone(),
                request_id: self.metadata.request_id.clone(),
                headers: self.metadata.headers.clone(),
                tags,
            },
            priority: self.priority,
            request_id: self.request_id,
            trace_id: self.trace_id,
            ..Envelope::new(payload)
        }
    }

    /// The `envelope_id` of the envelope that caused this one, from
    /// `metadata.tags["causation_id"]` (where the reference records it), if present and a
    /// valid UUID.
    pub fn causation_id(&self) -> Option<Uuid> {
        self.metadata
            .tags
            .get(CAUSATION_ID_TAG)
            .and_then(|id| Uuid::parse_str(id).ok())
    }

    /// Records the envelope that caused this one (in `metadata.tags["causation_id"]`).
    #[must_use]
    pub fn with_causation_id(mut self, causation_id: Uuid) -> Self {
        self.metadata
            .tags
            .insert(CAUSATION_ID_TAG.to_owned(), causation_id.to_string());
        self
    }

    /// Sets the correlation id.
    #[must_use]
    pub fn with_correlation_id(mut self, correlation_id: Uuid) -> Self {
        self.correlation_id = Some(correlation_id);
        self
    }

    /// Sets the payload type (the payload's model name).
    #[must_use]
    pub fn with_payload_type(mut self, payload_type: impl Into<String>) -> Self {
        self.payload_type = Some(payload_type.into());
        self
    }

    /// Sets the event type (the routing key, usually the topic).
    #[must_use]
    pub fn with_event_type(mut self, event_type: impl Into<String>) -> Self {
        self.event_type = Some(event_type.into());
        self
    }

    /// Sets the timeout; `0` means no timeout (the reference requires a positive value).
    #[must_use]
    pub fn with_timeout_seconds(mut self, seconds: u32) -> Self {
        self.timeout_seconds = (seconds > 0).then_some(seconds);
        self
    }

    /// Sets the priority, clamped to 1..=10.
    #[must_use]
    pub fn with_priority(mut self, priority: u8) -> Self {
        self.priority = priority.clamp(Self::MIN_PRIORITY, Self::MAX_PRIORITY);
        self
    }

    /// Sets the source tool (the sender).
    #[must_use]
    pub fn with_source_tool(mut self, source_tool: impl Into<String>) -> Self {
        self.source_tool = Some(source_tool.into());
        self
    }

    /// Sets the target tool (the recipient).
    #[must_use]
    pub fn with_target_tool(mut self, target_tool: impl Into<String>) -> Self {
        self.target_tool = Some(target_tool.into());
        self
    }
}

impl<T: Serialize> Envelope<T> {
    /// Serializes the envelope as ONEX JSON (every field, nulls included).
    ///
    /// Fails with [`ErrorCode::Internal`](crate::ErrorCode::Internal) if the payload cannot
    /// be serialized or a field is out of range (priority outside 1..=10, a zero timeout).
    pub fn to_json(&self) -> Result<Vec<u8>, OnexError> {
        serde_json::to_vec(self).map_err(|e| {
            let err = OnexError::internal(format!("cannot serialize ONEX envelope: {e}"))
                .with_context("envelope_id", self.envelope_id.to_string());
            match self.correlation_id {
                Some(id) => err.with_correlation_id(id),
                None => err,
            }
        })
    }
}

impl Envelope<Value> {
    /// Reads an ONEX JSON envelope with a raw JSON payload.
    ///
    /// Malformed JSON, a value that is not an object, or invalid fields (bad UUIDs or
    /// timestamps, priority outside 1..=10, …) give an
    /// [`ErrorCode::InvalidInput`](crate::ErrorCode::InvalidInput) error saying what is wrong
    /// and where (line and column).
    pub fn from_json(bytes: &[u8]) -> Result<Self, OnexError> {
        decode_object(bytes)
    }
}

/// Decodes a JSON object into `T`, with `InvalidInput` errors that say what and where.
fn decode_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, OnexError> {
    let first = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\n' | b'\r' | b'\t'));
    if let Some(at) = first
        && bytes[at] != b'{'
    {
        // Report a syntax error if there is one, else say what was found instead.
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            return Err(json_error(&e));
        }
        let found = match bytes[at] {
            b'[' => "an array",
            b'"' => "a string",
            b't' | b'f' => "a boolean",
            b'n' => "null",
            _ => "a number",
        };
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        let column = at
            - bytes[..at]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |p| p + 1)
            + 1;
        return Err(OnexError::invalid_input(format!(
            "invalid ONEX envelope: expected a JSON object, found {found} at line {line} column {column}"
        ))
        .with_context("line", line)
        .with_context("column", column));
    }
    serde_json::from_slice(bytes).map_err(|e| json_error(&e))
}

/// Turns a serde_json error into an `InvalidInput` error.
fn json_error(e: &serde_json::Error) -> OnexError {
    let what = match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "malformed JSON",
        serde_json::error::Category::Data => "invalid ONEX envelope",
        serde_json::error::Category::Io => "cannot read ONEX envelope",
    };
    OnexError::invalid_input(format!("{what}: {e}"))
        .with_context("line", e.line())
        .with_context("column", e.column())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Timelike};
    use serde_json::json;

    use super::*;
    use crate::error::ErrorCode;

    fn minimal() -> Value {
        json!({"payload": {"value": 1}})
    }

    fn decode(value: &Value) -> Result<Envelope<Value>, OnexError> {
        Envelope::from_json(value.to_string().as_bytes())
    }

    #[test]
    fn defaults_apply_to_missing_fields() {
        let env = decode(&minimal()).expect("decodes");
        assert_eq!(env.payload, json!({"value": 1}));
        assert_eq!(env.priority, 5);
        assert_eq!(env.retry_count, 0);
        assert_eq!(env.onex_version, SemVer::new(1, 0, 0));
        assert_eq!(env.envelope_version, SemVer::new(2, 1, 0));
        assert_eq!(env.metadata, EnvelopeMetadata::default());
        assert!(env.correlation_id.is_none());
        assert!(env.envelope_id.get_version_num() == 4);
    }

    #[test]
    fn priority_bounds() {
        for p in [1, 5, 10] {
            let mut v = minimal();
            v["priority"] = json!(p);
            assert_eq!(decode(&v).map(|e| e.priority).ok(), Some(p));
        }
        for p in [json!(0), json!(11), json!(-1), json!(300)] {
            let mut v = minimal();
            v["priority"] = p.clone();
            let err = decode(&v).expect_err("out of range priority must fail");
            assert_eq!(err.code(), ErrorCode::InvalidInput);
            assert!(err.message().contains("priority"), "{}", err.message());
        }
        let mut env = Envelope::new(());
        env.priority = 11;
        let err = env
            .to_json()
            .expect_err("out of range priority must not serialize");
        assert_eq!(err.code(), ErrorCode::Internal);
        assert_eq!(Envelope::new(()).with_priority(0).priority, 1);
        assert_eq!(Envelope::new(()).with_priority(200).priority, 10);
    }

    #[test]
    fn timeout_must_be_positive() {
        let mut v = minimal();
        v["timeout_seconds"] = json!(0);
        assert!(decode(&v).is_err());
        v["timeout_seconds"] = json!(30);
        assert_eq!(decode(&v).ok().and_then(|e| e.timeout_seconds), Some(30));
        assert_eq!(
            Envelope::new(()).with_timeout_seconds(0).timeout_seconds,
            None
        );
    }

    #[test]
    fn unknown_fields_ignored() {
        let mut v = minimal();
        v["surprise"] = json!({"nested": [1, 2, 3]});
        v["metadata"] = json!({"headers": {"a": "b"}, "extra": true});
        v["onex_version"] = json!({"major": 1, "minor": 2, "patch": 3, "what": null});
        let env = decode(&v).expect("unknown fields are ignored");
        assert_eq!(env.metadata.headers.get("a").map(String::as_str), Some("b"));
        assert_eq!(env.onex_version, SemVer::new(1, 2, 3));
        let out: Value = serde_json::from_slice(&env.to_json().expect("encodes")).expect("json");
        assert!(out.get("surprise").is_none());
    }

    #[test]
    fn malformed_json_gives_invalid_input() {
        let cases: [&[u8]; 9] = [
            b"",
            b"{",
            b"{\"payload\": }",
            b"[1, 2]",
            b"  \"text\"",
            b"42",
            b"null",
            b"{\"payload\": 1, \"envelope_id\": \"not-a-uuid\"}",
            b"{\"envelope_id\": \"2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80\"}",
        ];
        for bytes in cases {
            let err = Envelope::from_json(bytes).expect_err("must fail");
            assert_eq!(err.code(), ErrorCode::InvalidInput, "{}", err.message());
            assert!(err.message().contains("line"), "{}", err.message());
        }
        let err = Envelope::from_json(b"\n [1]").expect_err("array");
        assert!(err.message().contains("found an array at line 2 column 2"));
        let err = Envelope::from_json(b"{\"payload\": 1,\n \"priority\": 99}").expect_err("p");
        assert!(err.message().contains("line 2"), "{}", err.message());
        assert!(Envelope::from_json(b"{\"payload\": null}").is_ok());
    }

    #[test]
    fn reply_keeps_correlation_and_records_causation() {
        let correlation = Uuid::new_v4();
        let mut request = Envelope::new(json!({"q": 1}))
            .with_correlation_id(correlation)
            .with_source_tool("caller")
            .with_target_tool("callee")
            .with_priority(8)
            .with_timeout_seconds(30)
            .with_event_type("onex.cmd.x.v1");
        request.retry_count = 3;
        request.metadata.trace_id = Some("trace".into());
        request.metadata.span_id = Some("span".into());
        request
            .metadata
            .tags
            .insert("message_category".into(), "command".into());
        let (_, request) = request.take_payload();

        let reply = request.reply("done");
        assert_eq!(reply.payload, "done");
        assert_eq!(reply.correlation_id, Some(correlation));
        assert_ne!(reply.envelope_id, request.envelope_id);
        assert_eq!(reply.causation_id(), Some(request.envelope_id));
        assert_eq!(
            reply.metadata.tags.get("causation_id"),
            Some(&request.envelope_id.to_string())
        );
        assert!(!reply.metadata.tags.contains_key("message_category"));
        assert_eq!(reply.source_tool.as_deref(), Some("callee"));
        assert_eq!(reply.target_tool.as_deref(), Some("caller"));
        assert_eq!(reply.metadata.trace_id.as_deref(), Some("trace"));
        assert_eq!(reply.metadata.parent_span_id.as_deref(), Some("span"));
        assert_eq!(reply.metadata.span_id, None);
        assert_eq!(reply.priority, 8);
        assert_eq!(reply.retry_count, 0);
        assert_eq!(reply.timeout_seconds, None);
        assert_eq!(reply.event_type, None);

        // Without a correlation id, the request's envelope id correlates.
        let bare = Envelope::new(());
        assert_eq!(bare.reply(1).correlation_id, Some(bare.envelope_id));
    }

    #[test]
    fn map_and_try_map_keep_fields() {
        let env = Envelope::new(2)
            .with_payload_type("ModelX")
            .with_correlation_id(Uuid::new_v4());
        let id = env.envelope_id;
        let doubled = env.clone().map_payload(|n| n * 2);
        assert_eq!(doubled.payload, 4);
        assert_eq!(doubled.envelope_id, id);
        let typed: Result<Envelope<String>, String> = env
            .clone()
            .try_map_payload(|pt, n| Ok(format!("{}:{n}", pt.unwrap_or("?"))));
        assert_eq!(typed.map(|e| e.payload).ok().as_deref(), Some("ModelX:2"));
        let failed: Result<Envelope<()>, &str> = env.try_map_payload(|_, _| Err("no"));
        assert_eq!(failed.err(), Some("no"));
    }

    #[test]
    fn timestamp_format_exact() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 20, 12, 30, 45)
            .single()
            .and_then(|t| t.with_nanosecond(123_456_789))
            .expect("valid time");
        assert_eq!(format_timestamp(&at), "2026-11-20T12:30:45.123456Z");
        let whole = at.with_nanosecond(0).expect("valid time");
        assert_eq!(format_timestamp(&whole), "2026-11-20T12:30:45Z");

        let mut env = Envelope::new(());
        env.envelope_timestamp = at;
        let out: Value = serde_json::from_slice(&env.to_json().expect("encodes")).expect("json");
        assert_eq!(out["envelope_timestamp"], "2026-11-20T12:30:45.123456Z");

        assert_eq!(
            parse_timestamp("2026-11-20T14:30:45.123456+02:00").map(|t| format_timestamp(&t)),
            Ok("2026-11-20T12:30:45.123456Z".to_owned())
        );
        assert_eq!(
            parse_timestamp("2026-11-20T12:30:45.123456").map(|t| format_timestamp(&t)),
            Ok("2026-11-20T12:30:45.123456Z".to_owned())
        );
        assert!(parse_timestamp("yesterday").is_err());
    }

    #[test]
    fn new_envelope_round_trips() {
        let env = Envelope::new(json!({"a": [1, "b"]}))
            .with_correlation_id(Uuid::new_v4())
            .with_causation_id(Uuid::new_v4());
        let back = Envelope::from_json(&env.to_json().expect("encodes")).expect("decodes");
        assert_eq!(back, env);
    }

    #[test]
    fn semver_wire_form() {
        let v = SemVer {
            prerelease: Some("alpha.1".into()),
            build: Some("build.007".into()),
            ..SemVer::new(1, 2, 3)
        };
        let wire = serde_json::to_value(&v).expect("encodes");
        assert_eq!(
            wire,
            json!({"major": 1, "minor": 2, "patch": 3,
                   "prerelease": ["alpha", 1], "build": ["build", "007"]})
        );
        let back: SemVer = serde_json::from_value(wire).expect("decodes");
        assert_eq!(back, v);
        assert_eq!(v.to_string(), "1.2.3-alpha.1+build.007");
        assert_eq!("1.2.3-alpha.1+build.007".parse::<SemVer>().ok(), Some(v));
        assert!("1.2".parse::<SemVer>().is_err());
        assert!("1.2.x".parse::<SemVer>().is_err());
        let from_string: SemVer = serde_json::from_value(
            json!({"major": 0, "minor": 1, "patch": 0, "prerelease": "rc.2"}),
        )
        .expect("decodes");
        assert_eq!(from_string.prerelease.as_deref(), Some("rc.2"));
        assert!(
            serde_json::from_value::<SemVer>(
                json!({"major": 0, "minor": 1, "patch": 0, "prerelease": [true]})
            )
            .is_err()
        );
    }
}
