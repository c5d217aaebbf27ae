//! Evaluation: runs a bound program on one event. Everything here works
//! on the compiled [`ir`](crate::compile::ir); the only string lookups are
//! the event's own keys.

use std::borrow::Cow;

use serde_json::{Number, Value};

use crate::doc::{Doc, Fields};

use crate::compile::ir::{Code, Entry, Expr, Part, Seg, Site, Stmt};
use crate::syntax::ast::BinOp;
use crate::value::{copied_field, Kind, Val};

/// One output record: the API it goes to and its payload.
#[derive(Clone, Debug)]
pub struct Record<'a> {
    /// The output API, as named in the mapping's `apis`.
    pub api: &'a str,
    /// The payload (always an object).
    pub payload: Val<'a>,
}

impl Record<'_> {
    /// The record as `{"api": ..., "payload": ...}` JSON.
    pub fn to_json(&self) -> Value {
        serde_json::json!({ "api": self.api, "payload": self.payload.to_json() })
    }
}

impl serde::Serialize for Record<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("api", self.api)?;
        m.serialize_entry("payload", &self.payload)?;
        m.end()
    }
}

/// Why an event was rejected, in words a user can act on.
pub type Reason = String;

/// The state of one event's evaluation.
pub(crate) struct Machine<'a> {
    code: &'a Code,
    event: &'a Doc<'a>,
    locals: Vec<Val<'a>>,
    globals: Vec<Option<Val<'a>>>,
}

impl<'a> Machine<'a> {
    pub(crate) fn new(code: &'a Code, event: &'a Doc<'a>) -> Self {
        Machine {
            code,
            event,
            locals: vec![Val::Absent; code.slots],
            globals: vec![None; code.globals.len()],
        }
    }

    fn site(&self, site: Site) -> &str {
        self.code
            .sites
            .get(site as usize)
            .map_or("the mapping", |s| s)
    }

    fn at(&self, site: Site, msg: impl std::fmt::Display) -> Reason {
        format!("{msg} (in {})", self.site(site))
    }

    // -------------------------------------------------------- statements

    pub(crate) fn exec(
        &mut self,
        stmts: &'a [Stmt],
        out: &mut Vec<Record<'a>>,
    ) -> Result<(), Reason> {
        for stmt in stmts {
            match stmt {
                Stmt::Let(slot, e) => self.locals[*slot] = self.eval(e)?,
                Stmt::Require(cond, msg, site) => {
                    if !self.condition(cond, *site)? {
                        return Err(self.message(msg)?);
                    }
                }
                Stmt::Reject(msg) => return Err(self.message(msg)?),
                Stmt::Emit(api, e, site) => {
                    let payload = self.eval(e)?;
                    if payload.kind() != Kind::Object {
                        return Err(self.at(
                            *site,
                            format!(
                                "an emitted record must be an object, found {}",
                                payload.kind()
                            ),
                        ));
                    }
                    out.push(Record {
                        api: &self.code.apis[*api],
                        payload,
                    });
                }
                Stmt::For(slot, index, e, body, site) => match self.eval(e)? {
                    Val::Absent | Val::Null => {}
                    Val::Doc(Doc::Array(items)) => {
                        for (i, item) in items.iter().enumerate() {
                            self.locals[*slot] = copied_field(item);
                            self.set_index(*index, i);
                            self.exec(body, out)?;
                        }
                    }
                    Val::Array(items) => {
                        for (i, item) in items.into_iter().enumerate() {
                            self.locals[*slot] = item;
                            self.set_index(*index, i);
                            self.exec(body, out)?;
                        }
                    }
                    other => {
                        return Err(self.at(
                            *site,
                            format!("`for` needs an array, found {}", other.kind()),
                        ))
                    }
                },
                Stmt::If(cond, then, otherwise, site) => {
                    let branch = if self.condition(cond, *site)? {
                        then
                    } else {
                        otherwise
                    };
                    self.exec(branch, out)?;
                }
            }
        }
        Ok(())
    }

