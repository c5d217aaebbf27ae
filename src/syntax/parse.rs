//! pest pairs → AST, and pest errors → diagnostics.

use std::sync::OnceLock;

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser;

use super::ast::*;
use super::{MapcParser, Rule, MAX_NESTING, MAX_OPERATORS};
use crate::diagnostic::{codes, Diagnostic};

/// Parses one file's text. `file` is its index in the source map.
pub fn parse_file(text: &str, file: u32) -> Result<Vec<Spanned<Item>>, Diagnostic> {
    check_nesting(text, file)?;
    let mut pairs = MapcParser::parse(Rule::file, text).map_err(|e| syntax_error(e, file))?;
    let top = pairs.next().expect("the file rule always yields one pair");
    let b = Builder { file };
    let mut items = Vec::new();
    for pair in top.into_inner() {
        if pair.as_rule() == Rule::EOI {
            break;
        }
        items.push(b.item(pair)?);
    }
    Ok(items)
}

struct Builder {
    file: u32,
}

impl Builder {
    /// The pair's span without the whitespace and comments pest lets a
    /// rule swallow at its end.
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        let text = trim_trailing_trivia(pair.as_str());
        Span {
            file: self.file,
            start: s.start() as u32,
            end: (s.start() + text.len()) as u32,
        }
    }

    fn name(&self, pair: Pair<Rule>) -> Name {
        Spanned::new(self.span(&pair), pair.as_str().to_string())
    }

    fn item(&self, pair: Pair<Rule>) -> Result<Spanned<Item>, Diagnostic> {
        let span = self.span(&pair);
        let kind = pair.as_rule();
        let mut inner = pair.into_inner();
        let item = match kind {
            Rule::import => {
                let s = inner.next().expect("import has a string");
                let sspan = self.span(&s);
                let text = self.plain_string(s)?;
                Item::Import(Spanned::new(sspan, text))
            }
            Rule::apis => Item::Apis(inner.map(|p| self.name(p)).collect()),
            Rule::settings => {
                let mut decls = Vec::new();
                for s in inner {
                    decls.push(self.setting(s)?);
                }
                Item::Settings(decls)
            }
            Rule::let_item => {
                let name = self.name(inner.next().expect("let has a name"));
                let value = self.expr(inner.next().expect("let has a value"))?;
                Item::Let(LetDef { name, value })
            }
            Rule::fn_item => {
                let name = self.name(inner.next().expect("fn has a name"));
                let mut params = Vec::new();
                let mut body = None;
                for p in inner {
                    match p.as_rule() {
                        Rule::ident => params.push(self.name(p)),
                        _ => body = Some(self.expr(p)?),
                    }
                }
                Item::Fn(FnDef {
                    name,
                    params,
                    body: body.expect("fn has a body"),
                })
            }
            Rule::rule => {
                let types = inner.next().expect("rule has types");
                let mut header = self.span(&types);
                let event_types: Vec<Name> = types.into_inner().map(|p| self.name(p)).collect();
                let mut when = None;
                let mut body = Vec::new();
                for p in inner {
                    match p.as_rule() {
                        Rule::expr => {
                            let e = self.expr(p)?;
                            header = header.to(e.span);
                            when = Some(e);
                        }
                        _ => body = self.block(p)?,
                    }
                }
                header.start = span.start;
                Item::Rule(RuleDef {
                    event_types,
                    when,
                    body,
                    header,
                })
            }
            other => unreachable!("unexpected item rule {other:?}"),
        };
        Ok(Spanned::new(span, item))
    }

    fn setting(&self, pair: Pair<Rule>) -> Result<SettingDecl, Diagnostic> {
        let mut inner = pair.into_inner();
        let name = self.name(inner.next().expect("setting has a name"));
        let ty_pair = inner.next().expect("setting has a type");
        let ty = self.setting_type(ty_pair)?;
        let mut decl = SettingDecl {
            name,
            ty,
            default: None,
            required: false,
            secret: false,
        };
        for p in inner {
            match p.as_rule() {
                Rule::expr => decl.default = Some(self.expr(p)?),
                Rule::setting_flag => match p.into_inner().next().expect("flag").as_rule() {
                    Rule::kw_required => decl.required = true,
                    _ => decl.secret = true,
                },
                other => unreachable!("unexpected setting part {other:?}"),
            }
        }
        Ok(decl)
    }

    fn setting_type(&self, pair: Pair<Rule>) -> Result<Spanned<SettingType>, Diagnostic> {
        let span = self.span(&pair);
        let inner = pair.into_inner().next().expect("type has a form");
        let ty = match inner.as_rule() {
            Rule::type_name => self.type_name(inner)?,
            Rule::type_list => {
                let t = inner.into_inner().next().expect("list has an item type");
                SettingType::List(Box::new(self.type_name(t)?))
            }
            Rule::type_enum => {
                let mut vs = Vec::new();
                for s in inner.into_inner() {
                    vs.push(self.plain_string(s)?);
                }
                SettingType::Enum(vs)
            }
            other => unreachable!("unexpected type {other:?}"),
        };
        Ok(Spanned::new(span, ty))
    }

    fn type_name(&self, pair: Pair<Rule>) -> Result<SettingType, Diagnostic> {
        Ok(match pair.as_str() {
            "bool" => SettingType::Bool,
            "string" => SettingType::String,
            "number" => SettingType::Number,
            "object" => SettingType::Object,
            "any" => SettingType::Any,
            other => {
                return Err(Diagnostic::error(
                    codes::INVALID_SETTING_DECL,
                    self.span(&pair),
                    format!("unknown setting type `{other}`"),
                )
                .label("not a type")
                .help("use bool, string, number, object, any, [type] for a list, or \"a\" | \"b\" for one of several strings"))
            }
        })
    }

    fn block(&self, pair: Pair<Rule>) -> Result<Vec<Spanned<Stmt>>, Diagnostic> {
        pair.into_inner().map(|p| self.stmt(p)).collect()
    }

    fn stmt(&self, pair: Pair<Rule>) -> Result<Spanned<Stmt>, Diagnostic> {
        let span = self.span(&pair);
        let kind = pair.as_rule();
        let mut inner = pair.into_inner();
        let mut next = || inner.next().expect("statement part");
        let stmt = match kind {
            Rule::let_stmt => {
                let name = self.name(next());
                Stmt::Let(name, self.expr(next())?)
            }
            Rule::require_stmt => {
                let cond = self.expr(next())?;
                Stmt::Require(cond, self.expr(next())?)
            }
            Rule::reject_stmt => Stmt::Reject(self.expr(next())?),
            Rule::emit_stmt => {
                let api = self.name(next());
                Stmt::Emit(api, self.object(next())?)
            }
            Rule::for_stmt => {
                let var = self.name(next());
                let mut after = next();
                let index = if after.as_rule() == Rule::ident {
                    let index = self.name(after);
                    after = next();
                    Some(index)
                } else {
                    None
                };
                let iter = self.expr(after)?;
                Stmt::For(var, index, iter, self.block(next())?)
            }
            Rule::if_stmt => return self.if_stmt(span, inner),
            other => unreachable!("unexpected statement {other:?}"),
        };
        Ok(Spanned::new(span, stmt))
    }

    fn if_stmt(&self, span: Span, mut inner: Pairs<Rule>) -> Result<Spanned<Stmt>, Diagnostic> {
        let cond = self.expr(inner.next().expect("if has a condition"))?;
        let then = self.block(inner.next().expect("if has a block"))?;
        let otherwise = match inner.next() {
            None => Vec::new(),
            Some(p) if p.as_rule() == Rule::if_stmt => vec![self.stmt(p)?],
            Some(p) => self.block(p)?,
        };
        Ok(Spanned::new(span, Stmt::If(cond, then, otherwise)))
    }

    fn expr(&self, pair: Pair<Rule>) -> Result<Spanned<Expr>, Diagnostic> {
        let span = self.span(&pair);
        let operators = pair
            .clone()
            .into_inner()
            .filter(|p| !matches!(p.as_rule(), Rule::postfix_expr))
            .count();
        if operators > MAX_OPERATORS {
            return Err(Diagnostic::error(
                codes::TOO_DEEP,
                span,
                format!("this expression chains {operators} operators; at most {MAX_OPERATORS} are allowed"),
            )
            .label("too long")
            .help("split it with `let` bindings"));
        }
        pratt()
            .map_primary(|p| self.postfix_expr(p))
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                let span = self.span(&op).to(rhs.span);
                let op = match op.as_rule() {
                    Rule::op_not => UnOp::Not,
                    _ => UnOp::Neg,
                };
                Ok(Spanned::new(span, Expr::Unary(op, Box::new(rhs))))
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let span = lhs.span.to(rhs.span);
                let op = match op.as_rule() {
                    Rule::op_coalesce => BinOp::Coalesce,
                    Rule::op_or => BinOp::Or,
                    Rule::op_and => BinOp::And,
                    Rule::op_eq => BinOp::Eq,
                    Rule::op_ne => BinOp::Ne,
                    Rule::op_lt => BinOp::Lt,
                    Rule::op_le => BinOp::Le,
                    Rule::op_gt => BinOp::Gt,
                    Rule::op_ge => BinOp::Ge,
                    Rule::op_add => BinOp::Add,
                    Rule::op_sub => BinOp::Sub,
                    Rule::op_mul => BinOp::Mul,
                    _ => BinOp::Div,
                };
                Ok(Spanned::new(
                    span,
                    Expr::Binary(op, Box::new(lhs), Box::new(rhs)),
                ))
            })
            .parse(pair.into_inner())
            .map(|mut e| {
                e.span = span;
                e
            })
    }

    fn postfix_expr(&self, pair: Pair<Rule>) -> Result<Spanned<Expr>, Diagnostic> {
        let steps = pair.clone().into_inner().count().saturating_sub(1);
        if steps > MAX_OPERATORS {
            return Err(Diagnostic::error(
                codes::TOO_DEEP,
                self.span(&pair),
                format!("this path has {steps} steps; at most {MAX_OPERATORS} are allowed"),
            )
            .label("too long")
            .help("bind part of the path with `let` and continue from there"));
        }
        let mut inner = pair.into_inner();
        let mut base = self.primary(inner.next().expect("operand"))?;
        for p in inner {
            let span = base.span.to(self.span(&p));
            let node = match p.as_rule() {
                Rule::field => {
                    let key = p.into_inner().next().expect("field has a key");
                    Expr::Field(Box::new(base), self.key(key)?)
                }
                _ => {
                    let idx = self.expr(p.into_inner().next().expect("index"))?;
                    Expr::Index(Box::new(base), Box::new(idx))
                }
            };
            base = Spanned::new(span, node);
        }
        Ok(base)
    }

    fn key(&self, pair: Pair<Rule>) -> Result<String, Diagnostic> {
        match pair.as_rule() {
            Rule::ident | Rule::key_name => Ok(pair.as_str().to_string()),
            _ => self.plain_string(pair),
        }
    }

    fn primary(&self, pair: Pair<Rule>) -> Result<Spanned<Expr>, Diagnostic> {
        let span = self.span(&pair);
        let node = match pair.as_rule() {
            Rule::expr => return self.expr(pair),
            Rule::if_expr => {
                let mut inner = pair.into_inner();
                let cond = self.expr(inner.next().expect("if cond"))?;
                let then = self.expr(inner.next().expect("if value"))?;
                let otherwise = match inner.next() {
                    None => None,
                    Some(p) if p.as_rule() == Rule::if_expr => Some(Box::new(self.primary(p)?)),
                    Some(p) => Some(Box::new(self.expr(p)?)),
                };
                Expr::If(Box::new(cond), Box::new(then), otherwise)
            }
            Rule::call => {
                let mut inner = pair.into_inner();
                let name = self.name(inner.next().expect("call name"));
                let args = inner.map(|p| self.expr(p)).collect::<Result<_, _>>()?;
                Expr::Call(name, args)
            }
            Rule::object => return self.object(pair),
            Rule::array => Expr::Array(
                pair.into_inner()
                    .map(|p| self.expr(p))
                    .collect::<Result<_, _>>()?,
            ),
            Rule::number => self.number(&pair)?,
            Rule::string => self.string(pair)?,
            Rule::kw_true => Expr::Bool(true),
            Rule::kw_false => Expr::Bool(false),
            Rule::kw_null => Expr::Null,
            Rule::event_root => match pair.into_inner().next() {
                None => Expr::Event,
                Some(k) => {
                    let root = Spanned::new(
                        Span {
                            end: span.start + 1,
                            ..span
                        },
                        Expr::Event,
                    );
                    Expr::Field(Box::new(root), self.key(k)?)
                }
            },
            Rule::name => Expr::Name(pair.as_str().to_string()),
            other => unreachable!("unexpected operand {other:?}"),
        };
        Ok(Spanned::new(span, node))
    }

    fn object(&self, pair: Pair<Rule>) -> Result<Spanned<Expr>, Diagnostic> {
        let span = self.span(&pair);
        let mut entries = Vec::new();
        for e in pair.into_inner().filter(|p| p.as_rule() != Rule::comma) {
            let espan = self.span(&e);
            let kind = e.as_rule();
            let mut inner = e.into_inner();
            let entry = match kind {
                Rule::spread => Entry::Spread(self.expr(inner.next().expect("spread"))?),
                Rule::computed_entry => {
                    let k = self.expr(inner.next().expect("key"))?;
                    Entry::Computed(k, self.expr(inner.next().expect("value"))?)
                }
                _ => {
                    let k = inner.next().expect("key");
                    let kspan = self.span(&k);
                    let value = self.expr(inner.next().expect("value"))?;
                    if k.as_rule() == Rule::key_name {
                        Entry::Field(Spanned::new(kspan, k.as_str().to_string()), value)
                    } else {
                        match self.string(k)? {
                            Expr::String(s) => Entry::Field(Spanned::new(kspan, s), value),
                            template => Entry::Computed(Spanned::new(kspan, template), value),
                        }
                    }
                }
            };
            entries.push(Spanned::new(espan, entry));
        }
        Ok(Spanned::new(span, Expr::Object(entries)))
    }

    fn number(&self, pair: &Pair<Rule>) -> Result<Expr, Diagnostic> {
        let text = pair.as_str();
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Expr::Number(i.into()));
        }
        text.parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Expr::Number)
            .ok_or_else(|| {
                Diagnostic::error(
                    codes::SYNTAX,
                    self.span(pair),
                    "this number is out of range",
                )
                .label("not a finite number")
                .help("numbers must fit in a 64-bit float")
            })
    }

    /// A string, as plain text or as a template with `{expr}` parts.
    fn string(&self, pair: Pair<Rule>) -> Result<Expr, Diagnostic> {
        let mut parts: Vec<TemplatePart> = Vec::new();
        let mut text = String::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::interp => {
                    if !text.is_empty() {
                        parts.push(TemplatePart::Text(std::mem::take(&mut text)));
                    }
                    parts.push(TemplatePart::Expr(
                        self.expr(p.into_inner().next().expect("interp"))?,
                    ));
                }
                _ => self.string_piece(&p, &mut text)?,
            }
        }
        if parts.is_empty() {
            return Ok(Expr::String(text));
        }
        if !text.is_empty() {
            parts.push(TemplatePart::Text(text));
        }
        Ok(Expr::Template(parts))
    }

    fn plain_string(&self, pair: Pair<Rule>) -> Result<String, Diagnostic> {
        let mut text = String::new();
        for p in pair.into_inner() {
            self.string_piece(&p, &mut text)?;
        }
        Ok(text)
    }

    fn string_piece(&self, p: &Pair<Rule>, out: &mut String) -> Result<(), Diagnostic> {
        let s = p.as_str();
        if p.as_rule() == Rule::str_text {
            out.push_str(s);
            return Ok(());
        }
        match &s[1..2] {
            "n" => out.push('\n'),
            "t" => out.push('\t'),
            "r" => out.push('\r'),
            "u" => {
                let c = u32::from_str_radix(&s[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| {
                        Diagnostic::error(
                            codes::SYNTAX,
                            self.span(p),
                            "this \\u escape is not a character",
                        )
                        .label("invalid escape")
                        .help("write a Unicode scalar value such as \\u00e9")
                    })?;
                out.push(c);
            }
            other => out.push_str(other),
        }
        Ok(())
    }
}

