//! Conversions: numbers from numeric strings, strings from scalars, epoch
//! milliseconds from ISO-8601 or Unix times. They fail (rejecting the
//! event with a reason) rather than guess.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::Number;

use super::{expected, Builtin, Ty};
use crate::value::{quote, Val};

/// `number(x)`.
pub const NUMBER: Builtin = Builtin {
    name: "number",
    params: &[Ty::Any],
    variadic: false,
    returns: Ty::Number,
    doc: "A number, or a numeric string read as a number (\"32\" → 32); missing stays missing; anything else fails.",
    examples: &[("number(\"32\")", "32"), ("number(\" -3.5 \")", "-3.5"), ("number(7)", "7"), ("number(.nothing)", "absent")],
    eval: |a| {
        let v = std::mem::take(&mut a[0]);
        match v {
            Val::Absent | Val::Null | Val::Num(_) => Ok(v),
            Val::Str(s) => parse_number(&s).map(Val::Num).ok_or_else(|| format!("{} is not a number", quote(&s))),
            other => Err(expected("number", "a number or a numeric string", &other)),
        }
    },
};

/// Reads a decimal number; rejects NaN, infinities and empty text.
pub fn parse_number(text: &str) -> Option<Number> {
    let t = text.trim();
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
    {
        return None;
    }
    if let Ok(i) = t.parse::<i64>() {
        return Some(i.into());
    }
    t.parse::<f64>().ok().and_then(Number::from_f64)
}

/// `string(x)`.
pub const STRING: Builtin = Builtin {
    name: "string",
    params: &[Ty::Any],
    variadic: false,
    returns: Ty::String,
    doc: "The value as text: strings as they are, numbers and booleans written out, arrays and objects as JSON.",
    examples: &[("string(42)", "\"42\""), ("string(true)", "\"true\""), ("string(\"a\")", "\"a\""), ("string(.nothing)", "absent")],
    eval: |a| {
        let v = std::mem::take(&mut a[0]);
        Ok(match v {
            Val::Absent | Val::Str(_) => v,
            Val::Null => Val::str("null"),
            Val::Bool(b) => Val::str(b.to_string()),
            Val::Num(n) => Val::str(n.to_string()),
            other => Val::Str(Cow::Owned(other.to_json().map(|j| j.to_string()).unwrap_or_default())),
        })
    },
};

/// `text(x)`.
pub const TEXT: Builtin = Builtin {
    name: "text",
    params: &[Ty::Any],
    variadic: false,
    returns: Ty::String,
    doc: "A string for a text field: strings as they are, numbers and booleans written out; missing for null, arrays and objects, which no text field can hold.",
    examples: &[
        ("text(\"9.1\")", "\"9.1\""),
        ("text(12)", "\"12\""),
        ("text(true)", "\"true\""),
        ("text({a: 1})", "absent"),
        ("text(.nothing)", "absent"),
    ],
    eval: |a| {
        Ok(match std::mem::take(&mut a[0]) {
            v @ Val::Str(_) => v,
            Val::Num(n) => Val::str(n.to_string()),
            Val::Bool(b) => Val::str(b.to_string()),
            _ => Val::Absent,
        })
    },
};

/// Unix times below this many units are read as seconds, above as ms:
/// 1e11 seconds is the year 5138, 1e11 ms is March 1973.
const SECONDS_BELOW: f64 = 1e11;

/// `epoch_ms(x)`.
pub const EPOCH_MS: Builtin = Builtin {
    name: "epoch_ms",
    params: &[Ty::Any],
    variadic: false,
    returns: Ty::Number,
    doc: "Milliseconds since 1970 from an ISO-8601 string, or from Unix seconds or milliseconds (values below 1e11 are seconds).",
    examples: &[
        ("epoch_ms(\"2016-10-17T00:30:08.276Z\")", "1476664208276"),
        ("epoch_ms(\"2020-01-01T09:30:00+00:00\")", "1577871000000"),
        ("epoch_ms(1577871000)", "1577871000000"),
        ("epoch_ms(1577871000000)", "1577871000000"),
        ("epoch_ms(\"1577871000\")", "1577871000000"),
        ("epoch_ms(.nothing)", "absent"),
    ],
    eval: |a| {
        let v = std::mem::take(&mut a[0]);
        match &v {
            Val::Absent | Val::Null => Ok(Val::Absent),
            Val::Num(n) => from_unix(n).ok_or_else(|| format!("{n} is out of range for a time")),
            Val::Str(s) => match parse_number(s) {
                Some(n) => from_unix(&n).ok_or_else(|| format!("{} is out of range for a time", quote(s))),
                None => parse_iso8601(s)
                    .map(|ms| Val::Num(ms.into()))
                    .ok_or_else(|| format!("{} is not an ISO-8601 time or a Unix time", quote(s))),
            },
            other => Err(expected("epoch_ms", "a time string or number", other)),
        }
    },
};

fn from_unix(n: &Number) -> Option<Val<'static>> {
    let x = n.as_f64()?;
    let ms = if x.abs() < SECONDS_BELOW {
        x * 1000.0
    } else {
        x
    };
    // ±8.64e15 ms is the range of dates JavaScript accepts.
    (ms.abs() <= 8.64e15).then(|| Val::Num((ms.round() as i64).into()))
}

/// Parses RFC 3339 / ISO-8601 date-times; a time without offset is UTC and
/// a bare date is midnight UTC.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.timestamp_millis());
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}
