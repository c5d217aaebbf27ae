//! Hostile mapping files: absurd nesting, huge literals, import cycles,
//! missing or non-UTF-8 files. Each must load or fail with a diagnostic —
//! `mapc run` exits 2 before reading input, `mapc check` exits 1 — and
//! never panic, overflow the stack or hang.

mod reliability_support;

use std::path::{Path, PathBuf};

use reliability_support::{clip, mapc_within, scratch, Output};

/// What a hostile mapping must do.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Fail to load with a diagnostic containing every phrase.
    Fails(&'static [&'static str]),
    /// Load, and map the test event to one record whose payload passes.
    Loads(fn(&serde_json::Value) -> bool),
    /// Load or fail with a diagnostic; either way cleanly and in time.
    Clean,
}

/// Seconds a debug build may take for any one hostile mapping.
const DEADLINE: u64 = 30;

const EVENT: &str = r#"{"type":"track","event":"E","userId":"u1","a":1,"properties":{"x":"y"}}"#;

fn emit(expr: &str) -> String {
    format!("apis out\non track {{\n  emit out {{ x: {expr} }}\n}}\n")
}

/// `open` n times, then `middle`, then `close` n times.
fn nest(open: &str, middle: &str, close: &str, n: usize) -> String {
    format!("{}{middle}{}", open.repeat(n), close.repeat(n))
}

/// Writes `files` into a fresh directory; the first is the mapping to run.
fn write_files(name: &str, files: &[(&str, Vec<u8>)]) -> (PathBuf, PathBuf) {
    let dir = scratch(name);
    for (file, text) in files {
        std::fs::write(dir.join(file), text).expect("write a mapping file");
    }
    let input = dir.join("in.ndjson");
    std::fs::write(&input, format!("{EVENT}\n")).expect("write the input");
    (dir.join(files[0].0), input)
}

fn run(map: &Path, input: &Path, what: &str) -> Output {
    let out = mapc_within(
        DEADLINE,
        [
            "run".as_ref(),
            "--map".as_ref(),
            map.as_os_str(),
            input.as_os_str(),
        ],
    )
    .unwrap_or_else(|| panic!("{what}: `mapc run` did not finish within {DEADLINE} s"));
    out.assert_no_crash(what);
    out
}

fn check(map: &Path, what: &str) -> Output {
    let out = mapc_within(DEADLINE, ["check".as_ref(), map.as_os_str()])
        .unwrap_or_else(|| panic!("{what}: `mapc check` did not finish within {DEADLINE} s"));
    out.assert_no_crash(what);
    out
}

/// Runs and checks one hostile mapping, with `mapc run` and `mapc check`.
fn hostile(what: &str, files: &[(&str, Vec<u8>)], expect: Expect) {
    hostile_with(what, files, expect, true);
}

/// The same, `mapc check` left out when `also_check` is false (for the
/// huge files, which take seconds to parse in a debug build).
fn hostile_with(what: &str, files: &[(&str, Vec<u8>)], expect: Expect, also_check: bool) {
    let (map, input) = write_files("mapping", files);
    let out = run(&map, &input, what);
    match expect {
        Expect::Fails(phrases) => {
            assert_eq!(
                out.code,
                Some(2),
                "{what}: a bad mapping is exit 2\n{}",
                clip(&out.stderr, 2000)
            );
            assert!(
                out.stdout.is_empty(),
                "{what}: no input is read after a mapping error"
            );
            for p in phrases {
                assert!(
                    out.stderr.contains(p),
                    "{what}: the diagnostic must say {p:?}\n{}",
                    clip(&out.stderr, 2000)
                );
            }
            if !also_check {
                return;
            }
            let checked = check(&map, what);
            assert_eq!(
                checked.code,
                Some(1),
                "{what}: `mapc check` exits 1 on errors"
            );
            for p in phrases {
                assert!(
                    checked.stderr.contains(p),
                    "{what}: `mapc check` must say {p:?}\n{}",
                    clip(&checked.stderr, 2000)
                );
            }
        }
        Expect::Loads(ok) => {
            assert_eq!(
                out.code,
                Some(0),
                "{what}: must load and map\n{}",
                clip(&out.stderr, 2000)
            );
            let record: serde_json::Value =
                serde_json::from_str(out.stdout.lines().next().expect("one record"))
                    .expect("the record is JSON");
            assert!(
                ok(&record["payload"]),
                "{what}: unexpected payload {}",
                clip(&record.to_string(), 300)
            );
            if also_check {
                check(&map, what);
            }
        }
        Expect::Clean => {
            assert!(
                matches!(out.code, Some(0..=2)),
                "{what}: exit {:?}",
                out.code
            );
            if out.code == Some(2) {
                assert!(
                    out.stderr.contains("mapc::"),
                    "{what}: a failure is a diagnostic\n{}",
                    clip(&out.stderr, 2000)
                );
            }
            if also_check {
                check(&map, what);
            }
        }
    }
}

