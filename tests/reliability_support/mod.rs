//! Helpers shared by the reliability tests (`hostile_input`,
//! `hostile_mapping`, `secrets`, `properties`): where the bundled mapping
//! lives, scratch directories, and running the built `mapc` binary.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled Segment → Amplitude mapping.
pub fn amplitude_map() -> PathBuf {
    root().join("mappings/amplitude.map")
}

/// The example settings for it.
pub fn example_settings() -> PathBuf {
    root().join("examples/settings.yaml")
}

/// A fresh, empty directory for one test (under cargo's per-target
/// scratch directory, so `cargo clean` removes it).
pub fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "reliability-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Output {
    /// The exit status (None when killed by a signal, e.g. a stack overflow).
    pub code: Option<i32>,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
}

impl Output {
    /// Panics with the whole output unless the process exited normally and
    /// said nothing about a panic or a stack overflow.
    pub fn assert_no_crash(&self, what: &str) {
        assert!(
            self.code.is_some()
                && !self.stderr.contains("panicked")
                && !self.stderr.contains("overflowed its stack")
                && !self.stderr.contains("RUST_BACKTRACE"),
            "{what}: mapc crashed (status {:?})\nstderr:\n{}",
            self.code,
            clip(&self.stderr, 3000)
        );
    }
}

/// Runs `mapc` with `args`, feeding `stdin` to it.
pub fn mapc<I, S>(args: I, stdin: &[u8]) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut child = Command::new(env!("CARGO_BIN_EXE_mapc"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mapc");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.to_vec();
    // Write from another thread so a large input cannot deadlock against
    // a full stdout pipe; mapc may legitimately stop reading early.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for mapc");
    writer.join().expect("the stdin writer");
    Output {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The first `max` bytes of `s` (on a char boundary), for messages.
pub fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The counts of a `--stats` line.
pub use mapc::Stats;

/// Finds and parses the `read R mapped M filtered F rejected X records N`
/// line of a `--stats` run; it must be the last line of stderr.
pub fn stats(stderr: &str) -> Stats {
    let last = stderr.lines().last().unwrap_or_default();
    let words: Vec<&str> = last.split(' ').collect();
    let n = |i: usize, name: &str| -> u64 {
        assert_eq!(
            words.get(i).copied(),
            Some(name),
            "the last stderr line is not a stats line: {last:?}"
        );
        words[i + 1].parse().expect("a count")
    };
    let s = Stats {
        read: n(0, "read"),
        mapped: n(2, "mapped"),
        filtered: n(4, "filtered"),
        rejected: n(6, "rejected"),
        records: n(8, "records"),
    };
    assert_eq!(words.len(), 10, "unexpected stats line {last:?}");
    assert_eq!(
        s.read,
        s.mapped + s.filtered + s.rejected,
        "read = mapped + filtered + rejected must hold: {last:?}"
    );
    s
}

/// The `line N: rejected: <reason>` lines of stderr, as (N, reason).
/// Every other line must be the stats line or nothing.
pub fn rejections(stderr: &str) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    for l in stderr.lines() {
        if l.starts_with("read ") {
            continue;
        }
        let rest = l
            .strip_prefix("line ")
            .unwrap_or_else(|| panic!("unexpected stderr line {:?}", clip(l, 300)));
        let (n, reason) = rest
            .split_once(": rejected: ")
            .unwrap_or_else(|| panic!("unexpected stderr line {:?}", clip(l, 300)));
        out.push((n.parse().expect("a line number"), reason.to_string()));
    }
    out
}

/// The records of an NDJSON output, each checked to be
/// `{"api": string, "payload": object}`.
pub fn records(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("output line is not JSON ({e}): {}", clip(l, 300)));
            assert!(v["api"].is_string(), "record without api: {l}");
            assert!(v["payload"].is_object(), "record without payload: {l}");
            assert_eq!(v.as_object().map(|o| o.len()), Some(2), "extra keys: {l}");
            v
        })
        .collect()
}

/// Runs `mapc` with `args` and no input, killing it after `secs` seconds.
/// Returns None when it had to be killed.
pub fn mapc_within<I, S>(secs: u64, args: I) -> Option<Output>
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let dir = scratch("timed");
    let (out_path, err_path) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_mapc"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("start mapc");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll mapc") {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let status = status?;
    Some(Output {
        code: status.code(),
        stdout: String::from_utf8_lossy(&std::fs::read(&out_path).unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&std::fs::read(&err_path).unwrap_or_default()).into_owned(),
    })
}
