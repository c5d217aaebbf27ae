//! Loading: read a mapping file and everything it imports, and merge them
//! into one set of definitions. An importing file overrides what it
//! imports: a setting, `let` or `fn` of the same name replaces the
//! imported one, and its `on T` rules replace all imported rules for `T`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::{codes, Diagnostic, SourceMap};
use crate::syntax::ast::{FnDef, Item, LetDef, Name, RuleDef, SettingDecl, Span};
use crate::syntax::parse_file;

/// The merged definitions of a mapping and its imports.
#[derive(Debug, Default)]
pub struct Merged {
    /// Declared settings, in order.
    pub settings: Vec<SettingDecl>,
    /// Declared output APIs.
    pub apis: Vec<Name>,
    /// Top-level lets.
    pub lets: Vec<LetDef>,
    /// `fn` helpers.
    pub fns: Vec<FnDef>,
    /// Rules, in order (grouped by type later).
    pub rules: Vec<RuleDef>,
}

/// Reads and merges. Errors go to `diags`; what could be read is returned.
pub fn load(
    sources: &mut SourceMap,
    name: String,
    path: Option<PathBuf>,
    text: Arc<str>,
    diags: &mut Vec<Diagnostic>,
) -> Merged {
    let mut loader = Loader {
        sources,
        diags,
        stack: Vec::new(),
    };
    let base = path
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    loader.file(name, path, text, &base)
}

struct Loader<'s> {
    sources: &'s mut SourceMap,
    diags: &'s mut Vec<Diagnostic>,
    /// Canonical paths of the files being loaded, to detect cycles.
    stack: Vec<PathBuf>,
}

impl Loader<'_> {
    fn file(&mut self, name: String, path: Option<PathBuf>, text: Arc<str>, base: &Path) -> Merged {
        let canonical = path.as_ref().and_then(|p| p.canonicalize().ok());
        let file = self.sources.add(name, path, text.clone());
        let items = match parse_file(&text, file) {
            Ok(items) => items,
            Err(d) => {
                let at = d.span.end as usize;
                self.diags.push(d);
                self.more_syntax_errors(&text, file, at);
                return Merged::default();
            }
        };
        if let Some(c) = &canonical {
            self.stack.push(c.clone());
        }
        let mut merged = Merged::default();
        let mut own = Merged::default();
        for item in items {
            match item.node {
                Item::Import(target) => {
                    if let Some(imported) = self.import(&target.node, target.span, base) {
                        merged.absorb(imported);
                    }
                }
                Item::Apis(names) => own.apis.extend(names),
                Item::Settings(decls) => own.settings.extend(decls),
                Item::Let(l) => own.lets.push(l),
                Item::Fn(f) => own.fns.push(f),
                Item::Rule(r) => own.rules.push(r),
            }
        }
        self.report_duplicates(&own);
        merged.absorb(own);
        if canonical.is_some() {
            self.stack.pop();
        }
        merged
    }

    /// After a syntax error, parses again from each following top-level
    /// item (a line that starts with `on`, `let`, `fn`, `settings`, `apis`
    /// or `import`) so that one check reports every broken item, not only
    /// the first.
    fn more_syntax_errors(&mut self, text: &str, file: u32, mut after: usize) {
        while let Some(start) = next_item_start(text, after) {
            match parse_file(&text[start..], file) {
                Ok(_) => return,
                Err(mut d) => {
                    d.span.start += start as u32;
                    d.span.end += start as u32;
                    after = (d.span.end as usize).max(start + 1);
                    self.diags.push(d);
                }
            }
        }
    }

    fn import(&mut self, target: &str, span: Span, base: &Path) -> Option<Merged> {
        let path = base.join(target);
        let cannot_read = |e: std::io::Error, help: &str| {
            Diagnostic::error(
                codes::IMPORT_NOT_FOUND,
                span,
                format!("cannot read `{}`: {e}", path.display()),
            )
            .label("imported here")
            .help(help)
        };
        let canonical = match path.canonicalize() {
            Ok(c) => c,
            Err(e) => {
                self.diags.push(cannot_read(
                    e,
                    "import paths are relative to the importing file",
                ));
                return None;
            }
        };
        if self.stack.contains(&canonical) {
            self.diags.push(
                Diagnostic::error(
                    codes::IMPORT_CYCLE,
                    span,
                    format!("`{target}` imports this file again"),
                )
                .label("this import closes a cycle")
                .help("move what both files need into a third file that neither imports"),
            );
            return None;
        }
        let text = match std::fs::read_to_string(&canonical) {
            Ok(t) => t,
            Err(e) => {
                self.diags
                    .push(cannot_read(e, "the file must be UTF-8 text"));
                return None;
            }
        };
        let base = canonical
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Some(self.file(path.display().to_string(), Some(path), text.into(), &base))
    }

    fn report_duplicates(&mut self, own: &Merged) {
        let mut seen: HashMap<(&str, &str), Span> = HashMap::new();
        let names = own
            .settings
            .iter()
            .map(|s| ("setting", &s.name))
            .chain(own.lets.iter().map(|l| ("binding", &l.name)))
            .chain(own.fns.iter().map(|f| ("binding", &f.name)));
        for (kind, name) in names {
            if let Some(first) = seen.insert((kind, &name.node), name.span) {
                let (line, _) = self.sources.line_col(first);
                self.diags.push(
                    Diagnostic::error(
                        codes::DUPLICATE_DEFINITION,
                        name.span,
                        format!("`{}` is already defined on line {line}", name.node),
                    )
                    .label("defined again")
                    .help("rename one of them, or remove one"),
                );
            }
        }
    }
}

/// The byte offset of the first line after `after` that starts (in its
/// first column) with a top-level keyword.
fn next_item_start(text: &str, after: usize) -> Option<usize> {
    const STARTS: [&str; 6] = ["on ", "let ", "fn ", "settings", "apis ", "import "];
    let mut pos = text.get(after..)?.find('\n')? + after + 1;
    loop {
        let line = &text[pos..];
        if STARTS.iter().any(|k| line.starts_with(k)) {
            return Some(pos);
        }
        pos += line.find('\n')? + 1;
    }
}

impl Merged {
    /// Adds `other`'s definitions, letting them override this one's.
    fn absorb(&mut self, other: Merged) {
        for s in other.settings {
            self.settings.retain(|x| x.name.node != s.name.node);
            self.settings.push(s);
        }
        for a in other.apis {
            if !self.apis.iter().any(|x| x.node == a.node) {
                self.apis.push(a);
            }
        }
        for l in other.lets {
            self.lets.retain(|x| x.name.node != l.name.node);
            self.fns.retain(|x| x.name.node != l.name.node);
            self.lets.push(l);
        }
        for f in other.fns {
            self.lets.retain(|x| x.name.node != f.name.node);
            self.fns.retain(|x| x.name.node != f.name.node);
            self.fns.push(f);
        }
        let replaced: Vec<String> = other
            .rules
            .iter()
            .flat_map(|r| r.event_types.iter().map(|t| t.node.clone()))
            .collect();
        for r in &mut self.rules {
            r.event_types.retain(|t| !replaced.contains(&t.node));
        }
        self.rules.retain(|r| !r.event_types.is_empty());
        self.rules.extend(other.rules);
    }
}
