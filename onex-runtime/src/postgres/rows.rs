//! PostgreSQL columns → typed JSON, decoded from the binary wire form by column type.
//!
//! | PostgreSQL type | JSON |
//! |---|---|
//! | `NULL` (any type) | `null` |
//! | `bool` | boolean |
//! | `int2`, `int4`, `int8`, `oid` | number |
//! | `float4`, `float8` | number; `NaN`, `Infinity`, `-Infinity` as those strings (JSON has no such numbers) |
//! | `numeric` | string of the exact decimal (`"12.50"`; `"NaN"`, `"Infinity"`): `f64` would round it. Cast to `::float8` in SQL for a number |
//! | `text`, `varchar`, `bpchar`, `name`, `citext`, `xml`, `"char"`, enums | string |
//! | `uuid` | string (hyphenated, lower case) |
//! | `timestamptz` | RFC 3339 string in UTC (`"2026-11-20T11:30:45.5Z"`); `"infinity"`, `"-infinity"` |
//! | `timestamp` | ISO 8601 string without offset (`"2026-11-20T11:30:45.5"`) |
//! | `date` | `"2026-11-20"` |
//! | `time` | `"11:30:45.5"` |
//! | `interval` | ISO 8601 duration (`"P1Y2M3DT4H5M6.5S"`) |
//! | `json`, `jsonb` | the JSON value itself |
//! | `bytea` | base64 string (standard alphabet, padded) |
//! | `void` (`SELECT pg_sleep(1)`) | `null` |
//! | arrays of these | arrays (nested for multi-dimensional arrays) |
//! | domains | what their base type gives |
//!
//! Columns of other types (`inet`, `money`, ranges, composites, `record`…) are refused when
//! the statement is prepared, before it runs, with an error asking for a cast (`col::text`).

use std::error::Error as StdError;
use std::fmt::Write as _;

use base64::Engine as _;
use chrono::{Duration as ChronoDuration, NaiveDateTime, NaiveTime, SecondsFormat};
use serde_json::{Number, Value};
use tokio_postgres::types::{FromSql, Kind, Type};
use tokio_postgres::{Column, Row};
use uuid::Uuid;

use super::bind::{base_type, is_text_like, type_name};
use super::numeric::Numeric;
use crate::db::{SqlColumn, SqlRow};

/// How one column is decoded (chosen once per column, from its type).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Decoder {
    Bool,
    I16,
    I32,
    I64,
    Oid,
    F32,
    F64,
    Numeric,
    Text,
    Char,
    Uuid,
    TimestampTz,
    Timestamp,
    Date,
    Time,
    Interval,
    Json,
    Jsonb,
    Bytea,
    Void,
    Array(Box<Decoder>),
}

impl Decoder {
    /// The decoder for a type, or `None` when onex does not turn it into JSON.
    pub(crate) fn for_type(ty: &Type) -> Option<Decoder> {
        let base = base_type(ty);
        if let Kind::Array(member) = base.kind() {
            return Decoder::for_type(member).map(|d| Decoder::Array(Box::new(d)));
        }
        if is_text_like(base) {
            return Some(Decoder::Text);
        }
        Some(match *base {
            Type::BOOL => Decoder::Bool,
            Type::INT2 => Decoder::I16,
            Type::INT4 => Decoder::I32,
            Type::INT8 => Decoder::I64,
            Type::OID => Decoder::Oid,
            Type::FLOAT4 => Decoder::F32,
            Type::FLOAT8 => Decoder::F64,
            Type::NUMERIC => Decoder::Numeric,
            Type::CHAR => Decoder::Char,
            Type::UUID => Decoder::Uuid,
            Type::TIMESTAMPTZ => Decoder::TimestampTz,
            Type::TIMESTAMP => Decoder::Timestamp,
            Type::DATE => Decoder::Date,
            Type::TIME => Decoder::Time,
            Type::INTERVAL => Decoder::Interval,
            Type::JSON => Decoder::Json,
            Type::JSONB => Decoder::Jsonb,
            Type::BYTEA => Decoder::Bytea,
            Type::VOID => Decoder::Void,
            _ => return None,
        })
    }

