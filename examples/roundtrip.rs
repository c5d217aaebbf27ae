//! The performance floor of `mapc run` (DESIGN.md, "Performance"): a plain
//! serde_json round trip of NDJSON. Each line is parsed to a
//! `serde_json::Value` and written back, with a newline, to a buffered
//! stdout. Blank lines are skipped; a line that is not JSON is reported on
//! stderr and the exit status is 1.
//!
//! ```text
//! cargo build --release --example roundtrip
//! target/release/examples/roundtrip events.ndjson > /dev/null
//! python3 ../shared/bench/gen_events.py --count 1000 --seed 1 | target/release/examples/roundtrip
//! ```

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::process::ExitCode;

/// Read and write buffers: large enough that system calls don't show.
const BUF: usize = 1 << 16;

fn roundtrip(input: &mut dyn BufRead, out: &mut dyn Write) -> io::Result<u64> {
    let mut line = Vec::with_capacity(BUF);
    let mut line_no = 0u64;
    let mut bad = 0u64;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        line_no += 1;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<serde_json::Value>(text) {
            Ok(value) => {
                serde_json::to_writer(&mut *out, &value)?;
                out.write_all(b"\n")?;
            }
            Err(e) => {
                bad += 1;
                eprintln!("line {line_no}: invalid JSON: {e}");
            }
        }
    }
    out.flush()?;
    Ok(bad)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut input: Box<dyn BufRead> = match args.as_slice() {
        [] => Box::new(BufReader::with_capacity(BUF, io::stdin().lock())),
        [path] if path == "-" => Box::new(BufReader::with_capacity(BUF, io::stdin().lock())),
        [path] => match File::open(path) {
            Ok(f) => Box::new(BufReader::with_capacity(BUF, f)),
            Err(e) => {
                eprintln!("roundtrip: cannot open {path}: {e}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: roundtrip [FILE|-]");
            return ExitCode::from(2);
        }
    };
    let mut out = BufWriter::with_capacity(BUF, io::stdout().lock());
    match roundtrip(&mut input, &mut out) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roundtrip: {e}");
            ExitCode::from(2)
        }
    }
}