/// Cuts trailing whitespace and `#` comments off a piece of source.
fn trim_trailing_trivia(mut text: &str) -> &str {
    loop {
        let trimmed = text.trim_end();
        let line_start = trimmed.rfind('\n').map_or(0, |i| i + 1);
        match comment_start(&trimmed[line_start..]) {
            Some(i) => text = &trimmed[..line_start + i],
            None => return trimmed,
        }
    }
}

/// Where a `#` comment starts on one line, ignoring `#` inside strings.
fn comment_start(line: &str) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => return Some(i),
            _ => {}
        }
    }
    None
}

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_and, Assoc::Left))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_ne, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_le, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left)
                | Op::infix(Rule::op_ge, Assoc::Left))
            .op(Op::infix(Rule::op_coalesce, Assoc::Right))
            .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
            .op(Op::prefix(Rule::op_not) | Op::prefix(Rule::op_neg))
    })
}

/// Rejects files that nest brackets or template parts deeper than
/// [`MAX_NESTING`] before pest (which recurses) sees them.
fn check_nesting(text: &str, file: u32) -> Result<(), Diagnostic> {
    // A stack of what each open bracket is: true for an `{` that opened a
    // template part inside a string (its `}` returns to the string).
    let mut stack: Vec<bool> = Vec::new();
    let mut in_string = false;
    let mut bytes = text.bytes().enumerate();
    while let Some((i, b)) = bytes.next() {
        if in_string {
            match b {
                b'\\' => {
                    bytes.next();
                }
                b'"' => in_string = false,
                b'{' => {
                    stack.push(true);
                    in_string = false;
                }
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'#' => {
                    for (_, c) in bytes.by_ref() {
                        if c == b'\n' {
                            break;
                        }
                    }
                }
                b'(' | b'[' | b'{' => stack.push(false),
                // Closing the `{` of a template part returns to its string.
                b')' | b']' | b'}' => in_string = stack.pop() == Some(true),
                _ => {}
            }
        }
        if stack.len() > MAX_NESTING {
            let span = Span {
                file,
                start: i as u32,
                end: i as u32 + 1,
            };
            return Err(Diagnostic::error(
                codes::TOO_DEEP,
                span,
                format!("brackets nest more than {MAX_NESTING} deep here"),
            )
            .label("too deep")
            .help("flatten the expression with `let` bindings or `fn` helpers"));
        }
    }
    Ok(())
}

