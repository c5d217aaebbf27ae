//! Checking and compiling: the merged AST becomes [`ir::Code`]. Every name
//! is resolved here (to a slot, a global, a setting or a built-in), types
//! are checked where they can be known, and every problem found becomes a
//! diagnostic; compiling goes on after an error so one run reports them all.

pub mod ir;

use std::collections::HashMap;

use crate::doc::Doc;

use crate::diagnostic::{codes, Code as DiagCode, Diagnostic, SourceMap};
use crate::load::Merged;
use crate::settings::{self, SettingInfo};
use crate::stdlib::{self, Ty};
use crate::syntax::ast::{self, BinOp, Span, Spanned, UnOp};
use ir::{Code, Entry, Expr, Part, Rule, Seg, Site, Stmt};

/// A diagnostic just recorded, to which a label and help can be added.
struct Added<'d>(&'d mut Diagnostic);

impl Added<'_> {
    fn label(self, label: impl Into<String>) -> Self {
        self.0.label = label.into();
        self
    }

    fn help(self, help: impl Into<String>) -> Self {
        self.0.help = Some(help.into());
        self
    }
}

/// What the compiler knows about an expression's value.
#[derive(Clone, Copy, Debug)]
struct Info {
    ty: Ty,
    /// It may carry the value of a secret setting.
    secret: bool,
}

impl Info {
    const ANY: Info = Info {
        ty: Ty::Any,
        secret: false,
    };
    fn of(ty: Ty) -> Info {
        Info { ty, secret: false }
    }
}

/// The result of compiling a merged mapping.
pub struct Output {
    /// The program, settings not yet bound.
    pub code: Code,
    /// The declared settings.
    pub settings: Vec<SettingInfo>,
}

/// Compiles, appending diagnostics (errors and warnings) to `diags`.
pub fn compile(merged: &Merged, sources: &SourceMap, diags: &mut Vec<Diagnostic>) -> Output {
    let settings = settings::declare(&merged.settings, diags);
    let mut c = Compiler {
        sources,
        diags,
        setting_index: settings
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect(),
        settings,
        globals: merged
            .lets
            .iter()
            .map(|l| {
                (
                    l.name.node.as_str(),
                    Global {
                        def: l,
                        state: State::Todo,
                        used: false,
                    },
                )
            })
            .collect(),
        fns: merged
            .fns
            .iter()
            .map(|f| {
                (
                    f.name.node.as_str(),
                    Helper {
                        def: f,
                        used: false,
                        active: false,
                    },
                )
            })
            .collect(),
        apis: &merged.apis,
        code: Code::default(),
        scopes: Vec::new(),
        floor: 0,
        secret_span: None,
        global_infos: Vec::new(),
        depth: 0,
        expansions: 0,
    };
    c.code.apis = merged.apis.iter().map(|a| a.node.as_str().into()).collect();
    c.rules(&merged.rules);
    c.finish(merged);
    Output {
        code: c.code,
        settings: c.settings,
    }
}

enum State {
    Todo,
    InProgress,
    Done(usize),
}

struct Global<'m> {
    def: &'m ast::LetDef,
    state: State,
    used: bool,
}

struct Helper<'m> {
    def: &'m ast::FnDef,
    used: bool,
    active: bool,
}

/// A name visible in the current scope.
struct Local {
    name: String,
    slot: usize,
    info: Info,
    span: Span,
    used: bool,
    /// Parameters and loop variables are not reported when unused.
    report_unused: bool,
}

struct Compiler<'m> {
    sources: &'m SourceMap,
    diags: &'m mut Vec<Diagnostic>,
    settings: Vec<SettingInfo>,
    setting_index: HashMap<String, usize>,
    globals: HashMap<&'m str, Global<'m>>,
    fns: HashMap<&'m str, Helper<'m>>,
    apis: &'m [ast::Name],
    code: Code,
    scopes: Vec<Local>,
    /// Locals below this index are not visible (inside `fn` bodies and
    /// top-level lets).
    floor: usize,
    /// Where the last secret setting was read, for the secret-in-output error.
    secret_span: Option<Span>,
    /// What is known of each compiled top-level let, by id.
    global_infos: Vec<Info>,
    /// How many `let`s and `fn`s are being compiled inside one another.
    depth: usize,
    /// How many `fn` calls have been expanded in all.
    expansions: usize,
}

/// How deeply `let`s and `fn`s may refer to one another.
const MAX_DEFINITION_DEPTH: usize = 200;

/// How many `fn` calls a mapping may expand to in all (helpers are
/// expanded where they are called, so nested helpers multiply).
const MAX_EXPANSIONS: usize = 20_000;

