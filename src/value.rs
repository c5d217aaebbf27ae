//! Runtime values. A value either borrows from the event (or from the
//! program's constants) or is built by the mapping; a value can also be
//! *absent*, which is how "this field has nothing" travels until `emit`
//! leaves the field out.

use std::borrow::Cow;
use std::fmt;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Number, Value};

use crate::doc::Doc;

/// A value during evaluation. Lifetime `'a` is that of the event and the
/// program it borrows from.
#[derive(Clone, Debug, Default)]
pub enum Val<'a> {
    /// Nothing: a missing field, or an event field that is JSON `null`.
    #[default]
    Absent,
    /// An explicit `null` written in the mapping.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Num(Number),
    /// A string.
    Str(Cow<'a, str>),
    /// An array or object borrowed as it is from the event or a constant.
    Doc(&'a Doc<'a>),
    /// An array built by the mapping.
    Array(Vec<Val<'a>>),
    /// An object built by the mapping, in insertion order.
    Object(Vec<(Cow<'a, str>, Val<'a>)>),
}

/// The kinds of value, for type tests and messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Missing.
    Absent,
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Absent => "nothing",
            Kind::Null => "null",
            Kind::Bool => "a boolean",
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::Array => "an array",
            Kind::Object => "an object",
        })
    }
}

impl<'a> Val<'a> {
    /// Reads a document value. Scalars are unpacked; arrays and objects
    /// stay borrowed; JSON `null` reads as absent (Segment libraries send
    /// null for "not set").
    pub fn from_doc(v: &'a Doc<'a>) -> Val<'a> {
        match v {
            Doc::Null => Val::Absent,
            Doc::Bool(b) => Val::Bool(*b),
            Doc::Num(n) => Val::Num(n.clone()),
            Doc::Str(s) => Val::Str(Cow::Borrowed(s.as_ref())),
            Doc::Array(_) | Doc::Object(_) => Val::Doc(v),
        }
    }

    /// A string value.
    pub fn str(s: impl Into<Cow<'a, str>>) -> Val<'a> {
        Val::Str(s.into())
    }

    /// The kind of this value.
    pub fn kind(&self) -> Kind {
        match self {
            Val::Absent => Kind::Absent,
            Val::Null => Kind::Null,
            Val::Bool(_) => Kind::Bool,
            Val::Num(_) => Kind::Number,
            Val::Str(_) => Kind::String,
            Val::Array(_) => Kind::Array,
            Val::Object(_) => Kind::Object,
            Val::Doc(Doc::Array(_)) => Kind::Array,
            Val::Doc(Doc::Object(_)) => Kind::Object,
            Val::Doc(v) => Val::from_doc(v).kind(),
        }
    }

    /// True unless absent.
    pub fn is_present(&self) -> bool {
        !matches!(self, Val::Absent)
    }

    /// True when absent or null: what `??` falls back on.
    pub fn is_nothing(&self) -> bool {
        matches!(self, Val::Absent | Val::Null)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// One field of an object (absent for anything else).
    pub fn get(&self, key: &str) -> Val<'a> {
        match self {
            Val::Doc(d) => d.get(key).map_or(Val::Absent, Val::from_doc),
            Val::Object(fields) => fields
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map_or(Val::Absent, |(_, v)| v.clone()),
            _ => Val::Absent,
        }
    }

    /// One item of an array; negative indexes count from the end.
    pub fn at(&self, index: i64) -> Val<'a> {
        match self {
            Val::Doc(Doc::Array(items)) => {
                resolve_index(index, items.len()).map_or(Val::Absent, |i| Val::from_doc(&items[i]))
            }
            Val::Array(items) => {
                resolve_index(index, items.len()).map_or(Val::Absent, |i| items[i].clone())
            }
            _ => Val::Absent,
        }
    }

    /// The items of an array, or None if this is not one.
    pub fn items(&self) -> Option<Vec<Val<'a>>> {
        match self {
            Val::Doc(Doc::Array(items)) => Some(items.iter().map(Val::from_doc).collect()),
            Val::Array(items) => Some(items.clone()),
            _ => None,
        }
    }

    /// The fields of an object, or None if this is not one.
    pub fn entries(&self) -> Option<Vec<(Cow<'a, str>, Val<'a>)>> {
        match self {
            Val::Doc(Doc::Object(fields)) => Some(
                fields
                    .iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_ref()), copied_field(v)))
                    .collect(),
            ),
            Val::Object(fields) => Some(fields.clone()),
            _ => None,
        }
    }

    /// Converts to an owned document (absent becomes None).
    pub fn to_doc(&self) -> Option<Doc<'static>> {
        Some(match self {
            Val::Absent => return None,
            Val::Null => Doc::Null,
            Val::Bool(b) => Doc::Bool(*b),
            Val::Num(n) => Doc::Num(n.clone()),
            Val::Str(s) => Doc::Str(Cow::Owned(s.to_string())),
            Val::Doc(v) => Doc::from_owned(v.to_value()),
            Val::Array(items) => Doc::Array(items.iter().filter_map(Val::to_doc).collect()),
            Val::Object(fields) => Doc::Object(
                fields
                    .iter()
                    .filter_map(|(k, v)| Some((Cow::Owned(k.to_string()), v.to_doc()?)))
                    .collect(),
            ),
        })
    }

    /// Converts to an owned JSON value (absent becomes None).
    pub fn to_json(&self) -> Option<Value> {
        Some(match self {
            Val::Absent => return None,
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) => Value::Number(n.clone()),
            Val::Str(s) => Value::String(s.to_string()),
            Val::Doc(v) => v.to_value(),
            Val::Array(items) => Value::Array(items.iter().filter_map(Val::to_json).collect()),
            Val::Object(fields) => {
                let mut m = serde_json::Map::new();
                for (k, v) in fields {
                    if let Some(v) = v.to_json() {
                        m.insert(k.to_string(), v);
                    }
                }
                Value::Object(m)
            }
        })
    }

    /// Structural equality across borrowed and built forms; numbers compare
    /// by value.
    pub fn equals(&self, other: &Val<'_>) -> bool {
        match (self, other) {
            (Val::Absent, Val::Absent) | (Val::Null, Val::Null) => true,
            (Val::Bool(a), Val::Bool(b)) => a == b,
            (Val::Num(a), Val::Num(b)) => num_eq(a, b),
            (Val::Str(a), Val::Str(b)) => a == b,
            (Val::Doc(a), Val::Doc(b)) => a == b,
            _ => match (self.kind(), other.kind()) {
                (Kind::Array, Kind::Array) => {
                    let (a, b) = (
                        self.items().unwrap_or_default(),
                        other.items().unwrap_or_default(),
                    );
                    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.equals(y))
                }
                (Kind::Object, Kind::Object) => {
                    let (a, b) = (
                        self.entries().unwrap_or_default(),
                        other.entries().unwrap_or_default(),
                    );
                    a.len() == b.len()
                        && a.iter()
                            .all(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && v.equals(v2)))
                }
                _ => false,
            },
        }
    }
}

