//! Fuzz targets for every parser of outside input, one binary: `tradedeck-fuzz TARGET` reads
//! inputs as AFL++ hands them (under `cargo afl fuzz`), or, with `TRADEDECK_FUZZ_REPLAY` set,
//! one input from standard input (to replay a crash). See the README's "Fuzzing" section.

mod targets;

use std::io::Read;

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some((_, target)) = targets::TARGETS.iter().find(|(n, _)| *n == name) else {
        let names: Vec<&str> = targets::TARGETS.iter().map(|(n, _)| *n).collect();
        eprintln!("usage: tradedeck-fuzz TARGET, one of {}", names.join(", "));
        std::process::exit(2);
    };
    if std::env::var_os("TRADEDECK_FUZZ_REPLAY").is_some() {
        let mut input = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut input);
        target(&String::from_utf8_lossy(&input));
        return;
    }
    afl::fuzz!(|data: &[u8]| {
        if let Ok(s) = std::str::from_utf8(data) {
            target(s);
        }
    });
}
