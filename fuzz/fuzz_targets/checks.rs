//! The checks behind the fuzz targets, shared with `tests/fuzz_seeds.rs`
//! (which replays `fuzz/seeds/` through them on every `cargo test`).
#![allow(dead_code)]

use mapc::{Doc, Limits, Mapping, Program, RunOptions, Settings, Sinks};

/// Arbitrary bytes as a mapping file: loading never panics; a mapping that
/// loads binds to empty settings (or refuses them with a message) and maps
/// a fixed event of each type to records that serialize to valid JSON.
pub fn mapping(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mapping) = Mapping::from_source("fuzz.map", text) else {
        return;
    };
    let program = match mapping.bind(&Settings::default()) {
        Ok(p) => p,
        Err(e) => {
            assert!(!e.to_string().is_empty(), "a settings error says why");
            return;
        }
    };
    let event = serde_json::json!({
        "type": "track",
        "event": "Order Completed",
        "userId": "u1",
        "anonymousId": "a1",
        "groupId": "g1",
        "previousId": "p1",
        "name": "Home",
        "timestamp": "2024-01-02T03:04:05.678Z",
        "context": {"device": {"id": "d1", "type": "ios"}, "ip": "1.2.3.4"},
        "properties": {"revenue": 9.5, "products": [{"price": "2", "quantity": 3}]},
        "traits": {"email": "a@example.com"}
    });
    for ty in [
        "track", "identify", "page", "screen", "group", "alias", "delete",
    ] {
        let mut e = event.clone();
        e["type"] = ty.into();
        let doc = Doc::from_value(&e);
        match program.map_event(&doc) {
            Ok(records) => {
                for r in records {
                    let text = serde_json::to_string(&r).expect("a record serializes");
                    let v: serde_json::Value =
                        serde_json::from_str(&text).expect("a record is valid JSON");
                    assert!(v["payload"].is_object(), "a payload is an object: {text}");
                }
            }
            Err(reason) => assert!(!reason.to_string().is_empty(), "a rejection says why"),
        }
    }
}

/// The bundled mapping bound to the example settings; `root` is the
/// repository root.
pub fn bundled_program(root: &str) -> Program {
    let mapping = Mapping::from_file(format!("{root}/mappings/amplitude.map"))
        .unwrap_or_else(|d| panic!("the bundled mapping loads: {}", d.render(false, 100)));
    let settings = Settings::from_file(format!("{root}/examples/settings.yaml"))
        .expect("the example settings load");
    mapping.bind(&settings).expect("the example settings bind")
}

/// Arbitrary bytes as NDJSON input: `mapc::run` never panics, every line
/// is accounted for, once in the stats and once in each sink, and one
/// thread or two give the same bytes.
pub fn run(program: &Program, data: &[u8]) {
    let one = run_with(program, data, 1);
    let two = run_with(program, data, 2);
    assert!(one == two, "--threads 1 and --threads 2 differ");
}

type Sunk = (Vec<u8>, Vec<u8>, Vec<u8>, mapc::Stats);

fn run_with(program: &Program, data: &[u8], threads: usize) -> Sunk {
    let (mut out, mut log, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    let opts = RunOptions {
        limits: Limits {
            max_line_bytes: 4096,
            max_depth: 32,
        },
        threads,
    };
    let sinks = Sinks {
        out: &mut out,
        log: &mut log,
        errors: Some(&mut errors),
    };
    let stats = mapc::run(program, &mut &data[..], sinks, opts).expect("in-memory I/O");
    assert_eq!(stats.read, stats.mapped + stats.filtered + stats.rejected);
    let lines = if data.is_empty() {
        0
    } else {
        data.split(|&b| b == b'\n').count() as u64 - u64::from(data.ends_with(b"\n"))
    };
    assert_eq!(stats.read, lines, "one count per input line");
    let log_text = std::str::from_utf8(&log).expect("the log is UTF-8");
    assert_eq!(log_text.lines().count() as u64, stats.rejected);
    let errors_text = std::str::from_utf8(&errors).expect("the errors file is UTF-8");
    assert_eq!(errors_text.lines().count() as u64, stats.rejected);
    for line in errors_text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("errors lines are JSON");
        assert!(v["line"].is_u64() && v["reason"].is_string() && v["input"].is_string());
    }
    let out_text = std::str::from_utf8(&out).expect("the output is UTF-8");
    assert_eq!(out_text.lines().count() as u64, stats.records);
    for line in out_text.lines() {
        let _: serde_json::Value = serde_json::from_str(line).expect("records are JSON");
    }
    (out, log, errors, stats)
}