impl<'m> Compiler<'m> {
    fn error(&mut self, code: DiagCode, span: Span, msg: impl Into<String>) -> Added<'_> {
        self.diags.push(Diagnostic::error(code, span, msg));
        Added(self.diags.last_mut().expect("just pushed"))
    }

    fn warn(&mut self, code: DiagCode, span: Span, msg: impl Into<String>) -> Added<'_> {
        self.diags.push(Diagnostic::warning(code, span, msg));
        Added(self.diags.last_mut().expect("just pushed"))
    }

    /// Records a place runtime errors may name.
    fn site(&mut self, span: Span) -> Site {
        let snippet: String = self
            .sources
            .snippet(span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let snippet = if snippet.chars().count() > 60 {
            format!("{}…", snippet.chars().take(59).collect::<String>())
        } else {
            snippet
        };
        self.code
            .sites
            .push(format!("`{snippet}` at {}", self.sources.location(span)).into());
        (self.code.sites.len() - 1) as Site
    }

    fn new_slot(&mut self) -> usize {
        self.code.slots += 1;
        self.code.slots - 1
    }

    // ------------------------------------------------------------- rules

    fn rules(&mut self, rules: &'m [ast::RuleDef]) {
        for r in rules {
            let when = r.when.as_ref().map(|w| {
                let before = self.diags.len();
                let (e, info) = self.expr(w);
                self.want_bool(info, w.span, "a rule's `when` condition");
                self.constant_condition(&e, w, "rule", before);
                e
            });
            let base = self.scopes.len();
            let body = self.block(&r.body);
            self.scopes.truncate(base);
            let site = self.site(r.header);
            let rule = Rule {
                when,
                body,
                site,
                header: r.header,
            };
            for t in &r.event_types {
                let ty = t.node.as_str();
                match self.code.rules.iter_mut().find(|(t, _)| &**t == ty) {
                    Some((_, list)) => list.push(rule.clone()),
                    None => self.code.rules.push((ty.into(), vec![rule.clone()])),
                }
            }
        }
        self.unreachable_rules(rules);
    }

    /// Warns about a condition that is the same for every event and every
    /// settings file (a literal `false` is reported as an unreachable rule).
    /// Silent when compiling the condition already reported a problem
    /// (diagnostics beyond index `before`): an unknown name compiles to a
    /// constant, and one report is enough.
    fn constant_condition(
        &mut self,
        cond: &Expr,
        written: &Spanned<ast::Expr>,
        what: &str,
        before: usize,
    ) {
        let reported = self.diags.len() > before;
        if !reported && cond.is_constant() && !matches!(written.node, ast::Expr::Bool(false)) {
            self.warn(
                codes::CONSTANT_CONDITION,
                written.span,
                format!("this {what} condition is always the same"),
            )
            .label("does not depend on the event or the settings")
            .help("test a field of the event (`.x == ...`) or a setting, or remove the condition");
        }
    }

    fn unreachable_rules(&mut self, rules: &[ast::RuleDef]) {
        let mut open: HashMap<&str, Span> = HashMap::new();
        for r in rules
            .iter()
            .flat_map(|r| r.event_types.iter().map(move |t| (t.node.as_str(), r)))
        {
            let (ty, r) = r;
            if let Some(first) = open.get(ty) {
                let (line, _) = self.sources.line_col(*first);
                self.warn(codes::UNREACHABLE_RULE, r.header, format!("this `on {ty}` rule can never run"))
                    .label("never runs")
                    .help(format!(
                        "the `on {ty}` rule on line {line} has no `when` condition, so it handles every {ty} event first; \
                         move this rule above it or give that one a condition"
                    ));
            } else if matches!(
                r.when.as_ref().map(|w| &w.node),
                Some(ast::Expr::Bool(false))
            ) {
                self.warn(
                    codes::UNREACHABLE_RULE,
                    r.header,
                    format!("this `on {ty}` rule can never run"),
                )
                .label("condition is always false")
                .help("remove the rule or its condition");
            }
            if r.when.is_none() {
                open.entry(ty).or_insert(r.header);
            }
        }
    }

    /// Compiles what nothing used (so its errors are reported too) and
    /// warns about unused definitions in the main file.
    fn finish(&mut self, merged: &'m Merged) {
        for l in &merged.lets {
            let name = l.name.node.as_str();
            let used = self.globals[name].used;
            if matches!(self.globals[name].state, State::Todo) {
                self.global(name);
            }
            if !used && l.name.span.file == 0 {
                self.warn(
                    codes::UNUSED_LET,
                    l.name.span,
                    format!("`{name}` is never used"),
                )
                .label("defined here")
                .help("remove it, or use it in a rule");
            }
        }
        for f in &merged.fns {
            let name = f.name.node.as_str();
            if !self.fns[name].used {
                let saved = (self.floor, self.scopes.len());
                self.floor = self.scopes.len();
                for p in &f.params {
                    let slot = self.new_slot();
                    self.push_local(p, slot, Info::ANY, false);
                }
                let _ = self.expr(&f.body);
                self.scopes.truncate(saved.1);
                self.floor = saved.0;
                if f.name.span.file == 0 {
                    self.warn(
                        codes::UNUSED_FN,
                        f.name.span,
                        format!("`{name}` is never called"),
                    )
                    .label("defined here")
                    .help("remove it, or call it from a rule");
                }
            }
        }
        if self.code.rules.is_empty() {
            let span = Span::default();
            self.error(
                codes::EMPTY_MAPPING,
                span,
                "this mapping has no `on` rule, so it maps nothing",
            )
            .label("no rules")
            .help("add a rule such as `on track { emit api { ... } }`");
        }
    }

    // -------------------------------------------------------- statements

    fn block(&mut self, stmts: &'m [Spanned<ast::Stmt>]) -> Vec<Stmt> {
        let base = self.scopes.len();
        let out = stmts.iter().map(|s| self.stmt(s)).collect();
        self.end_scope(base);
        out
    }

    fn end_scope(&mut self, base: usize) {
        let gone: Vec<Local> = self.scopes.drain(base..).collect();
        for l in gone.into_iter().filter(|l| !l.used && l.report_unused) {
            self.warn(
                codes::UNUSED_LET,
                l.span,
                format!("`{}` is never used", l.name),
            )
            .label("defined here")
            .help("remove it, or use it below");
        }
    }

    fn push_local(&mut self, name: &ast::Name, slot: usize, info: Info, report_unused: bool) {
        if name.node == "settings" {
            self.error(
                codes::RESERVED_NAME,
                name.span,
                "`settings` is reserved for reading settings",
            )
            .label("reserved name")
            .help("choose another name");
        }
        self.scopes.push(Local {
            name: name.node.clone(),
            slot,
            info,
            span: name.span,
            used: false,
            report_unused: report_unused && !name.node.starts_with('_'),
        });
    }

    fn stmt(&mut self, s: &'m Spanned<ast::Stmt>) -> Stmt {
        match &s.node {
            ast::Stmt::Let(name, value) => {
                let (e, info) = self.expr(value);
                let slot = self.new_slot();
                self.push_local(name, slot, info, true);
                Stmt::Let(slot, e)
            }
            ast::Stmt::Require(cond, msg) => {
                let (c, info) = self.expr(cond);
                self.want_bool(info, cond.span, "`require`");
                let m = self.message(msg);
                let site = self.site(cond.span);
                Stmt::Require(c, m, site)
            }
            ast::Stmt::Reject(msg) => Stmt::Reject(self.message(msg)),
            ast::Stmt::Emit(api, object) => {
                let index = self.api(api);
                let (e, info) = self.expr(object);
                if info.secret {
                    self.secret_error(object.span, "an emitted record");
                }
                let site = self.site(api.span.to(object.span));
                Stmt::Emit(index, e, site)
            }
            ast::Stmt::For(var, index, iter, body) => {
                let (e, info) = self.expr(iter);
                self.want(
                    info,
                    iter.span,
                    Ty::Array,
                    "`for`",
                    "loop over an array, or test it first with `is_array(...)`",
                );
                let slot = self.new_slot();
                let base = self.scopes.len();
                self.push_local(
                    var,
                    slot,
                    Info {
                        ty: Ty::Any,
                        secret: info.secret,
                    },
                    false,
                );
                let index_slot = index.as_ref().map(|i| {
                    let s = self.new_slot();
                    self.push_local(i, s, Info::of(Ty::Number), false);
                    s
                });
                let body = self.block(body);
                self.end_scope(base);
                let site = self.site(iter.span);
                Stmt::For(slot, index_slot, e, body, site)
            }
            ast::Stmt::If(cond, then, otherwise) => {
                let before = self.diags.len();
                let (c, info) = self.expr(cond);
                self.want_bool(info, cond.span, "`if`");
                self.constant_condition(&c, cond, "`if`", before);
                let site = self.site(cond.span);
                Stmt::If(c, self.block(then), self.block(otherwise), site)
            }
        }
    }

    fn message(&mut self, msg: &'m Spanned<ast::Expr>) -> Expr {
        let (m, info) = self.expr(msg);
        self.want(
            info,
            msg.span,
            Ty::String,
            "a rejection message",
            "write the reason as a string",
        );
        if info.secret {
            self.secret_error(msg.span, "a rejection message");
        }
        m
    }

    fn api(&mut self, api: &ast::Name) -> usize {
        if let Some(i) = self.apis.iter().position(|a| a.node == api.node) {
            return i;
        }
        let known: Vec<&str> = self.apis.iter().map(|a| a.node.as_str()).collect();
        let help = match suggest(&api.node, known.iter().copied()) {
            Some(s) => format!(
                "did you mean `{s}`? Outputs are declared with `apis {}`",
                known.join(", ")
            ),
            None if known.is_empty() => format!("declare the outputs first: `apis {}`", api.node),
            None => format!(
                "declared outputs: {}; add `{}` to `apis` if it is new",
                known.join(", "),
                api.node
            ),
        };
        self.error(
            codes::UNKNOWN_API,
            api.span,
            format!("`emit` names unknown output `{}`", api.node),
        )
        .label("not declared in `apis`")
        .help(help);
        usize::MAX
    }

    fn secret_error(&mut self, fallback: Span, place: &str) {
        let span = self.secret_span.unwrap_or(fallback);
        self.error(codes::SECRET_IN_OUTPUT, span, format!("a secret setting would reach {place}"))
            .label("secret value")
            .help("secrets may only be tested (for example `exists(settings.secretKey)`), never written out");
    }

    // ------------------------------------------------------ type checking

    fn want_bool(&mut self, info: Info, span: Span, what: &str) {
        self.want(
            info,
            span,
            Ty::Bool,
            what,
            "conditions must be true or false: compare the value (`x == \"a\"`) or test it (`exists(x)`)",
        );
    }

    fn want(&mut self, info: Info, span: Span, ty: Ty, what: &str, help: &str) {
        if !info.ty.fits(ty) {
            self.error(
                codes::TYPE_MISMATCH,
                span,
                format!(
                    "{what} needs {}, but this is always {}",
                    ty.name(),
                    info.ty.name()
                ),
            )
            .label(format!("{}, not {}", info.ty.name(), ty.name()))
            .help(help.to_string());
        }
    }

    // ------------------------------------------------------- expressions

    fn expr(&mut self, e: &'m Spanned<ast::Expr>) -> (Expr, Info) {
        use ast::Expr as A;
        match &e.node {
            A::Null => (Expr::Const(Box::new(Doc::Null)), Info::of(Ty::Null)),
            A::Bool(b) => (Expr::Const(Box::new(Doc::Bool(*b))), Info::of(Ty::Bool)),
            A::Number(n) => (
                Expr::Const(Box::new(Doc::Num(n.clone()))),
                Info::of(Ty::Number),
            ),
            A::String(s) => (
                Expr::Const(Box::new(Doc::Str(s.clone().into()))),
                Info::of(Ty::String),
            ),
            A::Template(parts) => {
                let mut secret = false;
                let parts = parts
                    .iter()
                    .map(|p| match p {
                        ast::TemplatePart::Text(t) => Part::Text(t.as_str().into()),
                        ast::TemplatePart::Expr(x) => {
                            let (e, info) = self.expr(x);
                            secret |= info.secret;
                            Part::Expr(e)
                        }
                    })
                    .collect();
                (
                    Expr::Template(parts),
                    Info {
                        ty: Ty::String,
                        secret,
                    },
                )
            }
            A::Event | A::Name(_) | A::Field(..) => self.path(e),
            A::Index(base, index) => match literal_seg(index) {
                Some(_) => self.path(e),
                None => {
                    let (b, bi) = self.expr(base);
                    let (i, ii) = self.expr(index);
                    if !matches!(ii.ty, Ty::Any | Ty::String | Ty::Number) {
                        self.want(
                            ii,
                            index.span,
                            Ty::String,
                            "an index",
                            "index with a number or a key string",
                        );
                    }
                    (
                        Expr::Index(Box::new(b), Box::new(i)),
                        Info {
                            ty: Ty::Any,
                            secret: bi.secret,
                        },
                    )
                }
            },
            A::Call(name, args) => self.call(e.span, name, args),
            A::Unary(op, x) => {
                let (v, info) = self.expr(x);
                let site = self.site(e.span);
                match op {
                    UnOp::Not => {
                        self.want_bool(info, x.span, "`!`");
                        (Expr::Not(Box::new(v), site), Info::of(Ty::Bool))
                    }
                    UnOp::Neg => {
                        self.want(info, x.span, Ty::Number, "`-`", "negate a number");
                        (
                            Expr::Neg(Box::new(v), site),
                            Info {
                                ty: Ty::Number,
                                secret: info.secret,
                            },
                        )
                    }
                }
            }
            A::Binary(op, l, r) => self.binary(e.span, *op, l, r),
            A::If(c, a, b) => {
                let (c, ci) = self.expr(c);
                if let A::If(cond, ..) = &e.node {
                    self.want_bool(ci, cond.span, "`if`");
                }
                let (a, ai) = self.expr(a);
                let (b, bi) = match b {
                    Some(b) => self.expr(b),
                    None => (Expr::Absent, ai),
                };
                let ty = if ai.ty == bi.ty { ai.ty } else { Ty::Any };
                let site = self.site(e.span);
                (
                    Expr::If(Box::new(c), Box::new(a), Box::new(b), site),
                    Info {
                        ty,
                        secret: ai.secret || bi.secret,
                    },
                )
            }
            A::Object(entries) => self.object(entries),
            A::Array(items) => {
                let mut secret = false;
                let items = items
                    .iter()
                    .map(|x| {
                        let (e, i) = self.expr(x);
                        secret |= i.secret;
                        e
                    })
                    .collect();
                (
                    Expr::Array(items),
                    Info {
                        ty: Ty::Array,
                        secret,
                    },
                )
            }
        }
    }

    fn binary(
        &mut self,
        span: Span,
        op: BinOp,
        l: &'m Spanned<ast::Expr>,
        r: &'m Spanned<ast::Expr>,
    ) -> (Expr, Info) {
        let (a, ai) = self.expr(l);
        let (b, bi) = self.expr(r);
        let secret = ai.secret || bi.secret;
        let site = self.site(span);
        let what = format!("`{}`", op.symbol());
        match op {
            BinOp::Coalesce => {
                let ty = if ai.ty == bi.ty { ai.ty } else { Ty::Any };
                (
                    Expr::Coalesce(Box::new(a), Box::new(b)),
                    Info { ty, secret },
                )
            }
            BinOp::And | BinOp::Or => {
                self.want_bool(ai, l.span, &what);
                self.want_bool(bi, r.span, &what);
                let e = if op == BinOp::And {
                    Expr::And(Box::new(a), Box::new(b), site)
                } else {
                    Expr::Or(Box::new(a), Box::new(b), site)
                };
                (e, Info::of(Ty::Bool))
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => (
                Expr::Binary(op, Box::new(a), Box::new(b), site),
                Info::of(Ty::Bool),
            ),
            BinOp::Add if ai.ty == Ty::String || bi.ty == Ty::String => {
                self.want(
                    ai,
                    l.span,
                    Ty::String,
                    &what,
                    "`+` joins two strings or adds two numbers",
                );
                self.want(
                    bi,
                    r.span,
                    Ty::String,
                    &what,
                    "`+` joins two strings or adds two numbers",
                );
                (
                    Expr::Binary(op, Box::new(a), Box::new(b), site),
                    Info {
                        ty: Ty::String,
                        secret,
                    },
                )
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                let help = "arithmetic needs numbers: convert strings with `number(...)`";
                self.want(ai, l.span, Ty::Number, &what, help);
                self.want(bi, r.span, Ty::Number, &what, help);
                let ty = if op == BinOp::Add && (ai.ty == Ty::Any || bi.ty == Ty::Any) {
                    Ty::Any
                } else {
                    Ty::Number
                };
                (
                    Expr::Binary(op, Box::new(a), Box::new(b), site),
                    Info { ty, secret },
                )
            }
        }
    }

    fn object(&mut self, entries: &'m [Spanned<ast::Entry>]) -> (Expr, Info) {
        let mut out = Vec::with_capacity(entries.len());
        let mut secret = false;
        let mut dedup = false;
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for entry in entries {
            match &entry.node {
                ast::Entry::Field(key, value) => {
                    if let Some(first) = seen.insert(key.node.as_str(), key.span) {
                        let (line, _) = self.sources.line_col(first);
                        self.warn(
                            codes::DUPLICATE_FIELD,
                            key.span,
                            format!("field `{}` is written twice", key.node),
                        )
                        .label("written again here")
                        .help(format!(
                            "the value on line {line} is overwritten; remove one of them"
                        ));
                        dedup = true;
                    }
                    let (v, info) = self.expr(value);
                    secret |= info.secret;
                    out.push(Entry::Field(key.node.as_str().into(), v));
                }
                ast::Entry::Computed(key, value) => {
                    let (k, ki) = self.expr(key);
                    if !matches!(ki.ty, Ty::Any | Ty::String | Ty::Number | Ty::Bool) {
                        self.want(
                            ki,
                            key.span,
                            Ty::String,
                            "a computed key",
                            "keys are strings",
                        );
                    }
                    let (v, vi) = self.expr(value);
                    secret |= ki.secret || vi.secret;
                    dedup = true;
                    let site = self.site(key.span);
                    out.push(Entry::Computed(k, v, site));
                }
                ast::Entry::Spread(value) => {
                    let (v, info) = self.expr(value);
                    self.want(info, value.span, Ty::Object, "`...`", "spread an object");
                    secret |= info.secret;
                    dedup = true;
                    let site = self.site(value.span);
                    out.push(Entry::Spread(v, site));
                }
            }
        }
        (
            Expr::Object(out, dedup),
            Info {
                ty: Ty::Object,
                secret,
            },
        )
    }

    // ------------------------------------------------------------- paths

    /// A chain of `.field` and literal `[index]` steps on a base.
    fn path(&mut self, e: &'m Spanned<ast::Expr>) -> (Expr, Info) {
        let mut segs = Vec::new();
        let mut base = e;
        loop {
            match &base.node {
                ast::Expr::Field(b, key) => {
                    segs.push(Seg::Key(key.as_str().into()));
                    base = b;
                }
                ast::Expr::Index(b, i) => match literal_seg(i) {
                    Some(seg) => {
                        segs.push(seg);
                        base = b;
                    }
                    None => break,
                },
                _ => break,
            }
        }
        segs.reverse();
        let ty_of_path = |segs: &[Seg], ty: Ty| if segs.is_empty() { ty } else { Ty::Any };
        match &base.node {
            ast::Expr::Event => {
                let ty = ty_of_path(&segs, Ty::Object);
                (Expr::Event(segs.into()), Info::of(ty))
            }
            ast::Expr::Name(name) if name == "settings" => self.setting(base.span, e.span, segs),
            ast::Expr::Name(name) => {
                let (head, info) = self.name(base.span, name);
                let info = Info {
                    ty: ty_of_path(&segs, info.ty),
                    ..info
                };
                let e = match head {
                    Expr::Local(slot, _) => Expr::Local(slot, segs.into()),
                    Expr::Global(id, _) => Expr::Global(id, segs.into()),
                    other if segs.is_empty() => other,
                    other => Expr::Path(Box::new(other), segs.into()),
                };
                (e, info)
            }
            _ => {
                let (b, info) = self.expr(base);
                if segs.is_empty() {
                    return (b, info);
                }
                if matches!(info.ty, Ty::Bool | Ty::Number | Ty::String | Ty::Null) {
                    self.want(
                        info,
                        base.span,
                        Ty::Object,
                        "a field access",
                        "read fields of objects only",
                    );
                }
                (
                    Expr::Path(Box::new(b), segs.into()),
                    Info {
                        ty: Ty::Any,
                        secret: info.secret,
                    },
                )
            }
        }
    }

    fn setting(&mut self, span: Span, whole: Span, mut segs: Vec<Seg>) -> (Expr, Info) {
        let Some(Seg::Key(first)) = segs.first().cloned() else {
            self.error(
                codes::UNKNOWN_SETTING,
                span,
                "`settings` must be followed by a setting name",
            )
            .label("which setting?")
            .help("write `settings.<name>`");
            return (Expr::Absent, Info::ANY);
        };
        segs.remove(0);
        let Some(&index) = self.setting_index.get(&*first) else {
            let help = match suggest(&first, self.settings.iter().map(|s| s.name.as_str())) {
                Some(s) => format!("did you mean `settings.{s}`?"),
                None => "declare it in the `settings` block".to_string(),
            };
            self.error(
                codes::UNKNOWN_SETTING,
                whole,
                format!("unknown setting `{first}`"),
            )
            .label("not declared")
            .help(help);
            return (Expr::Absent, Info::ANY);
        };
        let s = &self.settings[index];
        let secret = s.secret;
        let ty = if segs.is_empty() {
            settings::static_type(&s.ty)
        } else {
            Ty::Any
        };
        if secret {
            self.secret_span = Some(whole);
        }
        let e = if segs.is_empty() {
            Expr::Setting(index)
        } else {
            Expr::Path(Box::new(Expr::Setting(index)), segs.into())
        };
        (e, Info { ty, secret })
    }

    /// Resolves a bare name: local, then top-level let.
    fn name(&mut self, span: Span, name: &str) -> (Expr, Info) {
        let floor = self.floor;
        if let Some(l) = self.scopes[floor..]
            .iter_mut()
            .rev()
            .find(|l| l.name == name)
        {
            l.used = true;
            return (Expr::Local(l.slot, Box::new([])), l.info);
        }
        if self.globals.contains_key(name) {
            return self.global(name);
        }
        if self.fns.contains_key(name) {
            self.error(
                codes::UNKNOWN_NAME,
                span,
                format!("`{name}` is a function, not a value"),
            )
            .label("function")
            .help(format!("call it: `{name}(...)`"));
            return (Expr::Absent, Info::ANY);
        }
        let visible: Vec<String> = self.scopes[floor..]
            .iter()
            .map(|l| l.name.clone())
            .chain(self.globals.keys().map(|k| k.to_string()))
            .collect();
        let help = match suggest(name, visible.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`? (to read the event's field, write `.{name}`)"),
            None => format!("to read the event's field, write `.{name}`; to bind a value, use `let {name} = ...`"),
        };
        self.error(codes::UNKNOWN_NAME, span, format!("unknown name `{name}`"))
            .label("not defined")
            .help(help);
        (Expr::Absent, Info::ANY)
    }

    fn global(&mut self, name: &str) -> (Expr, Info) {
        let g = self.globals.get_mut(name).expect("caller checked");
        g.used = true;
        match g.state {
            State::Done(id) => (Expr::Global(id, Box::new([])), self.global_infos[id]),
            State::InProgress => {
                let span = g.def.name.span;
                self.error(
                    codes::CYCLE,
                    span,
                    format!("`{name}` is defined in terms of itself"),
                )
                .label("refers back to itself")
                .help("break the cycle: a binding cannot depend on its own value");
                (Expr::Absent, Info::ANY)
            }
            State::Todo if self.depth >= MAX_DEFINITION_DEPTH => {
                let span = g.def.name.span;
                self.error(codes::TOO_DEEP, span, format!("`{name}` is defined through more than {MAX_DEFINITION_DEPTH} other bindings"))
                    .label("too deep")
                    .help("shorten the chain of `let`s that refer to one another");
                (Expr::Absent, Info::ANY)
            }
            State::Todo => {
                g.state = State::InProgress;
                let def = g.def;
                let saved = self.floor;
                self.floor = self.scopes.len();
                self.depth += 1;
                let (e, info) = self.expr(&def.value);
                self.depth -= 1;
                self.floor = saved;
                let id = self.code.globals.len();
                self.code.globals.push(e);
                self.global_infos.push(info);
                self.globals.get_mut(name).expect("exists").state = State::Done(id);
                (Expr::Global(id, Box::new([])), info)
            }
        }
    }

    // ------------------------------------------------------------- calls

    fn call(
        &mut self,
        span: Span,
        name: &'m ast::Name,
        args: &'m [Spanned<ast::Expr>],
    ) -> (Expr, Info) {
        if self.fns.contains_key(name.node.as_str()) {
            return self.helper_call(span, name, args);
        }
        let Some(builtin) = stdlib::find(&name.node) else {
            let known = stdlib::ALL
                .iter()
                .map(|b| b.name)
                .chain(self.fns.keys().copied());
            let help = match suggest(&name.node, known) {
                Some(s) => format!("did you mean `{s}(...)`?"),
                None => "see the standard library in README.md, or define it with `fn`".to_string(),
            };
            self.error(
                codes::UNKNOWN_FUNCTION,
                name.span,
                format!("unknown function `{}`", name.node),
            )
            .label("not a function")
            .help(help);
            for a in args {
                let _ = self.expr(a);
            }
            return (Expr::Absent, Info::ANY);
        };
        let n = builtin.params.len();
        let arity_ok = if builtin.variadic {
            args.len() >= n
        } else {
            args.len() == n
        };
        if !arity_ok {
            let want = if builtin.variadic {
                format!("at least {n}")
            } else {
                n.to_string()
            };
            self.error(
                codes::ARITY,
                span,
                format!(
                    "`{}` takes {want} argument{}, not {}",
                    builtin.name,
                    if n == 1 { "" } else { "s" },
                    args.len()
                ),
            )
            .label("wrong number of arguments")
            .help(format!("{}: {}", builtin.name, builtin.doc));
        }
        let mut compiled = Vec::with_capacity(args.len());
        let mut secret = false;
        for (i, a) in args.iter().enumerate() {
            let (e, info) = self.expr(a);
            let want = builtin
                .params
                .get(i)
                .or(builtin.params.last())
                .copied()
                .unwrap_or(Ty::Any);
            if arity_ok && !info.ty.fits(want) && info.ty != Ty::Null {
                self.error(
                    codes::TYPE_MISMATCH,
                    a.span,
                    format!(
                        "argument {} of `{}` must be {}, but this is always {}",
                        i + 1,
                        builtin.name,
                        want.name(),
                        info.ty.name()
                    ),
                )
                .label(format!("{}, not {}", info.ty.name(), want.name()))
                .help(format!("{}: {}", builtin.name, builtin.doc));
            }
            secret |= info.secret;
            compiled.push(e);
        }
        // A function that fails quotes its argument in the rejection
        // message, so a secret may only go to the boolean tests.
        if secret && builtin.returns != Ty::Bool {
            self.secret_error(span, &format!("the messages of `{}`", builtin.name));
        }
        let info = Info {
            ty: builtin.returns,
            secret: false,
        };
        if builtin.name == "query" {
            return (self.query(args, compiled), info);
        }
        let site = self.site(span);
        (Expr::Call(builtin, compiled, site), info)
    }

    fn query(&mut self, args: &'m [Spanned<ast::Expr>], mut compiled: Vec<Expr>) -> Expr {
        let Some(path_arg) = args.get(1) else {
            return Expr::Absent;
        };
        let ast::Expr::String(path) = &path_arg.node else {
            self.error(codes::INVALID_QUERY, path_arg.span, "the query path must be a string literal")
                .label("not a literal")
                .help("write the JSONPath in quotes, e.g. \"$.products[*].price\"; it is parsed once when the mapping loads");
            return Expr::Absent;
        };
        match jsonpath_rust::parser::parse_json_path(path) {
            Ok(q) => Expr::Query(Box::new(q), Box::new(compiled.swap_remove(0))),
            Err(e) => {
                self.error(
                    codes::INVALID_QUERY,
                    path_arg.span,
                    format!("invalid JSONPath: {e}"),
                )
                .label("does not parse")
                .help("JSONPath starts with `$`, e.g. \"$.products[*].price\"");
                Expr::Absent
            }
        }
    }

    fn helper_call(
        &mut self,
        span: Span,
        name: &'m ast::Name,
        args: &'m [Spanned<ast::Expr>],
    ) -> (Expr, Info) {
        let helper = self
            .fns
            .get_mut(name.node.as_str())
            .expect("caller checked");
        helper.used = true;
        let def = helper.def;
        self.expansions += 1;
        if self.expansions > MAX_EXPANSIONS || self.depth >= MAX_DEFINITION_DEPTH {
            self.error(
                codes::TOO_DEEP,
                name.span,
                format!("`fn` helpers expand to more than {MAX_EXPANSIONS} calls, or nest more than {MAX_DEFINITION_DEPTH} deep"),
            )
            .label("expansion stops here")
            .help("helpers are expanded where they are called: a helper that calls another twice doubles with each level; bind shared values with `let`");
            return (Expr::Absent, Info::ANY);
        }
        if helper.active {
            self.error(
                codes::CYCLE,
                name.span,
                format!("`{}` calls itself", name.node),
            )
            .label("recursive call")
            .help("helpers cannot be recursive; use `for` to go over arrays");
            return (Expr::Absent, Info::ANY);
        }
        if def.params.len() != args.len() {
            self.error(
                codes::ARITY,
                span,
                format!(
                    "`{}` takes {} argument(s), not {}",
                    name.node,
                    def.params.len(),
                    args.len()
                ),
            )
            .label("wrong number of arguments")
            .help(format!(
                "it is defined as `fn {}({})`",
                name.node,
                def.params
                    .iter()
                    .map(|p| p.node.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            return (Expr::Absent, Info::ANY);
        }
        let compiled: Vec<(Expr, Info)> = args.iter().map(|a| self.expr(a)).collect();
        let saved = (self.floor, self.scopes.len());
        self.floor = self.scopes.len();
        let mut slots = Vec::with_capacity(def.params.len());
        for (p, (_, info)) in def.params.iter().zip(&compiled) {
            let slot = self.new_slot();
            self.push_local(p, slot, *info, false);
            slots.push(slot);
        }
        self.fns.get_mut(name.node.as_str()).expect("exists").active = true;
        self.depth += 1;
        let (mut body, info) = self.expr(&def.body);
        self.depth -= 1;
        self.fns.get_mut(name.node.as_str()).expect("exists").active = false;
        self.scopes.truncate(saved.1);
        self.floor = saved.0;
        for (slot, (arg, _)) in slots.into_iter().zip(compiled).rev() {
            body = Expr::Bind(slot, Box::new(arg), Box::new(body));
        }
        (body, info)
    }
}

/// `[0]` or `["key"]` written as a literal becomes a path step.
fn literal_seg(index: &Spanned<ast::Expr>) -> Option<Seg> {
    match &index.node {
        ast::Expr::String(s) => Some(Seg::Key(s.as_str().into())),
        ast::Expr::Number(n) => n.as_i64().map(Seg::Index),
        ast::Expr::Unary(UnOp::Neg, inner) => match &inner.node {
            ast::Expr::Number(n) => n.as_i64().map(|i| Seg::Index(-i)),
            _ => None,
        },
        _ => None,
    }
}

/// The closest known name, if one is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known
        .map(|k| {
            (
                strsim::damerau_levenshtein(&name.to_lowercase(), &k.to_lowercase()),
                k,
            )
        })
        .filter(|(d, k)| *d <= (k.len().max(name.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}