    /// Decodes one non-null value.
    pub(crate) fn decode(&self, raw: &[u8]) -> Result<Value, String> {
        let fixed = |n: usize| -> Result<&[u8], String> {
            if raw.len() == n {
                Ok(raw)
            } else {
                Err(format!("expected {n} bytes, got {}", raw.len()))
            }
        };
        Ok(match self {
            Decoder::Bool => Value::Bool(fixed(1)?[0] != 0),
            Decoder::I16 => Value::from(i16::from_be_bytes(array(fixed(2)?)?)),
            Decoder::I32 => Value::from(i32::from_be_bytes(array(fixed(4)?)?)),
            Decoder::I64 => Value::from(i64::from_be_bytes(array(fixed(8)?)?)),
            Decoder::Oid => Value::from(u32::from_be_bytes(array(fixed(4)?)?)),
            Decoder::F32 => {
                let f = f32::from_be_bytes(array(fixed(4)?)?);
                // Through the shortest text, so 0.1f32 reads 0.1 and not 0.10000000149011612.
                float(f.to_string().parse::<f64>().unwrap_or(f64::from(f)))
            }
            Decoder::F64 => float(f64::from_be_bytes(array(fixed(8)?)?)),
            Decoder::Numeric => {
                Value::String(Numeric::decode(raw).ok_or("malformed numeric")?.to_text())
            }
            Decoder::Text => Value::String(utf8(raw)?),
            Decoder::Char => Value::String(char::from(fixed(1)?[0]).to_string()),
            Decoder::Uuid => Value::String(
                Uuid::from_slice(raw)
                    .map_err(|e| e.to_string())?
                    .hyphenated()
                    .to_string(),
            ),
            Decoder::TimestampTz => match i64::from_be_bytes(array(fixed(8)?)?) {
                i64::MAX => Value::from("infinity"),
                i64::MIN => Value::from("-infinity"),
                micros => Value::String(
                    at(micros)?
                        .and_utc()
                        .to_rfc3339_opts(SecondsFormat::AutoSi, true),
                ),
            },
            Decoder::Timestamp => match i64::from_be_bytes(array(fixed(8)?)?) {
                i64::MAX => Value::from("infinity"),
                i64::MIN => Value::from("-infinity"),
                micros => Value::String(at(micros)?.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
            },
            Decoder::Date => match i32::from_be_bytes(array(fixed(4)?)?) {
                i32::MAX => Value::from("infinity"),
                i32::MIN => Value::from("-infinity"),
                days => Value::String(
                    pg_epoch()
                        .date()
                        .checked_add_signed(ChronoDuration::days(i64::from(days)))
                        .ok_or("date out of range")?
                        .format("%Y-%m-%d")
                        .to_string(),
                ),
            },
            Decoder::Time => {
                let micros = i64::from_be_bytes(array(fixed(8)?)?);
                if micros == 86_400_000_000 {
                    Value::from("24:00:00")
                } else {
                    let t = NaiveTime::MIN
                        .overflowing_add_signed(ChronoDuration::microseconds(micros))
                        .0;
                    Value::String(t.format("%H:%M:%S%.f").to_string())
                }
            }
            Decoder::Interval => {
                let raw = fixed(16)?;
                let micros = i64::from_be_bytes(array(&raw[..8])?);
                let days = i32::from_be_bytes(array(&raw[8..12])?);
                let months = i32::from_be_bytes(array(&raw[12..])?);
                Value::String(iso_duration(months, days, micros))
            }
            Decoder::Json => serde_json::from_slice(raw).map_err(|e| e.to_string())?,
            Decoder::Jsonb => match raw.split_first() {
                Some((1, rest)) => serde_json::from_slice(rest).map_err(|e| e.to_string())?,
                _ => return Err("unsupported jsonb version".to_owned()),
            },
            Decoder::Bytea => Value::String(base64::engine::general_purpose::STANDARD.encode(raw)),
            Decoder::Void => Value::Null,
            Decoder::Array(member) => decode_array(member, raw)?,
        })
    }
}

fn array<const N: usize>(raw: &[u8]) -> Result<[u8; N], String> {
    raw.try_into()
        .map_err(|_| format!("expected {N} bytes, got {}", raw.len()))
}

fn utf8(raw: &[u8]) -> Result<String, String> {
    String::from_utf8(raw.to_vec()).map_err(|e| e.to_string())
}

fn float(f: f64) -> Value {
    Number::from_f64(f).map_or_else(
        || {
            Value::from(if f.is_nan() {
                "NaN"
            } else if f > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            })
        },
        Value::Number,
    )
}

fn pg_epoch() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

