//! Secrets: values of settings declared `secret` (apiKey, secretKey) never
//! appear in output, logs, the errors file, diagnostics, `mapc check`
//! reports or `Debug` output — whatever the events or settings look like.

mod reliability_support;

use std::path::{Path, PathBuf};

use mapc::{Mapping, Settings};
use reliability_support::{amplitude_map, clip, mapc, root, scratch, Output};

const KEY: &str = "PLANTED-KEY-4f9a";
const SECRET: &str = "PLANTED-SECRET-77b1";

/// The distinctive parts of the planted values: no fragment may leak
/// either (e.g. a value cut to its first characters).
const FRAGMENTS: &[&str] = &[KEY, SECRET, "4f9a", "77b1"];

fn assert_clean(what: &str, text: &str) {
    for f in FRAGMENTS {
        assert!(
            !text.contains(f),
            "{what} leaks a secret ({f:?}):\n{}",
            clip(text, 3000)
        );
    }
}

fn assert_output_clean(what: &str, out: &Output) {
    out.assert_no_crash(what);
    assert_clean(&format!("{what}: stdout"), &out.stdout);
    assert_clean(&format!("{what}: stderr"), &out.stderr);
}

/// Only the two secrets, for mappings that declare nothing else.
fn secrets_only(dir: &Path) -> PathBuf {
    let path = dir.join("secrets-only.yaml");
    std::fs::write(&path, format!("apiKey: {KEY}\nsecretKey: {SECRET}\n")).unwrap();
    path
}

fn planted_settings(dir: &Path) -> PathBuf {
    let path = dir.join("planted.yaml");
    std::fs::write(
        &path,
        format!(
            "apiKey: {KEY}\nsecretKey: {SECRET}\ntrackNamedPages: true\ntrackAllPages: true\n\
             trackCategorizedPages: true\ntrackRevenuePerProduct: true\nenableAlias: true\n\
             groupTypeTrait: industry\ngroupValueTrait: name\ntraitsToIncrement: [logins]\n"
        ),
    )
    .unwrap();
    path
}

/// The example events, every event type, and a set of lines rejected for
/// all kinds of reasons.
fn events() -> String {
    let mut s = std::fs::read_to_string(root().join("examples/events.ndjson")).unwrap();
    s.push_str(concat!(
        r#"{"type":"delete","userId":"u1"}"#,
        "\n",
        r#"{"type":"alias","userId":"u2","previousId":"u1"}"#,
        "\n",
        r#"{"type":"group","userId":"u1","groupId":"g1","traits":{"industry":"x","name":"y"}}"#,
        "\n",
        r#"{"type":"page","userId":"u1","name":"Home","category":"Docs"}"#,
        "\n",
        r#"{"type":"screen","anonymousId":"a1","name":"Main"}"#,
        "\n",
        r#"{"type":"identify","userId":"u1","traits":{"logins":1,"apiKey":"from-event"}}"#,
        "\n",
        // Rejected lines.
        "not json\n",
        "\n",
        r#"{"type":"bogus"}"#,
        "\n",
        r#"{"type":"track","event":5}"#,
        "\n",
        r#"{"type":"track","event":"A","userId":"u1","timestamp":"never"}"#,
        "\n",
        r#"{"type":"track","event":"A","userId":"u1","properties":{"revenue":"NaN"}}"#,
        "\n",
        r#"{"type":"identify","userId":"u1","traits":[1]}"#,
        "\n",
        r#"{"type":"group","userId":"u1"}"#,
        "\n",
        r#"{"type":"delete"}"#,
        "\n",
        "[1,2,3]\n",
    ));
    s
}

