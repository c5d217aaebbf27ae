//! Every error path of loading, checking and binding: each gives a
//! diagnostic with its code, pointing at the right text, with a help line
//! that says what to do. The CLI turns them into exit status 2.

use std::process::Command;

use mapc::{Mapping, Settings, Severity};

/// The diagnostics of a mapping that must not load, as (code, spanned
/// text, message, help).
fn errors(source: &str) -> Vec<(String, String, String, String)> {
    let d = Mapping::from_source("test.map", source).expect_err("should not load");
    d.items
        .iter()
        .filter(|x| x.severity == Severity::Error)
        .map(|x| {
            (
                x.code.0.to_string(),
                source[x.span.start as usize..x.span.end as usize].to_string(),
                x.message.clone(),
                x.help.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn one_error(source: &str) -> (String, String, String, String) {
    let mut all = errors(source);
    assert_eq!(all.len(), 1, "expected one error, got {all:#?}");
    all.remove(0)
}

#[test]
fn unknown_setting_suggests_the_nearest() {
    let (code, text, msg, help) = one_error(
        "apis out\nsettings { trackAllPages: bool = false }\non page { if settings.trackAllPage { emit out {} } }",
    );
    assert_eq!(code, "mapc::unknown-setting");
    assert_eq!(text, "settings.trackAllPage");
    assert_eq!(msg, "unknown setting `trackAllPage`");
    assert_eq!(help, "did you mean `settings.trackAllPages`?");
}

#[test]
fn unknown_binding_suggests_a_binding_or_the_event_field() {
    let (code, text, _, help) =
        one_error("apis out\nlet device = 1\non t { emit out { d: devise } }");
    assert_eq!(code, "mapc::unknown-name");
    assert_eq!(text, "devise");
    assert!(help.starts_with("did you mean `device`?"), "{help}");
    let (_, _, _, help) = one_error("apis out\non t { emit out { u: userId } }");
    assert!(help.contains("write `.userId`"), "{help}");
}

#[test]
fn unknown_function_and_api_suggest_the_nearest() {
    let (code, text, _, help) = one_error("apis out\non t { emit out { n: numbr(.x) } }");
    assert_eq!(
        (code.as_str(), text.as_str()),
        ("mapc::unknown-function", "numbr")
    );
    assert_eq!(help, "did you mean `number(...)`?");
    let (code, text, _, help) = one_error("apis httpapi\non t { emit httpap {} }");
    assert_eq!(
        (code.as_str(), text.as_str()),
        ("mapc::unknown-api", "httpap")
    );
    assert!(help.starts_with("did you mean `httpapi`?"), "{help}");
}

#[test]
fn wrong_argument_count_and_types() {
    let (code, text, msg, _) = one_error("apis out\non t { emit out { n: lower(.a, .b) } }");
    assert_eq!(
        (code.as_str(), text.as_str()),
        ("mapc::arity", "lower(.a, .b)")
    );
    assert_eq!(msg, "`lower` takes 1 argument, not 2");
    let (code, text, msg, _) = one_error("apis out\non t { emit out { n: lower(5) } }");
    assert_eq!((code.as_str(), text.as_str()), ("mapc::type-mismatch", "5"));
    assert!(msg.contains("must be a string"), "{msg}");
    let (code, text, msg, help) = one_error("apis out\non t { if \"yes\" { emit out {} } }");
    assert_eq!(
        (code.as_str(), text.as_str()),
        ("mapc::type-mismatch", "\"yes\"")
    );
    assert!(msg.contains("needs a boolean"), "{msg}");
    assert!(help.contains("exists(x)"), "{help}");
    let (code, _, _, _) = one_error("apis out\nfn f(a, b) = a\non t { emit out { n: f(1) } }");
    assert_eq!(code, "mapc::arity");
}

#[test]
fn queries_are_checked_when_the_mapping_loads() {
    let (code, text, _, _) = one_error("apis out\non t { emit out { q: query(., \"$[\") } }");
    assert_eq!(
        (code.as_str(), text.as_str()),
        ("mapc::invalid-query", "\"$[\"")
    );
    let (code, _, _, help) = one_error("apis out\non t { emit out { q: query(., .path) } }");
    assert_eq!(code, "mapc::invalid-query");
    assert!(help.contains("parsed once"), "{help}");
}

#[test]
fn cycles_and_reserved_names() {
    let (code, _, _, _) = one_error("apis out\nlet a = b\nlet b = a\non t { emit out { x: a } }");
    assert_eq!(code, "mapc::cycle");
    let (code, _, _, _) = one_error("apis out\nfn f(x) = f(x)\non t { emit out { x: f(1) } }");
    assert_eq!(code, "mapc::cycle");
    let (code, text, _, _) = one_error("apis out\non t { let settings = 1\nemit out { x: 1 } }");
    assert_eq!(code, "mapc::reserved-name");
    assert_eq!(text, "settings");
}

#[test]
fn secrets_cannot_reach_output_or_messages() {
    let (code, text, _, help) = one_error(
        "apis out\nsettings { apiKey: string secret }\non t { emit out { k: \"key={settings.apiKey}\" } }",
    );
    assert_eq!(
        (code.as_str(), text.as_str()),
        ("mapc::secret-in-output", "settings.apiKey")
    );
    assert!(help.contains("exists(settings."), "{help}");
    let (code, _, _, _) =
        one_error("apis out\nsettings { apiKey: string secret }\non t { reject settings.apiKey }");
    assert_eq!(code, "mapc::secret-in-output");
    let (code, _, msg, _) = one_error(
        "apis out\nsettings { apiKey: string secret }\non t { require number(settings.apiKey) > 0 else \"x\"\nemit out {} }",
    );
    assert_eq!(code, "mapc::secret-in-output");
    assert!(msg.contains("the messages of `number`"), "{msg}");
    // Testing a secret is fine.
    assert!(Mapping::from_source(
        "ok.map",
        "apis out\nsettings { apiKey: string secret }\non t { require exists(settings.apiKey) else \"no key\"\nemit out {} }"
    )
    .is_ok());
}

#[test]
fn setting_declarations_are_checked() {
    let (code, text, _, _) = one_error("apis out\nsettings { n: number = \"five\" }\non t {}");
    assert_eq!(
        (code.as_str(), text.as_str()),
        ("mapc::invalid-setting-decl", "\"five\"")
    );
    let (code, _, _, _) = one_error("apis out\nsettings { n: number = .x }\non t {}");
    assert_eq!(code, "mapc::invalid-setting-decl");
}

#[test]
fn duplicate_definitions_and_empty_mappings() {
    let (code, text, msg, _) =
        one_error("apis out\nlet a = 1\nlet a = 2\non t { emit out { a: a } }");
    assert_eq!(
        (code.as_str(), text.as_str()),
        ("mapc::duplicate-definition", "a")
    );
    assert!(msg.contains("line 2"), "{msg}");
    let (code, _, _, _) = one_error("apis out");
    assert_eq!(code, "mapc::empty-mapping");
}

#[test]
fn several_errors_are_reported_in_order() {
    let all =
        errors("apis out\non t {\n emit out { a: nope1, b: lower(1, 2) }\n emit nowhere {}\n}");
    let codes: Vec<&str> = all.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        codes,
        ["mapc::unknown-name", "mapc::arity", "mapc::unknown-api"]
    );
}

#[test]
fn imports_that_are_missing_or_circular() {
    let dir = std::env::temp_dir().join(format!("mapc-imports-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.map"),
        "import \"b.map\"\napis out\non t { emit out {} }",
    )
    .unwrap();
    std::fs::write(dir.join("b.map"), "import \"a.map\"").unwrap();
    std::fs::write(
        dir.join("c.map"),
        "import \"missing.map\"\napis out\non t {}",
    )
    .unwrap();
    let d = Mapping::from_file(dir.join("a.map")).expect_err("cycle");
    assert_eq!(d.items[0].code.0, "mapc::import-cycle");
    assert_eq!(d.sources.snippet(d.items[0].span), "\"a.map\"");
    let d = Mapping::from_file(dir.join("c.map")).expect_err("missing");
    assert_eq!(d.items[0].code.0, "mapc::import-not-found");
    assert!(d.items[0].message.contains("missing.map"));
    let d = Mapping::from_file(dir.join("nope.map")).expect_err("no file");
    assert!(d.items[0].message.contains("cannot read mapping file"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn rendered_report_shows_the_source_line_and_help() {
    let d = Mapping::from_source("test.map", "apis out\non t { emit out { n: numbr(.x) } }")
        .unwrap_err();
    let text = d.render(false, 80);
    assert!(text.contains("mapc::unknown-function"), "{text}");
    assert!(text.contains("[test.map:2:22]"), "{text}");
    assert!(
        text.contains("on t { emit out { n: numbr(.x) } }"),
        "{text}"
    );
    assert!(text.contains("help: did you mean `number(...)`?"), "{text}");
}

// ------------------------------------------------------------- settings

const MAP: &str = "apis out\nsettings {\n apiKey: string required secret\n trackAllPages: bool = false\n mode: \"a\" | \"b\" = \"a\"\n tags: [string] = []\n}\non t { emit out { p: settings.trackAllPages } }";

fn settings_error(yaml: &str) -> mapc::SettingsError {
    let mapping = Mapping::from_source("test.map", MAP).unwrap();
    let settings = Settings::from_yaml_str("s.yaml", yaml).expect("valid YAML");
    mapping
        .bind(&settings)
        .expect_err("settings should not fit")
}

#[test]
fn unknown_settings_name_the_line_and_suggest() {
    let e = settings_error("apiKey: k\ntrackAllPage: true\n");
    assert_eq!(e.problems.len(), 1);
    let p = &e.problems[0];
    assert_eq!((p.code.0, p.line), ("mapc::settings-unknown", Some(2)));
    assert_eq!(p.message, "unknown setting `trackAllPage`");
    assert_eq!(p.help, "did you mean `trackAllPages`?");
    assert!(e
        .to_string()
        .starts_with("error[mapc::settings-unknown]: s.yaml:2: unknown setting"));
}

#[test]
fn wrong_types_name_the_setting_and_type_but_never_a_secret_value() {
    let e = settings_error("apiKey: 12345\ntrackAllPages: yes\nmode: c\ntags: [1]\n");
    let messages: Vec<&str> = e.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "setting `apiKey` must be a string, found a number",
            "setting `trackAllPages` must be true or false, found a string \"yes\"",
            "setting `mode` must be one of \"a\" | \"b\", found a string \"c\"",
            "setting `tags` must be a list of a string, found a list [1]",
        ]
    );
    assert!(!e.to_string().contains("12345"));
}

#[test]
fn required_settings_must_be_given() {
    let e = settings_error("trackAllPages: true\n");
    assert_eq!(e.problems[0].code.0, "mapc::settings-missing");
    assert_eq!(
        e.problems[0].message,
        "required setting `apiKey` is missing"
    );
}

#[test]
fn settings_files_that_are_not_yaml() {
    let e = Settings::from_yaml_str("s.yaml", "apiKey: [unclosed\n").unwrap_err();
    assert_eq!(e.problems[0].code.0, "mapc::settings-syntax");
    let e = Settings::from_yaml_str("s.yaml", "- a list\n").unwrap_err();
    assert!(e.problems[0].message.contains("mapping of names"));
    // JSON is YAML too.
    assert!(Settings::from_yaml_str("s.json", "{\"apiKey\": \"k\"}").is_ok());
}

// ------------------------------------------------------------------ CLI

fn mapc(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mapc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_exits_2_for_mapping_settings_and_usage_errors_before_reading_input() {
    let dir = std::env::temp_dir().join(format!("mapc-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad_map = dir.join("bad.map");
    std::fs::write(&bad_map, "apis out\non t { emit out { a: nope } }").unwrap();
    let bad_settings = dir.join("bad.yaml");
    std::fs::write(&bad_settings, "apiKey: k\ntrackAllPage: true\n").unwrap();
    let missing_input = dir.join("no-such-input.ndjson");

    let (code, err) = mapc(&[
        "run",
        "--map",
        bad_map.to_str().unwrap(),
        missing_input.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("mapc::unknown-name"), "{err}");

    let (code, err) = mapc(&[
        "run",
        "--map",
        concat!(env!("CARGO_MANIFEST_DIR"), "/mappings/amplitude.map"),
        "--settings",
        bad_settings.to_str().unwrap(),
        missing_input.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `trackAllPages`?"), "{err}");

    let (code, err) = mapc(&["run", "--map"]);
    assert_eq!(code, 2, "{err}");
    let (code, _) = mapc(&["frobnicate"]);
    assert_eq!(code, 2);
    std::fs::remove_dir_all(&dir).ok();
}
