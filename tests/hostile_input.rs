//! Hostile input: `mapc run` with the bundled mapping must account for
//! every line of a corpus of broken, malformed and adversarial events,
//! reject each bad one with its line number and an actionable reason, map
//! every good one, never panic, and keep the `--errors` file and `--stats`
//! counts consistent. The corpus is built in code (nothing large is
//! committed).

mod reliability_support;

use reliability_support::{
    amplitude_map, clip, example_settings, mapc, records, rejections, scratch, stats, Output,
};
use serde_json::Value;

/// What must happen to one input line.
#[derive(Clone, Debug)]
enum Expect {
    /// Rejected; the reason contains every one of these phrases.
    Rejected(&'static [&'static str]),
    /// Mapped to records, and `check` holds for the first of them.
    Mapped(fn(&Value) -> Result<(), String>),
}

/// One hostile line and what must happen to it.
#[derive(Clone, Debug)]
struct Case {
    class: &'static str,
    line: Vec<u8>,
    expect: Expect,
}

fn case(class: &'static str, line: impl Into<Vec<u8>>, expect: Expect) -> Case {
    Case {
        class,
        line: line.into(),
        expect,
    }
}

fn rejected(phrases: &'static [&'static str]) -> Expect {
    Expect::Rejected(phrases)
}

/// A good event: a track call whose record is recognisable by its
/// event_type (`Good N`) and insert_id (`good-N`).
fn good(n: usize) -> Vec<u8> {
    format!(
        r#"{{"type":"track","event":"Good {n}","userId":"good-user","messageId":"good-{n}","timestamp":"2024-01-02T03:04:05Z","properties":{{"revenue":"1.5","plan":"pro"}}}}"#
    )
    .into_bytes()
}

/// A track event with `fields` (JSON object members, without braces)
/// after its type, event name and user.
fn track(fields: &str) -> String {
    format!(r#"{{"type":"track","event":"Hostile","userId":"u1",{fields}}}"#)
}

fn payload(record: &Value) -> &Value {
    &record["payload"]
}

fn want(cond: bool, what: &str, record: &Value) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(format!("{what}; record: {record}"))
    }
}

/// Nesting `depth` arrays and objects deep in all (the event object counts
/// as one level, `properties` as another).
fn nested(depth: usize) -> String {
    let inner = depth - 2;
    format!(
        r#"{{"type":"track","event":"Deep","userId":"u1","properties":{{"x":{}{}}}}}"#,
        "[".repeat(inner),
        "]".repeat(inner)
    )
}

