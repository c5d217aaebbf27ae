//! Arbitrary bytes as a mapping file; see `checks::mapping`.
#![no_main]

mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::mapping(data));
