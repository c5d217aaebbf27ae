//! Binding: settings values are folded into the compiled code once, and
//! whatever became constant is evaluated now instead of per event:
//! conditions on settings disappear, branches and rules that cannot fire
//! are removed, and constant objects are built once.

use serde_json::Value;

use crate::compile::ir::{Code, Entry, Expr, Part, Rule, Seg, Stmt};
use crate::doc::Doc;
use crate::eval::{walk_doc, Machine};
use crate::syntax::ast::Span;

/// A copy of `code` with `values` (one per declared setting) folded in,
/// and the event type and header of each rule whose condition the settings
/// made false.
pub fn bind(code: &Code, values: &[Option<Value>]) -> (Code, Vec<(Box<str>, Span)>) {
    let mut dropped = Vec::new();
    let mut code = code.clone();
    let mut folder = Folder {
        values,
        globals: Vec::new(),
    };
    for g in code.globals.iter_mut() {
        folder.expr(g);
        folder.globals.push(match g {
            Expr::Const(v) => Some((**v).clone()),
            _ => None,
        });
    }
    for (ty, rules) in code.rules.iter_mut() {
        let taken = std::mem::take(rules);
        for mut rule in taken {
            if let Some(w) = rule.when.as_mut() {
                folder.expr(w);
            }
            match rule.when {
                Some(Expr::Const(ref v)) if **v == Doc::Bool(false) => {
                    dropped.push((ty.clone(), rule.header));
                    continue;
                }
                Some(Expr::Const(ref v)) if **v == Doc::Bool(true) => rule.when = None,
                _ => {}
            }
            let unconditional = rule.when.is_none();
            rule.body = folder.stmts(std::mem::take(&mut rule.body));
            rules.push(Rule { ..rule });
            if unconditional {
                break;
            }
        }
    }
    (code, dropped)
}

struct Folder<'v> {
    values: &'v [Option<Value>],
    /// Top-level lets that became constants, by id.
    globals: Vec<Option<Doc<'static>>>,
}

fn truth(e: &Expr) -> Option<bool> {
    match e {
        Expr::Const(v) => match **v {
            Doc::Bool(b) => Some(b),
            _ => None,
        },
        _ => None,
    }
}

