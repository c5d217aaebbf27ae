//! The parser on valid and invalid programs: valid ones give the expected
//! AST (spans are left out of equality), invalid ones a syntax diagnostic
//! pointing at the right place with words a user understands.

use mapc::syntax::ast::*;
use mapc::syntax::parse_file;

fn parse(text: &str) -> Vec<Item> {
    parse_file(text, 0)
        .unwrap_or_else(|d| panic!("should parse: {}", d.message))
        .into_iter()
        .map(|i| i.node)
        .collect()
}

fn sp<T>(node: T) -> Spanned<T> {
    Spanned::new(Span::default(), node)
}

fn name(s: &str) -> Name {
    sp(s.to_string())
}

fn field(base: Expr, key: &str) -> Expr {
    Expr::Field(Box::new(sp(base)), key.to_string())
}

fn let_value(text: &str) -> Expr {
    match parse(&format!("let x = {text}")).remove(0) {
        Item::Let(l) => l.value.node,
        other => panic!("not a let: {other:?}"),
    }
}

#[test]
fn event_paths_with_quoted_keys_and_indexes() {
    let want = Expr::Index(
        Box::new(sp(field(field(Expr::Event, "properties"), "my key"))),
        Box::new(sp(Expr::Number((-1).into()))),
    );
    // The index is `-1` written as negation of 1.
    let got = let_value(r#".properties."my key"[-1]"#);
    match got {
        Expr::Index(base, index) => {
            assert_eq!(base.node, field(field(Expr::Event, "properties"), "my key"));
            assert_eq!(
                index.node,
                Expr::Unary(UnOp::Neg, Box::new(sp(Expr::Number(1.into()))))
            );
        }
        other => panic!("expected an index, got {other:?} (wanted the shape of {want:?})"),
    }
}

#[test]
fn operator_precedence() {
    // `??` binds tighter than comparison, comparison tighter than `&&`.
    let got = let_value(r#".a ?? "x" == "y" && !.b"#);
    let coalesce = Expr::Binary(
        BinOp::Coalesce,
        Box::new(sp(field(Expr::Event, "a"))),
        Box::new(sp(Expr::String("x".into()))),
    );
    let eq = Expr::Binary(
        BinOp::Eq,
        Box::new(sp(coalesce)),
        Box::new(sp(Expr::String("y".into()))),
    );
    let not = Expr::Unary(UnOp::Not, Box::new(sp(field(Expr::Event, "b"))));
    assert_eq!(
        got,
        Expr::Binary(BinOp::And, Box::new(sp(eq)), Box::new(sp(not)))
    );
    // `*` binds tighter than `+`, and both associate to the left.
    let got = let_value("1 + 2 * 3 - 4");
    let mul = Expr::Binary(
        BinOp::Mul,
        Box::new(sp(Expr::Number(2.into()))),
        Box::new(sp(Expr::Number(3.into()))),
    );
    let add = Expr::Binary(
        BinOp::Add,
        Box::new(sp(Expr::Number(1.into()))),
        Box::new(sp(mul)),
    );
    assert_eq!(
        got,
        Expr::Binary(
            BinOp::Sub,
            Box::new(sp(add)),
            Box::new(sp(Expr::Number(4.into())))
        )
    );
}

#[test]
fn templates_split_into_text_and_expressions() {
    let got = let_value(r#""Loaded {.category} Page \{x\}""#);
    assert_eq!(
        got,
        Expr::Template(vec![
            TemplatePart::Text("Loaded ".into()),
            TemplatePart::Expr(sp(field(Expr::Event, "category"))),
            TemplatePart::Text(" Page {x}".into()),
        ])
    );
    assert_eq!(
        let_value(r#""plain \u00e9""#),
        Expr::String("plain é".into())
    );
}

#[test]
fn objects_with_every_kind_of_entry() {
    let got = let_value(r#"{ a: 1, "b c": 2, [.k]: 3, ...x, }"#);
    assert_eq!(
        got,
        Expr::Object(vec![
            sp(Entry::Field(name("a"), sp(Expr::Number(1.into())))),
            sp(Entry::Field(name("b c"), sp(Expr::Number(2.into())))),
            sp(Entry::Computed(
                sp(field(Expr::Event, "k")),
                sp(Expr::Number(3.into()))
            )),
            sp(Entry::Spread(sp(Expr::Name("x".into())))),
        ])
    );
}

#[test]
fn items_settings_rules_and_statements() {
    let items = parse(
        r#"
        import "common.map"
        apis out, other
        settings {
          apiKey: string required secret
          mode: "a" | "b" = "a"
          tags: [string] = []
        }
        fn twice(x) = x * 2
        on page, screen when settings.on {
          let n = 1
          require exists(.userId) else "needs a user"
          for p, i in .properties.products { emit out { i: i } }
          if n == 1 { reject "no" } else if n == 2 { emit other {} } else {}
        }
        "#,
    );
    assert_eq!(items.len(), 5);
    assert_eq!(items[0], Item::Import(sp("common.map".into())));
    assert_eq!(items[1], Item::Apis(vec![name("out"), name("other")]));
    let Item::Settings(decls) = &items[2] else {
        panic!("settings")
    };
    assert_eq!(decls.len(), 3);
    assert!(decls[0].required && decls[0].secret && decls[0].default.is_none());
    assert_eq!(
        decls[1].ty.node,
        SettingType::Enum(vec!["a".into(), "b".into()])
    );
    assert_eq!(
        decls[2].ty.node,
        SettingType::List(Box::new(SettingType::String))
    );
    let Item::Fn(f) = &items[3] else { panic!("fn") };
    assert_eq!(f.params, vec![name("x")]);
    let Item::Rule(rule) = &items[4] else {
        panic!("rule")
    };
    assert_eq!(rule.event_types, vec![name("page"), name("screen")]);
    assert!(rule.when.is_some());
    assert_eq!(rule.body.len(), 4);
    assert!(matches!(&rule.body[2].node, Stmt::For(_, Some(i), _, _) if i.node == "i"));
    assert!(
        matches!(&rule.body[3].node, Stmt::If(_, _, otherwise) if matches!(otherwise[0].node, Stmt::If(..)))
    );
}

#[test]
fn comments_and_keywords_as_key_names() {
    // Keywords may be object keys and path segments, but not bindings.
    let got = let_value("{ if: .on.for } # a comment");
    assert_eq!(
        got,
        Expr::Object(vec![sp(Entry::Field(
            name("if"),
            sp(field(field(Expr::Event, "on"), "for"))
        ))])
    );
    assert!(parse_file("let if = 1", 0).is_err());
}

fn syntax_error(text: &str) -> (usize, String, String) {
    let d = parse_file(text, 0).expect_err("should not parse");
    assert_eq!(d.code.0, "mapc::syntax");
    (d.span.start as usize, d.message, d.label)
}

#[test]
fn syntax_errors_point_at_the_problem_in_words() {
    let (at, message, _) = syntax_error("on track { emit out { a: } }");
    assert_eq!(at, 25, "points at the missing value");
    assert!(message.contains("an expression"), "{message}");
    assert!(
        !message.contains("postfix") && !message.contains("_"),
        "no rule names: {message}"
    );

    let (at, message, _) = syntax_error("on track {\n  emit out { a: 1 b: 2 }\n}");
    assert_eq!(&"on track {\n  emit out { a: 1 b: 2 }\n}"[at..at + 1], "b");
    assert!(message.contains("expected"), "{message}");

    let (_, message, _) = syntax_error("settings { apiKey string }");
    assert!(message.contains("expected"), "{message}");

    let (at, _, _) = syntax_error("on track { emit out { a: \"unclosed } }");
    assert!(at > 0);
}

#[test]
fn unknown_setting_type_is_reported_on_the_type() {
    let text = "settings { flag: boolean }";
    let d = parse_file(text, 0).expect_err("boolean is not a type");
    assert_eq!(d.code.0, "mapc::invalid-setting-decl");
    assert_eq!(&text[d.span.start as usize..d.span.end as usize], "boolean");
    assert!(d.help.unwrap().contains("bool"));
}

#[test]
fn hostile_nesting_is_a_diagnostic_not_a_stack_overflow() {
    let deep = format!("let x = {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let d = parse_file(&deep, 0).expect_err("too deep");
    assert_eq!(d.code.0, "mapc::too-deep");
    let chain = format!("let x = 1{}", " + 1".repeat(5_000));
    let d = parse_file(&chain, 0).expect_err("too long");
    assert_eq!(d.code.0, "mapc::too-deep");
    let nested_template = format!("let x = {}1{}", "\"{".repeat(1_000), "}\"".repeat(1_000));
    assert_eq!(
        parse_file(&nested_template, 0)
            .expect_err("too deep")
            .code
            .0,
        "mapc::too-deep"
    );
}
