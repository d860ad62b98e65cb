//! Secrets stay secret: a testnet run against a local fake Binance testnet, recorded, with an
//! LLM endpoint and an RSS feed whose URLs carry a user, a password and a token. Afterwards
//! no file the run wrote (database, WAL, logs, the recording, the socket folder, the lock and
//! halt files) nor its output holds the exchange key or secret, the KuCoin passphrase, the
//! LLM key or any URL password or token; and those files are the owner's only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;
mod fake_http;
mod fake_testnet;
mod fake_ws;

use common::{Home, ctl, poll_until, signal};
use fake_http::{Reply, serve};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

const SECRETS: [&str; 8] = [
    "tdKEY4f1e93",
    "tdSECRET9a2b",
    "tdPASSPHRASE61",
    "tdLLMKEY77",
    "tdLLMPASS42",
    "tdRSSPASS08",
    "tdRSSTOKEN15",
    "tdMARKETPASS3",
];

/// Every file under `dir`, recursively.
fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            files(&path, out);
        } else if kind.is_file() {
            out.push(path);
        }
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_file_a_recorded_testnet_run_writes_holds_a_secret() {
    let (ws_url, market) = fake_testnet::market().await;
    let (_venue, testnet, api) = fake_testnet::testnet("5000.00000000", |_, reply| reply).await;
    // an LLM that refuses (its answer is journalled), an RSS feed with one headline
    let llm = serve(|_, _| Reply::status(401, r#"{"error":{"message":"bad key"}}"#)).await;
    let rss = serve(|_, _| {
        Reply::status(
            200,
            "<rss><channel><item><title>Bitcoin ETF inflows rise</title></item></channel></rss>",
        )
    })
    .await;
    let with_user =
        |url: &str, user: &str, pass: &str| url.replacen("://", &format!("://{user}:{pass}@"), 1);
    let home = Home::new();
    let config = home.path().join("testnet.toml");
    let mut text = fake_testnet::config(
        &with_user(&market.url, "mk", SECRETS[7]),
        &ws_url,
        &testnet.url,
        &api,
    );
    text = text.replacen(
        "mode = \"testnet\"\n",
        &format!(
            "mode = \"testnet\"\n\n[ai]\nprovider = \"openai\"\nbase_url = \"{}/v1\"\napi_key_env = \"TD_SCAN_LLM_KEY\"\nfallback = \"local\"\n\n[news]\nrss_urls = [\"{}/feed.xml?token={}\"]\npoll_secs = 30\n",
            with_user(&llm.url, "llm", SECRETS[4]),
            with_user(&rss.url, "rss", SECRETS[5]),
            SECRETS[6]
        ),
        1,
    );
    std::fs::write(&config, text).unwrap();
    // a config with a password in it must be its owner's only
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = config.to_str().unwrap().to_string();
    let record = home.path().join("session.jsonl");
    let record = record.to_str().unwrap().to_string();
    let home = tokio::task::spawn_blocking(move || {
        let mut child = home
            .cmd(&[
                "--daemon",
                "--duration",
                "60",
                "--config",
                &config,
                "--record",
                &record,
            ])
            .env("BINANCE_TESTNET_API_KEY", SECRETS[0])
            .env("BINANCE_TESTNET_API_SECRET", SECRETS[1])
            .env("KUCOIN_API_PASSPHRASE", SECRETS[2])
            .env("TD_SCAN_LLM_KEY", SECRETS[3])
            .env("RUST_LOG", "trace")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        poll_until(
            Duration::from_secs(20),
            "an order sent to the testnet",
            || {
                let (code, out, _) = ctl(
                    &home,
                    &["order", "buy", "BTC/USDT", "0.01", "--limit", "59000"],
                );
                if let Some(status) = child.try_wait().unwrap() {
                    let mut err = String::new();
                    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err)
                        .unwrap();
                    panic!("the daemon ended ({status}): {err}");
                }
                (code == Some(0) && !out.contains("rejected")).then_some(())
            },
        );
        std::thread::sleep(Duration::from_secs(3));
        signal(&child.id().to_string(), "TERM");
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (home, out)
    })
    .await
    .unwrap();
    let (home, out) = home;
    assert!(
        rss.seen().iter().any(|s| s.path == "/feed.xml"),
        "the feed was read, with its credentials"
    );
    assert!(
        !testnet.seen().is_empty(),
        "the testnet was used with the key"
    );
    let mut all = Vec::new();
    files(home.path(), &mut all);
    let written: Vec<_> = all
        .into_iter()
        .filter(|p| !p.ends_with("testnet.toml"))
        .collect();
    assert!(
        written
            .iter()
            .any(|p| p.to_string_lossy().contains("tradedeck.log")),
        "{written:?}"
    );
    let mut texts: Vec<(String, Vec<u8>)> = written
        .iter()
        .map(|p| (p.display().to_string(), std::fs::read(p).unwrap()))
        .collect();
    texts.push(("stdout".into(), out.stdout));
    texts.push(("stderr".into(), out.stderr));
    for (name, bytes) in &texts {
        let text = String::from_utf8_lossy(bytes);
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} is in {name}");
        }
    }
    // the owner's only: the database and its WAL, the recording, the lock; the folders 0700
    let db = home.default_db();
    for path in [
        db.clone(),
        std::path::PathBuf::from(format!("{}-wal", db.display())),
        std::path::PathBuf::from(format!("{}.lock", db.display())),
        std::path::PathBuf::from(format!("{}.halt", db.display())),
        home.path().join("session.jsonl"),
    ] {
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
    assert_eq!(mode(db.parent().unwrap()), 0o700, "the data folder");
    let logs = written
        .iter()
        .find(|p| p.to_string_lossy().contains("tradedeck.log"))
        .unwrap();
    assert_eq!(mode(logs.parent().unwrap()), 0o700, "the log folder");
}