impl Folder<'_> {
    fn stmts(&mut self, stmts: Vec<Stmt>) -> Vec<Stmt> {
        let mut out = Vec::with_capacity(stmts.len());
        for stmt in stmts {
            match stmt {
                Stmt::Let(slot, mut e) => {
                    self.expr(&mut e);
                    out.push(Stmt::Let(slot, e));
                }
                Stmt::Require(mut c, mut m, site) => {
                    self.expr(&mut c);
                    self.expr(&mut m);
                    match truth(&c) {
                        Some(true) => {}
                        Some(false) => {
                            out.push(Stmt::Reject(m));
                            break;
                        }
                        None => out.push(Stmt::Require(c, m, site)),
                    }
                }
                Stmt::Reject(mut m) => {
                    self.expr(&mut m);
                    out.push(Stmt::Reject(m));
                    break;
                }
                Stmt::Emit(api, mut e, site) => {
                    self.expr(&mut e);
                    out.push(Stmt::Emit(api, e, site));
                }
                Stmt::For(slot, index, mut e, body, site) => {
                    self.expr(&mut e);
                    if !matches!(e, Expr::Absent) {
                        let body = self.stmts(body);
                        out.push(Stmt::For(slot, index, e, body, site));
                    }
                }
                Stmt::If(mut c, then, otherwise, site) => {
                    self.expr(&mut c);
                    match truth(&c) {
                        Some(true) => out.extend(self.stmts(then)),
                        Some(false) => out.extend(self.stmts(otherwise)),
                        None => {
                            let (t, o) = (self.stmts(then), self.stmts(otherwise));
                            if !(t.is_empty() && o.is_empty()) {
                                out.push(Stmt::If(c, t, o, site));
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// Folds an expression in place; returns whether it is now closed
    /// (depends on nothing of the event).
    fn expr(&mut self, e: &mut Expr) -> bool {
        let closed = match e {
            Expr::Absent | Expr::Const(_) => return true,
            Expr::Setting(i) => {
                *e = match self.values.get(*i).cloned().flatten() {
                    Some(v) => Expr::Const(Box::new(Doc::from_owned(v))),
                    None => Expr::Absent,
                };
                return true;
            }
            Expr::Event(_) | Expr::Local(..) => return false,
            Expr::Global(id, segs) => match self.globals.get(*id).cloned().flatten() {
                Some(v) => {
                    *e = const_path(&v, segs);
                    return true;
                }
                None => return false,
            },
            Expr::Path(base, segs) => {
                if self.expr(base) {
                    let folded = match &**base {
                        Expr::Const(v) => const_path(v, segs),
                        _ => Expr::Absent,
                    };
                    *e = folded;
                    return true;
                }
                false
            }
            Expr::Index(base, index) => {
                let b = self.expr(base);
                let i = self.expr(index);
                let seg = match &**index {
                    Expr::Const(v) => match &**v {
                        Doc::Str(s) => Some(Seg::Key(s.as_ref().into())),
                        Doc::Num(n) => n.as_i64().map(Seg::Index),
                        _ => None,
                    },
                    Expr::Absent => {
                        *e = Expr::Absent;
                        return true;
                    }
                    _ => None,
                };
                if let Some(seg) = seg {
                    let base = std::mem::replace(&mut **base, Expr::Absent);
                    *e = match base {
                        Expr::Event(segs) => Expr::Event(push(segs, seg)),
                        Expr::Local(slot, segs) => Expr::Local(slot, push(segs, seg)),
                        Expr::Global(id, segs) => Expr::Global(id, push(segs, seg)),
                        Expr::Path(b, segs) => Expr::Path(b, push(segs, seg)),
                        other => Expr::Path(Box::new(other), Box::new([seg])),
                    };
                    return self.expr(e);
                }
                b && i
            }
            Expr::Call(_, args, _) | Expr::Array(args) => {
                let mut all = true;
                for a in args.iter_mut() {
                    all &= self.expr(a);
                }
                all
            }
            Expr::Query(_, arg) => self.expr(arg),
            Expr::Not(x, _) | Expr::Neg(x, _) => self.expr(x),
            Expr::And(..) | Expr::Or(..) => {
                let is_and = matches!(e, Expr::And(..));
                let (Expr::And(a, b, _) | Expr::Or(a, b, _)) = e else {
                    unreachable!()
                };
                let ca = self.expr(a);
                let cb = self.expr(b);
                match truth(a) {
                    // false && x, true || x: decided by the left side.
                    Some(l) if l != is_and => {
                        *e = Expr::Const(Box::new(Doc::Bool(l)));
                        return true;
                    }
                    // true && x, false || x: the right side decides.
                    Some(_)
                        if truth(b).is_some()
                            || matches!(
                                **b,
                                Expr::Call(..)
                                    | Expr::Binary(..)
                                    | Expr::Not(..)
                                    | Expr::And(..)
                                    | Expr::Or(..)
                            ) =>
                    {
                        let right = std::mem::replace(&mut **b, Expr::Absent);
                        *e = right;
                        return cb;
                    }
                    _ => {}
                }
                ca && cb
            }
            Expr::Coalesce(a, b) => {
                let ca = self.expr(a);
                let cb = self.expr(b);
                match &**a {
                    Expr::Absent => {
                        *e = std::mem::replace(&mut **b, Expr::Absent);
                        return cb;
                    }
                    Expr::Const(v) if **v == Doc::Null => {
                        *e = std::mem::replace(&mut **b, Expr::Absent);
                        return cb;
                    }
                    Expr::Const(_) => {
                        *e = std::mem::replace(&mut **a, Expr::Absent);
                        return true;
                    }
                    _ => {}
                }
                ca && cb
            }
            Expr::Binary(_, a, b, _) => {
                let ca = self.expr(a);
                self.expr(b) && ca
            }
            Expr::If(c, a, b, _) => {
                let cc = self.expr(c);
                let ca = self.expr(a);
                let cb = self.expr(b);
                match truth(c) {
                    Some(true) => {
                        *e = std::mem::replace(&mut **a, Expr::Absent);
                        return ca;
                    }
                    Some(false) => {
                        *e = std::mem::replace(&mut **b, Expr::Absent);
                        return cb;
                    }
                    None => cc && ca && cb,
                }
            }
            Expr::Template(parts) => {
                let mut all = true;
                for p in parts.iter_mut() {
                    if let Part::Expr(x) = p {
                        all &= self.expr(x);
                    }
                }
                all
            }
            Expr::Object(entries, _) => {
                let mut all = true;
                for entry in entries.iter_mut() {
                    all &= match entry {
                        Entry::Field(_, v) => self.expr(v),
                        Entry::Computed(k, v, _) => {
                            let ck = self.expr(k);
                            self.expr(v) && ck
                        }
                        Entry::Spread(v, _) => self.expr(v),
                    };
                }
                all
            }
            Expr::Bind(_, value, body) => {
                self.expr(value);
                self.expr(body);
                false
            }
        };
        if closed {
            if let Some(v) = evaluate_closed(e) {
                *e = v;
            }
        }
        closed
    }
}

fn push(segs: Box<[Seg]>, seg: Seg) -> Box<[Seg]> {
    let mut v = segs.into_vec();
    v.push(seg);
    v.into()
}

fn const_path(v: &Doc<'static>, segs: &[Seg]) -> Expr {
    if segs.is_empty() {
        return Expr::Const(Box::new(v.clone()));
    }
    match walk_doc(v, segs).to_doc() {
        Some(v) => Expr::Const(Box::new(v)),
        None => Expr::Absent,
    }
}

/// Evaluates an expression that reads nothing of the event, now. An
/// expression that fails is left alone: it will fail per event, with the
/// message that names the event's line.
fn evaluate_closed(e: &Expr) -> Option<Expr> {
    static EMPTY: std::sync::OnceLock<Code> = std::sync::OnceLock::new();
    let code = EMPTY.get_or_init(Code::default);
    let event = Doc::Null;
    let mut m = Machine::new(code, &event);
    let v = m.eval(e).ok()?;
    Some(match v.to_doc() {
        Some(j) => Expr::Const(Box::new(j)),
        None => Expr::Absent,
    })
}
