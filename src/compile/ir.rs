//! The compiled program: names resolved to slots, paths split into
//! segments, functions resolved to table entries. Evaluation walks this,
//! never the AST, and never looks a name up by string.

use jsonpath_rust::parser::model::JpQuery;

use crate::doc::Doc;

use crate::stdlib::Builtin;
use crate::syntax::ast::{BinOp, Span};

/// Index of a runtime-message location in [`Code::sites`].
pub type Site = u32;

/// One step of a path.
#[derive(Clone, Debug, PartialEq)]
pub enum Seg {
    /// `.key`
    Key(Box<str>),
    /// `[n]`
    Index(i64),
}

impl Expr {
    /// True when the value cannot depend on the event or the settings.
    pub fn is_constant(&self) -> bool {
        match self {
            Expr::Absent | Expr::Const(_) => true,
            Expr::Setting(_)
            | Expr::Event(_)
            | Expr::Local(..)
            | Expr::Global(..)
            | Expr::Bind(..) => false,
            Expr::Path(e, _) | Expr::Query(_, e) | Expr::Not(e, _) | Expr::Neg(e, _) => {
                e.is_constant()
            }
            Expr::Index(a, b)
            | Expr::And(a, b, _)
            | Expr::Or(a, b, _)
            | Expr::Coalesce(a, b)
            | Expr::Binary(_, a, b, _) => a.is_constant() && b.is_constant(),
            Expr::If(c, a, b, _) => c.is_constant() && a.is_constant() && b.is_constant(),
            Expr::Call(_, args, _) | Expr::Array(args) => args.iter().all(Expr::is_constant),
            Expr::Template(parts) => parts.iter().all(|p| match p {
                Part::Text(_) => true,
                Part::Expr(e) => e.is_constant(),
            }),
            Expr::Object(entries, _) => entries.iter().all(|e| match e {
                Entry::Field(_, v) | Entry::Spread(v, _) => v.is_constant(),
                Entry::Computed(k, v, _) => k.is_constant() && v.is_constant(),
            }),
        }
    }
}

/// A compiled expression.
#[derive(Clone, Debug)]
pub enum Expr {
    /// Nothing.
    Absent,
    /// A constant; JSON null here is the literal `null`.
    Const(Box<Doc<'static>>),
    /// A setting, replaced by its value when the program is bound.
    Setting(usize),
    /// A path from the event root.
    Event(Box<[Seg]>),
    /// A local slot (let, loop variable, parameter), then a path.
    Local(usize, Box<[Seg]>),
    /// A top-level let (evaluated once per event, when first used), then a path.
    Global(usize, Box<[Seg]>),
    /// Any other expression, then a path.
    Path(Box<Expr>, Box<[Seg]>),
    /// `base[index]` where the index is computed per event.
    Index(Box<Expr>, Box<Expr>),
    /// A built-in call.
    Call(&'static Builtin, Vec<Expr>, Site),
    /// A JSONPath query, parsed once.
    Query(Box<JpQuery>, Box<Expr>),
    /// `!x`.
    Not(Box<Expr>, Site),
    /// `-x`.
    Neg(Box<Expr>, Site),
    /// `a && b`.
    And(Box<Expr>, Box<Expr>, Site),
    /// `a || b`.
    Or(Box<Expr>, Box<Expr>, Site),
    /// `a ?? b`.
    Coalesce(Box<Expr>, Box<Expr>),
    /// Comparison or arithmetic.
    Binary(BinOp, Box<Expr>, Box<Expr>, Site),
    /// `if c { a } else { b }` (b is Absent when not written).
    If(Box<Expr>, Box<Expr>, Box<Expr>, Site),
    /// A string template.
    Template(Vec<Part>),
    /// An object literal; `dedup` is false when all keys are known distinct.
    Object(Vec<Entry>, bool),
    /// An array literal.
    Array(Vec<Expr>),
    /// Evaluates the first expression into a slot, then the second
    /// (how `fn` parameters are passed).
    Bind(usize, Box<Expr>, Box<Expr>),
}

/// One piece of a template.
#[derive(Clone, Debug)]
pub enum Part {
    /// Literal text.
    Text(Box<str>),
    /// A value to write out.
    Expr(Expr),
}

/// One entry of an object literal.
#[derive(Clone, Debug)]
pub enum Entry {
    /// `key: value`.
    Field(Box<str>, Expr),
    /// `[key]: value`.
    Computed(Expr, Expr, Site),
    /// `...value`.
    Spread(Expr, Site),
}

/// A compiled statement.
#[derive(Clone, Debug)]
pub enum Stmt {
    /// `let` into a slot.
    Let(usize, Expr),
    /// `require cond else message`.
    Require(Expr, Expr, Site),
    /// `reject message`.
    Reject(Expr),
    /// `emit api { ... }`; the api is an index into [`Code::apis`].
    Emit(usize, Expr, Site),
    /// `for item, index in expr { ... }` (index slot when bound).
    For(usize, Option<usize>, Expr, Vec<Stmt>, Site),
    /// `if cond { ... } else { ... }`.
    If(Expr, Vec<Stmt>, Vec<Stmt>, Site),
}

/// One `on` rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Its condition, if any.
    pub when: Option<Expr>,
    /// Its statements.
    pub body: Vec<Stmt>,
    /// Where it was written.
    pub site: Site,
    /// The `on ... when ...` header, for diagnostics about the rule.
    pub header: Span,
}

/// Everything the evaluator needs, settings not yet folded in.
#[derive(Clone, Debug, Default)]
pub struct Code {
    /// Rules grouped by the event type they handle, in file order.
    pub rules: Vec<(Box<str>, Vec<Rule>)>,
    /// Top-level lets, by index.
    pub globals: Vec<Expr>,
    /// How many local slots an event needs.
    pub slots: usize,
    /// Output API names, by index.
    pub apis: Vec<Box<str>>,
    /// `file:line:col` plus source text of places runtime errors may name.
    pub sites: Vec<Box<str>>,
}
