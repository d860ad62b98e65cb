//! The layers of DESIGN.md §8, kept by a test: the deterministic core (model, clock, market,
//! indicators, signals, risk, portfolio, strategy, exec, engine) names only the layers below
//! it, never an edge (config, app, tui, notify, metrics, control, store, venues, ai, cli); and
//! only the command line names the composition root `app`.
//!
//! It reads every file under `src/`, resolves each `crate::…` path (and each `super::…` path
//! that climbs out of its module) to the top-level module it names, and compares that with
//! the allowed arrows. `cargo test --test layering -- --nocapture` prints the whole import
//! graph: which top-level module names which.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each core module and the modules it may name. Everything not listed here is an edge or
/// the composition root, which may name anything below it.
const CORE: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("clock", &["model"]),
    ("rng", &[]),
    ("indicators", &["model"]),
    ("market", &["model", "indicators"]),
    ("portfolio", &["model"]),
    ("signals", &["model", "market", "indicators"]),
    ("risk", &["model", "market", "indicators", "portfolio"]),
    (
        "strategy",
        &["model", "rng", "market", "indicators", "signals"],
    ),
    ("exec", &["model", "market"]),
    (
        "engine",
        &[
            "model",
            "market",
            "indicators",
            "signals",
            "risk",
            "portfolio",
            "strategy",
            "exec",
        ],
    ),
];

/// The edges: no core module may name one.
const EDGES: &[&str] = &[
    "config", "app", "tui", "notify", "metrics", "control", "store", "venues", "ai", "cli",
    "history",
];

/// Every `.rs` file under `dir`.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file under `src/` belongs to (`engine` for `src/engine/orders.rs`,
/// `replay` for `src/replay.rs`), and how many `super::` reach the crate root from it.
fn module_of(rel: &Path) -> (String, usize) {
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let top = parts[0].trim_end_matches(".rs").to_string();
    let file = parts.last().unwrap();
    // src/x.rs and src/x/mod.rs sit one below the root; each folder and file below adds one
    let depth = parts.len() - usize::from(file == "mod.rs");
    (top, depth)
}

/// The top-level modules `text` (a file `depth` below the root) names.
fn named(text: &str, mut depth: usize) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        // an inline module (`mod tests {`, at a file's end) is one more `super::` down
        let inline = code.trim_start_matches("pub ").strip_prefix("mod ");
        if inline.is_some_and(|rest| rest.trim_end().ends_with('{')) {
            depth += 1;
        }
        let code = code.split("//").next().unwrap_or_default();
        for (i, _) in code.match_indices("crate::") {
            // `tradedeck_fuzz::crate::` never occurs; `$crate::` is a macro path of our own
            if code[..i].ends_with('$')
                || code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            {
                continue;
            }
            out.extend(heads(&code[i + "crate::".len()..]));
        }
        // `super::super::x` from deep enough reaches the root too
        let mut rest = code;
        while let Some(i) = rest.find("super::") {
            let mut supers = 0;
            let mut tail = &rest[i..];
            while let Some(t) = tail.strip_prefix("super::") {
                supers += 1;
                tail = t;
            }
            if supers >= depth {
                out.extend(heads(tail));
            }
            rest = &rest[i + "super::".len() * supers..];
        }
    }
    out
}

/// The module names a path after `crate::` starts with: one identifier, or each one of a
/// `{a::x, b}` list.
fn heads(s: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let Some(list) = s.strip_prefix('{') else {
        return vec![ident(s)]
            .into_iter()
            .filter(|n| !n.is_empty())
            .collect();
    };
    // the list's items at its own depth (nested braces belong to an item)
    let mut items = vec![String::new()];
    let mut depth = 0;
    for c in list.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => items.push(String::new()),
            _ => {}
        }
        if let Some(last) = items.last_mut() {
            last.push(c);
        }
    }
    items
        .iter()
        .map(|i| ident(i.trim_start_matches(',')))
        .filter(|n| !n.is_empty() && n != "self")
        .collect()
}