fn text(s: String) -> Vec<u8> {
    s.into_bytes()
}

#[test]
fn deep_nesting_is_refused_with_a_diagnostic() {
    let cases = [
        (
            "10,000 nested parentheses",
            emit(&nest("(", "1", ")", 10_000)),
        ),
        ("10,000 unclosed parentheses", emit(&"(".repeat(10_000))),
        (
            "10,000 nested objects",
            emit(&nest("{a: ", "1", "}", 10_000)),
        ),
        ("10,000 nested arrays", emit(&nest("[", "1", "]", 10_000))),
        (
            "10,000 nested calls",
            emit(&nest("lower(", "\"x\"", ")", 10_000)),
        ),
        (
            "a string template nested 10,000 deep",
            emit(&nest("\"{", "\"x\"", "}\"", 10_000)),
        ),
        (
            "10,000 nested blocks",
            format!(
                "apis out\non track {{ {} }}\n",
                nest("if true { ", "emit out { x: 1 }", " }", 10_000)
            ),
        ),
    ];
    for (what, source) in cases {
        hostile(
            what,
            &[("m.map", text(source))],
            Expect::Fails(&["mapc::too-deep", "nest more than 64 deep"]),
        );
    }
    hostile(
        "a template nested 60 deep (under the limit) loads",
        &[("m.map", text(emit(&nest("\"{", "\"x\"", "}\"", 60))))],
        Expect::Loads(|p| p["x"] == "x"),
    );
}

#[test]
fn long_operator_chains_are_refused_with_a_diagnostic() {
    hostile(
        "a 5,000-operator chain",
        &[("m.map", text(emit(&format!("1{}", " + 1".repeat(5_000)))))],
        Expect::Fails(&[
            "mapc::too-deep",
            "chains 5000 operators; at most 256",
            "`let`",
        ]),
    );
    hostile(
        "10,000 prefix operators",
        &[("m.map", text(emit(&format!("{}true", "!".repeat(10_000)))))],
        Expect::Fails(&["chains 10000 operators"]),
    );
    hostile(
        "a 256-operator chain (at the limit) loads",
        &[("m.map", text(emit(&format!("1{}", " + 1".repeat(256)))))],
        Expect::Loads(|p| p["x"] == 257),
    );
}

#[test]
fn long_else_if_chains_fail_or_load_cleanly() {
    let expr = format!(
        "if .a == 0 {{ 0 }}{} else {{ -1 }}",
        (1..20_000)
            .map(|i| format!("\n  else if .a == {i} {{ {i} }}"))
            .collect::<String>()
    );
    hostile(
        "20,000 else-if branches in an expression",
        &[("m.map", text(emit(&expr)))],
        Expect::Clean,
    );
    let stmt = format!(
        "apis out\non track {{\n  if .a == 0 {{ emit out {{ x: 0 }} }}{}\n}}\n",
        (1..20_000)
            .map(|i| format!("\n  else if .a == {i} {{ emit out {{ x: {i} }} }}"))
            .collect::<String>()
    );
    hostile(
        "20,000 else-if statements",
        &[("m.map", text(stmt))],
        Expect::Clean,
    );
}

#[test]
fn huge_literals_load() {
    hostile_with(
        "a 5 MB string literal",
        &[(
            "m.map",
            text(format!(
                "apis out\nlet big = \"{}\"\non track {{ emit out {{ n: len(big) }} }}\n",
                "a".repeat(5 << 20)
            )),
        )],
        Expect::Loads(|p| p["n"] == 5 << 20),
        false,
    );
    hostile_with(
        "a 1 MB comment",
        &[(
            "m.map",
            text(format!("# {}\n{}", "c".repeat(1 << 20), emit("1"))),
        )],
        Expect::Loads(|p| p["x"] == 1),
        false,
    );
    hostile_with(
        "20,000 template parts",
        &[(
            "m.map",
            text(emit(&format!("\"{}\"", "{.a}".repeat(20_000)))),
        )],
        Expect::Loads(|p| p["x"].as_str().map(str::len) == Some(20_000)),
        false,
    );
}

