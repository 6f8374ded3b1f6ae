//! PostgreSQL `numeric` in its binary wire form, to and from exact decimal text.
//!
//! Numeric values never go through `f64`: a parameter's decimal text (a JSON number's own
//! digits, or a string) is encoded digit for digit, and a column is decoded to its exact
//! decimal text, so `numeric(38, 10)` values survive unchanged.

use std::fmt::Write as _;

use bytes::BytesMut;

/// The sign word of a positive number.
const POS: u16 = 0x0000;
/// The sign word of a negative number.
const NEG: u16 = 0x4000;
/// The sign word of `NaN`.
const NAN: u16 = 0xC000;
/// The sign word of `Infinity` (PostgreSQL 14 and later).
const PINF: u16 = 0xD000;
/// The sign word of `-Infinity` (PostgreSQL 14 and later).
const NINF: u16 = 0xF000;
/// The largest display scale the server accepts.
const MAX_DSCALE: usize = 0x3FFF;

/// A `numeric` value in wire form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Numeric {
    /// Base-10000 digits, most significant first.
    digits: Vec<i16>,
    /// The power of 10000 of the first digit.
    weight: i16,
    /// One of the sign words.
    sign: u16,
    /// The number of decimal digits after the point.
    dscale: u16,
}

impl Numeric {
    /// Parses decimal text: `-12.5`, `1e-3`, `NaN`, `Infinity`, `-Infinity`.
    ///
    /// Returns `None` for anything else (no digits, stray characters, absurd exponents).
    pub(crate) fn parse(text: &str) -> Option<Numeric> {
        let text = text.trim();
        let special = |sign| {
            Some(Numeric {
                digits: Vec::new(),
                weight: 0,
                sign,
                dscale: 0,
            })
        };
        match text.to_ascii_lowercase().as_str() {
            "nan" => return special(NAN),
            "infinity" | "+infinity" | "inf" | "+inf" => return special(PINF),
            "-infinity" | "-inf" => return special(NINF),
            _ => {}
        }
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], rest[at + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        if !(-100_000..=100_000).contains(&exponent) {
            return None;
        }
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int_part.is_empty() && frac_part.is_empty()
            || !int_part
                .bytes()
                .chain(frac_part.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let frac_len = i64::try_from(frac_part.len()).ok()?;
        let dscale = usize::try_from((frac_len - exponent).max(0)).ok()?;
        if dscale > MAX_DSCALE {
            return None;
        }
        let mut decimal: Vec<u8> = int_part
            .bytes()
            .chain(frac_part.bytes())
            .map(|b| b - b'0')
            .collect();
        // `point`: how many of `decimal`'s digits stand before the decimal point.
        let mut point = i64::try_from(int_part.len()).ok()? + exponent;
        let leading = decimal.iter().take_while(|d| **d == 0).count();
        decimal.drain(..leading);
        point -= i64::try_from(leading).ok()?;
        while decimal.last() == Some(&0) {
            decimal.pop();
        }
        let sign = if negative { NEG } else { POS };
        let dscale = u16::try_from(dscale).ok()?;
        if decimal.is_empty() {
            return Some(Numeric {
                digits: Vec::new(),
                weight: 0,
                sign: POS,
                dscale,
            });
        }
        // Align the decimal point on a base-10000 group boundary.
        let pad_left = (4 - point.rem_euclid(4)) % 4;
        point += pad_left;
        let mut aligned = vec![0u8; usize::try_from(pad_left).ok()?];
        aligned.extend_from_slice(&decimal);
        while aligned.len() % 4 != 0 {
            aligned.push(0);
        }
        let weight = i16::try_from(point / 4 - 1).ok()?;
        let digits = aligned
            .chunks(4)
            .map(|c| c.iter().fold(0i16, |acc, d| acc * 10 + i16::from(*d)))
            .collect();
        Some(Numeric {
            digits,
            weight,
            sign,
            dscale,
        })
    }

    /// The wire form.
    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<(), &'static str> {
        let ndigits = u16::try_from(self.digits.len()).map_err(|_| "numeric value too long")?;
        out.extend_from_slice(&ndigits.to_be_bytes());
        out.extend_from_slice(&self.weight.to_be_bytes());
        out.extend_from_slice(&self.sign.to_be_bytes());
        out.extend_from_slice(&self.dscale.to_be_bytes());
        for d in &self.digits {
            out.extend_from_slice(&d.to_be_bytes());
        }
        Ok(())
    }

