//! Runs every example in the standard library's table, so the documented
//! behaviour of each function is the tested behaviour.

use mapc::{Mapping, Settings};
use serde_json::{json, Value};

/// The event examples read from (`.userId`, `.properties`, `.nothing`).
fn event() -> Value {
    json!({"type": "t", "userId": "u1", "properties": {"plan": "Basic"}})
}

fn run(call: &str) -> Option<Value> {
    let source = format!("apis out\non t {{ emit out {{ v: {call} }} }}");
    let mapping = Mapping::from_source("example.map", &source)
        .unwrap_or_else(|d| panic!("example `{call}` does not compile:\n{d}"));
    let program = mapping.bind(&Settings::default()).unwrap();
    let event = event();
    let records = program
        .map_value(&event)
        .unwrap_or_else(|r| panic!("example `{call}` was rejected: {r}"));
    records[0]["payload"].get("v").cloned()
}

#[test]
fn every_builtin_has_examples_and_they_hold() {
    for builtin in mapc::stdlib::ALL {
        assert!(
            !builtin.examples.is_empty(),
            "{} has no examples",
            builtin.name
        );
        assert!(!builtin.doc.is_empty(), "{} has no doc", builtin.name);
        for (call, expected) in builtin.examples {
            let got = run(call);
            let want = if *expected == "absent" {
                None
            } else {
                Some(serde_json::from_str::<Value>(expected).expect("example results are JSON"))
            };
            assert_eq!(got, want, "example `{call}` of {}", builtin.name);
        }
    }
}

#[test]
fn builtin_failures_reject_the_event_with_the_value_and_place() {
    let mapping = Mapping::from_source(
        "f.map",
        "apis out\non t { emit out { n: number(.properties.plan) } }",
    )
    .unwrap();
    let program = mapping.bind(&Settings::default()).unwrap();
    let event = event();
    let reason = program.map_value(&event).unwrap_err().to_string();
    assert_eq!(
        reason,
        "\"Basic\" is not a number (in `number(.properties.plan)` at f.map:2:22)"
    );
}

#[test]
fn epoch_ms_rejects_what_it_cannot_read() {
    for (input, phrase) in [
        ("\"yesterday\"", "is not an ISO-8601 time or a Unix time"),
        ("1e300", "is out of range for a time"),
        (
            "true",
            "epoch_ms() expects a time string or number, found a boolean",
        ),
    ] {
        let source = format!("apis out\non t {{ emit out {{ n: epoch_ms({input}) }} }}");
        let program = Mapping::from_source("f.map", &source)
            .unwrap()
            .bind(&Settings::default())
            .unwrap();
        let event = event();
        let reason = program.map_value(&event).unwrap_err().to_string();
        assert!(reason.contains(phrase), "{input}: {reason}");
    }
}

#[test]
fn number_refuses_nan_and_infinity_spelled_as_strings() {
    for text in ["NaN", "Infinity", "-inf", "", "1e999"] {
        assert!(mapc::stdlib::ALL.iter().any(|b| b.name == "number"));
        let source = format!("apis out\non t {{ emit out {{ n: number(\"{text}\") }} }}");
        let program = Mapping::from_source("f.map", &source)
            .unwrap()
            .bind(&Settings::default())
            .unwrap();
        let event = event();
        assert!(
            program.map_value(&event).is_err(),
            "number({text:?}) should fail"
        );
    }
}

#[test]
fn readme_documents_every_builtin() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for builtin in mapc::stdlib::ALL {
        assert!(
            readme.contains(&format!("`{}(", builtin.name)),
            "README.md's standard library table does not mention {}()",
            builtin.name
        );
    }
}