#[test]
fn bad_files_and_imports_fail_with_a_diagnostic() {
    hostile(
        "an import cycle",
        &[
            ("a.map", text(format!("import \"b.map\"\n{}", emit("1")))),
            ("b.map", text("import \"a.map\"\n".to_string())),
        ],
        Expect::Fails(&["mapc::import-cycle", "imports this file again"]),
    );
    hostile(
        "a file importing itself",
        &[("a.map", text(format!("import \"a.map\"\n{}", emit("1"))))],
        Expect::Fails(&["mapc::import-cycle"]),
    );
    hostile(
        "an import of a missing file",
        &[(
            "a.map",
            text(format!("import \"missing.map\"\n{}", emit("1"))),
        )],
        Expect::Fails(&["mapc::import-not-found", "missing.map", "imported here"]),
    );
    hostile(
        "an import of a directory",
        &[("a.map", text(format!("import \".\"\n{}", emit("1"))))],
        Expect::Fails(&["mapc::import-not-found"]),
    );
    hostile(
        "a mapping that is not UTF-8",
        &[(
            "a.map",
            b"apis out\non track { emit out { x: \"caf\xe9\" } }\n".to_vec(),
        )],
        Expect::Fails(&["UTF-8"]),
    );
    hostile(
        "an import of a file that is not UTF-8",
        &[
            ("a.map", text(format!("import \"b.map\"\n{}", emit("1")))),
            ("b.map", b"let x = \"\xff\xfe\"\n".to_vec()),
        ],
        Expect::Fails(&["b.map", "UTF-8"]),
    );
    hostile(
        "NUL bytes",
        &[("a.map", b"apis out\n\0\0\0on track {}\n".to_vec())],
        Expect::Fails(&["mapc::syntax"]),
    );
    hostile(
        "binary garbage",
        &[(
            "a.map",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8 & 0x7f)
                .collect(),
        )],
        Expect::Clean,
    );
    hostile("an empty file", &[("a.map", Vec::new())], Expect::Clean);

    let dir = scratch("missing-map");
    let input = dir.join("in.ndjson");
    std::fs::write(&input, EVENT).unwrap();
    let out = run(&dir.join("nope.map"), &input, "a missing mapping file");
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("cannot read mapping file"),
        "{}",
        out.stderr
    );
}

/// The limits protect an embedding program too: loading through the
/// library on a test thread (2 MiB of stack) fails cleanly.
#[test]
fn library_loading_respects_the_limits() {
    let cases = [
        emit(&nest("(", "1", ")", 10_000)),
        emit(&nest("{a: ", "1", "}", 10_000)),
        emit(&nest("\"{", "\"x\"", "}\"", 10_000)),
        emit(&format!("1{}", " + 1".repeat(5_000))),
    ];
    for source in cases {
        let err = mapc::Mapping::from_source("hostile.map", &source)
            .expect_err("a hostile mapping does not load");
        assert!(err.has_errors());
        let shown = err.render(false, 100);
        assert!(shown.contains("mapc::too-deep"), "{}", clip(&shown, 1000));
    }
}

// ------------------------------------------------------- engine bugs found

/// A path of 200,000 steps (`.a.a.a…`) has no brackets to count, so the
/// nesting limit does not stop it; the AST built from it is then dropped
/// recursively.
#[test]
fn long_paths_do_not_overflow_the_stack() {
    hostile(
        "a 200,000-step path",
        &[("m.map", text(emit(&format!(".a{}", ".a".repeat(200_000)))))],
        Expect::Clean,
    );
    hostile(
        "a 200,000-step index chain",
        &[("m.map", text(emit(&format!(".a{}", "[0]".repeat(200_000)))))],
        Expect::Clean,
    );
}

/// Each `let` defined in terms of the previous one: resolving them
/// recurses once per link.
#[test]
fn long_let_chains_do_not_overflow_the_stack() {
    let lets: String = (1..3_000)
        .map(|i| format!("let l{i} = l{}\n", i - 1))
        .collect();
    hostile(
        "3,000 chained lets",
        &[(
            "m.map",
            text(format!(
                "apis out\nlet l0 = .a\n{lets}on track {{ emit out {{ x: l2999 }} }}\n"
            )),
        )],
        // Chains past 200 links are refused with a diagnostic.
        Expect::Fails(&["mapc::too-deep", "more than 200 other bindings"]),
    );
}

/// `fn` helpers are expanded where they are called, so 40 helpers each
/// calling the previous one twice expand to 2^40 nodes.
#[test]
fn helper_expansion_is_bounded() {
    let fns: String = (1..40)
        .map(|i| format!("fn f{i}(x) = f{0}(f{0}(x))\n", i - 1))
        .collect();
    hostile(
        "40 helpers doubling each other",
        &[(
            "m.map",
            text(format!(
                "apis out\nfn f0(x) = x + 1\n{fns}on track {{ emit out {{ x: f39(1) }} }}\n"
            )),
        )],
        Expect::Clean,
    );
}