    /// Reads the wire form.
    pub(crate) fn decode(raw: &[u8]) -> Option<Numeric> {
        let word = |i: usize| -> Option<[u8; 2]> { raw.get(i..i + 2)?.try_into().ok() };
        let ndigits = usize::from(u16::from_be_bytes(word(0)?));
        let weight = i16::from_be_bytes(word(2)?);
        let sign = u16::from_be_bytes(word(4)?);
        let dscale = u16::from_be_bytes(word(6)?);
        if raw.len() != 8 + 2 * ndigits {
            return None;
        }
        let digits = (0..ndigits)
            .map(|i| word(8 + 2 * i).map(i16::from_be_bytes))
            .collect::<Option<Vec<_>>>()?;
        if digits.iter().any(|d| !(0..10_000).contains(d)) {
            return None;
        }
        Some(Numeric {
            digits,
            weight,
            sign,
            dscale,
        })
    }

    /// The exact decimal text (`NaN`, `Infinity` and `-Infinity` for the special values).
    pub(crate) fn to_text(&self) -> String {
        match self.sign {
            NAN => return "NaN".to_owned(),
            PINF => return "Infinity".to_owned(),
            NINF => return "-Infinity".to_owned(),
            _ => {}
        }
        let digit = |i: i32| -> i16 {
            usize::try_from(i)
                .ok()
                .and_then(|i| self.digits.get(i))
                .copied()
                .unwrap_or(0)
        };
        let weight = i32::from(self.weight);
        let mut out = String::new();
        if self.sign == NEG && !self.digits.is_empty() {
            out.push('-');
        }
        if weight < 0 {
            out.push('0');
        } else {
            let _ = write!(out, "{}", digit(0));
            for i in 1..=weight {
                let _ = write!(out, "{:04}", digit(i));
            }
        }
        let dscale = usize::from(self.dscale);
        if dscale > 0 {
            out.push('.');
            let mut fraction = String::with_capacity(dscale + 4);
            let mut i = weight + 1;
            while fraction.len() < dscale {
                let _ = write!(fraction, "{:04}", digit(i));
                i += 1;
            }
            fraction.truncate(dscale);
            out.push_str(&fraction);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let n = Numeric::parse(text).unwrap_or_else(|| panic!("parses {text}"));
        let mut wire = BytesMut::new();
        n.encode(&mut wire).expect("encodes");
        let back = Numeric::decode(&wire).expect("decodes");
        assert_eq!(back, n);
        back.to_text()
    }

    #[test]
    fn exact_round_trips() {
        for (input, output) in [
            ("0", "0"),
            ("-0", "0"),
            ("0.00", "0.00"),
            ("1", "1"),
            ("-1", "-1"),
            ("12345678", "12345678"),
            ("10000", "10000"),
            ("1.50", "1.50"),
            ("0.0001", "0.0001"),
            ("0.00001", "0.00001"),
            ("-123.456", "-123.456"),
            (
                "99999999999999999999999999999999.12345678901234567890",
                "99999999999999999999999999999999.12345678901234567890",
            ),
            ("1e3", "1000"),
            ("1.5e-7", "0.00000015"),
            ("1e21", "1000000000000000000000"),
            ("+7", "7"),
            (".5", "0.5"),
            ("5.", "5"),
            ("NaN", "NaN"),
            ("infinity", "Infinity"),
            ("-Infinity", "-Infinity"),
        ] {
            assert_eq!(round_trip(input), output, "{input}");
        }
    }

    #[test]
    fn wire_form_matches_postgres() {
        // SELECT numeric_send(12345.678) → 0003 0001 0000 0003 0001 0929 1a7c
        let mut wire = BytesMut::new();
        Numeric::parse("12345.678")
            .expect("parses")
            .encode(&mut wire)
            .expect("encodes");
        assert_eq!(
            wire[..],
            [0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1a, 0x7c]
        );
        // SELECT numeric_send(0.001) → 0001 ffff 0000 0003 000a
        let mut wire = BytesMut::new();
        Numeric::parse("0.001")
            .expect("parses")
            .encode(&mut wire)
            .expect("encodes");
        assert_eq!(wire[..], [0, 1, 0xff, 0xff, 0, 0, 0, 3, 0, 10]);
    }

    #[test]
    fn rejects_non_numbers() {
        for bad in [
            "", "-", ".", "1.2.3", "1e", "abc", "1,5", "1e999999", "0x10", " - 1",
        ] {
            assert!(Numeric::parse(bad).is_none(), "{bad}");
        }
        assert!(Numeric::decode(&[0, 1, 0, 0]).is_none());
        assert!(Numeric::decode(&[0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10]).is_none());
    }
}
