//! JSON parameters → PostgreSQL parameters, by the type the server expects for each
//! placeholder (read from the prepared statement).
//!
//! | PostgreSQL type | accepted JSON |
//! |---|---|
//! | any type | `null` binds SQL `NULL` |
//! | `bool` | `true` / `false` |
//! | `int2`, `int4`, `int8`, `oid` | an integer-valued number in the type's range, or a string of an integer (`"9007199254740993"`, for clients that send big integers as text) |
//! | `float4`, `float8` | a number, or a string Rust parses as a float (`"NaN"`, `"Infinity"`, `"-Infinity"`, `"1.5"`) |
//! | `numeric` | a number (bound from its exact JSON digits, never through `f64` rounding of the text) or a decimal string (`"12.50"`, `"1e-3"`, `"NaN"`, `"Infinity"`) |
//! | `text`, `varchar`, `bpchar`, `name`, `unknown`, `citext`, `xml`, enums | a string |
//! | `uuid` | a string (`"67e55044-10b1-426f-9247-bb680e5fe0c8"`, braced or simple forms too) |
//! | `timestamptz` | an RFC 3339 string with an offset (`"2026-11-20T12:30:45.5+01:00"`, `T` or space), `"infinity"`, `"-infinity"` |
//! | `timestamp` | `"2026-11-20T12:30:45[.ffffff]"` (`T` or space; an RFC 3339 offset is converted to UTC), `"infinity"`, `"-infinity"` |
//! | `date` | `"2026-11-20"`, `"infinity"`, `"-infinity"` |
//! | `time` | `"12:30:45[.ffffff]"` or `"12:30"` |
//! | `json`, `jsonb` | any value (a JSON `null` is SQL `NULL`) |
//! | `bytea` | a base64 string (standard alphabet, padded), or an array of integers 0–255 |
//! | one-dimensional arrays of these | an array (elements may be `null`) |
//! | domains | what their base type accepts |
//!
//! Anything else (`interval`, `inet`, `money`, ranges, composites…) is an error asking for a
//! cast in SQL: `$1::text::inet`. Fractions of a microsecond are truncated.

use std::error::Error as StdError;

use base64::Engine as _;
use bytes::{BufMut, BytesMut};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::Value;
use tokio_postgres::types::{IsNull, Kind, ToSql, Type, to_sql_checked};
use uuid::Uuid;

use super::numeric::Numeric;

/// A parameter converted for its placeholder's type, ready to be sent in binary form.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Param {
    /// SQL `NULL`.
    Null,
    /// `bool`.
    Bool(bool),
    /// `int2`.
    I16(i16),
    /// `int4`.
    I32(i32),
    /// `int8`.
    I64(i64),
    /// `oid`.
    Oid(u32),
    /// `float4`.
    F32(f32),
    /// `float8`.
    F64(f64),
    /// `numeric`.
    Numeric(Numeric),
    /// Text-like types and enums.
    Text(String),
    /// `uuid`.
    Uuid(Uuid),
    /// `timestamptz` and `timestamp`: microseconds since 2000-01-01 00:00 (UTC), with
    /// `i64::MAX` / `i64::MIN` for `infinity` / `-infinity`.
    Timestamp(i64),
    /// `date`: days since 2000-01-01, with `i32::MAX` / `i32::MIN` for the infinities.
    Date(i32),
    /// `time`: microseconds since midnight.
    Time(i64),
    /// `json` and `jsonb`.
    Json(Value),
    /// `bytea`.
    Bytea(Vec<u8>),
    /// A one-dimensional array of the placeholder's element type.
    Array(Vec<Param>),
}

/// Why a JSON value cannot be bound to a placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BindError {
    /// The JSON does not fit the type: `detail` says what was given (never the value).
    Mismatch {
        /// The placeholder's type (`int4`, `uuid[]`).
        expected: String,
        /// What was given: `a JSON string`, `a JSON number outside int2's range`.
        detail: String,
    },
    /// The placeholder's type is not one onex binds from JSON.
    Unsupported {
        /// The placeholder's type.
        expected: String,
    },
}

impl BindError {
    /// The placeholder's type as the error names it.
    pub(crate) fn expected(&self) -> &str {
        match self {
            BindError::Mismatch { expected, .. } | BindError::Unsupported { expected } => expected,
        }
    }
}

/// The type a domain stands for (other types unchanged).
pub(crate) fn base_type(ty: &Type) -> &Type {
    match ty.kind() {
        Kind::Domain(base) => base_type(base),
        _ => ty,
    }
}

