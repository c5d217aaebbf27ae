//! The `mapc` command: a thin shell over the library.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use mapc::{Limits, Mapping, RunOptions, Settings, Sinks};

/// Map Segment-shaped events with a mapc mapping file.
#[derive(Parser)]
#[command(name = "mapc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Map NDJSON events to NDJSON records.
    Run {
        /// The mapping file.
        #[arg(long = "map", value_name = "FILE")]
        map: PathBuf,
        /// Settings (YAML or JSON); defaults apply when left out.
        #[arg(long, value_name = "FILE")]
        settings: Option<PathBuf>,
        /// Events, one JSON object per line; `-` or nothing reads stdin.
        #[arg(value_name = "INPUT")]
        input: Option<PathBuf>,
        /// Also write each rejected input, with its reason, as JSON here.
        #[arg(long, value_name = "FILE")]
        errors: Option<PathBuf>,
        /// Print read / mapped / filtered / rejected counts to stderr.
        #[arg(long)]
        stats: bool,
        /// Reject lines longer than this many bytes.
        #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_line_bytes)]
        max_line_bytes: usize,
        /// Reject events nesting arrays and objects deeper than this (at most 128).
        #[arg(long, value_name = "LEVELS", default_value_t = Limits::default().max_depth as u8,
              value_parser = clap::value_parser!(u8).range(1..=128))]
        max_depth: u8,
        /// Worker threads (default: one per core).
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
    },
    /// Lint mapping files.
    Check {
        /// Mapping files to check.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Also check this settings file against each mapping.
        #[arg(long, value_name = "FILE")]
        settings: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Exit with status 1 on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// miette reports, like rustc.
    Human,
    /// One JSON object per line per diagnostic.
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            map,
            settings,
            input,
            errors,
            stats,
            max_line_bytes,
            max_depth,
            threads,
        } => {
            let opts = RunOptions {
                limits: Limits {
                    max_line_bytes,
                    max_depth: max_depth.into(),
                },
                threads: threads.unwrap_or(RunOptions::default().threads),
            };
            run(map, settings, input, errors, stats, opts)
        }
        Command::Check {
            files,
            settings,
            format,
            deny_warnings,
        } => check(&files, settings, format, deny_warnings),
    }
}

fn color() -> bool {
    io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn run(
    map: PathBuf,
    settings: Option<PathBuf>,
    input: Option<PathBuf>,
    errors: Option<PathBuf>,
    stats: bool,
    opts: RunOptions,
) -> ExitCode {
    let mapping = match Mapping::from_file(&map) {
        Ok(m) => m,
        Err(d) => {
            eprint!("{}", d.render(color(), 100));
            return ExitCode::from(2);
        }
    };
    let settings = match settings
        .map(Settings::from_file)
        .unwrap_or_else(|| Ok(Settings::default()))
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let program = match mapping.bind(&settings) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut input: Box<dyn io::BufRead> = match input.as_deref() {
        None => Box::new(io::stdin().lock()),
        Some(p) if p.as_os_str() == "-" => Box::new(io::stdin().lock()),
        Some(p) => match File::open(p) {
            Ok(f) => Box::new(BufReader::with_capacity(1 << 16, f)),
            Err(e) => {
                eprintln!("error: cannot read input `{}`: {e}", p.display());
                return ExitCode::from(2);
            }
        },
    };
    let mut errors_file = match errors.as_deref().map(File::create).transpose() {
        Ok(f) => f.map(BufWriter::new),
        Err(e) => {
            eprintln!("error: cannot create the errors file: {e}");
            return ExitCode::from(2);
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let stderr = io::stderr();
    let mut log = BufWriter::new(stderr.lock());
    let sinks = Sinks {
        out: &mut out,
        log: &mut log,
        errors: errors_file.as_mut().map(|f| f as &mut dyn Write),
    };
    let result = mapc::run(&program, &mut input, sinks, opts);
    let code = match result {
        Ok(s) => {
            if stats {
                let _ = writeln!(log, "{s}");
            }
            if s.rejected > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(log, "error: {e}");
            ExitCode::from(2)
        }
    };
    let _ = log.flush();
    code
}

fn check(
    files: &[PathBuf],
    settings_path: Option<PathBuf>,
    format: Format,
    deny_warnings: bool,
) -> ExitCode {
    let settings_name = settings_path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let settings = match settings_path.map(Settings::from_file).transpose() {
        Ok(s) => s,
        Err(e) => {
            report_settings(&e, format);
            return ExitCode::from(1);
        }
    };
    let (mut errors, mut warnings) = (0, 0);
    for file in files {
        let diags = mapc::check(file);
        errors += diags.error_count();
        warnings += diags.items.len() - diags.error_count();
        report(&diags, format);
        if let (Some(s), false) = (&settings, diags.has_errors()) {
            if let Ok(mapping) = Mapping::from_file(file) {
                match mapping.check_settings(s, &settings_name) {
                    Ok(d) => {
                        warnings += d.items.len();
                        report(&d, format);
                    }
                    Err(e) => {
                        errors += e.problems.len();
                        report_settings(&e, format);
                    }
                }
            }
        }
    }
    if format == Format::Human {
        let summary = match (errors, warnings) {
            (0, 0) => format!("{} file(s) checked: no problems", files.len()),
            _ => format!(
                "{} file(s) checked: {errors} error(s), {warnings} warning(s)",
                files.len()
            ),
        };
        eprintln!("{summary}");
    }
    if errors > 0 || (deny_warnings && warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn report(diags: &mapc::Diagnostics, format: Format) {
    match format {
        Format::Human => eprint!("{}", diags.render(color(), 100)),
        Format::Json => {
            for d in diags.to_json() {
                println!("{d}");
            }
        }
    }
}

fn report_settings(e: &mapc::SettingsError, format: Format) {
    match format {
        Format::Human => eprintln!("{e}"),
        Format::Json => {
            for d in e.to_json() {
                println!("{d}");
            }
        }
    }
}