fn at(micros: i64) -> Result<NaiveDateTime, String> {
    pg_epoch()
        .checked_add_signed(ChronoDuration::microseconds(micros))
        .ok_or_else(|| "timestamp out of range".to_owned())
}

/// An interval in ISO 8601 form, each part with its own sign, like PostgreSQL's
/// `IntervalStyle = iso_8601`.
fn iso_duration(months: i32, days: i32, micros: i64) -> String {
    let mut out = String::from("P");
    let (years, months) = (months / 12, months % 12);
    for (n, unit) in [(years, 'Y'), (months, 'M'), (days, 'D')] {
        if n != 0 {
            let _ = write!(out, "{n}{unit}");
        }
    }
    if micros != 0 {
        out.push('T');
        let hours = micros / 3_600_000_000;
        let minutes = (micros % 3_600_000_000) / 60_000_000;
        let rest = micros % 60_000_000;
        if hours != 0 {
            let _ = write!(out, "{hours}H");
        }
        if minutes != 0 {
            let _ = write!(out, "{minutes}M");
        }
        if rest != 0 {
            let sign = if rest < 0 { "-" } else { "" };
            let rest = rest.unsigned_abs();
            let _ = write!(out, "{sign}{}", rest / 1_000_000);
            let fraction = rest % 1_000_000;
            if fraction != 0 {
                let digits = format!("{fraction:06}");
                let _ = write!(out, ".{}", digits.trim_end_matches('0'));
            }
            out.push('S');
        }
    }
    if out == "P" {
        out.push_str("T0S");
    }
    out
}

/// Reads a (possibly multi-dimensional) array into nested JSON arrays.
fn decode_array(member: &Decoder, raw: &[u8]) -> Result<Value, String> {
    let mut reader = Reader(raw);
    let ndim = reader.i32()?;
    let _has_nulls = reader.i32()?;
    let _element_oid = reader.i32()?;
    if ndim == 0 {
        return Ok(Value::Array(Vec::new()));
    }
    let mut dims = Vec::new();
    for _ in 0..ndim {
        dims.push(usize::try_from(reader.i32()?).map_err(|_| "negative array dimension")?);
        let _lower_bound = reader.i32()?;
    }
    let total: usize = dims.iter().product();
    let mut elements = Vec::with_capacity(total.min(raw.len()));
    for _ in 0..total {
        let len = reader.i32()?;
        if len < 0 {
            elements.push(Value::Null);
            continue;
        }
        let len = usize::try_from(len).map_err(|_| "bad element length")?;
        elements.push(member.decode(reader.take(len)?)?);
    }
    let mut elements = elements.into_iter();
    Ok(nest(&dims, &mut elements))
}

/// A cursor over wire bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let (head, tail) = self.0.split_at_checked(n).ok_or("truncated array")?;
        self.0 = tail;
        Ok(head)
    }

    fn i32(&mut self) -> Result<i32, String> {
        array(self.take(4)?).map(i32::from_be_bytes)
    }
}

fn nest(dims: &[usize], elements: &mut impl Iterator<Item = Value>) -> Value {
    match dims {
        [] | [_] => Value::Array(elements.take(dims.first().copied().unwrap_or(0)).collect()),
        [n, rest @ ..] => Value::Array((0..*n).map(|_| nest(rest, elements)).collect()),
    }
}

/// A column's raw bytes, whatever its type.
struct Raw<'a>(&'a [u8]);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Raw(raw))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// The result's columns, with a decoder for each; the first unsupported column is the error
/// (its name and type).
pub(crate) fn plan_columns(
    columns: &[Column],
) -> Result<Vec<(SqlColumn, Decoder)>, (String, String)> {
    columns
        .iter()
        .map(|c| {
            let column = SqlColumn {
                name: c.name().to_owned(),
                type_name: type_name(c.type_()),
            };
            match Decoder::for_type(c.type_()) {
                Some(d) => Ok((column, d)),
                None => Err((column.name, column.type_name)),
            }
        })
        .collect()
}

