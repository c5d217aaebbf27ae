//! Arbitrary bytes as NDJSON input to `mapc::run` with the bundled
//! mapping; see `checks::run`.
#![no_main]

mod checks;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mapc::Program;

fn program() -> &'static Program {
    static PROGRAM: OnceLock<Program> = OnceLock::new();
    PROGRAM.get_or_init(|| checks::bundled_program(concat!(env!("CARGO_MANIFEST_DIR"), "/..")))
}

fuzz_target!(|data: &[u8]| checks::run(program(), data));