/// A type's name as onex reports it: `int4`, `text[]`, `citext`.
pub(crate) fn type_name(ty: &Type) -> String {
    match ty.kind() {
        Kind::Array(member) => format!("{}[]", member.name()),
        _ => ty.name().to_owned(),
    }
}

/// How a JSON value is described in errors: its kind, never its content.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "a JSON null",
        Value::Bool(_) => "a JSON boolean",
        Value::Number(_) => "a JSON number",
        Value::String(_) => "a JSON string",
        Value::Array(_) => "a JSON array",
        Value::Object(_) => "a JSON object",
    }
}

/// True for types bound from (and read as) a JSON string of their text.
pub(crate) fn is_text_like(ty: &Type) -> bool {
    matches!(ty.kind(), Kind::Enum(_))
        || matches!(
            *ty,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::XML
        )
        || ty.name() == "citext"
}

/// Converts `value` for a placeholder of type `ty`.
pub(crate) fn to_param(ty: &Type, value: &Value) -> Result<Param, BindError> {
    if value.is_null() {
        return Ok(Param::Null);
    }
    let base = base_type(ty);
    let mismatch = |detail: String| BindError::Mismatch {
        expected: type_name(ty),
        detail,
    };
    let kind = || json_kind(value).to_owned();
    if let Kind::Array(member) = base.kind() {
        let Value::Array(items) = value else {
            return Err(mismatch(kind()));
        };
        return items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                to_param(member, item).map_err(|e| match e {
                    BindError::Mismatch { detail, .. } => {
                        mismatch(format!("an array whose element {i} is {detail}"))
                    }
                    BindError::Unsupported { .. } => BindError::Unsupported {
                        expected: type_name(ty),
                    },
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Param::Array);
    }
    if is_text_like(base) {
        return match value {
            Value::String(s) => Ok(Param::Text(s.clone())),
            _ => Err(mismatch(kind())),
        };
    }
    let name = base.name();
    match *base {
        Type::BOOL => value
            .as_bool()
            .map(Param::Bool)
            .ok_or_else(|| mismatch(kind())),
        Type::INT2 => integer(value, name)
            .and_then(|i| i16::try_from(i).map_err(|_| out_of_range(name)))
            .map(Param::I16)
            .map_err(mismatch),
        Type::INT4 => integer(value, name)
            .and_then(|i| i32::try_from(i).map_err(|_| out_of_range(name)))
            .map(Param::I32)
            .map_err(mismatch),
        Type::INT8 => integer(value, name).map(Param::I64).map_err(mismatch),
        Type::OID => integer(value, name)
            .and_then(|i| u32::try_from(i).map_err(|_| out_of_range(name)))
            .map(Param::Oid)
            .map_err(mismatch),
        Type::FLOAT8 => float(value).map(Param::F64).map_err(mismatch),
        Type::FLOAT4 => float(value)
            .and_then(|f| {
                #[allow(clippy::cast_possible_truncation)]
                let narrow = f as f32;
                if f.is_finite() && !narrow.is_finite() {
                    Err(out_of_range(name))
                } else {
                    Ok(narrow)
                }
            })
            .map(Param::F32)
            .map_err(mismatch),
        Type::NUMERIC => {
            let text = match value {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => return Err(mismatch(kind())),
            };
            Numeric::parse(&text)
                .map(Param::Numeric)
                .ok_or_else(|| mismatch(format!("{} that is not a decimal number", kind())))
        }
        Type::UUID => string(value)
            .and_then(|s| {
                Uuid::parse_str(s).map_err(|_| "a JSON string that is not a UUID".to_owned())
            })
            .map(Param::Uuid)
            .map_err(mismatch),
        Type::TIMESTAMPTZ => string(value)
            .and_then(timestamptz)
            .map(Param::Timestamp)
            .map_err(mismatch),
        Type::TIMESTAMP => string(value)
            .and_then(timestamp)
            .map(Param::Timestamp)
            .map_err(mismatch),
        Type::DATE => string(value)
            .and_then(date)
            .map(Param::Date)
            .map_err(mismatch),
        Type::TIME => string(value)
            .and_then(time)
            .map(Param::Time)
            .map_err(mismatch),
        Type::JSON | Type::JSONB => Ok(Param::Json(value.clone())),
        Type::BYTEA => bytea(value).map(Param::Bytea).map_err(mismatch),
        _ => Err(BindError::Unsupported {
            expected: type_name(ty),
        }),
    }
}

fn out_of_range(name: &str) -> String {
    format!("a JSON number outside {name}'s range")
}

/// An integer from an integer-valued number or a string of an integer.
fn integer(value: &Value, name: &str) -> Result<i64, String> {
    match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Ok(i);
            }
            if n.is_u64() {
                return Err(out_of_range(name));
            }
            match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 =>
                {
                    #[allow(clippy::cast_possible_truncation)]
                    Ok(f as i64)
                }
                Some(f) if f.fract() == 0.0 => Err(out_of_range(name)),
                _ => Err("a JSON number that is not an integer".to_owned()),
            }
        }
        Value::String(s) => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err("a JSON string that is not an integer".to_owned());
            }
            s.parse::<i64>().map_err(|_| out_of_range(name))
        }
        other => Err(json_kind(other).to_owned()),
    }
}