/// Every hostile class but the 10 MB line (which has tests of its own).
fn corpus() -> Vec<Case> {
    vec![
        // ------------------------------------------------ not JSON at all
        case(
            "invalid JSON: prose",
            "this is not json",
            rejected(&["invalid JSON"]),
        ),
        case(
            "invalid JSON: single quotes",
            "{'type':'track'}",
            rejected(&["invalid JSON"]),
        ),
        case(
            "invalid JSON: trailing comma",
            r#"{"type":"track","event":"A","userId":"u1",}"#,
            rejected(&["invalid JSON"]),
        ),
        case(
            "invalid JSON: trailing garbage",
            r#"{"type":"track","event":"A","userId":"u1"} extra"#,
            rejected(&["invalid JSON", "trailing characters"]),
        ),
        case(
            "invalid JSON: two objects on one line",
            r#"{"type":"track"}{"type":"track"}"#,
            rejected(&["invalid JSON"]),
        ),
        case(
            "invalid JSON: raw control character in a string",
            b"{\"type\":\"track\",\"event\":\"a\x01b\",\"userId\":\"u1\"}".to_vec(),
            rejected(&["invalid JSON", "control character"]),
        ),
        case(
            "invalid JSON: lone surrogate escape",
            r#"{"type":"track","event":"\ud800","userId":"u1"}"#,
            rejected(&["invalid JSON"]),
        ),
        case(
            "invalid JSON: bare NaN token",
            track(r#""properties":{"revenue":NaN}"#),
            rejected(&["invalid JSON"]),
        ),
        case(
            "invalid JSON: bare Infinity token",
            track(r#""properties":{"revenue":Infinity}"#),
            rejected(&["invalid JSON"]),
        ),
        // --------------------------------------------------- truncated
        case(
            "truncated: after a comma",
            r#"{"type":"track","#,
            rejected(&["invalid JSON", "EOF"]),
        ),
        case(
            "truncated: inside a string",
            r#"{"type":"track","event":"Order Comp"#,
            rejected(&["invalid JSON", "EOF"]),
        ),
        case(
            "truncated: inside an array",
            r#"{"type":"track","event":"A","userId":"u1","properties":{"products":[{"price":1},"#,
            rejected(&["invalid JSON", "EOF"]),
        ),
        case(
            "truncated: a lone brace",
            "{",
            rejected(&["invalid JSON", "EOF"]),
        ),
        // ------------------------------------------------------- empty
        case("empty line", "", rejected(&["the line is empty"])),
        case(
            "blank line (spaces and a tab)",
            "   \t  ",
            rejected(&["the line is empty"]),
        ),
        case(
            "empty line with a CR",
            "\r",
            rejected(&["the line is empty"]),
        ),
        // ----------------------------------------------------- nesting
        case(
            "10,000-level nesting",
            nested(10_000),
            rejected(&["nests arrays and objects more than 64 deep", "--max-depth"]),
        ),
        case(
            "10,000 unclosed brackets",
            format!(r#"{{"type":"track","p":{}"#, "[".repeat(10_000)),
            rejected(&["more than 64 deep"]),
        ),
        case(
            "65-level nesting",
            nested(65),
            rejected(&["more than 64 deep"]),
        ),
        case(
            "64-level nesting (at the limit) maps",
            nested(64),
            Expect::Mapped(|r| want(payload(r)["event_type"] == "Deep", "event_type Deep", r)),
        ),
        // ------------------------------------------------- not objects
        case(
            "non-object: array",
            r#"[{"type":"track"}]"#,
            rejected(&["must be a JSON object", "found an array"]),
        ),
        case(
            "non-object: number",
            "42",
            rejected(&["must be a JSON object", "found a number"]),
        ),
        case(
            "non-object: string",
            r#""track""#,
            rejected(&["must be a JSON object", "found a string"]),
        ),
        case(
            "non-object: null",
            "null",
            rejected(&["must be a JSON object", "found null"]),
        ),
        case(
            "non-object: true",
            "true",
            rejected(&["must be a JSON object", "found a boolean"]),
        ),
        // -------------------------------------------------- event type
        case(
            "no type field",
            r#"{"event":"A","userId":"u1"}"#,
            rejected(&["no \"type\" field", "track"]),
        ),
        case(
            "type is null",
            r#"{"type":null,"event":"A","userId":"u1"}"#,
            rejected(&["no \"type\" field"]),
        ),
        case(
            "type as a number",
            r#"{"type":5,"event":"A","userId":"u1"}"#,
            rejected(&["\"type\" must be a string", "found a number"]),
        ),
        case(
            "type as an object",
            r#"{"type":{"t":"track"},"event":"A","userId":"u1"}"#,
            rejected(&["\"type\" must be a string", "found an object"]),
        ),
        case(
            "unknown event type",
            r#"{"type":"bogus","event":"A","userId":"u1"}"#,
            rejected(&["unknown event type \"bogus\"", "track", "identify"]),
        ),
        case(
            "unknown event type (wrong case)",
            r#"{"type":"Track","event":"A","userId":"u1"}"#,
            rejected(&["unknown event type \"Track\""]),
        ),
        // -------------------------------- wrong types in fields the mapping reads
        case(
            "properties as a string",
            track(r#""properties":"plan=pro""#),
            rejected(&["\"properties\" must be an object"]),
        ),
        case(
            "properties as a string (page)",
            r#"{"type":"page","userId":"u1","name":"Home","properties":"x"}"#,
            rejected(&["\"properties\" must be an object"]),
        ),
        case(
            "products as an object",
            r#"{"type":"track","event":"Order Completed","userId":"u1","properties":{"products":{"price":1}}}"#,
            rejected(&["properties.products must be an array"]),
        ),
        case(
            "products holding a number",
            r#"{"type":"track","event":"Order Completed","userId":"u1","properties":{"products":[1]}}"#,
            rejected(&["each item of properties.products must be an object"]),
        ),
        case(
            "timestamp as a number (Unix seconds: coerced to ms)",
            track(r#""timestamp":1577871000"#),
            Expect::Mapped(|r| {
                want(
                    payload(r)["time"] == 1_577_871_000_000_i64,
                    "time 1577871000000",
                    r,
                )
            }),
        ),
        case(
            "timestamp as a number (Unix ms: kept)",
            track(r#""timestamp":1577871000123"#),
            Expect::Mapped(|r| {
                want(
                    payload(r)["time"] == 1_577_871_000_123_i64,
                    "time 1577871000123",
                    r,
                )
            }),
        ),
        case(
            "timestamp as a bad string",
            track(r#""timestamp":"yesterday""#),
            rejected(&["\"yesterday\" is not an ISO-8601 time or a Unix time"]),
        ),
        case(
            "timestamp as an impossible date",
            track(r#""timestamp":"2024-02-30T00:00:00Z""#),
            rejected(&["is not an ISO-8601 time"]),
        ),
        case(
            "timestamp as an object",
            track(r#""timestamp":{"s":1}"#),
            rejected(&["epoch_ms() expects a time string or number, found an object"]),
        ),
        case(
            "userId as a number (coerced to a string)",
            r#"{"type":"track","event":"Hostile","userId":123}"#,
            Expect::Mapped(|r| want(payload(r)["user_id"] == "123", "user_id \"123\"", r)),
        ),
        case(
            "userId as an object",
            r#"{"type":"track","event":"Hostile","userId":{"id":"u1"}}"#,
            rejected(&["userId, anonymousId and context.device.id must be strings or numbers"]),
        ),
        case(
            "userId as an array on identify",
            r#"{"type":"identify","userId":["u1"],"traits":{}}"#,
            rejected(&["must be strings or numbers"]),
        ),
        case(
            "event as a number",
            r#"{"type":"track","event":5,"userId":"u1"}"#,
            rejected(&["\"event\" must be a non-empty string"]),
        ),
        case(
            "event as an empty string",
            r#"{"type":"track","event":"","userId":"u1"}"#,
            rejected(&["\"event\" must be a non-empty string"]),
        ),
        case(
            "traits as an array",
            r#"{"type":"identify","userId":"u1","traits":["a","b"]}"#,
            rejected(&["\"traits\" must be an object"]),
        ),
        case(
            "context.device as a string (ignored: device_id falls back to anonymousId)",
            r#"{"type":"track","event":"Hostile","anonymousId":"anon-1","context":{"device":"iPhone"}}"#,
            Expect::Mapped(|r| {
                want(
                    payload(r)["device_id"] == "anon-1",
                    "device_id from anonymousId",
                    r,
                )?;
                want(
                    payload(r).get("device_model").is_none(),
                    "no device_model",
                    r,
                )
            }),
        ),
        case(
            "no user at all",
            r#"{"type":"track","event":"Hostile"}"#,
            rejected(&["needs a userId or an anonymousId"]),
        ),
        case(
            "blank userId counts as missing",
            r#"{"type":"track","event":"Hostile","userId":"   "}"#,
            rejected(&["needs a userId or an anonymousId"]),
        ),
        case(
            "groupId as an object",
            r#"{"type":"group","userId":"u1","groupId":{"id":1}}"#,
            rejected(&["a group call needs a groupId"]),
        ),
        // ------------------------------------------------ NaN-like strings
        case(
            "\"NaN\" as revenue",
            track(r#""properties":{"revenue":"NaN"}"#),
            rejected(&["\"NaN\" is not a number"]),
        ),
        case(
            "\"Infinity\" as price",
            track(r#""properties":{"price":"Infinity"}"#),
            rejected(&["\"Infinity\" is not a number"]),
        ),
        case(
            "\"-Infinity\" as quantity",
            track(r#""properties":{"quantity":"-Infinity"}"#),
            rejected(&["\"-Infinity\" is not a number"]),
        ),
        case(
            "\"NaN\" as latitude",
            track(r#""context":{"location":{"latitude":"NaN"}}"#),
            rejected(&["\"NaN\" is not a number"]),
        ),
        case(
            "\"1e400\" (overflows as text) as quantity",
            track(r#""properties":{"quantity":"1e400"}"#),
            rejected(&["\"1e400\" is not a number"]),
        ),
        // ------------------------------------------- numbers out of range
        case(
            "1e400 as revenue",
            track(r#""properties":{"revenue":1e400}"#),
            rejected(&["invalid JSON", "number out of range"]),
        ),
        case(
            "-1e400 as revenue",
            track(r#""properties":{"revenue":-1e400}"#),
            rejected(&["invalid JSON", "number out of range"]),
        ),
        case(
            "2^64 as revenue (read as a float)",
            track(r#""properties":{"revenue":18446744073709551616}"#),
            Expect::Mapped(|r| {
                let v = payload(r)["revenue"].as_f64();
                want(
                    v == Some(18_446_744_073_709_551_616.0),
                    "revenue 2^64 as a float",
                    r,
                )
            }),
        ),
        case(
            "u64::MAX as quantity (kept exactly)",
            track(r#""properties":{"quantity":18446744073709551615}"#),
            Expect::Mapped(|r| {
                want(
                    payload(r)["quantity"].as_u64() == Some(u64::MAX),
                    "quantity u64::MAX",
                    r,
                )
            }),
        ),
        case(
            "2^64 as timestamp",
            track(r#""timestamp":18446744073709551616"#),
            rejected(&["is out of range for a time"]),
        ),
        case(
            "-2^63 as session_id",
            track(r#""integrations":{"Amplitude":{"session_id":-9223372036854775808}}"#),
            rejected(&["is out of range for a time"]),
        ),
        // -------------------------------------------------- duplicate keys
        case(
            "duplicate keys: the last value wins",
            r#"{"type":"track","event":"First","event":"Second","userId":"u1"}"#,
            Expect::Mapped(|r| want(payload(r)["event_type"] == "Second", "event_type Second", r)),
        ),
        case(
            "duplicate type keys: the last value wins",
            r#"{"type":"bogus","event":"Dup","userId":"u1","type":"track"}"#,
            Expect::Mapped(|r| want(payload(r)["event_type"] == "Dup", "event_type Dup", r)),
        ),
        // ---------------------------------------------------- invalid UTF-8
        case(
            "invalid UTF-8: a 0xFF byte",
            b"{\"type\":\"track\",\"event\":\"bad \xff byte\",\"userId\":\"u1\"}".to_vec(),
            rejected(&["not valid UTF-8", "offset 29"]),
        ),
        case(
            "invalid UTF-8: an overlong encoding",
            b"{\"type\":\"track\",\"event\":\"\xc0\xaf\",\"userId\":\"u1\"}".to_vec(),
            rejected(&["not valid UTF-8", "offset 25"]),
        ),
        case(
            "invalid UTF-8: an encoded surrogate",
            b"{\"type\":\"track\",\"event\":\"\xed\xa0\x80\",\"userId\":\"u1\"}".to_vec(),
            rejected(&["not valid UTF-8", "offset 25"]),
        ),
        case(
            "invalid UTF-8: a cut multi-byte character at the end",
            b"{\"type\":\"track\",\"event\":\"x\"} \xe2\x82".to_vec(),
            rejected(&["not valid UTF-8", "offset 29"]),
        ),
        case(
            "Latin-1 text",
            b"{\"type\":\"track\",\"event\":\"caf\xe9\",\"userId\":\"u1\"}".to_vec(),
            rejected(&["not valid UTF-8", "offset 28"]),
        ),
        // -------------------------------- valid but unusual text stays intact
        case(
            "valid non-ASCII and escapes are kept",
            r#"{"type":"track","event":"Caf\u00e9 ☕ 𝄞 \"q\" \\","userId":"u1"}"#,
            Expect::Mapped(|r| {
                want(
                    payload(r)["event_type"] == "Café ☕ 𝄞 \"q\" \\",
                    "event_type kept",
                    r,
                )
            }),
        ),
        case(
            "brackets inside strings do not count as nesting",
            track(&format!(r#""properties":{{"s":"{}"}}"#, "[{".repeat(200))),
            Expect::Mapped(|r| want(payload(r)["event_properties"]["s"].is_string(), "s kept", r)),
        ),
    ]
}

/// The bundled mapping's arguments for `mapc run`.
fn run_args(extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "run".to_string(),
        "--map".to_string(),
        amplitude_map().display().to_string(),
        "--settings".to_string(),
        example_settings().display().to_string(),
        "--stats".to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// One line of input as NDJSON (a newline after each).
fn ndjson(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out
}

/// Checks one errors-file entry against the input line it names.
fn check_error_entry(entry: &Value, line_no: u64, reason: &str, input: &[u8]) {
    assert_eq!(
        entry["line"].as_u64(),
        Some(line_no),
        "errors file: {entry}"
    );
    assert_eq!(
        entry["reason"].as_str(),
        Some(reason),
        "errors file: {entry}"
    );
    let got = entry["input"]
        .as_str()
        .expect("errors file entries carry the input");
    let input = input.strip_suffix(b"\r").unwrap_or(input);
    match std::str::from_utf8(input) {
        Ok(text) if entry.get("truncated").is_none() => {
            assert_eq!(
                got, text,
                "the input must be kept verbatim (line {line_no})"
            )
        }
        Ok(text) => assert!(
            text.starts_with(got) && !got.is_empty(),
            "a truncated input must be a prefix of the line (line {line_no})"
        ),
        Err(_) => assert_eq!(
            got,
            String::from_utf8_lossy(input),
            "a non-UTF-8 input is kept with replacement characters (line {line_no})"
        ),
    }
}

/// Runs the whole corpus, each bad line between two good ones, and checks
/// everything the output contract promises.
fn check_mixed_run(threads: &str) -> (String, String, String) {
    let mut cases = corpus();
    cases.push(case(
        "a 10 MB line",
        ten_megabytes(),
        rejected(&["bytes long; the limit is 1048576", "--max-line-bytes"]),
    ));
    let mut lines = Vec::new();
    let mut good_lines = Vec::new();
    // (line number, case) of each hostile line.
    let mut placed = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        lines.push(good(i));
        good_lines.push((lines.len() as u64, i));
        lines.push(c.line.clone());
        placed.push((lines.len() as u64, c));
    }
    lines.push(good(cases.len()));
    good_lines.push((lines.len() as u64, cases.len()));

    let dir = scratch("mixed");
    let errors_path = dir.join("errors.ndjson");
    let errors_arg = errors_path.display().to_string();
    let out = mapc(
        run_args(&["--errors", &errors_arg, "--threads", threads, "-"]),
        &ndjson(&lines),
    );
    out.assert_no_crash("the mixed hostile corpus");
    assert_eq!(
        out.code,
        Some(1),
        "some lines are rejected: exit 1\n{}",
        clip(&out.stderr, 3000)
    );

    // Stats: every line accounted for.
    let s = stats(&out.stderr);
    let expected_rejections = placed
        .iter()
        .filter(|(_, c)| matches!(c.expect, Expect::Rejected(_)))
        .count() as u64;
    assert_eq!(s.read, lines.len() as u64, "read counts every line");
    assert_eq!(s.rejected, expected_rejections, "rejected count");
    assert_eq!(s.filtered, 0);
    assert_eq!(s.mapped, lines.len() as u64 - expected_rejections);

    // stderr: one `line N: rejected:` per bad line, with the right reason.
    let rejects = rejections(&out.stderr);
    let by_line: std::collections::BTreeMap<u64, &str> =
        rejects.iter().map(|(n, r)| (*n, r.as_str())).collect();
    assert_eq!(
        by_line.len(),
        rejects.len(),
        "one message per rejected line"
    );
    for (n, c) in &placed {
        match &c.expect {
            Expect::Rejected(phrases) => {
                let reason = by_line
                    .get(n)
                    .unwrap_or_else(|| panic!("{}: line {n} must be rejected", c.class));
                for p in *phrases {
                    assert!(
                        reason.contains(p),
                        "{}: the reason for line {n} must contain {p:?}, got {reason:?}",
                        c.class
                    );
                }
            }
            Expect::Mapped(_) => assert!(
                !by_line.contains_key(n),
                "{}: line {n} must map, got {:?}",
                c.class,
                by_line.get(n)
            ),
        }
    }

    // stdout: every good line mapped, in input order, and the mapped
    // hostile lines checked.
    let recs = records(&out.stdout);
    assert_eq!(recs.len() as u64, s.records);
    let good_types: Vec<String> = recs
        .iter()
        .filter_map(|r| r["payload"]["event_type"].as_str())
        .filter(|t| t.starts_with("Good "))
        .map(str::to_string)
        .collect();
    let want_types: Vec<String> = good_lines
        .iter()
        .map(|(_, i)| format!("Good {i}"))
        .collect();
    assert_eq!(
        good_types, want_types,
        "every good line is mapped, in order"
    );
    for r in recs.iter().filter(|r| {
        r["payload"]["event_type"]
            .as_str()
            .is_some_and(|t| t.starts_with("Good "))
    }) {
        assert_eq!(r["payload"]["user_id"], "good-user");
        assert_eq!(
            r["payload"]["revenue"], 1.5,
            "numeric strings become numbers"
        );
        assert_eq!(r["payload"]["time"], 1_704_164_645_000_i64);
    }
    // The records of a hostile line that maps sit between its good
    // neighbours' records.
    let mut i = 0;
    for (n, c) in &placed {
        let before = format!("Good {}", (n - 2) / 2);
        while recs[i]["payload"]["event_type"] != before.as_str() {
            i += 1;
        }
        i += 1;
        if let Expect::Mapped(check) = &c.expect {
            let r = &recs[i];
            assert_ne!(
                r["payload"]["event_type"]
                    .as_str()
                    .map(|t| t.starts_with("Good ")),
                Some(true),
                "{}: line {n} must produce a record",
                c.class
            );
            if let Err(e) = check(r) {
                panic!("{}: line {n}: {e}", c.class);
            }
        }
    }

    // The errors file: one JSON object per rejection, in order.
    let errors = std::fs::read_to_string(&errors_path).expect("the errors file is UTF-8");
    let entries: Vec<Value> = errors
        .lines()
        .map(|l| serde_json::from_str(l).expect("each errors-file line is JSON"))
        .collect();
    assert_eq!(
        entries.len() as u64,
        s.rejected,
        "one errors-file line per rejection"
    );
    for (entry, (n, reason)) in entries.iter().zip(&rejects) {
        check_error_entry(entry, *n, reason, &lines[*n as usize - 1]);
    }
    (out.stdout, out.stderr, errors)
}

#[test]
fn mixed_hostile_corpus_is_fully_accounted_for() {
    check_mixed_run("1");
}

#[test]
fn worker_threads_give_the_same_results_in_the_same_order() {
    // More than 64 lines, so the batch is split between threads.
    assert!(corpus().len() * 2 + 1 > 64);
    let one = check_mixed_run("1");
    let two = check_mixed_run("2");
    assert_eq!(one, two, "--threads 2 must match --threads 1 byte for byte");
}

/// Each class alone, between two good lines: exit status, stats, reason.
#[test]
fn each_hostile_class_alone() {
    let dir = scratch("alone");
    for (i, c) in corpus().into_iter().enumerate() {
        let input = dir.join(format!("case-{i}.ndjson"));
        std::fs::write(&input, ndjson(&[good(1), c.line.clone(), good(3)])).unwrap();
        let out = mapc(run_args(&[&input.display().to_string()]), b"");
        out.assert_no_crash(c.class);
        let s = stats(&out.stderr);
        assert_eq!(s.read, 3, "{}", c.class);
        let rejects = rejections(&out.stderr);
        match c.expect {
            Expect::Rejected(phrases) => {
                assert_eq!(
                    out.code,
                    Some(1),
                    "{}: exit status 1 when a line is rejected",
                    c.class
                );
                assert_eq!((s.mapped, s.rejected), (2, 1), "{}", c.class);
                assert_eq!(rejects.len(), 1, "{}", c.class);
                assert_eq!(rejects[0].0, 2, "{}: the rejection names line 2", c.class);
                for p in phrases {
                    assert!(
                        rejects[0].1.contains(p),
                        "{}: {:?} lacks {p:?}",
                        c.class,
                        rejects[0].1
                    );
                }
            }
            Expect::Mapped(check) => {
                assert_eq!(
                    out.code,
                    Some(0),
                    "{}: exit 0 when all map: {}",
                    c.class,
                    out.stderr
                );
                assert_eq!((s.mapped, s.rejected), (3, 0), "{}", c.class);
                let recs = records(&out.stdout);
                let r = recs
                    .iter()
                    .find(|r| r["payload"]["event_type"] != "Good 1")
                    .expect("a record for line 2");
                if let Err(e) = check(r) {
                    panic!("{}: {e}", c.class);
                }
            }
        }
    }
}

/// A valid track event 10 MB long.
fn ten_megabytes() -> String {
    track(&format!(
        r#""properties":{{"blob":"{}"}}"#,
        "x".repeat(10 << 20)
    ))
}

/// A 10 MB line of valid JSON: rejected by the default 1 MiB limit with a
/// clear reason (the errors file keeps only its start), mapped when the
/// limit is raised.
#[test]
fn ten_megabyte_line() {
    let big = ten_megabytes();
    let len = big.len();
    let input = ndjson(&[good(1), big.clone().into_bytes(), good(3)]);
    let dir = scratch("big");
    let errors = dir.join("errors.ndjson");
    let errors_arg = errors.display().to_string();

    let out = mapc(run_args(&["--errors", &errors_arg, "-"]), &input);
    out.assert_no_crash("a 10 MB line");
    assert_eq!(out.code, Some(1));
    let s = stats(&out.stderr);
    assert_eq!((s.read, s.mapped, s.rejected), (3, 2, 1));
    let rejects = rejections(&out.stderr);
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].0, 2);
    assert_eq!(
        rejects[0].1,
        format!(
            "the line is {len} bytes long; the limit is 1048576 (raise it with --max-line-bytes)"
        )
    );
    let text = std::fs::read_to_string(&errors).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(
        text.len() < 4096,
        "the errors file must not copy a huge line whole"
    );
    let entry: Value = serde_json::from_str(text.trim_end()).unwrap();
    assert_eq!(entry["truncated"], true);
    check_error_entry(&entry, 2, &rejects[0].1, big.as_bytes());
    assert_eq!(
        records(&out.stdout).len(),
        2,
        "the good lines around it still map"
    );

    let raised = (len + 1).to_string();
    let out = mapc(run_args(&["--max-line-bytes", &raised, "-"]), &input);
    out.assert_no_crash("a 10 MB line under a raised limit");
    assert_eq!(out.code, Some(0), "{}", clip(&out.stderr, 2000));
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 3);
    assert_eq!(
        recs[1]["payload"]["event_properties"]["blob"]
            .as_str()
            .map(str::len),
        Some(10 << 20)
    );
}

#[test]
fn max_line_bytes_limit_is_exact_and_clear() {
    let line = good(7);
    let len = line.len();
    let input = ndjson(&[line.clone(), b"{}".to_vec()]);
    // At the limit: accepted.
    let out = mapc(
        run_args(&["--max-line-bytes", &len.to_string(), "-"]),
        &input,
    );
    out.assert_no_crash("a line at the limit");
    let rejects = rejections(&out.stderr);
    assert_eq!(rejects.len(), 1, "only `{{}}` is rejected: {rejects:?}");
    assert_eq!(rejects[0].0, 2);
    // One byte over: rejected, named, with the flag to raise.
    let limit = (len - 1).to_string();
    let dir = scratch("maxline");
    let errors = dir.join("errors.ndjson");
    let errors_arg = errors.display().to_string();
    let out = mapc(
        run_args(&["--max-line-bytes", &limit, "--errors", &errors_arg, "-"]),
        &input,
    );
    out.assert_no_crash("a line one byte over the limit");
    assert_eq!(out.code, Some(1));
    let rejects = rejections(&out.stderr);
    assert_eq!(rejects[0].0, 1);
    assert_eq!(
        rejects[0].1,
        format!(
            "the line is {len} bytes long; the limit is {limit} (raise it with --max-line-bytes)"
        )
    );
    let s = stats(&out.stderr);
    assert_eq!((s.read, s.rejected), (2, 2));
    let first: Value = serde_json::from_str(
        std::fs::read_to_string(&errors)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    check_error_entry(&first, 1, &rejects[0].1, &line);
}

#[test]
fn max_depth_limit_is_exact_and_clear() {
    let input = ndjson(&[nested(3).into_bytes(), nested(4).into_bytes()]);
    let out = mapc(run_args(&["--max-depth", "3", "-"]), &input);
    out.assert_no_crash("--max-depth 3");
    assert_eq!(out.code, Some(1));
    let rejects = rejections(&out.stderr);
    assert_eq!(
        rejects,
        vec![(
            2,
            "the event nests arrays and objects more than 3 deep (raise the limit with --max-depth)"
                .to_string()
        )]
    );
    let s = stats(&out.stderr);
    assert_eq!((s.read, s.mapped, s.rejected), (2, 1, 1));

    // Raising the limit lets deep (but sane) events through.
    let input = ndjson(&[nested(100).into_bytes()]);
    let out = mapc(run_args(&["--max-depth", "100", "-"]), &input);
    out.assert_no_crash("--max-depth 100");
    assert_eq!(out.code, Some(0), "{}", out.stderr);

    // Out-of-range limits are usage errors, before any input is read.
    for bad in ["0", "129", "-1", "lots"] {
        let flag = format!("--max-depth={bad}");
        let out = mapc(run_args(&[&flag, "-"]), &ndjson(&[good(1)]));
        out.assert_no_crash("a bad --max-depth");
        assert_eq!(out.code, Some(2), "--max-depth {bad} is a usage error");
        assert!(out.stderr.contains("--max-depth"), "{}", out.stderr);
        assert!(out.stdout.is_empty());
    }
    for bad in ["-5", "many"] {
        let out = mapc(
            run_args(&[&format!("--max-line-bytes={bad}"), "-"]),
            &ndjson(&[good(1)]),
        );
        assert_eq!(out.code, Some(2), "--max-line-bytes {bad} is a usage error");
        assert!(out.stderr.contains("--max-line-bytes"), "{}", out.stderr);
    }
}

/// `--max-depth` accepts up to 128, so an event 128 deep must map (or the
/// flag must stop at the depth the JSON parser really supports).
#[test]
fn max_depth_128_is_honoured() {
    let out = mapc(
        run_args(&["--max-depth", "128", "-"]),
        &ndjson(&[nested(128).into_bytes()]),
    );
    out.assert_no_crash("depth 128");
    assert_eq!(out.code, Some(0), "{}", clip(&out.stderr, 500));
}

/// Lines without a final newline, CRLF line ends and stdin all count the
/// same way.
#[test]
fn line_ends_and_final_line() {
    let mut input = Vec::new();
    input.extend_from_slice(&good(1));
    input.extend_from_slice(b"\r\n");
    input.extend_from_slice(b"nope\r\n");
    input.extend_from_slice(&good(3)); // no final newline
    let out = mapc(run_args(&["-"]), &input);
    out.assert_no_crash("CRLF input");
    let s = stats(&out.stderr);
    assert_eq!((s.read, s.mapped, s.rejected), (3, 2, 1));
    assert_eq!(rejections(&out.stderr)[0].0, 2);

    // No input at all: nothing read, exit 0.
    let out = mapc(run_args(&["-"]), b"");
    assert_eq!(out.code, Some(0));
    assert_eq!(stats(&out.stderr).read, 0);
}

/// A rejection reason is one line of stderr whatever the event holds: a
/// mapping that writes event text into its message must not let an event
/// forge extra `line N: rejected:` lines (or send terminal escapes).
#[test]
fn rejection_reasons_cannot_forge_log_lines() {
    let dir = scratch("forge");
    let map = dir.join("echo.map");
    std::fs::write(
        &map,
        "apis out\non track { reject \"bad event {.event}\" }\n",
    )
    .unwrap();
    let input = b"{\"type\":\"track\",\"event\":\"x\\nline 99: rejected: forged\\u001b[2J\"}\n";
    let out = mapc(["run", "--map", &map.display().to_string(), "-"], input);
    out.assert_no_crash("a reason with a newline");
    assert_eq!(
        out.stderr.lines().count(),
        1,
        "one stderr line per rejection: {:?}",
        out.stderr
    );
    assert!(
        !out.stderr.contains('\u{1b}'),
        "no raw escape characters on stderr"
    );
}

/// The same, checked through the reasons the engine itself writes (these
/// quote event text, so they are safe today).
#[test]
fn engine_reasons_quote_event_text() {
    let input = b"{\"type\":\"bogus\\nline 99: rejected: forged\",\"userId\":\"u1\"}\n{\"type\":\"track\",\"event\":\"A\",\"userId\":\"u1\",\"timestamp\":\"x\\ny\"}\n";
    let out = mapc(run_args(&["-"]), input);
    out.assert_no_crash("reasons quoting event text");
    let rejects = rejections(&out.stderr);
    assert_eq!(rejects.iter().map(|r| r.0).collect::<Vec<_>>(), vec![1, 2]);
    assert!(
        rejects[0]
            .1
            .contains(r#""bogus\nline 99: rejected: forged""#),
        "{:?}",
        rejects[0]
    );
    assert!(
        rejects[1].1.contains(r#""x\ny" is not an ISO-8601 time"#),
        "{:?}",
        rejects[1]
    );
}

#[test]
fn a_missing_input_file_is_a_usage_error() {
    let out = mapc(run_args(&["/nonexistent/events.ndjson"]), b"");
    out.assert_no_crash("a missing input");
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("cannot read input"), "{}", out.stderr);
}

/// Output only ever carries whole records: a panic-free run over every
/// hostile line at once with no good lines still writes valid NDJSON.
#[test]
fn only_hostile_lines() {
    let lines: Vec<Vec<u8>> = corpus().into_iter().map(|c| c.line).collect();
    let out: Output = mapc(run_args(&["--threads", "2", "-"]), &ndjson(&lines));
    out.assert_no_crash("only hostile lines");
    let s = stats(&out.stderr);
    assert_eq!(s.read, lines.len() as u64);
    assert_eq!(records(&out.stdout).len() as u64, s.records);
}

/// An event just under the 1 MiB line limit can hold ~90,000 keys; keeping
/// "the last of repeated keys" by searching the keys seen so far makes
/// parsing it quadratic (seconds per line), so one line stalls a worker.
#[test]
fn many_keys_in_one_event_map_in_linear_time() {
    let dir = scratch("keys");
    let keys: String = (0..90_000)
        .map(|i| format!(r#""k{i}":0"#))
        .collect::<Vec<_>>()
        .join(",");
    let input = dir.join("in.ndjson");
    std::fs::write(
        &input,
        format!(
            "{}\n{{\"type\":\"page\",\"userId\":\"u1\",\"name\":\"Home\",\"properties\":{{{keys}}}}}\n",
            track(&format!(r#""properties":{{{keys}}}"#)),
        ),
    )
    .unwrap();
    let mut args = run_args(&[]);
    args.push(input.display().to_string());
    let out = reliability_support::mapc_within(10, &args)
        .expect("two events of 90,000 keys map within 10 s");
    out.assert_no_crash("90,000 keys");
    assert_eq!(out.code, Some(0), "{}", clip(&out.stderr, 500));
}

/// Thread counts far from the machine's: every line still accounted for,
/// in order.
#[test]
fn absurd_thread_counts() {
    let lines: Vec<Vec<u8>> = (0..300).map(good).collect();
    let input = ndjson(&lines);
    let mut outputs = Vec::new();
    for threads in ["0", "1", "10000"] {
        let out = mapc(run_args(&["--threads", threads, "-"]), &input);
        out.assert_no_crash("an absurd thread count");
        assert_eq!(out.code, Some(0), "--threads {threads}: {}", out.stderr);
        assert_eq!(stats(&out.stderr).mapped, 300);
        outputs.push(out.stdout);
    }
    assert!(outputs.windows(2).all(|w| w[0] == w[1]));
}
