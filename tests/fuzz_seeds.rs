//! Replays the fuzz seeds (`fuzz/seeds/`) through the fuzz targets' own
//! checks, so the targets' logic is exercised by every `cargo test` even
//! where cargo-fuzz is not installed.

#[path = "../fuzz/fuzz_targets/checks.rs"]
mod checks;

use std::path::Path;

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).expect("a seed")))
        .collect()
}

#[test]
fn mapping_seeds_pass_the_mapping_target() {
    let seeds = seeds("mapping");
    assert!(!seeds.is_empty());
    for (name, data) in seeds {
        eprintln!("{name}");
        checks::mapping(&data);
    }
}

#[test]
fn run_seeds_pass_the_run_target() {
    let program = checks::bundled_program(env!("CARGO_MANIFEST_DIR"));
    let seeds = seeds("run");
    assert!(!seeds.is_empty());
    for (name, data) in seeds {
        eprintln!("{name}");
        checks::run(&program, &data);
        // Every prefix too: a cut stream is still fully accounted for.
        for cut in (0..data.len()).step_by(97) {
            checks::run(&program, &data[..cut]);
        }
    }
}
