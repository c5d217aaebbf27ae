//! Criterion benchmarks of the hot path (DESIGN.md, "Performance").
//!
//! - `compile`: load, parse, check and compile `mappings/amplitude.map`;
//! - `bind`: fold `examples/settings.yaml` into the compiled mapping;
//! - `event/*`: `Program::map_event` on one pre-parsed event (a `Doc`) of
//!   each kind;
//! - `end_to_end`: `Program::map_line` (parse + evaluate + serialize) over a
//!   batch of NDJSON lines;
//! - `roundtrip`: the floor, a plain serde_json parse and write of the same
//!   batch.
//!
//! The events come from `../shared/bench/gen_events.py`, run once when the
//! benches start. Environment overrides: `MAPC_BENCH_MAP`,
//! `MAPC_BENCH_SETTINGS`, `MAPC_BENCH_GEN` (the generator script) and
//! `MAPC_BENCH_LINES` (the end-to-end batch size, default 2000).
//!
//! Run with `cargo bench --bench engine` (about one minute on two cores);
//! add a filter such as `cargo bench --bench engine -- event/` to run a part.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::{Map, Value};

use mapc::{Doc, Limits, Mapping, Program, Settings};

/// Events generated for the per-event benches (one of each kind is kept).
const CORPUS_EVENTS: usize = 3000;
/// The seed of every generated corpus, for comparable runs.
const SEED: u32 = 1;

