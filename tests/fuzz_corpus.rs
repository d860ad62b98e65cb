//! The fuzz targets of `tests/fuzz` (the same code the AFL runs drive) over their seed corpus
//! and deterministic mutations of it: flipped bytes, cut inputs, numbers made huge, tiny or
//! negative, quotes and brackets dropped. A panic in any parser of outside input fails the
//! test; the coverage-guided runs are the README's "Fuzzing".

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

#[path = "fuzz/src/targets.rs"]
mod targets;

use std::path::Path;

/// Numbers a mutation puts in place of a number.
const EXTREMES: [&str; 10] = [
    "79228162514264337593543950335",
    "-79228162514264337593543950336",
    "1e308",
    "0.0000000000000000000000000001",
    "-0",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "NaN",
    "",
];

/// A small deterministic generator.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

/// The `i`-th mutation of `seed`.
fn mutate(seed: &str, rng: &mut Lcg) -> String {
    let bytes = seed.as_bytes();
    match rng.below(5) {
        // a byte flipped
        0 if !bytes.is_empty() => {
            let mut b = bytes.to_vec();
            let at = rng.below(b.len());
            b[at] ^= 1 << rng.below(8);
            String::from_utf8_lossy(&b).into_owned()
        }
        // cut short
        1 => {
            let mut at = rng.below(seed.len() + 1);
            while !seed.is_char_boundary(at) {
                at -= 1;
            }
            seed[..at].to_string()
        }
        // a character dropped (a quote, a bracket, a digit)
        2 if !seed.is_empty() => {
            let chars: Vec<char> = seed.chars().collect();
            let at = rng.below(chars.len());
            chars
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != at)
                .map(|(_, c)| *c)
                .collect()
        }
        // a run of digits replaced by an extreme number
        _ => {
            let starts: Vec<usize> = seed
                .char_indices()
                .filter(|(i, c)| {
                    c.is_ascii_digit() && (*i == 0 || !seed.as_bytes()[i - 1].is_ascii_digit())
                })
                .map(|(i, _)| i)
                .collect();
            if starts.is_empty() {
                return seed.to_string();
            }
            let from = starts[rng.below(starts.len())];
            let len = seed[from..]
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(seed.len() - from);
            let with = EXTREMES[rng.below(EXTREMES.len())];
            format!("{}{with}{}", &seed[..from], &seed[from + len..])
        }
    }
}

#[test]
fn every_parser_of_outside_input_survives_its_corpus_and_its_mutations() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus");
    let mut rng = Lcg(0xF022);
    for (name, target) in targets::TARGETS {
        let dir = corpus.join(name);
        let mut seeds: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| {
                String::from_utf8_lossy(&std::fs::read(e.unwrap().path()).unwrap()).into_owned()
            })
            .collect();
        seeds.sort();
        assert!(!seeds.is_empty(), "{name} has a seed corpus");
        // the config target parses a whole file each time: fewer rounds keep this quick
        let rounds = if name == "config" { 150 } else { 1500 };
        for seed in &seeds {
            target(seed);
            let mut current = seed.clone();
            for i in 0..rounds {
                // now and then start again from the seed, else stack mutations
                if i % 8 == 0 {
                    current = seed.clone();
                }
                current = mutate(&current, &mut rng);
                target(&current);
            }
        }
    }
}
