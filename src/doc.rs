//! Parsed events. A [`Doc`] is JSON whose strings borrow from the input
//! line (unless they hold escapes) and whose objects are small vectors:
//! parsing an event allocates one vector per object or array and nothing
//! per key or string, and nothing is hashed. Mapping reads a few fields and
//! copies a few subtrees, so this is cheaper than building a
//! `serde_json::Value` for every event.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Number, Value};

/// The deepest nesting any event may have, whatever the settings: parsing,
/// mapping and dropping a document recurse once per level.
pub const MAX_DEPTH: usize = 128;

/// Object fields in insertion order where a repeated key replaces the
/// earlier value. Small objects are searched; once an object grows past
/// [`Fields::INDEXED`] keys a hash index keeps inserts linear overall.
pub(crate) struct Fields<'a, V> {
    list: Vec<(Cow<'a, str>, V)>,
    index: Option<std::collections::HashMap<Cow<'a, str>, usize>>,
}

impl<'a, V> Default for Fields<'a, V> {
    fn default() -> Self {
        Fields {
            list: Vec::with_capacity(8),
            index: None,
        }
    }
}

impl<'a, V> Fields<'a, V> {
    const INDEXED: usize = 32;

    /// Sets a key, keeping its first position when it is already there.
    pub(crate) fn put(&mut self, key: Cow<'a, str>, value: V) {
        if let Some(index) = &mut self.index {
            match index.get(&key) {
                Some(&i) => self.list[i].1 = value,
                None => {
                    index.insert(key.clone(), self.list.len());
                    self.list.push((key, value));
                }
            }
            return;
        }
        match self.list.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => {
                self.list.push((key, value));
                if self.list.len() > Self::INDEXED {
                    self.index = Some(
                        self.list
                            .iter()
                            .enumerate()
                            .map(|(i, (k, _))| (k.clone(), i))
                            .collect(),
                    );
                }
            }
        }
    }

    /// Appends a key known not to be there yet.
    pub(crate) fn push_new(&mut self, key: Cow<'a, str>, value: V) {
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), self.list.len());
        }
        self.list.push((key, value));
    }

    /// The fields, in order.
    pub(crate) fn into_vec(self) -> Vec<(Cow<'a, str>, V)> {
        self.list
    }
}

/// A JSON value borrowing from its source text.
#[derive(Clone, Debug, PartialEq)]
pub enum Doc<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Num(Number),
    /// A string.
    Str(Cow<'a, str>),
    /// An array.
    Array(Vec<Doc<'a>>),
    /// An object, in input order, without repeated keys (the last wins).
    Object(Vec<(Cow<'a, str>, Doc<'a>)>),
}

impl<'a> Doc<'a> {
    /// Parses one JSON text.
    pub fn parse(text: &'a str) -> Result<Doc<'a>, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Parses one JSON text whose arrays and objects nest at most
    /// `max_depth` deep. Exceeding it is a data error
    /// (`serde_json::Error::is_data`); bad JSON is a syntax error.
    pub fn parse_nested(text: &'a str, max_depth: usize) -> Result<Doc<'a>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(text);
        // `Nested` enforces the depth, so serde_json's own fixed limit of
        // 128 would only get in the way of `max_depth` = 128.
        de.disable_recursion_limit();
        let doc = Nested(max_depth.min(MAX_DEPTH)).deserialize(&mut de)?;
        de.end()?;
        Ok(doc)
    }

    /// A field of an object.
    pub fn get(&self, key: &str) -> Option<&Doc<'a>> {
        match self {
            Doc::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Borrows a `serde_json::Value` as a document (strings are borrowed).
    pub fn from_value(v: &'a Value) -> Doc<'a> {
        match v {
            Value::Null => Doc::Null,
            Value::Bool(b) => Doc::Bool(*b),
            Value::Number(n) => Doc::Num(n.clone()),
            Value::String(s) => Doc::Str(Cow::Borrowed(s)),
            Value::Array(items) => Doc::Array(items.iter().map(Doc::from_value).collect()),
            Value::Object(m) => Doc::Object(
                m.iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Doc::from_value(v)))
                    .collect(),
            ),
        }
    }

    /// Converts to an owned `serde_json::Value`.
    pub fn to_value(&self) -> Value {
        match self {
            Doc::Null => Value::Null,
            Doc::Bool(b) => Value::Bool(*b),
            Doc::Num(n) => Value::Number(n.clone()),
            Doc::Str(s) => Value::String(s.to_string()),
            Doc::Array(items) => Value::Array(items.iter().map(Doc::to_value).collect()),
            Doc::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

impl Doc<'static> {
    /// Takes ownership of a `serde_json::Value`.
    pub fn from_owned(v: Value) -> Doc<'static> {
        match v {
            Value::Null => Doc::Null,
            Value::Bool(b) => Doc::Bool(b),
            Value::Number(n) => Doc::Num(n),
            Value::String(s) => Doc::Str(Cow::Owned(s)),
            Value::Array(items) => Doc::Array(items.into_iter().map(Doc::from_owned).collect()),
            Value::Object(m) => Doc::Object(
                m.into_iter()
                    .map(|(k, v)| (Cow::Owned(k), Doc::from_owned(v)))
                    .collect(),
            ),
        }
    }
}

impl Serialize for Doc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Doc::Null => s.serialize_unit(),
            Doc::Bool(b) => s.serialize_bool(*b),
            Doc::Num(n) => n.serialize(s),
            Doc::Str(v) => s.serialize_str(v),
            Doc::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Doc::Object(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k.as_ref(), v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Doc<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DocVisitor {
            depth_left: usize::MAX,
        })
    }
}

/// Parses a value that may nest this many more levels.
struct Nested(usize);

impl<'de> DeserializeSeed<'de> for Nested {
    type Value = Doc<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Doc<'de>, D::Error> {
        d.deserialize_any(DocVisitor { depth_left: self.0 })
    }
}

struct DocVisitor {
    depth_left: usize,
}

impl DocVisitor {
    /// The seed for the items of an array or object, one level deeper.
    fn inner<E: de::Error>(&self) -> Result<Nested, E> {
        match self.depth_left.checked_sub(1) {
            Some(left) => Ok(Nested(left)),
            None => Err(E::custom("nested too deep")),
        }
    }
}

impl<'de> Visitor<'de> for DocVisitor {
    type Value = Doc<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Doc<'de>, E> {
        Ok(Doc::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Doc<'de>, E> {
        Ok(Doc::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Doc<'de>, E> {
        Ok(Doc::Num(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Doc<'de>, E> {
        Ok(Doc::Num(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Doc<'de>, E> {
        // serde_json never yields a non-finite float.
        Ok(Number::from_f64(n).map_or(Doc::Null, Doc::Num))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Doc<'de>, E> {
        Ok(Doc::Str(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Doc<'de>, E> {
        Ok(Doc::Str(Cow::Owned(s.to_string())))
    }

    fn visit_string<E>(self, s: String) -> Result<Doc<'de>, E> {
        Ok(Doc::Str(Cow::Owned(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Doc<'de>, A::Error> {
        let inner = self.inner()?;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(64));
        while let Some(v) = seq.next_element_seed(Nested(inner.0))? {
            items.push(v);
        }
        Ok(Doc::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Doc<'de>, A::Error> {
        let inner = self.inner()?;
        let mut fields = Fields::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let value = map.next_value_seed(Nested(inner.0))?;
            // A repeated key replaces the earlier value, as in JavaScript.
            fields.put(key.0, value);
        }
        Ok(Doc::Object(fields.into_vec()))
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}