fn run_args(map: &Path, settings: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "run".to_string(),
        "--map".to_string(),
        map.display().to_string(),
        "--settings".to_string(),
        settings.display().to_string(),
        "--stats".to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[test]
fn run_never_writes_secrets() {
    let dir = scratch("secrets-run");
    let settings = planted_settings(&dir);
    let errors = dir.join("errors.ndjson");
    let errors_arg = errors.display().to_string();
    let out = mapc(
        run_args(
            &amplitude_map(),
            &settings,
            &["--errors", &errors_arg, "--threads", "2", "-"],
        ),
        events().as_bytes(),
    );
    assert_output_clean("mapc run", &out);
    assert_eq!(out.code, Some(1), "some lines are rejected");
    assert!(
        out.stdout.contains(r#""api":"deletion""#),
        "the delete call (which needs secretKey) maps: {}",
        out.stdout
    );
    let errors = std::fs::read_to_string(&errors).unwrap();
    assert!(errors.lines().count() >= 10, "every rejection is written");
    assert_clean("the errors file", &errors);
}

/// Settings files that are wrong in ways that involve a secret value.
fn bad_settings() -> Vec<(&'static str, String)> {
    vec![
        (
            "a secret of the wrong type (number)",
            "apiKey: 12345\n".to_string(),
        ),
        (
            "a secret of the wrong type (list)",
            format!("apiKey: [{KEY}]\nsecretKey: {SECRET}\n"),
        ),
        (
            "a secret of the wrong type (object)",
            format!("apiKey: {{k: {KEY}}}\nsecretKey: {{s: {SECRET}}}\n"),
        ),
        (
            "a secret of the wrong type (JSON)",
            format!("{{\"apiKey\": {{\"k\": \"{KEY}\"}}, \"secretKey\": [\"{SECRET}\"]}}"),
        ),
        (
            "an unterminated quote",
            format!("apiKey: \"{KEY}\nsecretKey: {SECRET}\n"),
        ),
        ("a colon inside the value", format!("apiKey: {KEY}: x\n")),
        ("a bad escape", format!("apiKey: \"{KEY}\\q\"\n")),
        ("an unclosed list", format!("apiKey: [{KEY}\n")),
        ("a tab after the secret", format!("apiKey: {KEY}\n\tx: 1\n")),
        (
            "an unknown setting next to the secret",
            format!("apiKey: {KEY}\nsecretKey: {SECRET}\ntrackNamedPagez: true\n"),
        ),
        (
            "a typo in the secret's name",
            format!("apikey: {KEY}\nsecret_key: {SECRET}\n"),
        ),
        (
            "a wrong type beside the secrets",
            format!("apiKey: {KEY}\nsecretKey: {SECRET}\ntrackNamedPages: maybe\n"),
        ),
        (
            "two documents",
            format!("apiKey: {KEY}\n---\nsecretKey: {SECRET}\n"),
        ),
    ]
}

/// YAML tags make the parser itself quote the value it could not convert.
fn tagged_settings() -> Vec<(&'static str, String)> {
    vec![
        (
            "an !!int tag on the secret",
            format!("apiKey: !!int {KEY}\n"),
        ),
        (
            "a !!float tag on the secret",
            format!("apiKey: !!float {KEY}\n"),
        ),
        (
            "a !!bool tag on the secret",
            format!("apiKey: !!bool {KEY}\n"),
        ),
        (
            "a !!null tag on the secret",
            format!("secretKey: !!null {SECRET}\n"),
        ),
    ]
}

fn check_settings_errors(cases: Vec<(&'static str, String)>) {
    let dir = scratch("secrets-settings");
    let input = dir.join("in.ndjson");
    std::fs::write(&input, events()).unwrap();
    for (i, (what, text)) in cases.into_iter().enumerate() {
        let settings = dir.join(format!("bad-{i}.yaml"));
        std::fs::write(&settings, &text).unwrap();
        let out = mapc(
            run_args(&amplitude_map(), &settings, &[&input.display().to_string()]),
            b"",
        );
        assert_output_clean(&format!("run with {what}"), &out);
        assert_eq!(
            out.code,
            Some(2),
            "{what}: a settings error is exit 2\n{}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{what}: nothing is mapped");
        assert!(out.stderr.contains("error["), "{what}: {}", out.stderr);

        for format in ["human", "json"] {
            let out = mapc(
                [
                    "check",
                    "--settings",
                    &settings.display().to_string(),
                    "--format",
                    format,
                    &amplitude_map().display().to_string(),
                ],
                b"",
            );
            assert_output_clean(&format!("check --format {format} with {what}"), &out);
            assert_eq!(out.code, Some(1), "{what}: check fails");
        }

        // The library's error, shown and debugged.
        let err = Settings::from_file(&settings)
            .and_then(|s| {
                Mapping::from_file(amplitude_map())
                    .unwrap()
                    .bind(&s)
                    .map(|_| ())
            })
            .expect_err(what);
        assert_clean(&format!("{what}: SettingsError Display"), &err.to_string());
        assert_clean(&format!("{what}: SettingsError Debug"), &format!("{err:?}"));
        assert_clean(
            &format!("{what}: SettingsError JSON"),
            &serde_json::to_string(&err.to_json()).unwrap(),
        );
    }
}

#[test]
fn settings_errors_never_show_secrets() {
    check_settings_errors(bad_settings());
}

/// `apiKey: 12345` is the wrong type: the message names the setting and
/// what it must be, not the value.
#[test]
fn a_secret_of_the_wrong_type_is_named_not_shown() {
    let dir = scratch("secrets-type");
    let settings = dir.join("s.yaml");
    std::fs::write(&settings, "apiKey: 12345\n").unwrap();
    let out = mapc(run_args(&amplitude_map(), &settings, &["-"]), b"");
    assert_eq!(out.code, Some(2));
    assert!(!out.stderr.contains("12345"), "{}", out.stderr);
    assert!(out.stderr.contains("`apiKey`"), "{}", out.stderr);
    assert!(out.stderr.contains("must be a string"), "{}", out.stderr);
    assert!(out.stderr.contains("found a number"), "{}", out.stderr);

    let out = mapc(
        [
            "check",
            "--format",
            "json",
            "--settings",
            &settings.display().to_string(),
            &amplitude_map().display().to_string(),
        ],
        b"",
    );
    assert!(!out.stdout.contains("12345") && !out.stderr.contains("12345"));
    let problems: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(problems
        .iter()
        .any(|p| p["code"] == "mapc::settings-type" && p["line"] == 1));
}

#[test]
fn tagged_secret_values_are_not_echoed() {
    check_settings_errors(tagged_settings());
}

#[test]
fn check_with_good_settings_shows_no_secret() {
    let dir = scratch("secrets-check");
    let settings = planted_settings(&dir);
    for format in ["human", "json"] {
        let out = mapc(
            [
                "check",
                "--settings",
                &settings.display().to_string(),
                "--format",
                format,
                &amplitude_map().display().to_string(),
                &root()
                    .join("mappings/amplitude-ios.map")
                    .display()
                    .to_string(),
            ],
            b"",
        );
        assert_output_clean(&format!("check --format {format}"), &out);
    }
}

#[test]
fn debug_output_shows_no_secret() {
    let dir = scratch("secrets-debug");
    let path = planted_settings(&dir);
    let settings = Settings::from_file(&path).unwrap();
    assert_clean("Settings Debug", &format!("{settings:?}"));
    assert_clean("Settings pretty Debug", &format!("{settings:#?}"));

    let mapping = Mapping::from_file(amplitude_map()).unwrap();
    let program = mapping.bind(&settings).unwrap();
    assert_clean("Mapping Debug", &format!("{mapping:?} {mapping:#?}"));
    assert_clean("Program Debug", &format!("{program:?} {program:#?}"));

    // From JSON too, and through a program's records and rejections.
    let json = serde_json::json!({"apiKey": KEY, "secretKey": SECRET});
    let settings = Settings::from_json(json.as_object().unwrap().clone());
    assert_clean("Settings (JSON) Debug", &format!("{settings:#?}"));
    let program = mapping.bind(&settings).unwrap();
    assert_clean("Program (JSON) Debug", &format!("{program:#?}"));
    for line in events().lines() {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let doc = mapc::Doc::from_value(&event);
        match program.map_event(&doc) {
            Ok(records) => {
                assert_clean("records Debug", &format!("{records:?}"));
                for r in &records {
                    assert_clean("records JSON", &r.to_json().to_string());
                }
            }
            Err(reason) => assert_clean("rejection", &format!("{reason} {reason:?}")),
        }
    }
}

/// A mapping cannot write a secret out: the checker refuses it, and the
/// diagnostic (which knows no value yet) shows none.
#[test]
fn mappings_that_emit_secrets_do_not_load() {
    let dir = scratch("secrets-emit");
    let settings = secrets_only(&dir);
    let decl = "apis out\nsettings { apiKey: string required secret\n secretKey: string secret }\n";
    let leaks = [
        "on track { emit out { k: settings.apiKey } }",
        "on track { emit out { k: \"key={settings.apiKey}\" } }",
        "on track { emit out { [settings.secretKey]: 1 } }",
        "on track { emit out { k: lower(settings.apiKey) } }",
        "let k = settings.apiKey\non track { emit out { k: k } }",
        "fn f(x) = x\non track { emit out { k: f(settings.apiKey) } }",
        "on track { reject settings.apiKey }",
        "on track { require false else \"bad key {settings.apiKey}\" }",
        "on track { emit out { k: .userId ?? settings.apiKey } }",
    ];
    for (i, rule) in leaks.iter().enumerate() {
        let map = dir.join(format!("leak-{i}.map"));
        std::fs::write(&map, format!("{decl}{rule}\n")).unwrap();
        let out = mapc(
            run_args(&map, &settings, &["-"]),
            b"{\"type\":\"track\",\"userId\":null}\n",
        );
        assert_output_clean(rule, &out);
        assert_eq!(out.code, Some(2), "{rule}: must not load\n{}", out.stderr);
        assert!(
            out.stderr.contains("mapc::secret-in-output"),
            "{rule}: {}",
            out.stderr
        );
    }
}

/// A mapping may test a secret; when that test fails at run time (the
/// value is not a number, not a time, not a boolean), the rejection reason
/// must not quote the value. Conversions that could quote it are refused
/// when the mapping loads; the boolean tests fail with the kind only.
#[test]
fn runtime_errors_on_secrets_do_not_quote_them() {
    let dir = scratch("secrets-runtime");
    let settings = secrets_only(&dir);
    let decl = "apis out\nsettings { apiKey: string required secret\n secretKey: string secret }\n";
    let rules = [
        // Refused when loading (exit 2) or rejected per event (exit 1).
        "on track {\n  if number(settings.apiKey) > 0 { emit out { x: 1 } }\n  emit out { y: 2 }\n}",
        "on track {\n  require epoch_ms(settings.secretKey) > 0 else \"bad\"\n  emit out { y: 2 }\n}",
        "on track {\n  if lower(settings.apiKey) == \"x\" { emit out { x: 1 } }\n  emit out { y: 2 }\n}",
        // Boolean tests that fail at run time.
        "on track {\n  if contains(settings.apiKey, 5) { emit out { x: 1 } }\n  emit out { y: 2 }\n}",
        "on track {\n  if settings.apiKey > 5 { emit out { x: 1 } }\n  emit out { y: 2 }\n}",
        "on track {\n  require settings.secretKey else \"no\"\n  emit out { y: 2 }\n}",
        "on track {\n  if !settings.apiKey { emit out { x: 1 } }\n  emit out { y: 2 }\n}",
        "on track when settings.apiKey { emit out { y: 2 } }",
    ];
    for (i, rule) in rules.iter().enumerate() {
        let map = dir.join(format!("test-{i}.map"));
        std::fs::write(&map, format!("{decl}{rule}\n")).unwrap();
        let errors = dir.join(format!("errors-{i}.ndjson"));
        let errors_arg = errors.display().to_string();
        let out = mapc(
            run_args(&map, &settings, &["--errors", &errors_arg, "-"]),
            b"{\"type\":\"track\"}\n",
        );
        assert_output_clean(rule, &out);
        assert!(matches!(out.code, Some(1 | 2)), "{rule}: {}", out.stderr);
        assert_clean(
            "errors file",
            &std::fs::read_to_string(&errors).unwrap_or_default(),
        );
    }
}