fn syntax_error(e: pest::error::Error<Rule>, file: u32) -> Diagnostic {
    let (start, end) = match e.location {
        InputLocation::Pos(p) => (p, p),
        InputLocation::Span((s, e)) => (s, e),
    };
    let span = Span {
        file,
        start: start as u32,
        end: end.max(start) as u32,
    };
    let (message, label) = match &e.variant {
        ErrorVariant::ParsingError {
            positives,
            negatives,
        } => {
            let mut expected: Vec<&str> = positives.iter().filter_map(|r| describe(*r)).collect();
            expected.sort_unstable();
            expected.dedup();
            if expected.is_empty() {
                let unexpected: Vec<&str> = negatives.iter().filter_map(|r| describe(*r)).collect();
                if unexpected.is_empty() {
                    (
                        "unexpected text".to_string(),
                        "not understood here".to_string(),
                    )
                } else {
                    (
                        format!("unexpected {}", list(&unexpected)),
                        "not allowed here".to_string(),
                    )
                }
            } else {
                (
                    format!("expected {}", list(&expected)),
                    format!("expected {}", list(&expected)),
                )
            }
        }
        ErrorVariant::CustomError { message } => (message.clone(), "here".to_string()),
    };
    Diagnostic::error(codes::SYNTAX, span, message)
        .label(label)
        .help("see the language reference in README.md")
}

