//! Settings: the mapping's `settings` block declares names, types,
//! defaults and flags; a settings file (YAML or JSON) gives values. Values
//! are checked against the declarations once, when a program is bound,
//! and messages about secret settings never include their values.

use std::fmt;
use std::path::Path;

use serde_json::{Map, Value};

use crate::compile::suggest;
use crate::diagnostic::{codes, Code, Diagnostic};
use crate::stdlib::Ty;
use crate::syntax::ast::{self, SettingDecl, SettingType, Span};

/// A declared setting, after checking.
#[derive(Clone, Debug)]
pub struct SettingInfo {
    /// Its name.
    pub name: String,
    /// The type its value must have.
    pub ty: SettingType,
    /// The value used when the settings file gives none.
    pub default: Option<Value>,
    /// The settings file must give it.
    pub required: bool,
    /// Never written to output, logs or diagnostics.
    pub secret: bool,
    /// Where it was declared.
    pub span: Span,
}

/// Checks the declarations of a mapping (defaults must be constants of
/// the declared type).
pub fn declare(decls: &[SettingDecl], diags: &mut Vec<Diagnostic>) -> Vec<SettingInfo> {
    decls
        .iter()
        .map(|d| {
            let default = d.default.as_ref().and_then(|e| match constant(&e.node) {
                Some(v) if fits(&d.ty.node, &v) => Some(v),
                Some(_) => {
                    diags.push(
                        Diagnostic::error(
                            codes::INVALID_SETTING_DECL,
                            e.span,
                            format!("the default of `{}` is not {}", d.name.node, d.ty.node),
                        )
                        .label("wrong type")
                        .help(format!("give a default of type {}, or change the type", d.ty.node)),
                    );
                    None
                }
                None => {
                    diags.push(
                        Diagnostic::error(
                            codes::INVALID_SETTING_DECL,
                            e.span,
                            format!("the default of `{}` must be a constant", d.name.node),
                        )
                        .label("not a constant")
                        .help("write a literal: a string, number, boolean, null, or a list or object of them"),
                    );
                    None
                }
            });
            SettingInfo {
                name: d.name.node.clone(),
                ty: d.ty.node.clone(),
                default,
                required: d.required,
                secret: d.secret,
                span: d.name.span,
            }
        })
        .collect()
}

/// The value of a literal expression, if it is one.
fn constant(e: &ast::Expr) -> Option<Value> {
    Some(match e {
        ast::Expr::Null => Value::Null,
        ast::Expr::Bool(b) => Value::Bool(*b),
        ast::Expr::Number(n) => Value::Number(n.clone()),
        ast::Expr::String(s) => Value::String(s.clone()),
        ast::Expr::Unary(ast::UnOp::Neg, x) => match &x.node {
            ast::Expr::Number(n) => Value::Number(if let Some(i) = n.as_i64() {
                (-i).into()
            } else {
                serde_json::Number::from_f64(-n.as_f64()?)?
            }),
            _ => return None,
        },
        ast::Expr::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| constant(&i.node))
                .collect::<Option<_>>()?,
        ),
        ast::Expr::Object(entries) => {
            let mut m = Map::new();
            for e in entries {
                match &e.node {
                    ast::Entry::Field(k, v) => {
                        m.insert(k.node.clone(), constant(&v.node)?);
                    }
                    _ => return None,
                }
            }
            Value::Object(m)
        }
        _ => return None,
    })
}

/// Whether a value has the declared type. `null` fits every type: it
/// means "not set".
pub fn fits(ty: &SettingType, v: &Value) -> bool {
    match (ty, v) {
        (_, Value::Null) | (SettingType::Any, _) => true,
        (SettingType::Bool, Value::Bool(_))
        | (SettingType::String, Value::String(_))
        | (SettingType::Number, Value::Number(_))
        | (SettingType::Object, Value::Object(_)) => true,
        (SettingType::List(t), Value::Array(items)) => {
            items.iter().all(|i| !i.is_null() && fits(t, i))
        }
        (SettingType::Enum(options), Value::String(s)) => options.contains(s),
        _ => false,
    }
}

/// What the compiler may assume about a setting's value.
pub fn static_type(ty: &SettingType) -> Ty {
    match ty {
        SettingType::Bool => Ty::Bool,
        SettingType::String | SettingType::Enum(_) => Ty::String,
        SettingType::Number => Ty::Number,
        SettingType::Object => Ty::Object,
        SettingType::List(_) => Ty::Array,
        SettingType::Any => Ty::Any,
    }
}

/// Setting values as given by a settings file (or by an embedding
/// program), not yet checked against a mapping.
#[derive(Clone, Default)]
pub struct Settings {
    values: Map<String, Value>,
    file: String,
    text: Option<String>,
}

impl fmt::Debug for Settings {
    /// Shows the names only: values may be secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("file", &self.file)
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Settings from a JSON object.
    pub fn from_json(values: Map<String, Value>) -> Self {
        Settings {
            values,
            file: "<settings>".to_string(),
            text: None,
        }
    }

