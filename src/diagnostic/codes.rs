//! Every diagnostic code mapc can report, in one place. A code names one
//! kind of problem for good: codes are added, never renamed or reused, so
//! editors and CI scripts can match on them.

/// A stable diagnostic code such as `mapc::unknown-setting`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Code(pub &'static str);

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// The file is not valid mapc syntax.
pub const SYNTAX: Code = Code("mapc::syntax");
/// Brackets or operators nest deeper than the parser allows.
pub const TOO_DEEP: Code = Code("mapc::too-deep");
/// A file named by `import` (or on the command line) cannot be read.
pub const IMPORT_NOT_FOUND: Code = Code("mapc::import-not-found");
/// Files import each other in a circle.
pub const IMPORT_CYCLE: Code = Code("mapc::import-cycle");
/// A bare name that is no binding, loop variable or parameter.
pub const UNKNOWN_NAME: Code = Code("mapc::unknown-name");
/// `settings.x` where the settings block declares no `x`.
pub const UNKNOWN_SETTING: Code = Code("mapc::unknown-setting");
/// A call to a function that is neither built in nor an `fn` helper.
pub const UNKNOWN_FUNCTION: Code = Code("mapc::unknown-function");
/// `emit x` where `apis` does not list `x`.
pub const UNKNOWN_API: Code = Code("mapc::unknown-api");
/// A function called with too few or too many arguments.
pub const ARITY: Code = Code("mapc::arity");
/// A value whose type can never be the one needed there.
pub const TYPE_MISMATCH: Code = Code("mapc::type-mismatch");
/// Two definitions of one name in the same file.
pub const DUPLICATE_DEFINITION: Code = Code("mapc::duplicate-definition");
/// A name that refers to itself through `let`s or `fn`s.
pub const CYCLE: Code = Code("mapc::cycle");
/// A jsonpath query that does not parse.
pub const INVALID_QUERY: Code = Code("mapc::invalid-query");
/// A setting declared with an unknown type or a default of the wrong type.
pub const INVALID_SETTING_DECL: Code = Code("mapc::invalid-setting-decl");
/// A secret setting used where its value could reach output or a message.
pub const SECRET_IN_OUTPUT: Code = Code("mapc::secret-in-output");
/// A reserved name (`settings`) used as a binding.
pub const RESERVED_NAME: Code = Code("mapc::reserved-name");
/// A top-level `let` that nothing reads.
pub const UNUSED_LET: Code = Code("mapc::unused-let");
/// An `fn` helper that nothing calls.
pub const UNUSED_FN: Code = Code("mapc::unused-fn");
/// A rule that can never run.
pub const UNREACHABLE_RULE: Code = Code("mapc::unreachable-rule");
/// A condition that no event or setting can change.
pub const CONSTANT_CONDITION: Code = Code("mapc::constant-condition");
/// One output field written twice in the same object.
pub const DUPLICATE_FIELD: Code = Code("mapc::duplicate-field");
/// A settings file names a setting the mapping does not declare.
pub const SETTINGS_UNKNOWN: Code = Code("mapc::settings-unknown");
/// A settings file gives a value of the wrong type.
pub const SETTINGS_TYPE: Code = Code("mapc::settings-type");
/// A settings file leaves out a required setting.
pub const SETTINGS_MISSING: Code = Code("mapc::settings-missing");
/// A settings file that cannot be read or parsed.
pub const SETTINGS_SYNTAX: Code = Code("mapc::settings-syntax");
/// A mapping without any `on` rule, or without an `apis` list.
pub const EMPTY_MAPPING: Code = Code("mapc::empty-mapping");
