//! String functions. Missing stays missing; a non-string fails.

use std::borrow::Cow;

use super::{expected, Builtin, Ty};
use crate::value::Val;

macro_rules! string_map {
    ($id:ident, $name:literal, $doc:literal, $ex:expr, $f:expr) => {
        #[doc = $doc]
        pub const $id: Builtin = Builtin {
            name: $name,
            params: &[Ty::String],
            variadic: false,
            returns: Ty::String,
            doc: $doc,
            examples: $ex,
            eval: |a| match std::mem::take(&mut a[0]) {
                Val::Absent => Ok(Val::Absent),
                Val::Str(s) => {
                    let f: fn(&str) -> Cow<'_, str> = $f;
                    Ok(Val::Str(match s {
                        Cow::Borrowed(b) => f(b),
                        Cow::Owned(o) => Cow::Owned(f(&o).into_owned()),
                    }))
                }
                other => Err(expected($name, "a string", &other)),
            },
        };
    };
}

string_map!(
    LOWER,
    "lower",
    "The string in lower case.",
    &[("lower(\"iOS\")", "\"ios\"")],
    |s| {
        if s.chars().any(char::is_uppercase) {
            Cow::Owned(s.to_lowercase())
        } else {
            Cow::Borrowed(s)
        }
    }
);
string_map!(
    UPPER,
    "upper",
    "The string in upper case.",
    &[("upper(\"ios\")", "\"IOS\"")],
    |s| {
        if s.chars().any(char::is_lowercase) {
            Cow::Owned(s.to_uppercase())
        } else {
            Cow::Borrowed(s)
        }
    }
);
string_map!(
    TRIM,
    "trim",
    "The string without leading and trailing whitespace.",
    &[("trim(\"  a b \")", "\"a b\"")],
    |s| { Cow::Borrowed(s.trim()) }
);

/// `nonblank(x)`.
pub const NONBLANK: Builtin = Builtin {
    name: "nonblank",
    params: &[Ty::Any],
    variadic: false,
    returns: Ty::Any,
    doc: "Missing when the value is an empty or all-whitespace string; otherwise the value. Use it before `??` to let blank strings fall through.",
    examples: &[("nonblank(\" \") ?? \"x\"", "\"x\""), ("nonblank(\"a\")", "\"a\""), ("nonblank(0)", "0")],
    eval: |a| {
        let v = std::mem::take(&mut a[0]);
        Ok(match &v {
            Val::Str(s) if s.trim().is_empty() => Val::Absent,
            _ => v,
        })
    },
};

/// `join(list, separator)`.
pub const JOIN: Builtin = Builtin {
    name: "join",
    params: &[Ty::Array, Ty::String],
    variadic: false,
    returns: Ty::String,
    doc: "The array's items written out and joined by the separator; missing items are skipped.",
    examples: &[("join([\"a\", 1, .nothing, true], \",\")", "\"a,1,true\"")],
    eval: |a| {
        let sep = a[1]
            .as_str()
            .ok_or_else(|| expected("join", "a string separator", &a[1]))?;
        let Some(items) = a[0].items() else {
            return match a[0] {
                Val::Absent => Ok(Val::Absent),
                _ => Err(expected("join", "an array", &a[0])),
            };
        };
        let mut out = String::new();
        for item in items.iter().filter(|v| v.is_present()) {
            if !out.is_empty() {
                out.push_str(sep);
            }
            match item {
                Val::Str(s) => out.push_str(s),
                other => out.push_str(&other.to_json().map(|j| j.to_string()).unwrap_or_default()),
            }
        }
        Ok(Val::str(out))
    },
};
