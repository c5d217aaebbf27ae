//! Presence and type tests. They never fail and always return a boolean,
//! so conditions stay boolean (no truthiness).

use super::{Builtin, Ty};
use crate::value::{Kind, Val};

/// `exists(x)`: true unless x is missing or null.
pub const EXISTS: Builtin = Builtin {
    name: "exists",
    params: &[Ty::Any],
    variadic: false,
    returns: Ty::Bool,
    doc: "True unless the value is missing or null.",
    examples: &[
        ("exists(.userId)", "true"),
        ("exists(.nothing)", "false"),
        ("exists(\"\")", "true"),
    ],
    eval: |a| Ok(Val::Bool(!a[0].is_nothing())),
};

macro_rules! kind_test {
    ($id:ident, $name:literal, $kind:expr, $doc:literal, $ex:expr) => {
        #[doc = $doc]
        pub const $id: Builtin = Builtin {
            name: $name,
            params: &[Ty::Any],
            variadic: false,
            returns: Ty::Bool,
            doc: $doc,
            examples: $ex,
            eval: |a| Ok(Val::Bool(a[0].kind() == $kind)),
        };
    };
}

kind_test!(
    IS_STRING,
    "is_string",
    Kind::String,
    "True when the value is a string.",
    &[("is_string(\"a\")", "true"), ("is_string(1)", "false")]
);
kind_test!(
    IS_NUMBER,
    "is_number",
    Kind::Number,
    "True when the value is a number (not a numeric string).",
    &[("is_number(1.5)", "true"), ("is_number(\"1.5\")", "false")]
);
kind_test!(
    IS_BOOL,
    "is_bool",
    Kind::Bool,
    "True when the value is true or false.",
    &[("is_bool(false)", "true"), ("is_bool(0)", "false")]
);
kind_test!(
    IS_OBJECT,
    "is_object",
    Kind::Object,
    "True when the value is an object.",
    &[
        ("is_object(.properties)", "true"),
        ("is_object([])", "false")
    ]
);
kind_test!(
    IS_ARRAY,
    "is_array",
    Kind::Array,
    "True when the value is an array.",
    &[
        ("is_array([1])", "true"),
        ("is_array(.properties)", "false")
    ]
);
