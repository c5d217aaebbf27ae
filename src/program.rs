//! The library's front door: load a [`Mapping`], bind it to [`Settings`]
//! once, then map events with the resulting [`Program`] from any number of
//! threads.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::bind::bind;
use crate::compile::{self, ir::Code};
use crate::diagnostic::{codes, Diagnostic, Diagnostics, SourceMap};
use crate::doc::Doc;
use crate::eval::{Machine, Record};
use crate::load::load;
use crate::settings::{SettingInfo, Settings, SettingsError};
use crate::syntax::ast::Span;
use crate::value::quote;

/// A checked and compiled mapping, not yet bound to settings.
pub struct Mapping {
    sources: Arc<SourceMap>,
    code: Code,
    settings: Vec<SettingInfo>,
    warnings: Diagnostics,
}

impl fmt::Debug for Mapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mapping")
            .field("files", &self.sources.len())
            .field(
                "settings",
                &self.settings.iter().map(|s| &s.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Mapping {
    /// Loads a mapping file and the files it imports (relative to it).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Mapping, Diagnostics> {
        Mapping::build(check_path(path.as_ref()))
    }

    /// Loads a mapping from text; its imports are read relative to the
    /// current directory.
    pub fn from_source(name: &str, text: &str) -> Result<Mapping, Diagnostics> {
        Mapping::build(check_source(name, None, text.into()))
    }

    fn build(checked: Checked) -> Result<Mapping, Diagnostics> {
        let Checked {
            sources,
            diags,
            output,
        } = checked;
        let sources = Arc::new(sources);
        let all = Diagnostics::new(sources.clone(), diags);
        if all.has_errors() {
            return Err(all);
        }
        let output = output.expect("no errors means compiled");
        Ok(Mapping {
            warnings: all,
            sources,
            code: output.code,
            settings: output.settings,
        })
    }

    /// Warnings found while checking (a mapping with errors does not load).
    pub fn warnings(&self) -> &Diagnostics {
        &self.warnings
    }

    /// The declared settings.
    pub fn settings(&self) -> &[SettingInfo] {
        &self.settings
    }

    /// Checks `settings` against the declarations and folds them in.
    pub fn bind(&self, settings: &Settings) -> Result<Program, SettingsError> {
        let values = settings.resolve(&self.settings)?;
        let (code, _) = bind(&self.code, &values);
        let types = code
            .rules
            .iter()
            .map(|(t, _)| &**t)
            .collect::<Vec<_>>()
            .join(", ");
        Ok(Program {
            code,
            types: types.into(),
        })
    }
}

impl Mapping {
    /// Checks `settings` against the declarations and warns about each rule
    /// that can never run with them (its condition is false for every event).
    pub fn check_settings(
        &self,
        settings: &Settings,
        settings_name: &str,
    ) -> Result<Diagnostics, SettingsError> {
        let values = settings.resolve(&self.settings)?;
        let (_, dropped) = bind(&self.code, &values);
        let items = dropped
            .into_iter()
            .map(|(ty, span)| {
                Diagnostic::warning(
                    codes::UNREACHABLE_RULE,
                    span,
                    format!("with the settings in {settings_name}, this rule never runs for `{ty}` events"),
                )
                .label("condition is false with these settings")
                .help("change the settings if these events should be mapped; otherwise this is expected")
            })
            .collect();
        Ok(Diagnostics::new(self.sources.clone(), items))
    }
}

/// What checking a mapping produced: all diagnostics, and the compiled
/// code when there were no errors.
pub(crate) struct Checked {
    pub(crate) sources: SourceMap,
    pub(crate) diags: Vec<Diagnostic>,
    output: Option<compile::Output>,
}

/// Every diagnostic (errors and warnings) for one mapping file.
pub fn check(path: &Path) -> Diagnostics {
    let Checked { sources, diags, .. } = check_path(path);
    Diagnostics::new(Arc::new(sources), diags)
}

fn check_path(path: &Path) -> Checked {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => check_source(&name, Some(path.to_path_buf()), text.into()),
        Err(e) => {
            let mut sources = SourceMap::default();
            let file = sources.add(name.clone(), Some(path.to_path_buf()), "".into());
            let d = Diagnostic::error(
                codes::IMPORT_NOT_FOUND,
                Span {
                    file,
                    start: 0,
                    end: 0,
                },
                format!("cannot read mapping file `{name}`: {e}"),
            )
            .help("give the path of a .map file, e.g. mappings/amplitude.map");
            Checked {
                sources,
                diags: vec![d],
                output: None,
            }
        }
    }
}

fn check_source(name: &str, path: Option<std::path::PathBuf>, text: Arc<str>) -> Checked {
    let mut sources = SourceMap::default();
    let mut diags = Vec::new();
    let merged = load(&mut sources, name.to_string(), path, text, &mut diags);
    let has_errors =
        |diags: &[Diagnostic]| diags.iter().any(|d| d.severity == crate::Severity::Error);
    // Files that do not load are not compiled; code with errors is not kept.
    let output = (!has_errors(&diags))
        .then(|| compile::compile(&merged, &sources, &mut diags))
        .filter(|_| !has_errors(&diags));
    Checked {
        sources,
        diags,
        output,
    }
}

/// Why an event was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection(pub String);

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Rejection {}