fn env_path(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

fn map_path() -> PathBuf {
    env_path("MAPC_BENCH_MAP", "mappings/amplitude.map")
}

fn settings_path() -> PathBuf {
    env_path("MAPC_BENCH_SETTINGS", "examples/settings.yaml")
}

fn load_mapping(path: &Path) -> Mapping {
    Mapping::from_file(path).unwrap_or_else(|d| {
        panic!(
            "cannot load the mapping {}:\n{}",
            path.display(),
            d.render(false, 100)
        )
    })
}

/// Runs the event generator and returns its NDJSON output.
fn generate(count: usize) -> Vec<u8> {
    let script = env_path("MAPC_BENCH_GEN", "../shared/bench/gen_events.py");
    let out = Command::new("python3")
        .arg(&script)
        .args(["--count", &count.to_string(), "--seed", &SEED.to_string()])
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn lines(ndjson: &[u8]) -> Vec<&[u8]> {
    ndjson
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect()
}

/// The settings of `examples/settings.yaml`, with the switches that send
/// every event type down its real path turned on (only those the mapping
/// declares, so binding cannot fail on a name).
fn full_settings(mapping: &Mapping) -> Settings {
    let path = settings_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut values: Map<String, Value> = if text.trim().is_empty() {
        Map::new()
    } else {
        serde_norway::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not a YAML mapping: {e}", path.display()))
    };
    let on = [
        ("trackAllPages", Value::Bool(true)),
        ("trackNamedPages", Value::Bool(true)),
        ("trackCategorizedPages", Value::Bool(true)),
        ("trackAllScreens", Value::Bool(true)),
        ("trackRevenuePerProduct", Value::Bool(true)),
        ("enableAlias", Value::Bool(true)),
        ("groupTypeTrait", Value::from("group_type")),
        ("groupValueTrait", Value::from("name")),
    ];
    for (name, value) in on {
        if mapping.settings().iter().any(|s| s.name == name) {
            values.insert(name.to_string(), value);
        } else {
            eprintln!("note: the mapping declares no setting `{name}`; left out");
        }
    }
    Settings::from_json(values)
}

/// One event of each kind the per-event benches time.
struct Samples {
    track: Value,
    order: Value,
    identify: Value,
    page: Value,
    screen: Value,
    group: Value,
    alias: Value,
}

fn field<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn is_type(v: &Value, ty: &str) -> bool {
    v.get("type").and_then(Value::as_str) == Some(ty)
}

fn first(events: &[Value], what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    events
        .iter()
        .find(|v| pred(v))
        .cloned()
        .unwrap_or_else(|| panic!("the generated corpus has no {what}"))
}

/// Picks one event of each kind, preferring the richest shape, and pads
/// the Order Completed to exactly 5 products and the identify to exactly
/// 20 traits.
fn samples(events: &[Value]) -> Samples {
    let is_order = |v: &Value| {
        is_type(v, "track") && v.get("event").and_then(Value::as_str) == Some("Order Completed")
    };
    // A mobile track with the whole context (app, device, location,
    // network, os, screen), a session id, and revenue.
    let full_track = |v: &Value| {
        is_type(v, "track")
            && !is_order(v)
            && ["app", "device", "location", "network", "os", "screen"]
                .iter()
                .all(|k| field(v, &["context", k]).is_some())
            && field(v, &["integrations", "Amplitude", "session_id"]).is_some()
            && v.get("userId").is_some()
    };
    let track = events
        .iter()
        .find(|v| full_track(v) && field(v, &["properties", "revenue"]).is_some())
        .cloned()
        .unwrap_or_else(|| first(events, "full-context track", full_track));

    let mut order = events
        .iter()
        .find(|v| {
            is_order(v)
                && field(v, &["properties", "products"])
                    .and_then(Value::as_array)
                    .is_some_and(|p| p.len() == 5)
        })
        .cloned()
        .unwrap_or_else(|| first(events, "Order Completed", is_order));
    if let Some(Value::Array(products)) = order.pointer_mut("/properties/products") {
        let have = products.clone();
        products.clear();
        products.extend(have.iter().cycle().take(5).cloned());
    }

    let mut identify = events
        .iter()
        .find(|v| {
            is_type(v, "identify")
                && v.get("userId").is_some()
                && field(v, &["traits"])
                    .and_then(Value::as_object)
                    .is_some_and(|t| t.len() == 20)
        })
        .cloned()
        .unwrap_or_else(|| first(events, "identify", |v| is_type(v, "identify")));
    if let Some(Value::Object(traits)) = identify.get_mut("traits") {
        let mut i = 0;
        while traits.len() < 20 {
            i += 1;
            traits.insert(format!("extra_{i}"), Value::from(format!("value {i}")));
        }
        let last: Vec<String> = traits.keys().skip(20).cloned().collect();
        for key in last {
            traits.remove(&key);
        }
    }

    let named = |ty: &'static str| {
        move |v: &Value| is_type(v, ty) && v.get("name").is_some() && v.get("userId").is_some()
    };
    let page = events
        .iter()
        .find(|v| named("page")(v) && v.get("category").is_some())
        .cloned()
        .unwrap_or_else(|| first(events, "named page", named("page")));
    let screen = first(events, "named screen", named("screen"));
    let group = first(events, "group with a group_type", |v| {
        is_type(v, "group")
            && field(v, &["traits", "group_type"]).is_some()
            && v.get("userId").is_some()
    });
    let alias = first(events, "alias", |v| is_type(v, "alias"));
    Samples {
        track,
        order,
        identify,
        page,
        screen,
        group,
        alias,
    }
}

/// Says (once, on stderr) what each sample maps to, so a bench that only
/// times a rejection or a filter does not go unnoticed.
fn describe(program: &Program, name: &str, event: &Doc<'_>) {
    match program.map_event(event) {
        Ok(records) if records.is_empty() => {
            eprintln!("warning: event/{name} is filtered: the bench times no output")
        }
        Ok(records) => {
            let apis: Vec<&str> = records.iter().map(|r| r.api).collect();
            eprintln!(
                "event/{name}: {} record(s): {}",
                records.len(),
                apis.join(" ")
            );
        }
        Err(reason) => eprintln!("warning: event/{name} is rejected ({reason})"),
    }
}

fn bench_compile(c: &mut Criterion) {
    let path = map_path();
    load_mapping(&path);
    c.bench_function("compile", |b| {
        b.iter(|| black_box(Mapping::from_file(black_box(&path)).is_ok()))
    });
}

fn bench_bind(c: &mut Criterion) {
    let mapping = load_mapping(&map_path());
    let settings = Settings::from_file(settings_path()).expect("examples/settings.yaml loads");
    if let Err(e) = mapping.bind(&settings) {
        panic!(
            "{} does not fit the mapping: {e}",
            settings_path().display()
        );
    }
    c.bench_function("bind", |b| b.iter(|| mapping.bind(black_box(&settings))));
}

fn bench_events(c: &mut Criterion) {
    let mapping = load_mapping(&map_path());
    let settings = full_settings(&mapping);
    let program = mapping
        .bind(&settings)
        .unwrap_or_else(|e| panic!("the bench settings do not fit the mapping: {e}"));
    let corpus = generate(CORPUS_EVENTS);
    let events: Vec<Value> = lines(&corpus)
        .into_iter()
        .map(|l| serde_json::from_slice(l).expect("the generator writes JSON"))
        .collect();
    let s = samples(&events);
    // Each sample is timed as `map_line` sees it once parsed: a `Doc`
    // whose strings borrow from the event's text.
    let cases = [
        ("track", s.track),
        ("order_completed_5_products", s.order),
        ("identify_20_traits", s.identify),
        ("page", s.page),
        ("screen", s.screen),
        ("group", s.group),
        ("alias", s.alias),
    ]
    .map(|(name, v)| (name, v.to_string()));
    let mut group = c.benchmark_group("event");
    group.throughput(Throughput::Elements(1));
    for (name, text) in &cases {
        let event = Doc::parse(text).expect("a sample is JSON");
        describe(&program, name, &event);
        group.bench_function(*name, |b| b.iter(|| program.map_event(black_box(&event))));
    }
    group.finish();
}

fn batch_size() -> usize {
    std::env::var("MAPC_BENCH_LINES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000)
}

fn bench_batch(c: &mut Criterion) {
    let mapping = load_mapping(&map_path());
    let settings = Settings::from_file(settings_path()).expect("examples/settings.yaml loads");
    let program = mapping
        .bind(&settings)
        .unwrap_or_else(|e| panic!("{} does not fit: {e}", settings_path().display()));
    let corpus = generate(batch_size());
    let batch = lines(&corpus);
    let bytes: usize = batch.iter().map(|l| l.len() + 1).sum();
    let limits = Limits::default();

    // Once, to say what the batch does.
    let mut buf = Vec::new();
    let (mut mapped, mut filtered, mut rejected, mut out_bytes) = (0, 0, 0, 0);
    for line in &batch {
        buf.clear();
        match program.map_line(line, &limits, &mut buf) {
            mapc::Outcome::Mapped(_) => mapped += 1,
            mapc::Outcome::Filtered => filtered += 1,
            mapc::Outcome::Rejected(_) => rejected += 1,
        }
        out_bytes += buf.len();
    }
    eprintln!(
        "batch: {} lines, {bytes} bytes in, {out_bytes} bytes out; mapped {mapped} filtered {filtered} rejected {rejected}",
        batch.len()
    );

    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Elements(batch.len() as u64));
    group.bench_function("end_to_end", |b| {
        let mut buf = Vec::with_capacity(1 << 16);
        b.iter(|| {
            for line in &batch {
                buf.clear();
                black_box(program.map_line(black_box(line), &limits, &mut buf));
                black_box(&buf);
            }
        })
    });
    group.bench_function("roundtrip", |b| {
        let mut buf = Vec::with_capacity(1 << 16);
        b.iter(|| {
            for line in &batch {
                buf.clear();
                let v: Value = serde_json::from_slice(black_box(line)).expect("JSON");
                serde_json::to_writer(&mut buf, &v).expect("writes to memory");
                buf.push(b'\n');
                black_box(&buf);
            }
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(40)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_compile, bench_bind, bench_events, bench_batch
}
criterion_main!(benches);
