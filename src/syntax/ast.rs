//! The abstract syntax tree: what a mapping file says, with a span on every
//! node so that later stages can point back into the file.

use serde_json::Number;

/// A byte range in one source file of a [`crate::SourceMap`].
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct Span {
    /// Index of the file in the source map.
    pub file: u32,
    /// Byte offset of the first character.
    pub start: u32,
    /// Byte offset just past the last character.
    pub end: u32,
}

impl Span {
    /// The smallest span that covers both.
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A node and where it was written. Equality ignores the span, so tests
/// can compare structure.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    /// Where the node was written.
    pub span: Span,
    /// The node.
    pub node: T,
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

impl<T> Spanned<T> {
    /// Wraps a node with its span.
    pub fn new(span: Span, node: T) -> Self {
        Spanned { span, node }
    }
}

/// A name as written, with its span.
pub type Name = Spanned<String>;

/// One top-level item of a file.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `import "path"`.
    Import(Spanned<String>),
    /// `apis a, b, c`.
    Apis(Vec<Name>),
    /// `settings { ... }`.
    Settings(Vec<SettingDecl>),
    /// `let name = expr`.
    Let(LetDef),
    /// `fn name(params) = expr`.
    Fn(FnDef),
    /// `on type when cond { ... }`.
    Rule(RuleDef),
}

/// One declared setting.
#[derive(Clone, Debug, PartialEq)]
pub struct SettingDecl {
    /// Its name, as the settings file spells it.
    pub name: Name,
    /// The type its value must have.
    pub ty: Spanned<SettingType>,
    /// The value used when the settings file does not give one.
    pub default: Option<Spanned<Expr>>,
    /// The settings file must give it.
    pub required: bool,
    /// Its value must never reach output, logs or diagnostics.
    pub secret: bool,
}

/// The type of a setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingType {
    /// `true` or `false`.
    Bool,
    /// Any string.
    String,
    /// Any number.
    Number,
    /// Any JSON object.
    Object,
    /// Any JSON value.
    Any,
    /// `[T]`: a list of T.
    List(Box<SettingType>),
    /// `"a" | "b"`: one of these strings.
    Enum(Vec<String>),
}

impl std::fmt::Display for SettingType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingType::Bool => f.write_str("bool"),
            SettingType::String => f.write_str("string"),
            SettingType::Number => f.write_str("number"),
            SettingType::Object => f.write_str("object"),
            SettingType::Any => f.write_str("any"),
            SettingType::List(t) => write!(f, "[{t}]"),
            SettingType::Enum(vs) => {
                let quoted: Vec<String> = vs.iter().map(|v| format!("{v:?}")).collect();
                f.write_str(&quoted.join(" | "))
            }
        }
    }
}

/// `let name = value` at the top of a file.
#[derive(Clone, Debug, PartialEq)]
pub struct LetDef {
    /// The bound name.
    pub name: Name,
    /// Its expression.
    pub value: Spanned<Expr>,
}

/// `fn name(params) = body`.
#[derive(Clone, Debug, PartialEq)]
pub struct FnDef {
    /// The helper's name.
    pub name: Name,
    /// Its parameters.
    pub params: Vec<Name>,
    /// Its body.
    pub body: Spanned<Expr>,
}

/// `on type, type when cond { body }`.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleDef {
    /// The event `type`s it handles.
    pub event_types: Vec<Name>,
    /// The condition under which it runs.
    pub when: Option<Spanned<Expr>>,
    /// Its statements.
    pub body: Vec<Spanned<Stmt>>,
    /// The `on ... {` header, for diagnostics.
    pub header: Span,
}

/// A statement inside a rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `let name = expr`.
    Let(Name, Spanned<Expr>),
    /// `require cond else message`.
    Require(Spanned<Expr>, Spanned<Expr>),
    /// `reject message`.
    Reject(Spanned<Expr>),
    /// `emit api { ... }`.
    Emit(Name, Spanned<Expr>),
    /// `for name, index in expr { ... }`.
    For(Name, Option<Name>, Spanned<Expr>, Vec<Spanned<Stmt>>),
    /// `if cond { ... } else { ... }`.
    If(Spanned<Expr>, Vec<Spanned<Stmt>>, Vec<Spanned<Stmt>>),
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `!`
    Not,
    /// `-`
    Neg,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `??`
    Coalesce,
    /// `||`
    Or,
    /// `&&`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Coalesce => "??",
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }
}

/// One piece of a string template.
#[derive(Clone, Debug, PartialEq)]
pub enum TemplatePart {
    /// Literal text.
    Text(String),
    /// `{expr}`.
    Expr(Spanned<Expr>),
}

/// One entry of an object literal.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    /// `key: value`.
    Field(Name, Spanned<Expr>),
    /// `[key]: value`, or a templated key `"{x}": value`.
    Computed(Spanned<Expr>, Spanned<Expr>),
    /// `...object`.
    Spread(Spanned<Expr>),
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string without `{}` parts.
    String(String),
    /// A string with `{}` parts.
    Template(Vec<TemplatePart>),
    /// `.`: the event.
    Event,
    /// A bare name: binding, loop variable, parameter or `settings`.
    Name(String),
    /// `base.key`.
    Field(Box<Spanned<Expr>>, String),
    /// `base[index]`.
    Index(Box<Spanned<Expr>>, Box<Spanned<Expr>>),
    /// `name(args)`.
    Call(Name, Vec<Spanned<Expr>>),
    /// `!x`, `-x`.
    Unary(UnOp, Box<Spanned<Expr>>),
    /// `a op b`.
    Binary(BinOp, Box<Spanned<Expr>>, Box<Spanned<Expr>>),
    /// `if c { a } else { b }`.
    If(
        Box<Spanned<Expr>>,
        Box<Spanned<Expr>>,
        Option<Box<Spanned<Expr>>>,
    ),
    /// `{ ... }`.
    Object(Vec<Spanned<Entry>>),
    /// `[ ... ]`.
    Array(Vec<Spanned<Expr>>),
}