/// A float from a number or a string Rust parses as a float.
fn float(value: &Value) -> Result<f64, String> {
    match value {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| "a JSON number that is not a float".to_owned()),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| "a JSON string that is not a number".to_owned()),
        other => Err(json_kind(other).to_owned()),
    }
}

fn string(value: &Value) -> Result<&str, String> {
    value.as_str().ok_or_else(|| json_kind(value).to_owned())
}

/// The PostgreSQL epoch, 2000-01-01 00:00.
fn pg_epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

/// `2026-11-20 12:30:45` → `2026-11-20T12:30:45`.
fn with_t(s: &str) -> String {
    let mut s = s.trim().to_owned();
    if s.len() > 10 && s.as_bytes()[10] == b' ' {
        s.replace_range(10..11, "T");
    }
    s
}

fn infinity(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "infinity" | "+infinity" => Some(true),
        "-infinity" => Some(false),
        _ => None,
    }
}

fn micros_since_epoch(at: NaiveDateTime) -> Result<i64, String> {
    (at - pg_epoch())
        .num_microseconds()
        .ok_or_else(|| "a timestamp outside PostgreSQL's range".to_owned())
}

fn timestamptz(s: &str) -> Result<i64, String> {
    if let Some(positive) = infinity(s) {
        return Ok(if positive { i64::MAX } else { i64::MIN });
    }
    DateTime::parse_from_rfc3339(&with_t(s))
        .map_err(|_| "a JSON string that is not an RFC 3339 timestamp with an offset".to_owned())
        .and_then(|t| micros_since_epoch(t.naive_utc()))
}

fn timestamp(s: &str) -> Result<i64, String> {
    if let Some(positive) = infinity(s) {
        return Ok(if positive { i64::MAX } else { i64::MIN });
    }
    let s = with_t(s);
    NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M"))
        .or_else(|_| DateTime::parse_from_rfc3339(&s).map(|t| t.naive_utc()))
        .map_err(|_| "a JSON string that is not an ISO 8601 timestamp".to_owned())
        .and_then(micros_since_epoch)
}

fn date(s: &str) -> Result<i32, String> {
    if let Some(positive) = infinity(s) {
        return Ok(if positive { i32::MAX } else { i32::MIN });
    }
    let day = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| "a JSON string that is not an ISO 8601 date".to_owned())?;
    i32::try_from((day - pg_epoch().date()).num_days())
        .map_err(|_| "a date outside PostgreSQL's range".to_owned())
}

fn time(s: &str) -> Result<i64, String> {
    let t = NaiveTime::parse_from_str(s.trim(), "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(s.trim(), "%H:%M"))
        .map_err(|_| "a JSON string that is not an ISO 8601 time".to_owned())?;
    (t - NaiveTime::MIN)
        .num_microseconds()
        .ok_or_else(|| "a time out of range".to_owned())
}

fn bytea(value: &Value) -> Result<Vec<u8>, String> {
    match value {
        Value::String(s) => base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|_| "a JSON string that is not base64".to_owned()),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_u64().and_then(|b| u8::try_from(b).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| "a JSON array that is not of bytes (integers 0 to 255)".to_owned()),
        other => Err(json_kind(other).to_owned()),
    }
}