/// Decodes a row; the error names the column that could not be read.
pub(crate) fn decode_row(
    row: &Row,
    plan: &[(SqlColumn, Decoder)],
) -> Result<SqlRow, (String, String)> {
    let mut out = SqlRow::new();
    for (i, (column, decoder)) in plan.iter().enumerate() {
        let raw: Option<Raw<'_>> = row
            .try_get(i)
            .map_err(|e| (column.name.clone(), e.to_string()))?;
        let value = match raw {
            None => Value::Null,
            Some(Raw(bytes)) => decoder
                .decode(bytes)
                .map_err(|e| (column.name.clone(), e))?,
        };
        out.insert(column.name.clone(), value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn scalars() {
        assert_eq!(Decoder::Bool.decode(&[1]), Ok(json!(true)));
        assert_eq!(Decoder::I16.decode(&[0xff, 0xfe]), Ok(json!(-2)));
        assert_eq!(Decoder::I64.decode(&7i64.to_be_bytes()), Ok(json!(7)));
        assert_eq!(Decoder::F32.decode(&0.1f32.to_be_bytes()), Ok(json!(0.1)));
        assert_eq!(
            Decoder::F64.decode(&f64::NAN.to_be_bytes()),
            Ok(json!("NaN"))
        );
        assert_eq!(
            Decoder::F64.decode(&f64::NEG_INFINITY.to_be_bytes()),
            Ok(json!("-Infinity"))
        );
        assert!(Decoder::I32.decode(&[0, 1]).is_err());
        assert_eq!(Decoder::Text.decode(b"hi"), Ok(json!("hi")));
        assert!(Decoder::Text.decode(&[0xff]).is_err());
        assert_eq!(
            Decoder::Bytea.decode(&[0, 1, 2, 255]),
            Ok(json!("AAEC/w=="))
        );
        assert_eq!(Decoder::Jsonb.decode(b"\x01{\"a\":1}"), Ok(json!({"a": 1})));
        assert_eq!(Decoder::Void.decode(b""), Ok(Value::Null));
    }

    #[test]
    fn times() {
        assert_eq!(
            Decoder::TimestampTz.decode(&1_500_000i64.to_be_bytes()),
            Ok(json!("2000-01-01T00:00:01.500Z"))
        );
        assert_eq!(
            Decoder::TimestampTz.decode(&i64::MAX.to_be_bytes()),
            Ok(json!("infinity"))
        );
        assert_eq!(
            Decoder::Timestamp.decode(&(-1i64).to_be_bytes()),
            Ok(json!("1999-12-31T23:59:59.999999"))
        );
        assert_eq!(
            Decoder::Date.decode(&31i32.to_be_bytes()),
            Ok(json!("2000-02-01"))
        );
        assert_eq!(
            Decoder::Time.decode(&3_723_000_000i64.to_be_bytes()),
            Ok(json!("01:02:03"))
        );
        assert_eq!(
            Decoder::Time.decode(&86_400_000_000i64.to_be_bytes()),
            Ok(json!("24:00:00"))
        );
        assert_eq!(iso_duration(14, 3, 14_706_500_000), "P1Y2M3DT4H5M6.5S");
        assert_eq!(iso_duration(0, 0, 0), "PT0S");
        assert_eq!(iso_duration(0, -1, -1_500_000), "P-1DT-1.5S");
    }

    #[test]
    fn arrays() {
        let mut raw = Vec::new();
        for word in [2i32, 1, 23, 2, 1, 2, 1] {
            raw.extend_from_slice(&word.to_be_bytes());
        }
        for element in [Some(1i32), None, Some(3), Some(4)] {
            match element {
                Some(v) => {
                    raw.extend_from_slice(&4i32.to_be_bytes());
                    raw.extend_from_slice(&v.to_be_bytes());
                }
                None => raw.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        let int4s = Decoder::Array(Box::new(Decoder::I32));
        assert_eq!(int4s.decode(&raw), Ok(json!([[1, null], [3, 4]])));
        let empty = [0i32, 0, 23].map(i32::to_be_bytes).concat();
        assert_eq!(int4s.decode(&empty), Ok(json!([])));
        assert!(int4s.decode(&raw[..raw.len() - 2]).is_err());
    }

    #[test]
    fn supported_types() {
        assert_eq!(
            Decoder::for_type(&Type::INT4_ARRAY),
            Some(Decoder::Array(Box::new(Decoder::I32)))
        );
        assert_eq!(Decoder::for_type(&Type::NAME), Some(Decoder::Text));
        assert_eq!(Decoder::for_type(&Type::INET), None);
        assert_eq!(Decoder::for_type(&Type::RECORD), None);
        assert_eq!(Decoder::for_type(&Type::MONEY), None);
    }
}