/// A field value read out of an object (or array) being copied whole:
/// kept as it is, nulls included, because copying passes data through.
pub fn copied_field<'a>(v: &'a Doc<'a>) -> Val<'a> {
    match v {
        Doc::Null => Val::Null,
        other => Val::from_doc(other),
    }
}

/// Numbers are equal when their values are.
pub fn num_eq(a: &Number, b: &Number) -> bool {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => x == y,
        _ => a.as_f64() == b.as_f64(),
    }
}

fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 { len as i64 + index } else { index };
    (0..len as i64).contains(&i).then_some(i as usize)
}

impl Serialize for Val<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Val::Absent | Val::Null => s.serialize_unit(),
            Val::Bool(b) => s.serialize_bool(*b),
            Val::Num(n) => n.serialize(s),
            Val::Str(v) => s.serialize_str(v),
            Val::Doc(v) => v.serialize(s),
            Val::Array(items) => {
                let mut seq = s.serialize_seq(None)?;
                for v in items.iter().filter(|v| v.is_present()) {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Val::Object(fields) => {
                let mut map = s.serialize_map(None)?;
                for (k, v) in fields.iter().filter(|(_, v)| v.is_present()) {
                    map.serialize_entry(k.as_ref(), v)?;
                }
                map.end()
            }
        }
    }
}

impl Val<'static> {
    /// Takes ownership of a JSON value (used for results that cannot
    /// borrow, such as query results over built values).
    pub fn from_owned(v: Value) -> Val<'static> {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(b),
            Value::Number(n) => Val::Num(n),
            Value::String(s) => Val::Str(Cow::Owned(s)),
            Value::Array(items) => Val::Array(items.into_iter().map(Val::from_owned).collect()),
            Value::Object(m) => Val::Object(
                m.into_iter()
                    .map(|(k, v)| (Cow::Owned(k), Val::from_owned(v)))
                    .collect(),
            ),
        }
    }
}

/// A string quoted for a message, shortened so that a huge input value
/// cannot flood stderr.
pub fn quote(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head:?}…")
    }
}
