//! Syntax: mapping-file text to an AST. The grammar is `grammar/mapc.pest`;
//! this module turns pest's pairs into [`ast`] nodes and pest's errors into
//! [`Diagnostic`](crate::Diagnostic)s that say what was expected in words, not rule names.

pub mod ast;
mod parse;

pub use parse::parse_file;

/// The pest parser generated from `grammar/mapc.pest`.
#[allow(missing_docs)]
mod generated {
    #[derive(pest_derive::Parser)]
    #[grammar = "../grammar/mapc.pest"]
    pub struct MapcParser;
}
pub use generated::{MapcParser, Rule};

/// The deepest nesting of brackets and template parts a file may use. Far
/// beyond any real mapping; it keeps hostile files from exhausting the stack.
pub const MAX_NESTING: usize = 64;

/// The most operators one expression may chain, and the most steps one
/// path may take.
pub const MAX_OPERATORS: usize = 256;
