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
const BATCH: usize = 2048;

/// One input line: its bytes (only the first ones when it was too long)
/// and, when too long, its full length.
type InputLine = (Vec<u8>, Option<usize>);

/// What mapping one line produced: output bytes and outcome.
type Mapped = (Vec<u8>, Outcome);

/// Maps every line of `input`. I/O errors end the run; bad events never do.
pub fn run(
    program: &Program,
    input: &mut dyn BufRead,
    sinks: Sinks<'_>,
    opts: RunOptions,
) -> io::Result<Stats> {
    let mut acc = Accounts {
        sinks,
        stats: Stats::default(),
        next_line: 1,
    };
    if opts.threads <= 1 {
        let mut line: InputLine = (Vec::new(), None);
        let mut mapped: Mapped = (Vec::new(), Outcome::Filtered);
        while read_into(input, &mut line, opts.limits.max_line_bytes)? {
            map_one(program, &opts.limits, &line, &mut mapped);
            acc.record(&line, &mapped)?;
        }
    } else {
        run_parallel(program, input, &mut acc, opts)?;
    }
    acc.sinks.out.flush()?;
    if let Some(e) = acc.sinks.errors.as_mut() {
        e.flush()?;
    }
    Ok(acc.stats)
}

/// Reads one line into `line`; false at end of input.
fn read_into(input: &mut dyn BufRead, line: &mut InputLine, max: usize) -> io::Result<bool> {
    Ok(match read_line(input, &mut line.0, max)? {
        None => false,
        Some(Line::Bytes) => {
            line.1 = None;
            true
        }
        Some(Line::TooLong(n)) => {
            line.1 = Some(n);
            true
        }
    })
}

fn map_one(
    program: &Program,
    limits: &Limits,
    (line, too_long): &InputLine,
    (buf, outcome): &mut Mapped,
) {
    buf.clear();
    *outcome = match too_long {
        // Only the first bytes of the line were kept: say how long it was.
        Some(len) => Outcome::Rejected(too_long_reason(*len, limits.max_line_bytes)),
        // A bug in the engine must cost one event, not the run (a worker
        // that died would leave its batch unwritten forever).
        None => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            program.map_line(line, limits, buf)
        }))
        .unwrap_or_else(|_| {
            buf.clear();
            Outcome::Rejected(
                "internal error while mapping this event (a bug in mapc: please report it)"
                    .to_string(),
            )
        }),
    };
}

/// The calling thread reads batches and writes results (its input and
/// sinks need not be `Send`); workers map. Results are written in input
/// order, and at most two batches per worker are in flight, so memory
/// stays flat.
fn run_parallel(
    program: &Program,
    input: &mut dyn BufRead,
    acc: &mut Accounts<'_>,
    opts: RunOptions,
) -> io::Result<()> {
    use std::collections::BTreeMap;
    use std::sync::{mpsc, Mutex};

    type Job = (u64, Vec<InputLine>);
    type Done = (u64, Vec<InputLine>, Vec<Mapped>);
    let threads = opts.threads;
    let limits = opts.limits;
    let in_flight = 2 * threads as u64;
    let (job_tx, job_rx) = mpsc::sync_channel::<Job>(threads);
    let job_rx = Mutex::new(job_rx);
    std::thread::scope(|s| {
        // Owned by this closure, so dropping it below lets the workers end.
        let job_tx = job_tx;
        let (done_tx, done_rx) = mpsc::channel::<Done>();
        for _ in 0..threads {
            let (job_rx, done_tx) = (&job_rx, done_tx.clone());
            s.spawn(move || loop {
                let job = job_rx
                    .lock()
                    .map_err(|_| ())
                    .and_then(|rx| rx.recv().map_err(|_| ()));
                let Ok((id, lines)) = job else { break };
                let mut results: Vec<Mapped> = Vec::with_capacity(lines.len());
                for line in &lines {
                    let mut mapped = (Vec::new(), Outcome::Filtered);
                    map_one(program, &limits, line, &mut mapped);
                    results.push(mapped);
                }
                if done_tx.send((id, lines, results)).is_err() {
                    break;
                }
            });
        }
        drop(done_tx);
        let mut pending: BTreeMap<u64, (Vec<InputLine>, Vec<Mapped>)> = BTreeMap::new();
        let (mut sent, mut written) = (0u64, 0u64);
        let mut write_ready =
            |pending: &mut BTreeMap<u64, _>, written: &mut u64| -> io::Result<()> {
                while let Some((lines, results)) = pending.remove(written) {
                    let (lines, results): (Vec<InputLine>, Vec<Mapped>) = (lines, results);
                    for (line, mapped) in lines.iter().zip(&results) {
                        acc.record(line, mapped)?;
                    }
                    *written += 1;
                }
                Ok(())
            };
        let mut at_end = false;
        while !at_end || written < sent {
            if !at_end && sent - written < in_flight {
                let mut batch = Vec::with_capacity(BATCH);
                while batch.len() < BATCH {
                    let mut line: InputLine = (Vec::new(), None);
                    if !read_into(input, &mut line, limits.max_line_bytes)? {
                        at_end = true;
                        break;
                    }
                    batch.push(line);
                }
                if !batch.is_empty() {
                    // Workers only stop when this sender is dropped.
                    let _ = job_tx.send((sent, batch));
                    sent += 1;
                }
                while let Ok((id, lines, results)) = done_rx.try_recv() {
                    pending.insert(id, (lines, results));
                }
            } else if let Ok((id, lines, results)) = done_rx.recv() {
                pending.insert(id, (lines, results));
            } else {
                break;
            }
            write_ready(&mut pending, &mut written)?;
        }
        drop(job_tx);
        Ok(())
    })
}

/// Writes results and keeps the counts, line by line in input order.
struct Accounts<'w> {
    sinks: Sinks<'w>,
    stats: Stats,
    next_line: u64,
}

impl Accounts<'_> {
    fn record(
        &mut self,
        (input, too_long): &InputLine,
        (bytes, outcome): &Mapped,
    ) -> io::Result<()> {
        let line_no = self.next_line;
        self.next_line += 1;
        self.stats.read += 1;
        match outcome {
            Outcome::Mapped(n) => {
                self.stats.mapped += 1;
                self.stats.records += *n as u64;
                self.sinks.out.write_all(bytes)?;
            }
            Outcome::Filtered => self.stats.filtered += 1,
            Outcome::Rejected(reason) => {
                self.stats.rejected += 1;
                // One line per rejection, whatever the reason quotes.
                writeln!(
                    self.sinks.log,
                    "line {line_no}: rejected: {}",
                    printable(reason)
                )?;
                if let Some(e) = self.sinks.errors.as_mut() {
                    write_error(&mut **e, line_no, reason, input, too_long.is_some())?;
                }
            }
        }
        Ok(())
    }
}

/// The text with control characters (newlines, terminal escapes) written
/// as escapes, so event data quoted in a reason cannot forge log lines.
fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
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
