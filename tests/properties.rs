//! Property tests: generated Segment events of every type, with random
//! optional fields (right and wrong types), under random settings, mapped
//! with the bundled mapping through the library. Mapping never panics,
//! every record serializes to valid JSON, every Amplitude event or
//! identification names a user or a device, and mapping is deterministic.

mod reliability_support;

use std::sync::OnceLock;

use mapc::{Doc, Limits, Mapping, Outcome, Program, RunOptions, Settings, Sinks};
use proptest::prelude::*;
use reliability_support::{amplitude_map, example_settings};
use serde_json::{json, Map, Value};

fn mapping() -> &'static Mapping {
    static MAPPING: OnceLock<Mapping> = OnceLock::new();
    MAPPING.get_or_init(|| {
        Mapping::from_file(amplitude_map())
            .unwrap_or_else(|d| panic!("the bundled mapping loads:\n{}", d.render(false, 100)))
    })
}

/// The bundled mapping bound to the example settings.
fn example_program() -> &'static Program {
    static PROGRAM: OnceLock<Program> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let settings = Settings::from_file(example_settings()).expect("the example settings load");
        mapping()
            .bind(&settings)
            .expect("the example settings bind")
    })
}

// ------------------------------------------------------------ generators

/// A short printable string, sometimes blank or numeric.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        6 => "[A-Za-z0-9 _.-]{1,12}",
        1 => Just(String::new()),
        1 => Just("   ".to_string()),
        1 => "[0-9]{1,6}(\\.[0-9]{1,3})?",
        1 => "\\PC{0,8}",
    ]
    .boxed()
}

/// Any JSON scalar, including the awkward ones.
fn scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => text().prop_map(Value::from),
        2 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        2 => (-1e12f64..1e12).prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::from),
        1 => Just(Value::Null),
        1 => prop::sample::select(vec!["NaN", "Infinity", "-Infinity", "1e400", "-0", "0x10", "1,5"])
            .prop_map(Value::from),
    ]
    .boxed()
}

/// Any JSON value, a few levels deep.
fn any_json() -> BoxedStrategy<Value> {
    scalar()
        .prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("[a-z$]{1,6}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
        .boxed()
}

/// A user, device, group or message id: usually a string or a number,
/// sometimes blank, null or of the wrong type.
fn id() -> BoxedStrategy<Value> {
    prop_oneof![
        16 => "[a-z0-9-]{1,16}".prop_map(Value::from),
        4 => any::<u32>().prop_map(Value::from),
        1 => (-1e6f64..1e6).prop_map(Value::from),
        1 => Just(json!("")),
        1 => Just(json!("  ")),
        1 => Just(Value::Null),
        1 => prop::sample::select(vec![json!({"id": "x"}), json!(["x"]), json!(true)]),
    ]
    .boxed()
}

/// A timestamp: ISO-8601 in several shapes, Unix seconds or ms, numeric
/// strings, garbage.
fn timestamp() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => (1970i32..2100, 1u32..13, 1u32..29, 0u32..24, 0u32..60, 0u32..60, 0u32..1000)
            .prop_map(|(y, mo, d, h, mi, s, ms)| json!(format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z"))),
        1 => (1970i32..2100, 1u32..13, 1u32..29).prop_map(|(y, mo, d)| json!(format!("{y:04}-{mo:02}-{d:02}"))),
        1 => (1970i32..2100, 1u32..13, 1u32..29, -12i32..13)
            .prop_map(|(y, mo, d, tz)| json!(format!("{y:04}-{mo:02}-{d:02}T10:00:00{tz:+03}:00"))),
        2 => (0i64..4_000_000_000).prop_map(Value::from),
        2 => (0i64..4_000_000_000_000).prop_map(Value::from),
        1 => (0i64..4_000_000_000).prop_map(|s| json!(s.to_string())),
        1 => prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            text().prop_map(Value::from),
            any_json(),
        ],
    ]
    .boxed()
}

/// Inserts each present field into `m`.
fn put(m: &mut Map<String, Value>, fields: Vec<(&str, Option<Value>)>) {
    for (k, v) in fields {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    }
}

fn maybe<S: Strategy<Value = Value> + 'static>(s: S) -> BoxedStrategy<Option<Value>> {
    prop::option::weighted(0.6, s).boxed()
}

