//! `mapc check`: the bundled mappings are clean, and exit statuses follow
//! the contract (errors → 1, warnings alone → 0 unless --deny-warnings).
//! The rendered reports themselves are snapshot-tested in
//! tests/golden/diagnostics.

use std::path::Path;
use std::process::Command;

fn check(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mapc"))
        .arg("check")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bundled_mappings_are_clean() {
    let maps: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings"))
            .unwrap()
            .map(|e| format!("mappings/{}", e.unwrap().file_name().to_string_lossy()))
            .filter(|p| p.ends_with(".map"))
            .collect();
    assert!(maps.len() >= 3, "amplitude, iOS and Android mappings");
    let mut args: Vec<&str> = vec!["--deny-warnings", "--format", "json"];
    args.extend(maps.iter().map(String::as_str));
    let (code, stdout, stderr) = check(&args);
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    let (code, _, stderr) = check(&[
        "--settings",
        "examples/settings.yaml",
        "mappings/amplitude.map",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("no problems"), "{stderr}");
}

#[test]
fn exit_statuses() {
    let dir = "tests/golden/diagnostics";
    let (code, _, _) = check(&[&format!("{dir}/unused-fn/mapping.map")]);
    assert_eq!(code, 0, "warnings alone pass");
    let (code, _, _) = check(&["--deny-warnings", &format!("{dir}/unused-fn/mapping.map")]);
    assert_eq!(code, 1, "--deny-warnings fails on warnings");
    let (code, stdout, _) = check(&[
        "--format",
        "json",
        &format!("{dir}/unknown-name/mapping.map"),
    ]);
    assert_eq!(code, 1, "errors fail");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        3,
        "two unknown names and the unused `device_id`"
    );
    for key in [
        "file", "severity", "code", "message", "line", "column", "span", "help",
    ] {
        assert!(lines[0].get(key).is_some(), "JSON diagnostics carry {key}");
    }
    let (code, _, stderr) = check(&["no-such-file.map"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("cannot read mapping file"), "{stderr}");
}