    fn set_index(&mut self, slot: Option<usize>, i: usize) {
        if let Some(s) = slot {
            self.locals[s] = Val::Num((i as u64).into());
        }
    }

    pub(crate) fn condition(&mut self, cond: &'a Expr, site: Site) -> Result<bool, Reason> {
        match self.eval(cond)? {
            Val::Bool(b) => Ok(b),
            other => Err(self.at(
                site,
                format!("a condition must be true or false, found {}", other.kind()),
            )),
        }
    }

    fn message(&mut self, msg: &'a Expr) -> Result<Reason, Reason> {
        Ok(match self.eval(msg)? {
            Val::Str(s) => s.into_owned(),
            other => other
                .to_json()
                .map(|j| j.to_string())
                .unwrap_or_else(|| "rejected".to_string()),
        })
    }

    // ------------------------------------------------------- expressions

    pub(crate) fn eval(&mut self, e: &'a Expr) -> Result<Val<'a>, Reason> {
        Ok(match e {
            Expr::Absent | Expr::Setting(_) => Val::Absent,
            Expr::Const(v) => constant(v),
            Expr::Event(segs) => walk_doc(self.event, segs),
            Expr::Local(slot, segs) => walk(&self.locals[*slot], segs),
            Expr::Global(id, segs) => {
                if self.globals[*id].is_none() {
                    let v = self.eval(&self.code.globals[*id])?;
                    self.globals[*id] = Some(v);
                }
                walk(self.globals[*id].as_ref().unwrap_or(&Val::Absent), segs)
            }
            Expr::Path(base, segs) => {
                let v = self.eval(base)?;
                walk(&v, segs)
            }
            Expr::Index(base, index) => {
                let b = self.eval(base)?;
                match self.eval(index)? {
                    Val::Str(k) => b.get(&k),
                    Val::Num(n) => n.as_i64().map_or(Val::Absent, |i| b.at(i)),
                    _ => Val::Absent,
                }
            }
            Expr::Call(builtin, args, site) => {
                // Most calls take one or two arguments: keep them on the stack.
                let result = if args.len() <= 4 {
                    let mut vals: [Val<'a>; 4] = Default::default();
                    for (slot, a) in vals.iter_mut().zip(args) {
                        *slot = self.eval(a)?;
                    }
                    (builtin.eval)(&mut vals[..args.len()])
                } else {
                    let mut vals = Vec::with_capacity(args.len());
                    for a in args {
                        vals.push(self.eval(a)?);
                    }
                    (builtin.eval)(&mut vals)
                };
                result.map_err(|m| self.at(*site, m))?
            }
            Expr::Query(query, arg) => match self.eval(arg)? {
                Val::Absent | Val::Null => Val::Absent,
                // JSONPath runs on serde_json values: queries copy their input.
                other => match other.to_json() {
                    Some(owned) => query_json(query, &owned),
                    None => Val::Absent,
                },
            },
            Expr::Not(x, site) => Val::Bool(!self.condition(x, *site)?),
            Expr::Neg(x, site) => match self.eval(x)? {
                Val::Absent => Val::Absent,
                Val::Num(n) => Val::Num(negate(&n)),
                other => {
                    return Err(
                        self.at(*site, format!("`-` needs a number, found {}", other.kind()))
                    )
                }
            },
            Expr::And(a, b, site) => {
                Val::Bool(self.condition(a, *site)? && self.condition(b, *site)?)
            }
            Expr::Or(a, b, site) => {
                Val::Bool(self.condition(a, *site)? || self.condition(b, *site)?)
            }
            Expr::Coalesce(a, b) => {
                let v = self.eval(a)?;
                if v.is_nothing() {
                    self.eval(b)?
                } else {
                    v
                }
            }
            Expr::Binary(op, a, b, site) => {
                let (x, y) = (self.eval(a)?, self.eval(b)?);
                binary(*op, x, y).map_err(|m| self.at(*site, m))?
            }
            Expr::If(c, a, b, site) => {
                if self.condition(c, *site)? {
                    self.eval(a)?
                } else {
                    self.eval(b)?
                }
            }
            Expr::Template(parts) => self.template(parts)?,
            Expr::Object(entries, dedup) => self.object(entries, *dedup)?,
            Expr::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.eval(i)?);
                }
                Val::Array(out)
            }
            Expr::Bind(slot, value, body) => {
                self.locals[*slot] = self.eval(value)?;
                self.eval(body)?
            }
        })
    }

    /// Writes a template. A missing (or blank) part drops out together
    /// with one space beside it, so "Loaded {a} {b} Page" never gets
    /// doubled or trailing spaces.
    fn template(&mut self, parts: &'a [Part]) -> Result<Val<'a>, Reason> {
        let mut out = String::new();
        let mut dropped = false;
        for part in parts {
            match part {
                Part::Text(text) => {
                    let mut t: &str = text;
                    if dropped && (out.is_empty() || out.ends_with(' ')) {
                        t = t.strip_prefix(' ').unwrap_or(t);
                    }
                    out.push_str(t);
                    dropped = false;
                }
                Part::Expr(e) => match self.eval(e)? {
                    Val::Absent | Val::Null => dropped = true,
                    Val::Str(s) if s.trim().is_empty() => dropped = true,
                    Val::Str(s) => out.push_str(&s),
                    Val::Num(n) => out.push_str(&n.to_string()),
                    Val::Bool(b) => out.push_str(if b { "true" } else { "false" }),
                    other => {
                        out.push_str(&other.to_json().map(|j| j.to_string()).unwrap_or_default())
                    }
                },
            }
        }
        if dropped && out.ends_with(' ') {
            out.pop();
        }
        Ok(Val::Str(Cow::Owned(out)))
    }

    fn object(&mut self, entries: &'a [Entry], dedup: bool) -> Result<Val<'a>, Reason> {
        let mut fields: Fields<'a, Val<'a>> = Fields::default();
        let put = |fields: &mut Fields<'a, Val<'a>>, k: Cow<'a, str>, v: Val<'a>| {
            if dedup {
                fields.put(k, v);
            } else {
                fields.push_new(k, v);
            }
        };
        for entry in entries {
            match entry {
                Entry::Field(key, e) => {
                    let v = self.eval(e)?;
                    if v.is_present() {
                        put(&mut fields, Cow::Borrowed(key), v);
                    }
                }
                Entry::Computed(key, e, site) => {
                    let k = match self.eval(key)? {
                        Val::Absent | Val::Null => continue,
                        Val::Str(s) => s,
                        Val::Num(n) => Cow::Owned(n.to_string()),
                        Val::Bool(b) => Cow::Owned(b.to_string()),
                        other => {
                            return Err(self.at(
                                *site,
                                format!("an object key must be a string, found {}", other.kind()),
                            ))
                        }
                    };
                    let v = self.eval(e)?;
                    if v.is_present() {
                        put(&mut fields, k, v);
                    }
                }
                Entry::Spread(e, site) => match self.eval(e)? {
                    Val::Absent | Val::Null => {}
                    Val::Doc(Doc::Object(m)) => {
                        for (k, v) in m {
                            put(&mut fields, Cow::Borrowed(k.as_ref()), copied_field(v));
                        }
                    }
                    Val::Object(fs) => {
                        for (k, v) in fs {
                            put(&mut fields, k, v);
                        }
                    }
                    other => {
                        return Err(self.at(
                            *site,
                            format!("`...` needs an object, found {}", other.kind()),
                        ))
                    }
                },
            }
        }
        Ok(Val::Object(fields.into_vec()))
    }
}

/// A constant of the program. JSON null here is the literal `null`.
fn constant<'a>(v: &'a Doc<'a>) -> Val<'a> {
    match v {
        Doc::Null => Val::Null,
        other => Val::from_doc(other),
    }
}

/// Follows a path through a borrowed document without copying anything.
pub(crate) fn walk_doc<'a>(mut v: &'a Doc<'a>, segs: &[Seg]) -> Val<'a> {
    for seg in segs {
        let next = match (seg, v) {
            (Seg::Key(k), Doc::Object(_)) => v.get(k),
            (Seg::Index(i), Doc::Array(items)) => {
                let i = if *i < 0 { items.len() as i64 + i } else { *i };
                usize::try_from(i).ok().and_then(|i| items.get(i))
            }
            _ => None,
        };
        match next {
            Some(n) => v = n,
            None => return Val::Absent,
        }
    }
    Val::from_doc(v)
}

/// Follows a path through any value.
pub(crate) fn walk<'a>(v: &Val<'a>, segs: &[Seg]) -> Val<'a> {
    match (v, segs) {
        (_, []) => v.clone(),
        (Val::Doc(d), _) => walk_doc(d, segs),
        (_, [first, rest @ ..]) => {
            let next = match first {
                Seg::Key(k) => v.get(k),
                Seg::Index(i) => v.at(*i),
            };
            walk(&next, rest)
        }
    }
}