/// A product: numeric or numeric-string prices, sometimes not an object.
fn product() -> BoxedStrategy<Value> {
    let number = prop_oneof![
        3 => (0f64..1000.0).prop_map(Value::from),
        2 => (0i64..100).prop_map(Value::from),
        2 => (0i64..1000).prop_map(|n| json!(n.to_string())),
        1 => scalar(),
    ];
    prop_oneof![
        8 => (maybe(number.clone()), maybe(number.clone()), maybe(id()), maybe(text().prop_map(Value::from)), maybe(number))
            .prop_map(|(price, quantity, product_id, name, revenue)| {
                let mut m = Map::new();
                put(&mut m, vec![("price", price), ("quantity", quantity), ("productId", product_id), ("name", name), ("revenue", revenue)]);
                Value::Object(m)
            }),
        1 => scalar(),
    ]
    .boxed()
}

/// Event properties: revenue fields, products, anything else.
fn properties() -> BoxedStrategy<Value> {
    let money = prop_oneof![
        3 => (0f64..1e6).prop_map(Value::from),
        2 => (0i64..1000).prop_map(|n| json!(n.to_string())),
        1 => scalar(),
    ];
    prop_oneof![
        8 => (
            maybe(money.clone()),
            maybe(money.clone()),
            maybe(money),
            maybe(prop_oneof![
                4 => prop::collection::vec(product(), 0..4).prop_map(Value::from),
                1 => any_json(),
            ]),
            prop::collection::btree_map("[a-zA-Z]{1,8}", any_json(), 0..4),
            maybe(text().prop_map(Value::from)),
        )
            .prop_map(|(revenue, price, total, products, extra, category)| {
                let mut m: Map<String, Value> = extra.into_iter().collect();
                put(&mut m, vec![("revenue", revenue), ("price", price), ("total", total), ("products", products), ("category", category)]);
                Value::Object(m)
            }),
        1 => scalar(),
        1 => any_json(),
    ]
    .boxed()
}

fn context() -> BoxedStrategy<Value> {
    let device = prop_oneof![
        6 => (maybe(id()), maybe(id()), maybe(text().prop_map(Value::from)), maybe(prop::sample::select(vec!["ios", "android", "web"]).prop_map(Value::from)))
            .prop_map(|(id, ad, model, ty)| {
                let mut m = Map::new();
                put(&mut m, vec![("id", id), ("advertisingId", ad), ("model", model), ("type", ty)]);
                Value::Object(m)
            }),
        1 => scalar(),
    ];
    let coordinate = prop_oneof![
        2 => (-90f64..90.0).prop_map(Value::from),
        2 => (-90f64..90.0).prop_map(|f| json!(f.to_string())),
        1 => scalar(),
    ];
    let location = (
        maybe(coordinate.clone()),
        maybe(coordinate),
        maybe(text().prop_map(Value::from)),
    )
        .prop_map(|(lat, lng, city)| {
            let mut m = Map::new();
            put(
                &mut m,
                vec![("latitude", lat), ("longitude", lng), ("city", city)],
            );
            Value::Object(m)
        });
    let locale = prop_oneof![
        Just(json!("en-US")),
        text().prop_map(|t| json!({"language": t})),
        scalar(),
    ];
    prop_oneof![
        8 => (maybe(device), maybe(location), maybe(locale), maybe(text().prop_map(Value::from)), maybe(any_json()))
            .prop_map(|(device, location, locale, ip, os)| {
                let mut m = Map::new();
                put(&mut m, vec![("device", device), ("location", location), ("locale", locale), ("ip", ip), ("os", os)]);
                Value::Object(m)
            }),
        1 => scalar(),
    ]
    .boxed()
}

fn integrations() -> BoxedStrategy<Value> {
    (
        maybe(timestamp()),
        maybe(any_json()),
        maybe(id()),
        maybe(any::<bool>().prop_map(Value::from)),
    )
        .prop_map(|(session, groups, unmap, out_of_session)| {
            let mut m = Map::new();
            put(
                &mut m,
                vec![
                    ("session_id", session),
                    ("groups", groups),
                    ("unmap", unmap),
                    ("outOfSession", out_of_session),
                ],
            );
            json!({ "Amplitude": m })
        })
        .boxed()
}

fn event_type() -> BoxedStrategy<Value> {
    prop_oneof![
        20 => prop::sample::select(vec!["track", "identify", "page", "screen", "group", "alias", "delete"])
            .prop_map(Value::from),
        1 => Just(json!("bogus")),
        1 => scalar(),
    ]
    .boxed()
}

