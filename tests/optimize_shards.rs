//! `optimize --shard I/N --out FILE` and `optimize merge` through the binary: shard outputs
//! (JSON lines or a database; the index from `--shard`, `JOB_COMPLETION_INDEX` or
//! `SLURM_ARRAY_TASK_ID`) merge to exactly the unsharded search's ranking, for a grid, a
//! random search, a walk-forward and a strategy script; a missing shard or shards of another
//! search are refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use common::Home;
use std::path::Path;

const FILE: &str = "btc_perp_1m_20211231_20220201.csv";

/// `optimize` over the file's first week with `search`, then `extra`.
fn optimize(
    home: &Home,
    data: &Path,
    search: &[&str],
    extra: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let db = home.path().join("search.db");
    let mut args = vec![
        "--db",
        db.to_str().unwrap(),
        "optimize",
        "--data",
        data.to_str().unwrap(),
        "--to",
        "2022-01-08",
        "--threads",
        "1",
    ];
    args.extend_from_slice(search);
    args.extend_from_slice(extra);
    let mut cmd = home.cmd(&args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    for k in [
        "JOB_COMPLETION_INDEX",
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_MIN",
        "SLURM_ARRAY_TASK_COUNT",
    ] {
        if !env.iter().any(|(n, _)| *n == k) {
            cmd.env_remove(k);
        }
    }
    cmd.output().unwrap()
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The parts of a JSON report that are the search's result (not its timing or threads).
fn result(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut out = String::new();
    for key in [
        "mode", "strategy", "metric", "candles", "runs", "results", "refused", "windows", "overall",
    ] {
        out.push_str(&format!("{key}={}\n", v[key]));
    }
    out
}

/// The printed table without its headline (which says the time taken and the threads).
fn table(text: &str) -> String {
    text.lines().skip(1).collect::<Vec<_>>().join("\n")
}

/// Runs `search` unsharded and in `n` shards written as `outs`, merges them, and checks the
/// merge gives the unsharded result, as JSON and as the printed ranking.
fn sharded_equals_unsharded(home: &Home, data: &Path, search: &[&str], n: usize) {
    let whole_json = ok(&optimize(
        home,
        data,
        search,
        &["--json", "--top", "100"],
        &[],
    ));
    let whole_text = ok(&optimize(home, data, search, &["--top", "100"], &[]));
    let mut files = Vec::new();
    for i in 0..n {
        // shard 0 by flag into a database, shard 1 from a Kubernetes index, shard 2 from a
        // Slurm array counted from 1, the rest by flag into JSON lines
        let out = home.path().join(format!("shard-{i}.jsonl"));
        let (flags, env): (Vec<String>, Vec<(&str, String)>) = match i {
            0 => (
                vec![
                    "--shard".into(),
                    format!("0/{n}"),
                    "--out".into(),
                    home.path().join("shard-0.db").display().to_string(),
                ],
                vec![],
            ),
            1 => (
                vec![
                    "--shards".into(),
                    n.to_string(),
                    "--out".into(),
                    home.path()
                        .join("shard-{shard}.jsonl")
                        .display()
                        .to_string(),
                ],
                vec![("JOB_COMPLETION_INDEX", "1".to_string())],
            ),
            2 => (
                vec!["--out".into(), out.display().to_string()],
                vec![
                    ("SLURM_ARRAY_TASK_ID", "3".to_string()),
                    ("SLURM_ARRAY_TASK_MIN", "1".to_string()),
                    ("SLURM_ARRAY_TASK_COUNT", n.to_string()),
                ],
            ),
            _ => (
                vec![
                    "--shard".into(),
                    format!("{i}/{n}"),
                    "--out".into(),
                    out.display().to_string(),
                ],
                vec![],
            ),
        };
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let run = optimize(home, data, search, &flags, &env);
        assert!(
            run.status.success(),
            "shard {i}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        files.push(if i == 0 {
            home.path().join("shard-0.db")
        } else {
            out
        });
    }
    let db = home.path().join("search.db");
    let merge = |json: bool| {
        let mut args = vec![
            "--db".to_string(),
            db.display().to_string(),
            "optimize".into(),
            "merge".into(),
        ];
        args.extend(files.iter().rev().map(|f| f.display().to_string()));
        args.extend(["--top".into(), "100".into()]);
        if json {
            args.push("--json".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(&home.run(&args))
    };
    assert_eq!(result(&merge(true)), result(&whole_json), "{search:?}");
    assert_eq!(table(&merge(false)), table(&whole_text), "{search:?}");
}

#[test]
fn four_shards_merge_to_the_unsharded_grid_ranking() {
    let Some(data) = common::shared_data(FILE) else {
        return;
    };
    let home = Home::new();
    sharded_equals_unsharded(&home, &data, &["--grid", "fast=4..20:4,slow=25..60:5"], 4);

    // a missing shard, and a shard of another search, are refused with what is wrong
    let db = home.path().join("search.db");
    let p = |f: &str| home.path().join(f).display().to_string();
    let out = home.run(&[
        "--db",
        db.to_str().unwrap(),
        "optimize",
        "merge",
        &p("shard-0.db"),
        &p("shard-1.jsonl"),
        &p("shard-2.jsonl"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shard(s) 3/4 missing"));
    let other = optimize(
        &home,
        &data,
        &["--grid", "fast=4..20:4,slow=25..60:10"],
        &["--shard", "3/4", "--out", &p("other.jsonl")],
        &[],
    );
    assert!(other.status.success());
    let out = home.run(&[
        "--db",
        db.to_str().unwrap(),
        "optimize",
        "merge",
        &p("shard-0.db"),
        &p("shard-1.jsonl"),
        &p("shard-2.jsonl"),
        &p("other.jsonl"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("of another search"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn random_search_walk_forward_and_scripts_shard_the_same_way() {
    let Some(data) = common::shared_data(FILE) else {
        return;
    };
    let home = Home::new();
    sharded_equals_unsharded(
        &home,
        &data,
        &[
            "--grid",
            "fast=2..30:2,slow=20..80:5",
            "--samples",
            "9",
            "--seed",
            "5",
            "--metric",
            "return",
        ],
        3,
    );
    sharded_equals_unsharded(
        &home,
        &data,
        &[
            "--grid",
            "fast=5..15:5,slow=20..40:10",
            "--walk-forward",
            "2",
            "--in-sample",
            "2",
        ],
        3,
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/strategies/sma_cross.lua");
    sharded_equals_unsharded(
        &home,
        &data,
        &[
            "--strategy",
            script.to_str().unwrap(),
            "--grid",
            "fast=5..15:5,slow=20..30:10",
        ],
        4,
    );
}

#[test]
fn the_slurm_array_script_shards_and_merges_locally() {
    let Some(data) = common::shared_data(FILE) else {
        return;
    };
    let home = Home::new();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/slurm/optimize.sh");
    let out = home.path().join("shards");
    let grid = "fast=4..16:4,slow=25..45:10";
    // the array's four tasks, one after the other, as Slurm would start them
    for task in 0..4 {
        let run = std::process::Command::new("bash")
            .arg(&script)
            .env("TRADEDECK", env!("CARGO_BIN_EXE_tradedeck"))
            .env("DATA", &data)
            .env("TO", "2022-01-08")
            .env("GRID", grid)
            .env("OUT", &out)
            .env("TMPDIR", home.path())
            .env("SLURM_ARRAY_JOB_ID", "77")
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_ARRAY_TASK_COUNT", "4")
            .env("SLURM_CPUS_PER_TASK", "1")
            .env_remove("JOB_COMPLETION_INDEX")
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "task {task}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let files: Vec<String> = (0..4)
        .map(|i| out.join(format!("shard-{i}.jsonl")).display().to_string())
        .collect();
    let db = home.path().join("merged.db");
    let mut args = vec![
        "--db",
        db.to_str().unwrap(),
        "optimize",
        "merge",
        "--json",
        "--top",
        "100",
    ];
    args.extend(files.iter().map(String::as_str));
    let merged = ok(&home.run(&args));
    let whole = ok(&optimize(
        &home,
        &data,
        &["--grid", grid],
        &["--json", "--top", "100"],
        &[],
    ));
    assert_eq!(result(&merged), result(&whole));
}

#[test]
fn the_kubernetes_job_runs_one_shard_per_index_with_valid_flags() {
    let yaml = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/k8s/optimize-job.yaml"),
    )
    .unwrap();
    assert!(yaml.contains("completionMode: Indexed"));
    let count = |key: &str| {
        yaml.lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .map(|v| v.trim().trim_matches('"').to_string())
            .unwrap()
    };
    // the container's command, one list item per line after `command:`
    let command: Vec<String> = yaml
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("command:"))
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .map_while(|l| l.strip_prefix("- "))
        .map(|v| v.trim_matches('"').to_string())
        .collect();
    assert_eq!(command[0], "tradedeck");
    let shards = command
        .iter()
        .position(|a| a == "--shards")
        .map(|i| command[i + 1].clone())
        .unwrap();
    assert_eq!(count("completions:"), shards);
    assert_eq!(count("parallelism:"), shards);
    // run as the pod of index 1 would: every flag parses, and it stops only at the missing
    // volume's history
    let home = Home::new();
    let args: Vec<&str> = command[1..].iter().map(String::as_str).collect();
    let out = home
        .cmd(&args)
        .env("JOB_COMPLETION_INDEX", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("/data/history.db"), "{err}");
}