fn list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Words a user understands for each grammar rule pest may expect.
fn describe(kind: Rule) -> Option<&'static str> {
    Some(match kind {
        Rule::EOI => "end of file",
        Rule::import => "`import`",
        Rule::apis => "`apis`",
        Rule::settings => "`settings`",
        Rule::setting => "a setting (`name: type`)",
        Rule::setting_type | Rule::type_name | Rule::type_list | Rule::type_enum => {
            "a setting type"
        }
        Rule::setting_flag | Rule::kw_required | Rule::kw_secret => "`required` or `secret`",
        Rule::let_item | Rule::let_stmt => "`let`",
        Rule::fn_item => "`fn`",
        Rule::rule => "a rule (`on <type> { ... }`)",
        Rule::event_types => "an event type",
        Rule::comma => "`,`",
        Rule::block => "a block (`{ ... }`)",
        Rule::require_stmt => "`require`",
        Rule::reject_stmt => "`reject`",
        Rule::emit_stmt => "`emit`",
        Rule::for_stmt => "`for`",
        Rule::if_stmt | Rule::if_expr => "`if`",
        Rule::expr | Rule::postfix_expr => "an expression",
        Rule::op_coalesce
        | Rule::op_or
        | Rule::op_and
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_le
        | Rule::op_ge
        | Rule::op_lt
        | Rule::op_gt
        | Rule::op_add
        | Rule::op_sub
        | Rule::op_mul
        | Rule::op_div => "an operator",
        Rule::op_not | Rule::op_neg => "an expression",
        Rule::field => "a field (`.name`)",
        Rule::index => "an index (`[...]`)",
        Rule::call => "a function call",
        Rule::object => "an object (`{ key: value }`)",
        Rule::spread | Rule::computed_entry | Rule::keyed_entry => "an object entry (`key: value`)",
        Rule::array => "an array",
        Rule::event_root => "an event path (`.field`)",
        Rule::name | Rule::ident | Rule::key_name => "a name",
        Rule::number => "a number",
        Rule::string | Rule::plain_string => "a string",
        Rule::str_text | Rule::str_escape | Rule::interp => "string text",
        Rule::kw_true | Rule::kw_false | Rule::kw_null => "a literal",
        _ => return None,
    })
}