/// Traits: often the ones the settings name (group traits, traits to
/// increment or set once), sometimes not an object.
fn traits() -> BoxedStrategy<Value> {
    let key = prop_oneof![
        5 => prop::sample::select(vec!["industry", "name", "logins", "plan", "email", "first_seen"]).prop_map(str::to_string),
        1 => "[a-z_$]{1,8}",
    ];
    prop_oneof![
        8 => prop::collection::btree_map(key, any_json(), 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        1 => any_json(),
    ]
    .boxed()
}

/// A Segment-shaped event of any type with random optional fields.
fn event() -> BoxedStrategy<Value> {
    let names = (
        maybe(
            prop_oneof![4 => text().prop_map(Value::from), 1 => Just(json!("Order Completed")), 1 => scalar()],
        ),
        maybe(text().prop_map(Value::from)),
        maybe(text().prop_map(Value::from)),
    );
    let ids = (
        maybe(id()),
        maybe(id()),
        maybe(id()),
        maybe(id()),
        maybe(id()),
    );
    let bodies = (
        maybe(properties()),
        maybe(traits()),
        maybe(context()),
        maybe(integrations()),
        maybe(timestamp()),
    );
    (event_type(), names, ids, bodies)
        .prop_map(
            |(
                ty,
                (event, name, category),
                (user, anon, group, previous, message),
                (props, traits, ctx, integ, ts),
            )| {
                let mut m = Map::new();
                m.insert("type".to_string(), ty);
                put(
                    &mut m,
                    vec![
                        ("event", event),
                        ("name", name),
                        ("category", category),
                        ("userId", user),
                        ("anonymousId", anon),
                        ("groupId", group),
                        ("previousId", previous),
                        ("messageId", message),
                        ("properties", props),
                        ("traits", traits),
                        ("context", ctx),
                        ("integrations", integ),
                        ("timestamp", ts),
                    ],
                );
                Value::Object(m)
            },
        )
        .boxed()
}

/// Random settings for the bundled mapping (every boolean, the group
/// traits and the trait lists).
fn settings() -> BoxedStrategy<Map<String, Value>> {
    (
        prop::collection::vec(any::<bool>(), 10),
        prop::option::weighted(0.85, Just(json!("industry"))),
        prop::option::weighted(0.85, Just(json!("name"))),
        prop::collection::vec(
            prop::sample::select(vec!["logins", "plan", "name", "industry"]),
            0..3,
        ),
        prop::collection::vec(
            prop::sample::select(vec!["first_seen", "plan", "email"]),
            0..3,
        ),
        any::<bool>(),
    )
        .prop_map(|(flags, group_type, group_value, inc, once, with_secret)| {
            let names = [
                "trackAllPages",
                "trackNamedPages",
                "trackCategorizedPages",
                "trackRevenuePerProduct",
                "useLogRevenueV2",
                "preferAnonymousIdForDeviceId",
                "useAdvertisingIdForDeviceId",
                "enableAlias",
                "trackLocation",
                "trackAllScreens",
            ];
            let mut m = Map::new();
            m.insert("apiKey".to_string(), json!("test-key"));
            if with_secret {
                m.insert("secretKey".to_string(), json!("test-secret"));
            }
            for (n, f) in names.iter().zip(flags) {
                m.insert(n.to_string(), json!(f));
            }
            put(
                &mut m,
                vec![
                    ("groupTypeTrait", group_type),
                    ("groupValueTrait", group_value),
                ],
            );
            m.insert("traitsToIncrement".to_string(), json!(inc));
            m.insert("traitsToSetOnce".to_string(), json!(once));
            m
        })
        .boxed()
}

/// Binds generated settings, keeping only the names the mapping declares
/// (the generator also names settings, like trackAllScreens, that a
/// mapping may leave out).
fn bind(values: &Map<String, Value>) -> Program {
    let declared = mapping().settings();
    let kept: Map<String, Value> = values
        .iter()
        .filter(|(k, _)| declared.iter().any(|d| &d.name == *k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    mapping()
        .bind(&Settings::from_json(kept))
        .unwrap_or_else(|e| panic!("generated settings must fit the mapping: {e}"))
}

// ------------------------------------------------------------ properties

/// Serializes records the way `mapc run` does and checks each line is
/// valid JSON of the promised shape.
fn check_records(records: &[mapc::Record<'_>]) -> Result<Vec<String>, TestCaseError> {
    let mut out = Vec::new();
    for r in records {
        let text =
            serde_json::to_string(r).map_err(|e| TestCaseError::fail(format!("serialize: {e}")))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| TestCaseError::fail(format!("output is not JSON ({e}): {text}")))?;
        prop_assert_eq!(
            &text,
            &serde_json::to_string(&r.to_json()).unwrap(),
            "Serialize and to_json agree"
        );
        prop_assert!(v["payload"].is_object(), "payload is an object: {}", text);
        let api = v["api"].as_str().unwrap_or_default();
        prop_assert!(
            [
                "httpapi",
                "identify",
                "groupidentify",
                "usermap",
                "deletion"
            ]
            .contains(&api),
            "known api: {}",
            text
        );
        let p = &v["payload"];
        if api == "httpapi" || api == "identify" {
            let named = |k: &str| {
                p.get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.trim().is_empty())
            };
            prop_assert!(
                named("user_id") || named("device_id"),
                "user_id or device_id: {}",
                text
            );
            for k in ["user_id", "device_id"] {
                if let Some(v) = p.get(k) {
                    prop_assert!(v.is_string(), "{} is a string: {}", k, text);
                }
            }
            if let Some(t) = p.get("time") {
                prop_assert!(
                    t.as_i64().is_some_and(|t| t.abs() <= 8_640_000_000_000_000),
                    "time in ms: {}",
                    text
                );
            }
        }
        if api == "httpapi" {
            prop_assert!(
                p["event_type"]
                    .as_str()
                    .is_some_and(|s| !s.trim().is_empty()),
                "event_type: {}",
                text
            );
        }
        out.push(text);
    }
    Ok(out)
}

fn map_once(
    program: &Program,
    event: &Value,
) -> Result<Result<Vec<String>, String>, TestCaseError> {
    let doc = Doc::from_value(event);
    match program.map_event(&doc) {
        Ok(records) => Ok(Ok(check_records(&records)?)),
        Err(reason) => {
            let reason = reason.to_string();
            prop_assert!(!reason.trim().is_empty(), "a rejection has a reason");
            prop_assert!(!reason.contains('\n'), "a reason is one line: {:?}", reason);
            Ok(Err(reason))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, failure_persistence: None, ..ProptestConfig::default() })]

    /// Never panics, records are valid JSON with an identity, and mapping
    /// the same event twice gives the same answer.
    #[test]
    fn mapping_is_total_valid_and_deterministic(settings in settings(), event in event()) {
        let program = bind(&settings);
        let first = map_once(&program, &event)?;
        let second = map_once(&program, &event)?;
        prop_assert_eq!(&first, &second);
        // A freshly bound program agrees with the first one.
        let again = bind(&settings);
        prop_assert_eq!(&first, &map_once(&again, &event)?);

        // The line API gives the same bytes as serializing the records of
        // the event it parses.
        let line = serde_json::to_vec(&event).unwrap();
        let parsed: Value = serde_json::from_slice(&line).unwrap();
        let first = map_once(&program, &parsed)?;
        let mut out = Vec::new();
        let outcome = program.map_line(&line, &Limits::default(), &mut out);
        match (&first, outcome) {
            (Ok(records), Outcome::Mapped(n)) => {
                prop_assert_eq!(records.len(), n);
                let text = String::from_utf8(out).unwrap();
                let lines: Vec<String> = text.lines().map(str::to_string).collect();
                prop_assert_eq!(records, &lines);
            }
            (Ok(records), Outcome::Filtered) => {
                prop_assert!(records.is_empty());
                prop_assert!(out.is_empty());
            }
            (Err(reason), Outcome::Rejected(r)) => {
                prop_assert_eq!(reason, &r);
                prop_assert!(out.is_empty(), "nothing is written for a rejected line");
            }
            (first, outcome) => prop_assert!(false, "map_event {:?} but map_line {:?}", first, outcome),
        }
    }

    /// With the example settings, events with only well-typed fields
    /// either map or are rejected for a missing piece — never for a panic.
    #[test]
    fn example_settings_never_panic(event in event()) {
        let _ = map_once(example_program(), &event)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    /// A whole stream through `mapc::run`: every line accounted for, and
    /// one thread or two give the same bytes.
    #[test]
    fn run_accounts_for_every_line(
        events in prop::collection::vec(event(), 60..140),
        garbage in prop::collection::vec((0usize..140, prop::collection::vec(any::<u8>(), 0..40)), 0..8),
    ) {
        let mut lines: Vec<Vec<u8>> = events.iter().map(|e| serde_json::to_vec(e).unwrap()).collect();
        for (at, bytes) in garbage {
            let bytes: Vec<u8> = bytes.into_iter().filter(|&b| b != b'\n').collect();
            lines.insert(at.min(lines.len()), bytes);
        }
        let mut input = Vec::new();
        for l in &lines {
            input.extend_from_slice(l);
            input.push(b'\n');
        }
        let mut results = Vec::new();
        for threads in [1, 2] {
            let (mut out, mut log, mut errors) = (Vec::new(), Vec::new(), Vec::new());
            let sinks = Sinks { out: &mut out, log: &mut log, errors: Some(&mut errors) };
            let opts = RunOptions { limits: Limits::default(), threads };
            let stats = mapc::run(example_program(), &mut &input[..], sinks, opts).unwrap();
            prop_assert_eq!(stats.read, lines.len() as u64);
            prop_assert_eq!(stats.read, stats.mapped + stats.filtered + stats.rejected);
            let text = String::from_utf8(out.clone()).unwrap();
            prop_assert_eq!(text.lines().count() as u64, stats.records);
            let log_text = String::from_utf8(log.clone()).unwrap();
            prop_assert_eq!(log_text.lines().count() as u64, stats.rejected);
            let errors_text = String::from_utf8(errors.clone()).unwrap();
            prop_assert_eq!(errors_text.lines().count() as u64, stats.rejected);
            for (entry, logged) in errors_text.lines().zip(log_text.lines()) {
                let v: Value = serde_json::from_str(entry).unwrap();
                let n = v["line"].as_u64().unwrap();
                let prefix = format!("line {n}: rejected: ");
                prop_assert!(logged.starts_with(&prefix), "{}", logged);
                let raw = &lines[n as usize - 1];
                let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
                prop_assert_eq!(v["input"].as_str().unwrap(), String::from_utf8_lossy(raw));
            }
            results.push((out, log, errors, stats));
        }
        prop_assert_eq!(&results[0], &results[1]);
    }
}

/// The bound program is shared between threads: the same events mapped on
/// four threads at once give the same records.
#[test]
fn program_is_shareable_between_threads() {
    let program = example_program();
    let text = std::fs::read_to_string(reliability_support::root().join("examples/events.ndjson"))
        .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let map = |line: &str| {
        let doc = Doc::parse(line).unwrap();
        let result = program
            .map_event(&doc)
            .map(|r| serde_json::to_string(&r).unwrap());
        format!("{result:?}")
    };
    let expected: Vec<String> = lines.iter().map(|l| map(l)).collect();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..50 {
                    for (line, want) in lines.iter().zip(&expected) {
                        assert_eq!(&map(line), want);
                    }
                }
            });
        }
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// A number an event carries comes out as the same number: mapc must
    /// not change data it passes through.
    #[test]
        fn numbers_pass_through_unchanged(x in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
        let line = format!(r#"{{"type":"track","event":"N","userId":"u1","properties":{{"x":{}}}}}"#, serde_json::to_string(&x).unwrap());
        let mut out = Vec::new();
        let outcome = example_program().map_line(line.as_bytes(), &Limits::default(), &mut out);
        prop_assert_eq!(outcome, Outcome::Mapped(1));
        let text = String::from_utf8(out).unwrap();
        let written = text.split(r#""x":"#).nth(1).and_then(|t| t.split('}').next()).unwrap().to_string();
        prop_assert_eq!(written.parse::<f64>().unwrap(), x, "written as {}", written);
    }
}

/// The case fuzzing found, as a fixed example of the property above.
#[test]
fn a_known_number_passes_through_unchanged() {
    let line =
        br#"{"type":"track","event":"N","userId":"u1","properties":{"x":929.4954816599281}}"#;
    let mut out = Vec::new();
    example_program().map_line(line, &Limits::default(), &mut out);
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains(r#""x":929.4954816599281"#), "{text}");
}

/// The generators exercise both paths: a fair share of generated events
/// map (so the record properties are really tested) and a fair share are
/// rejected.
#[test]
fn generated_events_both_map_and_reject() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut mapped, mut rejected, mut records) = (0, 0, 0);
    let mut apis = std::collections::BTreeSet::new();
    for _ in 0..600 {
        let settings = settings().new_tree(&mut runner).unwrap().current();
        let event = event().new_tree(&mut runner).unwrap().current();
        match bind(&settings).map_value(&event) {
            Ok(r) if r.is_empty() => {}
            Ok(r) => {
                mapped += 1;
                records += r.len();
                apis.extend(
                    r.iter()
                        .map(|r| r["api"].as_str().unwrap_or_default().to_string()),
                );
            }
            Err(_) => rejected += 1,
        }
    }
    assert!(mapped >= 120, "only {mapped} of 600 generated events map");
    assert!(
        rejected >= 60,
        "only {rejected} of 600 generated events are rejected"
    );
    eprintln!("{mapped} mapped, {rejected} rejected, {records} records, {apis:?}");
    assert_eq!(apis.len(), 5, "records reach every API: {apis:?}");
}