    /// Settings from YAML (or JSON, which YAML reads too) text.
    pub fn from_yaml_str(name: &str, text: &str) -> Result<Self, SettingsError> {
        let fail = |line: Option<usize>, message: String| SettingsError {
            file: name.to_string(),
            problems: vec![Problem {
                code: codes::SETTINGS_SYNTAX,
                line,
                message,
                help: "write one `name: value` per line (YAML), or a JSON object".to_string(),
            }],
        };
        let value: Value = if text.trim().is_empty() {
            Value::Object(Map::new())
        } else {
            serde_norway::from_str(text).map_err(|e| {
                let line = e.location().map(|l| l.line());
                // The parser's message may quote the text (possibly a
                // secret): keep its words, not what it quotes.
                let msg = e.to_string();
                let msg = redact_quoted(msg.split(" at line").next().unwrap_or(&msg));
                fail(line, format!("not valid YAML or JSON: {msg}"))
            })?
        };
        match value {
            Value::Object(values) => Ok(Settings {
                values,
                file: name.to_string(),
                text: Some(text.to_string()),
            }),
            Value::Null => Ok(Settings::from_json(Map::new())),
            _ => Err(fail(
                Some(1),
                "settings must be a mapping of names to values".to_string(),
            )),
        }
    }

    /// Settings read from a YAML or JSON file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, SettingsError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| SettingsError {
            file: name.clone(),
            problems: vec![Problem {
                code: codes::SETTINGS_SYNTAX,
                line: None,
                message: format!("cannot read the settings file: {e}"),
                help: "pass an existing YAML or JSON file with --settings".to_string(),
            }],
        })?;
        Settings::from_yaml_str(&name, &text)
    }

    /// The line on which a name is given, if the text is known.
    fn line_of(&self, key: &str) -> Option<usize> {
        let text = self.text.as_ref()?;
        let quoted = format!("\"{key}\"");
        let plain = format!("{key}:");
        text.lines()
            .position(|l| l.contains(&quoted) || l.trim_start().starts_with(&plain))
            .map(|i| i + 1)
    }

    /// Checks the values against the declarations and returns one value
    /// per declared setting (None when neither given nor defaulted).
    pub fn resolve(&self, decls: &[SettingInfo]) -> Result<Vec<Option<Value>>, SettingsError> {
        let mut problems = Vec::new();
        for (key, value) in &self.values {
            let Some(decl) = decls.iter().find(|d| &d.name == key) else {
                let help = match suggest(key, decls.iter().map(|d| d.name.as_str())) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "the mapping declares: {}",
                        decls
                            .iter()
                            .map(|d| d.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                problems.push(Problem {
                    code: codes::SETTINGS_UNKNOWN,
                    line: self.line_of(key),
                    message: format!("unknown setting `{key}`"),
                    help,
                });
                continue;
            };
            if !fits(&decl.ty, value) {
                let found = if decl.secret {
                    kind(value).to_string()
                } else {
                    format!("{} {value}", kind(value))
                };
                problems.push(Problem {
                    code: codes::SETTINGS_TYPE,
                    line: self.line_of(key),
                    message: format!(
                        "setting `{key}` must be {}, found {found}",
                        describe(&decl.ty)
                    ),
                    help: format!("give `{key}` a value of type {}", decl.ty),
                });
            }
        }
        for d in decls.iter().filter(|d| d.required) {
            if self.values.get(&d.name).is_none_or(Value::is_null) {
                problems.push(Problem {
                    code: codes::SETTINGS_MISSING,
                    line: None,
                    message: format!("required setting `{}` is missing", d.name),
                    help: format!("add `{}: ...` ({}) to the settings file", d.name, d.ty),
                });
            }
        }
        if !problems.is_empty() {
            problems.sort_by_key(|p| p.line);
            return Err(SettingsError {
                file: self.file.clone(),
                problems,
            });
        }
        Ok(decls
            .iter()
            .map(|d| match self.values.get(&d.name) {
                Some(Value::Null) | None => d.default.clone().filter(|v| !v.is_null()),
                Some(v) => Some(v.clone()),
            })
            .collect())
    }
}

/// Replaces every `"..."` and `` `...` `` part of a message with `"…"`.
fn redact_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut quote: Option<char> = None;
    for c in msg.chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' || c == '`' {
                    quote = Some(c);
                }
            }
        }
    }
    if quote.is_some() {
        out.push('…');
    }
    out
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn describe(ty: &SettingType) -> String {
    match ty {
        SettingType::Bool => "true or false".to_string(),
        SettingType::String => "a string".to_string(),
        SettingType::Number => "a number".to_string(),
        SettingType::Object => "an object".to_string(),
        SettingType::Any => "any value".to_string(),
        SettingType::List(t) => format!("a list of {}", describe(t)),
        SettingType::Enum(_) => format!("one of {ty}"),
    }
}

/// One problem with a settings file.
#[derive(Clone, Debug)]
pub struct Problem {
    /// Its stable code.
    pub code: Code,
    /// The line of the settings file, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

/// Everything wrong with a settings file. Never contains secret values.
#[derive(Clone, Debug)]
pub struct SettingsError {
    /// The settings file's name.
    pub file: String,
    /// The problems, by line.
    pub problems: Vec<Problem>,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let at = match p.line {
                Some(l) => format!("{}:{l}", self.file),
                None => self.file.clone(),
            };
            write!(
                f,
                "error[{}]: {at}: {}\n  help: {}",
                p.code, p.message, p.help
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for SettingsError {}

impl SettingsError {
    /// One JSON object per problem, like [`crate::Diagnostics::to_json`].
    pub fn to_json(&self) -> Vec<Value> {
        self.problems
            .iter()
            .map(|p| {
                serde_json::json!({
                    "file": self.file,
                    "severity": "error",
                    "code": p.code.0,
                    "message": p.message,
                    "line": p.line,
                    "column": null,
                    "span": null,
                    "label": "",
                    "help": p.help,
                })
            })
            .collect()
    }
}