/// A mapping bound to settings: ready to map events. It is immutable,
/// `Send` and `Sync`, so one program can serve many threads.
pub struct Program {
    code: Code,
    /// The event types the mapping handles, for messages.
    types: Box<str>,
}

impl fmt::Debug for Program {
    /// Shows the shape only: folded settings may be secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Program")
            .field("event_types", &self.types)
            .field("outputs", &self.code.apis)
            .finish_non_exhaustive()
    }
}

/// What happened to one input line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// This many records were written.
    Mapped(usize),
    /// A rule handled the event and emitted nothing.
    Filtered,
    /// The event was rejected for this reason; nothing was written.
    Rejected(String),
}

impl Program {
    /// Maps one event to its records, or says why it is rejected. The
    /// event is dispatched on its `type` field to the first `on` rule of
    /// that type whose condition holds; an empty result means filtered.
    /// Records borrow from the event and the program.
    pub fn map_event<'a>(&'a self, event: &'a Doc<'a>) -> Result<Vec<Record<'a>>, Rejection> {
        let mut out = Vec::new();
        self.map_into(event, &mut out).map_err(Rejection)?;
        Ok(out)
    }

    /// Maps a `serde_json::Value` event to owned `{"api", "payload"}`
    /// records: the convenient form when speed matters less.
    pub fn map_value(&self, event: &Value) -> Result<Vec<Value>, Rejection> {
        let doc = Doc::from_value(event);
        Ok(self.map_event(&doc)?.iter().map(Record::to_json).collect())
    }

    fn map_into<'a>(&'a self, event: &'a Doc<'a>, out: &mut Vec<Record<'a>>) -> Result<(), String> {
        let Doc::Object(fields) = event else {
            return Err(format!(
                "an event must be a JSON object, found {}",
                doc_kind(event)
            ));
        };
        let ty = match fields.iter().find(|(k, _)| k == "type").map(|(_, v)| v) {
            Some(Doc::Str(s)) => s.as_ref(),
            None | Some(Doc::Null) => {
                return Err(format!(
                    "the event has no \"type\" field; expected one of: {}",
                    self.types
                ))
            }
            Some(other) => {
                return Err(format!(
                    "the event's \"type\" must be a string such as \"track\", found {}",
                    doc_kind(other)
                ))
            }
        };
        let Some((_, rules)) = self.code.rules.iter().find(|(t, _)| &**t == ty) else {
            return Err(format!(
                "unknown event type {}; this mapping handles: {}",
                quote(ty),
                self.types
            ));
        };
        let mut machine = Machine::new(&self.code, event);
        for rule in rules {
            if let Some(when) = &rule.when {
                if !machine.condition(when, rule.site)? {
                    continue;
                }
            }
            return machine.exec(&rule.body, out);
        }
        Ok(())
    }

    /// Maps one NDJSON line, appending one `{"api", "payload"}` line per
    /// record to `out`. Nothing is appended for a rejected line.
    pub fn map_line(&self, line: &[u8], limits: &Limits, out: &mut Vec<u8>) -> Outcome {
        match self.try_map_line(line, limits, out) {
            Ok(0) => Outcome::Filtered,
            Ok(n) => Outcome::Mapped(n),
            Err(reason) => Outcome::Rejected(reason),
        }
    }

    fn try_map_line(
        &self,
        line: &[u8],
        limits: &Limits,
        out: &mut Vec<u8>,
    ) -> Result<usize, String> {
        if line.len() > limits.max_line_bytes {
            return Err(too_long(line.len(), limits.max_line_bytes));
        }
        let text = std::str::from_utf8(line).map_err(|e| {
            format!(
                "the line is not valid UTF-8 (bad byte at offset {})",
                e.valid_up_to()
            )
        })?;
        if text.trim().is_empty() {
            return Err("the line is empty; expected one JSON event per line".to_string());
        }
        let event = Doc::parse_nested(text, limits.max_depth).map_err(|e| {
            if e.is_data() {
                format!(
                    "the event nests arrays and objects more than {} deep (raise the limit with --max-depth)",
                    limits.max_depth
                )
            } else {
                format!("invalid JSON: {e}")
            }
        })?;
        let mut records = Vec::new();
        self.map_into(&event, &mut records)?;
        let start = out.len();
        for r in &records {
            if let Err(e) = serde_json::to_writer(&mut *out, r) {
                out.truncate(start);
                return Err(format!("cannot write the output: {e}"));
            }
            out.push(b'\n');
        }
        Ok(records.len())
    }
}

/// Bounds on what one input line may be.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The longest line accepted, in bytes.
    pub max_line_bytes: usize,
    /// The deepest nesting of arrays and objects accepted.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: 1 << 20,
            max_depth: 64,
        }
    }
}

/// The rejection reason for a line over the size limit.
pub(crate) fn too_long(len: usize, max: usize) -> String {
    format!("the line is {len} bytes long; the limit is {max} (raise it with --max-line-bytes)")
}

fn doc_kind(v: &Doc<'_>) -> &'static str {
    match v {
        Doc::Null => "null",
        Doc::Bool(_) => "a boolean",
        Doc::Num(_) => "a number",
        Doc::Str(_) => "a string",
        Doc::Array(_) => "an array",
        Doc::Object(_) => "an object",
    }
}
