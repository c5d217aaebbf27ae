//! The standard library: every built-in function, registered in [`ALL`].
//! Each entry carries its signature (checked when a mapping compiles), its
//! documentation and examples; `tests/stdlib.rs` runs every example.

mod convert;
mod objects;
mod text;
mod types;

use crate::value::Val;

/// The static type of a value, as far as the compiler can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// Unknown until the event is seen.
    Any,
    /// A boolean.
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
    /// `null`.
    Null,
}

impl Ty {
    /// True when a value of type `self` may be used where `want` is needed.
    pub fn fits(self, want: Ty) -> bool {
        self == Ty::Any || want == Ty::Any || self == want
    }

    /// The type's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Ty::Any => "any value",
            Ty::Bool => "a boolean",
            Ty::Number => "a number",
            Ty::String => "a string",
            Ty::Array => "an array",
            Ty::Object => "an object",
            Ty::Null => "null",
        }
    }
}

/// What a built-in does at run time: arguments in, value or message out.
pub type Eval = for<'a> fn(&mut [Val<'a>]) -> Result<Val<'a>, String>;

/// One built-in function.
pub struct Builtin {
    /// Its name in mappings.
    pub name: &'static str,
    /// The types of its parameters; the last repeats when `variadic`.
    pub params: &'static [Ty],
    /// Whether the last parameter may be given any number of times (≥ 1).
    pub variadic: bool,
    /// The type it returns.
    pub returns: Ty,
    /// One line of documentation.
    pub doc: &'static str,
    /// `(call, expected JSON result or "absent")` pairs, run as tests.
    pub examples: &'static [(&'static str, &'static str)],
    /// The implementation.
    pub eval: Eval,
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}()", self.name)
    }
}

/// Every built-in function. The compiler resolves a call to its entry here.
pub static ALL: &[Builtin] = &[
    types::EXISTS,
    types::IS_STRING,
    types::IS_NUMBER,
    types::IS_BOOL,
    types::IS_OBJECT,
    types::IS_ARRAY,
    convert::NUMBER,
    convert::STRING,
    convert::TEXT,
    convert::EPOCH_MS,
    text::LOWER,
    text::UPPER,
    text::TRIM,
    text::NONBLANK,
    text::JOIN,
    objects::PICK,
    objects::OMIT,
    objects::MERGE,
    objects::KEYS,
    objects::LEN,
    objects::CONTAINS,
    objects::NONEMPTY,
    QUERY,
];

/// `query(value, "$.jsonpath")`: compiled specially (the path is parsed
/// once, when the mapping loads); this entry carries its signature and docs.
pub const QUERY: Builtin = Builtin {
    name: "query",
    params: &[Ty::Any, Ty::String],
    variadic: false,
    returns: Ty::Array,
    doc: "Every value a JSONPath query selects, as an array; the path must be a string literal.",
    examples: &[
        (r#"query({a: [{b: 1}, {b: 2}]}, "$.a[*].b")"#, "[1, 2]"),
        (r#"query({a: 1}, "$.missing")"#, "[]"),
    ],
    eval: |_| Err("query() is compiled, not called".to_string()),
};

/// Looks a built-in up by name.
pub fn find(name: &str) -> Option<&'static Builtin> {
    ALL.iter().find(|b| b.name == name)
}

/// A message for a wrong argument kind.
pub(crate) fn expected(func: &str, what: &str, got: &Val<'_>) -> String {
    format!("{func}() expects {what}, found {}", got.kind())
}