/// The import graph of the crate at `root`: top-level module → the modules it names.
fn graph(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let src = root.join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in all {
        let rel = path.strip_prefix(&src).unwrap();
        let (top, depth) = module_of(rel);
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let entry = g.entry(top.clone()).or_default();
        entry.extend(named(&text, depth).into_iter().filter(|m| *m != top));
    }
    g
}

/// The composition root and the command line above it: no edge or core module names them.
const ROOTS: &[&str] = &["app", "cli"];

/// What breaks the layers in `g`: (module, what it names that it may not).
fn violations(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<(String, String)> {
    let mut bad = Vec::new();
    // only `cli` names `app`, and nothing names `cli`
    for (module, names) in g {
        for root in ROOTS {
            let allowed = module == "cli" && *root == "app";
            if names.contains(*root) && !allowed && module != root {
                bad.push((module.clone(), root.to_string()));
            }
        }
    }
    for (module, allowed) in CORE {
        for name in g.get(*module).into_iter().flatten() {
            if !allowed.contains(&name.as_str()) {
                bad.push((module.to_string(), name.clone()));
            }
        }
    }
    bad
}

#[test]
fn the_core_names_only_the_layers_below_it() {
    let g = graph(Path::new(env!("CARGO_MANIFEST_DIR")));
    println!("the import graph (module -> the modules it names):");
    for (module, names) in &g {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        println!("  {module} -> {}", names.join(" "));
    }
    for (module, _) in CORE {
        assert!(g.contains_key(*module), "src/{module} is missing");
    }
    let bad = violations(&g);
    assert!(
        bad.is_empty(),
        "core modules naming what they may not (DESIGN.md §8): {bad:?}"
    );
}

#[test]
fn every_edge_is_forbidden_to_every_core_module() {
    for (module, allowed) in CORE {
        for edge in EDGES {
            assert!(!allowed.contains(edge), "{module} may name {edge}");
        }
    }
}

/// The imports that once broke the layers, each placed in its file: every one is caught.
#[test]
fn the_check_catches_the_imports_that_once_broke_the_layers() {
    let cases: &[(&str, &str, &str)] = &[
        ("engine/snapshot.rs", "use crate::config::Mode;", "config"),
        (
            "engine/snapshot.rs",
            "    pub notifier: Vec<crate::notify::ChannelHealth>,",
            "notify",
        ),
        (
            "engine/mod.rs",
            "        cfg: &crate::config::Config,",
            "config",
        ),
        (
            "risk/limits.rs",
            "    #[serde(deserialize_with = \"crate::config::de_decimal\")]",
            "config",
        ),
        ("signals/llm/client.rs", "use crate::app::clock;", "app"),
        (
            "signals/llm/worker.rs",
            "use crate::engine::Event;",
            "engine",
        ),
        (
            "market/sync.rs",
            "use crate::engine::LevelChange;",
            "engine",
        ),
        (
            "engine/orders.rs",
            "use super::super::store::Store;",
            "store",
        ),
        (
            "strategy/mod.rs",
            "use crate::{model::Side, venues::Keys};",
            "venues",
        ),
        (
            "engine/mod.rs",
            "let m = crate::metrics::Stats::default();",
            "metrics",
        ),
        ("engine/mod.rs", "use crate::tui::theme::Theme;", "tui"),
        (
            "portfolio/mod.rs",
            "use crate::control::Request;",
            "control",
        ),
    ];
    for (file, line, names) in cases {
        let (top, depth) = module_of(Path::new(file));
        let found = named(line, depth);
        assert!(found.contains(*names), "{file}: {line} -> {found:?}");
        let g = BTreeMap::from([(top.clone(), found)]);
        assert!(
            violations(&g).iter().any(|(_, n)| n == names),
            "{file}: {line} passed the check"
        );
    }
    // a comment naming an edge is not an import
    assert!(named("/// see `crate::config::Config`", 2).is_empty());
    // `super::` inside a module stays inside it
    assert!(named("use super::orders::IntentKey;", 2).is_empty());
}