fn query_json(query: &jsonpath_rust::parser::model::JpQuery, v: &Value) -> Val<'static> {
    match jsonpath_rust::query::js_path_process(query, v) {
        Ok(refs) => Val::Array(
            refs.into_iter()
                .map(|r| Val::from_owned(r.val().clone()))
                .collect(),
        ),
        Err(_) => Val::Array(Vec::new()),
    }
}

fn negate(n: &Number) -> Number {
    match n.as_i64().and_then(i64::checked_neg) {
        Some(i) => i.into(),
        None => Number::from_f64(-n.as_f64().unwrap_or(0.0)).unwrap_or_else(|| 0.into()),
    }
}

fn binary<'a>(op: BinOp, x: Val<'a>, y: Val<'a>) -> Result<Val<'a>, String> {
    use std::cmp::Ordering;
    Ok(match op {
        BinOp::Eq => Val::Bool(x.equals(&y)),
        BinOp::Ne => Val::Bool(!x.equals(&y)),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let ord = match (&x, &y) {
                (Val::Absent, _) | (_, Val::Absent) => return Ok(Val::Bool(false)),
                (Val::Num(a), Val::Num(b)) => a.as_f64().partial_cmp(&b.as_f64()),
                (Val::Str(a), Val::Str(b)) => Some(a.cmp(b)),
                _ => None,
            };
            let Some(ord) = ord else {
                return Err(format!("cannot compare {} with {}", x.kind(), y.kind()));
            };
            Val::Bool(match op {
                BinOp::Lt => ord == Ordering::Less,
                BinOp::Le => ord != Ordering::Greater,
                BinOp::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            })
        }
        _ => match (x, y) {
            (Val::Absent, _) | (_, Val::Absent) => Val::Absent,
            (Val::Str(a), Val::Str(b)) if op == BinOp::Add => {
                Val::Str(Cow::Owned(format!("{a}{b}")))
            }
            (Val::Num(a), Val::Num(b)) => Val::Num(arith(op, &a, &b)?),
            (a, b) => {
                return Err(format!(
                    "`{}` needs two numbers, found {} and {}",
                    op.symbol(),
                    a.kind(),
                    b.kind()
                ))
            }
        },
    })
}

fn arith(op: BinOp, a: &Number, b: &Number) -> Result<Number, String> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        let exact = match op {
            BinOp::Add => x.checked_add(y),
            BinOp::Sub => x.checked_sub(y),
            BinOp::Mul => x.checked_mul(y),
            _ => x
                .checked_rem(y)
                .filter(|r| *r == 0)
                .and_then(|_| x.checked_div(y)),
        };
        if let Some(r) = exact {
            return Ok(r.into());
        }
    }
    let (x, y) = (
        a.as_f64().unwrap_or(f64::NAN),
        b.as_f64().unwrap_or(f64::NAN),
    );
    let r = match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        _ if y == 0.0 => return Err("division by zero".to_string()),
        _ => x / y,
    };
    Number::from_f64(r).ok_or_else(|| "the result is not a finite number".to_string())
}
