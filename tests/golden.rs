//! Golden tests: each folder under `tests/golden/<group>/<case>/` runs the
//! built `mapc` binary and compares what it prints with files kept next to
//! the case. Each case is meant to be read as documentation of one feature.
//!
//! A case folder holds:
//! - `mapping.map`, or a file `uses` naming a mapping path relative to the
//!   repository root (e.g. `mappings/amplitude.map`);
//! - `settings.yaml` (optional);
//! - for `mapc run`: `in.ndjson`, and the expected `out.ndjson` and (when
//!   events are rejected) `stderr.txt`;
//! - for `mapc check`: the expected `check.txt` (human report) and/or
//!   `check.json` (`--format json`).
//!
//! `BLESS=1 cargo test --test golden` rewrites the expected files from the
//! actual output; review the diff before committing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cases() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for group in fs::read_dir(root().join("tests/golden")).expect("tests/golden exists") {
        let group = group.unwrap().path();
        if !group.is_dir() {
            continue;
        }
        for case in fs::read_dir(&group).unwrap() {
            let case = case.unwrap().path();
            if case.is_dir() {
                out.push(case);
            }
        }
    }
    out.sort();
    out
}

/// The mapping argument, relative to the case folder (so that messages
/// naming the mapping file are the same in every checkout).
fn mapping_arg(case: &Path) -> String {
    match fs::read_to_string(case.join("uses")) {
        Ok(path) => {
            let depth = case
                .strip_prefix(root())
                .map_or(0, |p| p.components().count());
            format!("{}{}", "../".repeat(depth), path.trim())
        }
        Err(_) => "mapping.map".to_string(),
    }
}

fn mapc(case: &Path, args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_mapc"))
        .args(args)
        .current_dir(case)
        .env("NO_COLOR", "1")
        .output()
        .expect("mapc runs");
    let code = out.status.code().unwrap_or(-1);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        code,
    )
}

/// Compares (or, with BLESS=1, writes) one expected file. Returns a
/// description of the difference.
fn compare(case: &Path, file: &str, actual: &str) -> Option<String> {
    let path = case.join(file);
    if std::env::var_os("BLESS").is_some() {
        if actual.is_empty() {
            let _ = fs::remove_file(&path);
        } else {
            fs::write(&path, actual).unwrap();
        }
        return None;
    }
    let expected = fs::read_to_string(&path).unwrap_or_default();
    if expected == actual {
        return None;
    }
    Some(format!(
        "{}: {file} differs\n--- expected\n{expected}\n--- actual\n{actual}",
        case.display()
    ))
}

fn run_case(case: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let map = mapping_arg(case);
    if case.join("in.ndjson").exists() {
        let mut args = vec!["run", "--map", &map, "--threads", "1"];
        if case.join("settings.yaml").exists() {
            args.extend(["--settings", "settings.yaml"]);
        }
        args.push("in.ndjson");
        let (stdout, stderr, code) = mapc(case, &args);
        let want_code = if stderr.contains(": rejected: ") {
            1
        } else {
            0
        };
        if code != want_code && !case.join("stderr.txt").exists() {
            problems.push(format!(
                "{}: exit status {code}, stderr:\n{stderr}",
                case.display()
            ));
        }
        for json in stdout.lines() {
            if serde_json::from_str::<serde_json::Value>(json).is_err() {
                problems.push(format!(
                    "{}: output line is not JSON: {json}",
                    case.display()
                ));
            }
        }
        problems.extend(compare(case, "out.ndjson", &stdout));
        problems.extend(compare(case, "stderr.txt", &stderr));
    }
    let check_args = |json: bool| {
        let mut a = vec!["check".to_string(), map.clone()];
        if case.join("settings.yaml").exists() {
            a.extend(["--settings".to_string(), "settings.yaml".to_string()]);
        }
        if json {
            a.extend(["--format".to_string(), "json".to_string()]);
        }
        a
    };
    if case.join("check.txt").exists() {
        let args = check_args(false);
        let (_, stderr, _) = mapc(case, &args.iter().map(String::as_str).collect::<Vec<_>>());
        problems.extend(compare(case, "check.txt", &stderr));
    }
    if case.join("check.json").exists() {
        let args = check_args(true);
        let (stdout, _, _) = mapc(case, &args.iter().map(String::as_str).collect::<Vec<_>>());
        problems.extend(compare(case, "check.json", &stdout));
    }
    if !case.join("in.ndjson").exists()
        && !case.join("check.txt").exists()
        && !case.join("check.json").exists()
    {
        problems.push(format!(
            "{}: nothing to run (no in.ndjson, check.txt or check.json)",
            case.display()
        ));
    }
    problems
}

#[test]
fn golden_cases() {
    let cases = cases();
    assert!(
        cases.len() >= 10,
        "expected the golden cases under tests/golden"
    );
    let problems: Vec<String> = cases.iter().flat_map(|c| run_case(c)).collect();
    assert!(
        problems.is_empty(),
        "{} of {} golden cases differ:\n\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n\n")
    );
}
