//! Object and collection functions: pick / omit / merge and friends.
//! Keys may be given one by one or as lists (a list setting, for example).

use std::borrow::Cow;

use super::{expected, Builtin, Ty};
use crate::value::{Kind, Val};

/// Collects key arguments: strings, or arrays of strings.
fn key_args<'a>(func: &str, args: &[Val<'a>]) -> Result<Vec<Cow<'a, str>>, String> {
    let mut keys = Vec::new();
    for a in args {
        match a {
            Val::Absent => {}
            Val::Str(s) => keys.push(s.clone()),
            other => match other.items() {
                Some(items) => {
                    for i in items {
                        match i {
                            Val::Str(s) => keys.push(s),
                            other => return Err(expected(func, "string keys", &other)),
                        }
                    }
                }
                None => return Err(expected(func, "string keys or lists of them", other)),
            },
        }
    }
    Ok(keys)
}

fn filter_keys<'a>(func: &str, a: &mut [Val<'a>], keep_listed: bool) -> Result<Val<'a>, String> {
    let obj = std::mem::take(&mut a[0]);
    if matches!(obj, Val::Absent) {
        return Ok(Val::Absent);
    }
    let keys = key_args(func, &a[1..])?;
    if keys.is_empty() && obj.kind() == Kind::Object {
        // Nothing to filter: omit keeps the object as it is (still
        // borrowed), pick keeps nothing.
        return Ok(if keep_listed {
            Val::Object(Vec::new())
        } else {
            obj
        });
    }
    let entries = obj
        .entries()
        .ok_or_else(|| expected(func, "an object", &obj))?;
    Ok(Val::Object(
        entries
            .into_iter()
            .filter(|(k, _)| keys.iter().any(|x| x == k) == keep_listed)
            .collect(),
    ))
}

/// `pick(obj, keys...)`.
pub const PICK: Builtin = Builtin {
    name: "pick",
    params: &[Ty::Object, Ty::Any],
    variadic: true,
    returns: Ty::Object,
    doc: "The object with only the named keys (given one by one or as lists).",
    examples: &[
        (
            "pick({a: 1, b: 2, c: 3}, \"a\", [\"c\"])",
            "{\"a\": 1, \"c\": 3}",
        ),
        ("pick({a: 1}, [])", "{}"),
    ],
    eval: |a| filter_keys("pick", a, true),
};

/// `omit(obj, keys...)`.
pub const OMIT: Builtin = Builtin {
    name: "omit",
    params: &[Ty::Object, Ty::Any],
    variadic: true,
    returns: Ty::Object,
    doc: "The object without the named keys (given one by one or as lists).",
    examples: &[
        ("omit({a: 1, b: 2, c: 3}, \"a\", [\"c\"])", "{\"b\": 2}"),
        ("omit(.nothing, \"a\")", "absent"),
    ],
    eval: |a| filter_keys("omit", a, false),
};

/// `merge(objs...)`.
pub const MERGE: Builtin = Builtin {
    name: "merge",
    params: &[Ty::Object],
    variadic: true,
    returns: Ty::Object,
    doc: "One object with the fields of all; later ones win; missing arguments are skipped.",
    examples: &[(
        "merge({a: 1, b: 1}, .nothing, {b: 2})",
        "{\"a\": 1, \"b\": 2}",
    )],
    eval: |a| {
        let mut out = crate::doc::Fields::default();
        for obj in a.iter().filter(|v| v.is_present()) {
            for (k, v) in obj
                .entries()
                .ok_or_else(|| expected("merge", "objects", obj))?
            {
                out.put(k, v);
            }
        }
        Ok(Val::Object(out.into_vec()))
    },
};

/// `keys(obj)`.
pub const KEYS: Builtin = Builtin {
    name: "keys",
    params: &[Ty::Object],
    variadic: false,
    returns: Ty::Array,
    doc: "The object's keys, in order.",
    examples: &[("keys({b: 1, a: 2})", "[\"b\", \"a\"]")],
    eval: |a| {
        let obj = std::mem::take(&mut a[0]);
        if !obj.is_present() {
            return Ok(Val::Absent);
        }
        let entries = obj
            .entries()
            .ok_or_else(|| expected("keys", "an object", &obj))?;
        Ok(Val::Array(
            entries.into_iter().map(|(k, _)| Val::Str(k)).collect(),
        ))
    },
};

/// `len(x)`.
pub const LEN: Builtin = Builtin {
    name: "len",
    params: &[Ty::Any],
    variadic: false,
    returns: Ty::Number,
    doc: "The number of characters of a string, items of an array or fields of an object.",
    examples: &[
        ("len(\"héllo\")", "5"),
        ("len([1, 2])", "2"),
        ("len({a: 1})", "1"),
    ],
    eval: |a| {
        let n = match &a[0] {
            Val::Absent => return Ok(Val::Absent),
            Val::Str(s) => s.chars().count(),
            v => match v.kind() {
                Kind::Array => v.items().map_or(0, |i| i.len()),
                Kind::Object => v.entries().map_or(0, |e| e.len()),
                _ => return Err(expected("len", "a string, array or object", v)),
            },
        };
        Ok(Val::Num((n as u64).into()))
    },
};

/// `contains(x, item)`.
pub const CONTAINS: Builtin = Builtin {
    name: "contains",
    params: &[Ty::Any, Ty::Any],
    variadic: false,
    returns: Ty::Bool,
    doc: "True when an array holds the item, an object has it as a key, or a string contains it; false when missing.",
    examples: &[("contains([\"a\", \"b\"], \"b\")", "true"), ("contains(\"hello\", \"ell\")", "true"), ("contains(.nothing, 1)", "false")],
    eval: |a| {
        let found = match (&a[0], &a[1]) {
            (Val::Absent, _) => false,
            (Val::Str(s), Val::Str(needle)) => s.contains(needle.as_ref()),
            (Val::Str(_), other) => {
                return Err(format!(
                    "contains() looks for a string inside a string, but was given {} to look for",
                    other.kind()
                ))
            }
            (v, item) => match v.kind() {
                Kind::Array => v.items().unwrap_or_default().iter().any(|x| x.equals(item)),
                Kind::Object => item.as_str().is_some_and(|k| v.get(k).is_present()),
                _ => return Err(expected("contains", "an array, object or string", v)),
            },
        };
        Ok(Val::Bool(found))
    },
};

/// `nonempty(x)`.
pub const NONEMPTY: Builtin = Builtin {
    name: "nonempty",
    params: &[Ty::Any],
    variadic: false,
    returns: Ty::Any,
    doc: "Missing when the value is an empty object, array or string; otherwise the value.",
    examples: &[
        ("nonempty({})", "absent"),
        ("nonempty([])", "absent"),
        ("nonempty({a: 1})", "{\"a\": 1}"),
    ],
    eval: |a| {
        let v = std::mem::take(&mut a[0]);
        let empty = match &v {
            Val::Str(s) => s.is_empty(),
            Val::Array(i) => i.iter().all(|x| !x.is_present()),
            Val::Object(f) => f.iter().all(|(_, x)| !x.is_present()),
            Val::Doc(crate::doc::Doc::Array(i)) => i.is_empty(),
            Val::Doc(crate::doc::Doc::Object(m)) => m.is_empty(),
            _ => false,
        };
        Ok(if empty { Val::Absent } else { v })
    },
};