impl ToSql for Param {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        let base = base_type(ty);
        match self {
            Param::Null => return Ok(IsNull::Yes),
            Param::Bool(b) => out.put_u8(u8::from(*b)),
            Param::I16(i) => out.put_i16(*i),
            Param::I32(i) => out.put_i32(*i),
            Param::I64(i) | Param::Timestamp(i) | Param::Time(i) => out.put_i64(*i),
            Param::Oid(o) => out.put_u32(*o),
            Param::F32(f) => out.put_f32(*f),
            Param::F64(f) => out.put_f64(*f),
            Param::Date(d) => out.put_i32(*d),
            Param::Numeric(n) => n.encode(out)?,
            Param::Text(s) => out.put_slice(s.as_bytes()),
            Param::Uuid(u) => out.put_slice(u.as_bytes()),
            Param::Bytea(b) => out.put_slice(b),
            Param::Json(v) => {
                if *base == Type::JSONB {
                    out.put_u8(1);
                }
                serde_json::to_writer(out.writer(), v)?;
            }
            Param::Array(items) => {
                let Kind::Array(member) = base.kind() else {
                    return Err(format!("an array cannot be sent as {}", ty.name()).into());
                };
                out.put_i32(1);
                out.put_i32(i32::from(items.contains(&Param::Null)));
                out.put_u32(member.oid());
                out.put_i32(i32::try_from(items.len())?);
                out.put_i32(1);
                for item in items {
                    let at = out.len();
                    out.put_i32(0);
                    match item.to_sql(member, out)? {
                        IsNull::Yes => out[at..at + 4].copy_from_slice(&(-1i32).to_be_bytes()),
                        IsNull::No => {
                            let len = i32::try_from(out.len() - at - 4)?;
                            out[at..at + 4].copy_from_slice(&len.to_be_bytes());
                        }
                    }
                }
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ok(ty: &Type, value: Value) -> Param {
        to_param(ty, &value).unwrap_or_else(|e| panic!("{ty} {value}: {e:?}"))
    }

    fn detail(ty: &Type, value: Value) -> String {
        match to_param(ty, &value) {
            Err(BindError::Mismatch { detail, .. }) => detail,
            other => panic!("{ty} {value}: expected a mismatch, got {other:?}"),
        }
    }

    #[test]
    fn null_binds_null_for_every_type() {
        for ty in [
            Type::INT4,
            Type::TEXT,
            Type::JSONB,
            Type::INET,
            Type::INT4_ARRAY,
        ] {
            assert_eq!(ok(&ty, Value::Null), Param::Null);
        }
    }

    #[test]
    fn integers_are_range_checked_and_integer_valued() {
        assert_eq!(ok(&Type::INT2, json!(-32768)), Param::I16(-32768));
        assert_eq!(ok(&Type::INT4, json!(7.0)), Param::I32(7));
        assert_eq!(
            ok(&Type::INT8, json!("9007199254740993")),
            Param::I64(9_007_199_254_740_993)
        );
        assert_eq!(
            ok(&Type::OID, json!(4_000_000_000u64)),
            Param::Oid(4_000_000_000)
        );
        assert_eq!(
            detail(&Type::INT2, json!(40000)),
            "a JSON number outside int2's range"
        );
        assert_eq!(
            detail(&Type::INT8, json!(u64::MAX)),
            "a JSON number outside int8's range"
        );
        assert_eq!(
            detail(&Type::INT4, json!(1.5)),
            "a JSON number that is not an integer"
        );
        assert_eq!(
            detail(&Type::INT4, json!("12a")),
            "a JSON string that is not an integer"
        );
        assert_eq!(detail(&Type::INT4, json!(true)), "a JSON boolean");
        assert_eq!(detail(&Type::BOOL, json!(1)), "a JSON number");
    }

    #[test]
    fn floats_and_numerics() {
        assert_eq!(ok(&Type::FLOAT8, json!(1.25)), Param::F64(1.25));
        assert_eq!(ok(&Type::FLOAT4, json!(2)), Param::F32(2.0));
        assert!(matches!(ok(&Type::FLOAT8, json!("NaN")), Param::F64(f) if f.is_nan()));
        assert_eq!(
            ok(&Type::FLOAT8, json!("-Infinity")),
            Param::F64(f64::NEG_INFINITY)
        );
        assert_eq!(
            detail(&Type::FLOAT4, json!(1e300)),
            "a JSON number outside float4's range"
        );
        assert_eq!(
            ok(&Type::NUMERIC, json!("12.50")),
            Param::Numeric(Numeric::parse("12.50").expect("parses"))
        );
        assert_eq!(
            ok(&Type::NUMERIC, json!(0.1)),
            Param::Numeric(Numeric::parse("0.1").expect("parses"))
        );
        assert_eq!(
            detail(&Type::NUMERIC, json!("ten")),
            "a JSON string that is not a decimal number"
        );
    }

    #[test]
    fn strings_uuids_times_and_bytes() {
        assert_eq!(ok(&Type::VARCHAR, json!("a")), Param::Text("a".into()));
        assert_eq!(detail(&Type::TEXT, json!(5)), "a JSON number");
        let id = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        assert_eq!(
            ok(&Type::UUID, json!(id)),
            Param::Uuid(Uuid::parse_str(id).expect("uuid"))
        );
        assert_eq!(
            detail(&Type::UUID, json!("nope")),
            "a JSON string that is not a UUID"
        );
        assert_eq!(
            ok(
                &Type::TIMESTAMPTZ,
                json!("2000-01-01T01:00:00.000001+01:00")
            ),
            Param::Timestamp(1)
        );
        assert_eq!(
            ok(&Type::TIMESTAMPTZ, json!("2000-01-01 00:00:01Z")),
            Param::Timestamp(1_000_000)
        );
        assert_eq!(
            detail(&Type::TIMESTAMPTZ, json!("2000-01-01T00:00:00")),
            "a JSON string that is not an RFC 3339 timestamp with an offset"
        );
        assert_eq!(
            ok(&Type::TIMESTAMPTZ, json!("infinity")),
            Param::Timestamp(i64::MAX)
        );
        assert_eq!(
            ok(&Type::TIMESTAMP, json!("1999-12-31 23:59")),
            Param::Timestamp(-60_000_000)
        );
        assert_eq!(ok(&Type::DATE, json!("2000-01-03")), Param::Date(2));
        assert_eq!(ok(&Type::DATE, json!("-infinity")), Param::Date(i32::MIN));
        assert_eq!(ok(&Type::TIME, json!("00:00:01.5")), Param::Time(1_500_000));
        assert_eq!(
            ok(&Type::BYTEA, json!("AAEC/w==")),
            Param::Bytea(vec![0, 1, 2, 255])
        );
        assert_eq!(
            ok(&Type::BYTEA, json!([0, 255])),
            Param::Bytea(vec![0, 255])
        );
        assert_eq!(
            detail(&Type::BYTEA, json!([256])),
            "a JSON array that is not of bytes (integers 0 to 255)"
        );
        assert_eq!(
            ok(&Type::JSONB, json!({"a": [1]})),
            Param::Json(json!({"a": [1]}))
        );
    }

    #[test]
    fn arrays_and_unsupported_types() {
        assert_eq!(
            ok(&Type::INT4_ARRAY, json!([1, null])),
            Param::Array(vec![Param::I32(1), Param::Null])
        );
        assert_eq!(
            detail(&Type::INT4_ARRAY, json!([1, "x"])),
            "an array whose element 1 is a JSON string that is not an integer"
        );
        assert_eq!(detail(&Type::TEXT_ARRAY, json!("x")), "a JSON string");
        assert_eq!(
            to_param(&Type::INET, &json!("10.0.0.1")),
            Err(BindError::Unsupported {
                expected: "inet".into()
            })
        );
        assert_eq!(
            to_param(&Type::INTERVAL_ARRAY, &json!(["1 day"])),
            Err(BindError::Unsupported {
                expected: "interval[]".into()
            })
        );
    }

    #[test]
    fn wire_forms() {
        let encode = |param: Param, ty: &Type| {
            let mut out = BytesMut::new();
            let null = param.to_sql(ty, &mut out).expect("encodes");
            (matches!(null, IsNull::Yes), out.to_vec())
        };
        assert_eq!(encode(Param::Null, &Type::INT4), (true, vec![]));
        assert_eq!(
            encode(Param::I32(258), &Type::INT4),
            (false, vec![0, 0, 1, 2])
        );
        assert_eq!(
            encode(Param::Json(json!(1)), &Type::JSONB),
            (false, vec![1, b'1'])
        );
        assert_eq!(
            encode(Param::Json(json!(1)), &Type::JSON),
            (false, vec![b'1'])
        );
        let (_, array) = encode(
            Param::Array(vec![Param::I16(5), Param::Null]),
            &Type::INT2_ARRAY,
        );
        assert_eq!(
            array,
            [
                vec![0, 0, 0, 1, 0, 0, 0, 1],
                Type::INT2.oid().to_be_bytes().to_vec(),
                vec![
                    0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 5, 0xff, 0xff, 0xff, 0xff
                ],
            ]
            .concat()
        );
        let mut out = BytesMut::new();
        assert!(Param::Array(vec![]).to_sql(&Type::INT4, &mut out).is_err());
    }
}
