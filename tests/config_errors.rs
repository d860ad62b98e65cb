//! One broken config file per validation rule, each run through the real binary: exit code 2
//! and a message naming the file, line and key. Each file's first line says what to expect:
//! `# expect: LINE KEY`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test

mod common;

use common::Home;

#[test]
fn each_broken_config_names_file_line_and_key() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs/invalid");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 25, "one file per rule");
    let home = Home::new();
    let db = home.path().join("never.db");
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .expect("expect line");
        let (line, key) = expect.split_once(' ').unwrap();
        let out = home.run(&[
            "--daemon",
            "--duration",
            "1",
            "--config",
            file.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        let want_prefix = format!("error: {}:{line}:", file.display());
        let want_key = format!("key `{key}`");
        if out.status.code() != Some(2) || !err.contains(&want_prefix) || !err.contains(&want_key) {
            failures.push(format!(
                "{}: exit {:?}, stderr: {err}",
                file.display(),
                out.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(!db.exists(), "a bad config never opens the database");
    // a webhook URL pasted where its variable's name belongs is not echoed
    let pasted = dir.join("notify_url_in_the_file.toml");
    let out = home.run(&[
        "--daemon",
        "--config",
        pasted.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("hooks.slack.com"), "{err}");
}

#[test]
fn example_config_is_valid_and_equals_the_defaults() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let cfg = tradedeck::config::Config::load(&path).unwrap();
    assert_eq!(
        cfg.dir.as_deref(),
        path.parent(),
        "scripts are relative to it"
    );
    let defaults = tradedeck::config::Config {
        dir: cfg.dir.clone(),
        ..Default::default()
    };
    assert_eq!(cfg, defaults);
}

#[test]
fn missing_config_file_is_a_clear_error() {
    let home = Home::new();
    let out = home.run(&["--daemon", "--config", "/nonexistent/tradedeck.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("/nonexistent/tradedeck.toml: cannot read config")
    );
}
