//! Diagnostics: problems found in a mapping or settings file, each with a
//! stable code, a span, a label and a help line. They render as miette
//! reports for people and as JSON lines for editors and CI.

pub mod codes;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use crate::syntax::ast::Span;
pub use codes::Code;

/// One source file known to a load: its display name and text.
#[derive(Debug)]
pub struct SourceFile {
    /// The name used in diagnostics (the path as given).
    pub name: String,
    /// Where it was read from, if it came from disk.
    pub path: Option<PathBuf>,
    /// Its text.
    pub text: Arc<str>,
}

/// Every file read while loading a mapping, indexed by [`Span::file`].
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// Adds a file and returns its index.
    pub fn add(&mut self, name: String, path: Option<PathBuf>, text: Arc<str>) -> u32 {
        self.files.push(SourceFile { name, path, text });
        (self.files.len() - 1) as u32
    }

    /// The file with this index.
    pub fn file(&self, index: u32) -> &SourceFile {
        &self.files[index as usize]
    }

    /// How many files there are.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when no file was added.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The text a span covers.
    pub fn snippet(&self, span: Span) -> &str {
        let text = &self.file(span.file).text;
        text.get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    /// 1-based line and column (in characters) of a span's start.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        let text = &self.file(span.file).text;
        let upto = &text[..(span.start as usize).min(text.len())];
        let line = upto.matches('\n').count() + 1;
        let line_start = upto.rfind('\n').map_or(0, |i| i + 1);
        let col = upto[line_start..].chars().count() + 1;
        (line, col)
    }

    /// `file:line:column` of a span, for runtime messages.
    pub fn location(&self, span: Span) -> String {
        let (line, col) = self.line_col(span);
        format!("{}:{line}:{col}", self.file(span.file).name)
    }
}

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The mapping cannot be used.
    Error,
    /// The mapping works but probably not as meant.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem, located in a file.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Its stable code.
    pub code: Code,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where.
    pub span: Span,
    /// A short label shown under the span.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error.
    pub fn error(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            label: String::new(),
            help: None,
        }
    }

    /// A warning.
    pub fn warning(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    /// Sets the label under the span.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Sets the help line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// The diagnostics of one load or check, with the sources they point into.
#[derive(Clone)]
pub struct Diagnostics {
    /// The files the spans refer to.
    pub sources: Arc<SourceMap>,
    /// The diagnostics, sorted by file and position.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Wraps diagnostics, sorting them by position.
    pub fn new(sources: Arc<SourceMap>, mut items: Vec<Diagnostic>) -> Self {
        items.sort_by_key(|d| (d.span.file, d.span.start, d.severity));
        Diagnostics { sources, items }
    }

    /// True when at least one is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// How many are errors.
    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// Renders every diagnostic as a miette report, without colour, at the
    /// given width: the form shown in terminals and kept in snapshot tests.
    pub fn render(&self, color: bool, width: usize) -> String {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme).with_width(width);
        let mut out = String::new();
        for d in &self.items {
            if self.line_is_too_long(d.span) {
                // miette cannot draw columns past 65,535; say where instead.
                let _ = self.write_plain(&mut out, d);
                continue;
            }
            let report = Report::new(&self.sources, d);
            if handler.render_report(&mut out, &report).is_err() {
                out.push_str(&d.message);
            }
            out.push('\n');
        }
        out
    }

    fn line_is_too_long(&self, span: Span) -> bool {
        const MAX_DRAWN_LINE: usize = 10_000;
        let text = &self.sources.file(span.file).text;
        let at = (span.start as usize).min(text.len());
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        end - start > MAX_DRAWN_LINE
            || span.end.saturating_sub(span.start) as usize > MAX_DRAWN_LINE
    }

    fn write_plain(&self, out: &mut String, d: &Diagnostic) -> fmt::Result {
        use std::fmt::Write;
        let (line, col) = self.sources.line_col(d.span);
        let file = &self.sources.file(d.span.file).name;
        writeln!(
            out,
            "{}\n\n  {} {}\n  at {file}:{line}:{col} (the line is too long to show)",
            d.code,
            if d.severity == Severity::Error {
                "×"
            } else {
                "⚠"
            },
            d.message
        )?;
        if let Some(help) = &d.help {
            writeln!(out, "  help: {help}")?;
        }
        writeln!(out)
    }

    /// One JSON object per diagnostic, for editors and CI.
    pub fn to_json(&self) -> Vec<serde_json::Value> {
        self.items
            .iter()
            .map(|d| {
                let (line, column) = self.sources.line_col(d.span);
                serde_json::json!({
                    "file": self.sources.file(d.span.file).name,
                    "severity": d.severity.to_string(),
                    "code": d.code.0,
                    "message": d.message,
                    "line": line,
                    "column": column,
                    "span": { "start": d.span.start, "end": d.span.end },
                    "label": d.label,
                    "help": d.help,
                })
            })
            .collect()
    }
}

impl fmt::Debug for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false, 100))
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.items {
            let (line, col) = self.sources.line_col(d.span);
            let file = &self.sources.file(d.span.file).name;
            writeln!(
                f,
                "{file}:{line}:{col}: {} [{}]: {}",
                d.severity, d.code, d.message
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Adapter that lets miette render one [`Diagnostic`].
struct Report {
    source: NamedSource<Arc<str>>,
    diagnostic: Diagnostic,
}

impl Report {
    fn new(sources: &SourceMap, d: &Diagnostic) -> Self {
        let file = sources.file(d.span.file);
        Report {
            source: NamedSource::new(file.name.clone(), file.text.clone()),
            diagnostic: d.clone(),
        }
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diagnostic.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.diagnostic.span;
        let range = SourceSpan::new(
            (span.start as usize).into(),
            (span.end - span.start) as usize,
        );
        let label = (!self.diagnostic.label.is_empty()).then(|| self.diagnostic.label.clone());
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            label, range,
        ))))
    }
}