/// Names that begin with `if` (`ifa`, `iframe`) make the parser try an
/// `if` expression at each one and backtrack: parse time doubles per name.
#[test]
fn names_starting_with_if_parse_in_linear_time() {
    let names = vec!["ifa"; 24].join(" - ");
    hostile(
        "24 names starting with `if`",
        &[(
            "m.map",
            text(format!(
                "apis out\nlet ifa = 1\non track {{ emit out {{ x: {names} }} }}\n"
            )),
        )],
        Expect::Loads(|p| p["x"] == -22),
    );
}

/// miette cannot pad a label past column 65,535 (Rust's format width
/// limit), so a diagnostic far along one long line panics while rendering.
#[test]
fn diagnostics_on_very_long_lines_render() {
    hostile(
        "a syntax error at column 70,000",
        &[(
            "m.map",
            text(format!(
                "apis out\non track {{ emit out {{ x: \"{}\" ,, }} }}\n",
                "a".repeat(70_000)
            )),
        )],
        Expect::Fails(&["mapc::syntax"]),
    );
}

/// `i64::MIN / -1` overflows the integer remainder the division uses to
/// test exactness; it panics when folded at bind time.
#[test]
fn integer_overflow_in_a_constant_does_not_panic() {
    hostile(
        "i64::MIN / -1 in a constant",
        &[("m.map", text(emit("(0 - 9223372036854775807 - 1) / -1")))],
        Expect::Clean,
    );
}

/// The same division per event: the event's number reaches `arith`.
#[test]
fn integer_overflow_per_event_does_not_panic() {
    let dir = scratch("overflow");
    let map = dir.join("m.map");
    std::fs::write(&map, emit("number(.n) / -1")).unwrap();
    let input = dir.join("in.ndjson");
    std::fs::write(
        &input,
        "{\"type\":\"track\",\"n\":-9223372036854775808}\n{\"type\":\"track\",\"n\":6}\n",
    )
    .unwrap();
    let out = mapc_within(
        DEADLINE,
        [
            "run".as_ref(),
            "--threads".as_ref(),
            "1".as_ref(),
            "--map".as_ref(),
            map.as_os_str(),
            input.as_os_str(),
        ],
    )
    .expect("mapc run ends");
    out.assert_no_crash("i64::MIN / -1 per event");
    assert!(matches!(out.code, Some(0 | 1)), "{}", out.stderr);
    assert!(
        out.stdout.contains("\"x\":-6"),
        "the next event still maps: {}",
        out.stdout
    );
}

/// A UTF-8 byte order mark (as some Windows editors save) is invisible; the
/// diagnostic `unexpected text` at 1:1 does not say what is wrong.
#[test]
fn a_byte_order_mark_is_accepted_or_named() {
    let (map, input) = write_files(
        "bom",
        &[(
            "m.map",
            [b"\xef\xbb\xbf".as_slice(), emit("1").as_bytes()].concat(),
        )],
    );
    let out = run(&map, &input, "a BOM");
    assert!(
        out.code == Some(0) || out.stderr.contains("byte order mark") || out.stderr.contains("BOM"),
        "{}",
        out.stderr
    );
}

/// `contains("abc", 5)` fails with a message that contradicts itself.
#[test]
fn contains_explains_a_bad_needle() {
    let (map, input) = write_files(
        "contains",
        &[(
            "m.map",
            text("apis out\non track { if contains(.s, .n) { emit out { x: 1 } } }\n".to_string()),
        )],
    );
    std::fs::write(&input, "{\"type\":\"track\",\"s\":\"abc\",\"n\":5}\n").unwrap();
    let out = run(&map, &input, "contains with a number needle");
    assert_eq!(out.code, Some(1));
    assert!(
        !out.stderr.contains("found a string"),
        "the reason must name what is wrong (the number to look for): {}",
        out.stderr
    );
}

/// Whatever goes wrong inside a worker thread, `mapc run` ends: a panic
/// while mapping (here the `i64::MIN / -1` overflow above) must not leave
/// the reading thread waiting forever for the lost batch.
#[test]
fn a_panic_in_a_worker_does_not_hang_the_run() {
    let dir = scratch("worker-panic");
    let map = dir.join("m.map");
    std::fs::write(&map, emit("number(.n) / -1")).unwrap();
    let input = dir.join("in.ndjson");
    std::fs::write(
        &input,
        "{\"type\":\"track\",\"n\":-9223372036854775808}\n{\"type\":\"track\",\"n\":6}\n",
    )
    .unwrap();
    let args = [
        "run".as_ref(),
        "--threads".as_ref(),
        "2".as_ref(),
        "--map".as_ref(),
        map.as_os_str(),
        input.as_os_str(),
    ];
    assert!(
        mapc_within(20, args).is_some(),
        "mapc run must end (with an error if it must) instead of hanging"
    );
}
