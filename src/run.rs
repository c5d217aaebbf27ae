//! Streaming: read NDJSON events line by line, map each, write records in
//! input order, and account for every line. Memory stays bounded by the
//! line limit and the batch size, however long the input.

use std::io::{self, BufRead, Write};

use crate::program::{too_long as too_long_reason, Limits, Outcome, Program};

/// Counts of one run: read = mapped + filtered + rejected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Input lines read.
    pub read: u64,
    /// Lines that produced at least one record.
    pub mapped: u64,
    /// Lines a rule handled without emitting anything.
    pub filtered: u64,
    /// Lines rejected, each with a reason.
    pub rejected: u64,
    /// Output records written.
    pub records: u64,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "read {} mapped {} filtered {} rejected {} records {}",
            self.read, self.mapped, self.filtered, self.rejected, self.records
        )
    }
}

/// How to run.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Per-line limits.
    pub limits: Limits,
    /// Worker threads for mapping (1 maps on the reading thread).
    pub threads: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            limits: Limits::default(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Where rejections are reported.
pub struct Sinks<'w> {
    /// Mapped records, as NDJSON.
    pub out: &'w mut dyn Write,
    /// One human-readable line per rejection.
    pub log: &'w mut dyn Write,
    /// One JSON object per rejected input, with the input verbatim.
    pub errors: Option<&'w mut dyn Write>,
}

/// One line as read: its bytes, or its length when it was too long to keep.
enum Line {
    Bytes,
    TooLong(usize),
}

/// Reads one line into `buf` (without its newline), keeping at most
/// `max + 1` bytes of it. Returns None at end of input.
fn read_line(input: &mut dyn BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<Line>> {
    buf.clear();
    let mut total = 0usize;
    let mut any = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (part, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (&chunk[..i], Some(i + 1)),
            None => (chunk, None),
        };
        total += part.len();
        if buf.len() <= max {
            let room = max + 1 - buf.len();
            buf.extend_from_slice(&part[..part.len().min(room)]);
        }
        let used = done.unwrap_or(chunk.len());
        input.consume(used);
        if done.is_some() {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(if total > max {
        Line::TooLong(total)
    } else {
        Line::Bytes
    }))
}

/// Lines mapped per batch when several threads work.
const BATCH: usize = 4096;

/// Maps every line of `input`. I/O errors end the run; bad events never do.
pub fn run(
    program: &Program,
    input: &mut dyn BufRead,
    sinks: Sinks<'_>,
    opts: RunOptions,
) -> io::Result<Stats> {
    let mut stats = Stats::default();
    let Sinks {
        out,
        log,
        mut errors,
    } = sinks;
    let max = opts.limits.max_line_bytes;
    let threads = opts.threads.max(1);
    let mut lines: Vec<(Vec<u8>, Option<usize>)> = Vec::new();
    let mut results: Vec<(Vec<u8>, Outcome)> = Vec::new();
    let mut first_line = 1u64;
    loop {
        // Fill a batch (one line when single-threaded keeps latency low).
        let want = if threads == 1 { 1 } else { BATCH };
        let mut count = 0;
        while count < want {
            if lines.len() <= count {
                lines.push((Vec::new(), None));
            }
            let (buf, too_long) = &mut lines[count];
            match read_line(input, buf, max)? {
                None => break,
                Some(Line::Bytes) => *too_long = None,
                Some(Line::TooLong(n)) => *too_long = Some(n),
            }
            count += 1;
        }
        if count == 0 {
            break;
        }
        map_batch(
            program,
            &lines[..count],
            &opts.limits,
            threads,
            &mut results,
        );
        for (i, ((out_bytes, outcome), (input_line, too_long))) in
            results.iter().zip(&lines[..count]).enumerate()
        {
            let line_no = first_line + i as u64;
            stats.read += 1;
            match outcome {
                Outcome::Mapped(n) => {
                    stats.mapped += 1;
                    stats.records += *n as u64;
                    out.write_all(out_bytes)?;
                }
                Outcome::Filtered => stats.filtered += 1,
                Outcome::Rejected(reason) => {
                    stats.rejected += 1;
                    writeln!(log, "line {line_no}: rejected: {reason}")?;
                    if let Some(e) = errors.as_mut() {
                        write_error(&mut **e, line_no, reason, input_line, too_long.is_some())?;
                    }
                }
            }
        }
        first_line += count as u64;
    }
    out.flush()?;
    if let Some(e) = errors.as_mut() {
        e.flush()?;
    }
    Ok(stats)
}

/// Maps a batch, on several threads when asked, keeping input order.
fn map_batch(
    program: &Program,
    lines: &[(Vec<u8>, Option<usize>)],
    limits: &Limits,
    threads: usize,
    results: &mut Vec<(Vec<u8>, Outcome)>,
) {
    results.resize_with(lines.len(), || (Vec::new(), Outcome::Filtered));
    results.truncate(lines.len());
    let map_one = |(line, too_long): &(Vec<u8>, Option<usize>),
                   (buf, outcome): &mut (Vec<u8>, Outcome)| {
        buf.clear();
        *outcome = match too_long {
            // Only the first bytes of the line were kept: say how long it was.
            Some(len) => Outcome::Rejected(too_long_reason(*len, limits.max_line_bytes)),
            None => program.map_line(line, limits, buf),
        };
    };
    if threads == 1 || lines.len() < 64 {
        lines
            .iter()
            .zip(results.iter_mut())
            .for_each(|(l, r)| map_one(l, r));
        return;
    }
    let chunk = lines.len().div_ceil(threads);
    std::thread::scope(|s| {
        for (ls, rs) in lines.chunks(chunk).zip(results.chunks_mut(chunk)) {
            s.spawn(move || {
                ls.iter()
                    .zip(rs.iter_mut())
                    .for_each(|(l, r)| map_one(l, r))
            });
        }
    });
}

/// Writes one rejected input to the errors file, verbatim when it is
/// text (a too-long line keeps only its first bytes).
fn write_error(
    w: &mut dyn Write,
    line: u64,
    reason: &str,
    input: &[u8],
    truncated: bool,
) -> io::Result<()> {
    let input = if truncated {
        &input[..input.len().min(1024)]
    } else {
        input
    };
    let text = String::from_utf8_lossy(input);
    let mut record = serde_json::json!({ "line": line, "reason": reason, "input": text });
    if truncated {
        record["truncated"] = serde_json::Value::Bool(true);
    }
    serde_json::to_writer(&mut *w, &record)?;
    w.write_all(b"\n")
}
