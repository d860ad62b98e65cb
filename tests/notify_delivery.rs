//! Notification delivery against local servers on 127.0.0.1 standing in for a generic
//! webhook, Telegram's Bot API, and Discord's and Slack's incoming webhooks: the request each
//! service expects, retries after 500, 429 with Retry-After and timeouts, a channel that keeps
//! failing, a burst coalesced into one message, the flush at stop, and no secret in errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![allow(clippy::disallowed_methods)] // the tests time the retries with the wall clock

mod fake_http;

use fake_http::{Reply, Seen, serve};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tradedeck::config::Mode;
use tradedeck::engine::AlertLevel;
use tradedeck::model::Timestamp;
use tradedeck::notify::{ChannelConfig, ChannelHealth, Notice, Notifier, NotifyConfig, Topic};

fn channel(kind: &str, extra: &str) -> ChannelConfig {
    let text = format!(
        "kind = \"{kind}\"\ncoalesce_ms = 50\nmin_interval_ms = 0\nbackoff_ms = 50\ntimeout_ms = 2000\n{extra}"
    );
    toml::from_str(&text).unwrap()
}

fn notifier(channels: Vec<(&str, ChannelConfig)>, env: Vec<(&str, String)>) -> Notifier {
    let cfg = NotifyConfig {
        channels: channels
            .into_iter()
            .map(|(n, c)| (n.to_string(), c))
            .collect(),
        ..NotifyConfig::default()
    };
    let env: BTreeMap<String, String> = env.into_iter().map(|(k, v)| (k.into(), v)).collect();
    Notifier::start(&cfg, Mode::Paper, &move |k| env.get(k).cloned())
}

/// A notifier with one Telegram channel `phone` (token `42:x`) posting to `api_url`.
fn telegram(api_url: &str, chat_id: &str) -> Notifier {
    let extra = format!("token_env = \"T\"\nchat_id = \"{chat_id}\"\napi_url = \"{api_url}\"");
    notifier(
        vec![("phone", channel("telegram", &extra))],
        vec![("T", "42:x".into())],
    )
}

fn fill(i: u32) -> Notice {
    Notice {
        ts: Timestamp(1_800_000_000_000),
        topic: Topic::Fills,
        level: AlertLevel::Info,
        text: format!("Filled BUY 0.{i} BTC/USDT @ 60000"),
    }
}

async fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn health(n: &Notifier, name: &str) -> ChannelHealth {
    n.health().into_iter().find(|h| h.name == name).unwrap()
}

#[tokio::test]
async fn each_service_gets_the_request_it_expects() {
    let server = serve(|_: &Seen, _: &[Seen]| Reply::status(200, r#"{"ok":true}"#)).await;
    let n = notifier(
        vec![
            ("hook", channel("webhook", "url_env = \"HOOK_URL\"")),
            (
                "phone",
                channel(
                    "telegram",
                    &format!(
                        "token_env = \"TG_TOKEN\"\nchat_id = \"-100123\"\napi_url = \"{}\"",
                        server.url
                    ),
                ),
            ),
            ("team", channel("discord", "url_env = \"DISCORD_URL\"")),
            ("ops", channel("slack", "url_env = \"SLACK_URL\"")),
        ],
        vec![
            ("HOOK_URL", format!("{}/hook/abc", server.url)),
            ("TG_TOKEN", "123456:ABC-def".into()),
            ("DISCORD_URL", format!("{}/api/webhooks/1/tok", server.url)),
            ("SLACK_URL", format!("{}/services/T0/B0/x", server.url)),
        ],
    );
    n.send(&fill(1));
    wait_for("four requests", || server.seen().len() == 4).await;
    let seen = server.seen();
    let by_path = |p: &str| {
        seen.iter()
            .find(|s| s.path == p)
            .unwrap_or_else(|| panic!("{p}: {seen:?}"))
    };
    for s in &seen {
        assert_eq!(s.method, "POST");
        assert_eq!(s.header("content-type"), Some("application/json"));
    }
    let text = "PAPER · Filled BUY 0.1 BTC/USDT @ 60000";
    let tg = by_path("/bot123456:ABC-def/sendMessage").json();
    assert_eq!(tg["chat_id"], "-100123");
    assert_eq!(tg["text"], text);
    let d = by_path("/api/webhooks/1/tok").json();
    assert_eq!(d["content"], text);
    assert_eq!(d["allowed_mentions"]["parse"], serde_json::json!([]));
    let s = by_path("/services/T0/B0/x").json();
    assert_eq!(s, serde_json::json!({ "text": text }));
    let w = by_path("/hook/abc").json();
    assert_eq!(w["source"], "tradedeck");
    assert_eq!(w["mode"], "paper");
    assert_eq!(w["text"], text);
    assert_eq!(w["notices"][0]["topic"], "fills");
    assert_eq!(w["notices"][0]["ts"], 1_800_000_000_000i64);
    wait_for("delivered counts", || {
        n.health().iter().all(|h| h.delivered == 1)
    })
    .await;
    assert!(n.health().iter().all(|h| h.healthy));
}

#[tokio::test]
async fn a_channel_hears_only_its_topics() {
    let server = serve(|_: &Seen, _: &[Seen]| Reply::status(204, "")).await;
    let n = notifier(
        vec![(
            "halts-only",
            channel("slack", "url_env = \"U\"\nevents = [\"halts\"]"),
        )],
        vec![("U", format!("{}/s", server.url))],
    );
    n.send(&fill(1));
    let halt = Notice {
        topic: Topic::Halts,
        text: "HALTED by ctl: lunch".into(),
        ..fill(0)
    };
    n.send(&halt);
    wait_for("the halt", || server.seen().len() == 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].json()["text"], "PAPER · HALTED by ctl: lunch");
}

#[tokio::test]
async fn a_500_then_a_429_with_retry_after_are_retried_and_delivered() {
    let server = serve(|_: &Seen, before: &[Seen]| match before.len() {
        0 => Reply::status(500, "boom"),
        1 => Reply::status(429, r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}"#)
            .with("Retry-After", "1"),
        _ => Reply::status(200, r#"{"ok":true}"#),
    })
    .await;
    let n = telegram(&server.url, "1");
    let start = Instant::now();
    n.send(&fill(1));
    wait_for("delivery", || health(&n, "phone").delivered == 1).await;
    let took = start.elapsed();
    assert_eq!(server.seen().len(), 3);
    // 50 ms gathering + 50 ms backoff after the 500 + the 1 s the 429 asked for
    assert!(took >= Duration::from_millis(1050), "{took:?}");
    let h = health(&n, "phone");
    assert_eq!(h.failed_attempts, 2);
    assert!(h.healthy);
    assert_eq!(h.undelivered, 0);
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let server = serve(|_: &Seen, before: &[Seen]| {
        let mut r = Reply::status(200, "ok");
        if before.is_empty() {
            r.delay = Duration::from_secs(3);
        }
        r
    })
    .await;
    let mut c = channel("slack", "url_env = \"U\"");
    c.timeout_ms = 300;
    let n = notifier(vec![("ops", c)], vec![("U", format!("{}/s", server.url))]);
    n.send(&fill(1));
    wait_for("delivery", || health(&n, "ops").delivered == 1).await;
    let h = health(&n, "ops");
    assert_eq!(h.failed_attempts, 1);
    assert_eq!(h.last_error.as_deref(), Some("timed out"));
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn a_channel_that_keeps_failing_is_unhealthy_and_gives_up_after_its_attempts() {
    let server = serve(|_: &Seen, _: &[Seen]| Reply::status(503, "down for maintenance")).await;
    let mut c = channel("discord", "url_env = \"U\"");
    c.max_attempts = 3;
    let n = notifier(vec![("team", c)], vec![("U", format!("{}/w", server.url))]);
    n.send(&fill(1));
    n.send(&fill(2));
    wait_for("giving up", || health(&n, "team").undelivered == 2).await;
    let h = health(&n, "team");
    assert!(!h.healthy);
    assert_eq!(h.failed_attempts, 3);
    assert_eq!(h.delivered, 0);
    assert_eq!(
        h.last_error.as_deref(),
        Some("HTTP 503 Service Unavailable — down for maintenance")
    );
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn a_refusal_that_a_retry_cannot_fix_is_not_retried() {
    let server = serve(|_: &Seen, _: &[Seen]| {
        Reply::status(
            400,
            r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
        )
    })
    .await;
    let n = telegram(&server.url, "9");
    n.send(&fill(1));
    wait_for("giving up", || health(&n, "phone").undelivered == 1).await;
    assert_eq!(server.seen().len(), 1);
    let h = health(&n, "phone");
    assert!(!h.healthy);
    assert!(h.last_error.unwrap().contains("chat not found"));
}

#[tokio::test]
async fn a_burst_of_fills_becomes_one_message_and_the_rate_limit_holds() {
    let server = serve(|_: &Seen, _: &[Seen]| Reply::status(200, "ok")).await;
    let mut c = channel("slack", "url_env = \"U\"");
    c.coalesce_ms = 300;
    c.min_interval_ms = 1000;
    let n = notifier(vec![("ops", c)], vec![("U", format!("{}/s", server.url))]);
    for i in 1..=10 {
        n.send(&fill(i));
    }
    wait_for("the burst", || server.seen().len() == 1).await;
    let first = Instant::now();
    let text = server.seen()[0].json()["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.starts_with("PAPER · 10 notices\n• Filled BUY 0.1 "),
        "{text}"
    );
    assert_eq!(text.lines().count(), 11, "{text}");
    n.send(&fill(11));
    wait_for("the next message", || server.seen().len() == 2).await;
    assert!(
        first.elapsed() >= Duration::from_millis(900),
        "{:?}",
        first.elapsed()
    );
    assert_eq!(
        server.seen()[1].json()["text"],
        "PAPER · Filled BUY 0.11 BTC/USDT @ 60000"
    );
}

#[tokio::test]
async fn stopping_sends_what_is_queued_without_waiting_to_gather() {
    let server = serve(|_: &Seen, _: &[Seen]| Reply::status(200, "ok")).await;
    let mut c = channel("webhook", "url_env = \"U\"");
    c.coalesce_ms = 60_000;
    let n = notifier(vec![("hook", c)], vec![("U", format!("{}/h", server.url))]);
    n.send(&fill(1));
    let start = Instant::now();
    n.finish(Duration::from_secs(5)).await;
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn errors_never_carry_the_url_or_token() {
    // nothing listens on port 9 of loopback: connection refused
    let n = notifier(
        vec![
            (
                "hook",
                channel("webhook", "url_env = \"U\"\nmax_attempts = 2"),
            ),
            (
                "phone",
                channel(
                    "telegram",
                    "token_env = \"T\"\nchat_id = \"1\"\napi_url = \"http://127.0.0.1:9\"\nmax_attempts = 2",
                ),
            ),
            ("unset", channel("slack", "url_env = \"NOT_SET_ANYWHERE\"")),
        ],
        vec![
            ("U", "http://127.0.0.1:9/hooks/SECRET-HOOK-123".into()),
            ("T", "999:SECRET-TOKEN-456".into()),
        ],
    );
    n.send(&fill(1));
    wait_for("both to give up", || {
        n.health().iter().filter(|h| h.undelivered == 1).count() == 3
    })
    .await;
    for h in n.health() {
        let e = h.last_error.clone().unwrap();
        assert!(!h.healthy, "{h:?}");
        assert!(!e.contains("SECRET") && !e.contains("127.0.0.1:9/"), "{e}");
    }
    assert_eq!(
        health(&n, "unset").last_error.as_deref(),
        Some("$NOT_SET_ANYWHERE is not set")
    );
    assert!(
        health(&n, "hook")
            .last_error
            .unwrap()
            .starts_with("cannot connect")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn notify_test_reports_each_channels_http_outcome() {
    let server = serve(|s: &Seen, _: &[Seen]| {
        if s.path.starts_with("/broken") {
            Reply::status(500, "oops")
        } else {
            Reply::status(200, r#"{"ok":true}"#)
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[notify.channels.phone]\nkind = \"telegram\"\ntoken_env = \"TG\"\nchat_id = \"7\"\napi_url = \"{}\"\n\
             [notify.channels.broken]\nkind = \"slack\"\nurl_env = \"BROKEN_URL\"\n\
             [notify.channels.unset]\nkind = \"discord\"\nurl_env = \"NOT_SET_HERE\"\n",
            server.url
        ),
    )
    .unwrap();
    let run = move |args: Vec<String>, url: String| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tradedeck"))
            .args(args)
            .env("TG", "5:SECRET")
            .env("BROKEN_URL", url)
            .env_remove("NOT_SET_HERE")
            .output()
            .unwrap()
    };
    let cfg = config.to_str().unwrap().to_string();
    let url = format!("{}/broken/SECRET", server.url);
    let (c, u) = (cfg.clone(), url.clone());
    let all = tokio::task::spawn_blocking(move || {
        run(
            vec!["--config".into(), c, "notify".into(), "test".into()],
            u,
        )
    })
    .await
    .unwrap();
    let out = String::from_utf8_lossy(&all.stdout).to_string();
    assert_eq!(all.status.code(), Some(1), "{out}");
    assert!(
        out.contains("phone (telegram): delivered, HTTP 200"),
        "{out}"
    );
    assert!(
        out.contains("broken (slack): NOT delivered: HTTP 500 Internal Server Error — oops"),
        "{out}"
    );
    assert!(
        out.contains("unset (discord): NOT delivered: $NOT_SET_HERE is not set"),
        "{out}"
    );
    assert!(!out.contains("SECRET"), "{out}");
    let one = tokio::task::spawn_blocking(move || {
        run(
            vec![
                "--config".into(),
                cfg,
                "notify".into(),
                "test".into(),
                "phone".into(),
            ],
            url,
        )
    })
    .await
    .unwrap();
    assert_eq!(one.status.code(), Some(0));
    let text = server
        .seen()
        .iter()
        .filter(|s| s.path == "/bot5:SECRET/sendMessage")
        .map(|s| s.json()["text"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert_eq!(text.len(), 2);
    assert_eq!(
        text[0],
        "PAPER · tradedeck test message: notifications reach this channel"
    );
}

#[tokio::test]
async fn a_huge_retry_after_is_capped_and_a_stop_logs_what_waits() {
    let server = serve(|_: &Seen, _: &[Seen]| {
        Reply::status(429, r#"{"retry_after": 1e20}"#).with("Retry-After", "100000000000000000000")
    })
    .await;
    let n = notifier(
        vec![("team", channel("discord", "url_env = \"U\""))],
        vec![("U", format!("{}/w", server.url))],
    );
    let health = n.health_reader();
    n.send(&fill(1));
    wait_for("the first try", || server.seen().len() == 1).await;
    // now waiting out the (capped) Retry-After; another notice queues behind it
    n.send(&fill(2));
    let start = Instant::now();
    n.finish(Duration::from_millis(300)).await;
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let h = health().into_iter().find(|h| h.name == "team").unwrap();
    assert_eq!(h.undelivered, 2, "{h:?}");
    assert!(!h.healthy);
}

#[tokio::test]
async fn an_error_page_quoting_the_url_is_redacted() {
    let server = serve(|s: &Seen, _: &[Seen]| {
        Reply::status(
            404,
            &format!("<html>The requested URL {} was not found</html>", s.path),
        )
    })
    .await;
    let n = notifier(
        vec![("hook", channel("webhook", "url_env = \"U\""))],
        vec![(
            "U",
            format!("{}/hooks/SECRET-abc123?sig=SECRET-sig", server.url),
        )],
    );
    n.send(&fill(1));
    wait_for("giving up", || health(&n, "hook").undelivered == 1).await;
    let e = health(&n, "hook").last_error.unwrap();
    assert!(e.contains("<redacted>") && !e.contains("SECRET"), "{e}");
}

#[tokio::test]
async fn notices_queued_during_a_retry_go_out_with_it() {
    let server = serve(|_: &Seen, before: &[Seen]| match before.len() {
        0 => Reply::status(502, "bad gateway"),
        _ => Reply::status(200, "ok"),
    })
    .await;
    let mut c = channel("slack", "url_env = \"U\"");
    c.backoff_ms = 400;
    let n = notifier(vec![("ops", c)], vec![("U", format!("{}/s", server.url))]);
    n.send(&fill(1));
    wait_for("the first try", || server.seen().len() == 1).await;
    n.send(&fill(2));
    wait_for("the retry", || server.seen().len() == 2).await;
    let text = server.seen()[1].json()["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.starts_with("PAPER · 2 notices"), "{text}");
    // the server logs a request before it answers: wait for the answer to be counted
    wait_for("the delivery", || health(&n, "ops").delivered == 1).await;
}

#[tokio::test]
async fn a_bad_or_plain_http_url_is_refused_at_start_without_echoing_it() {
    let n = notifier(
        vec![
            ("team", channel("discord", "url_env = \"D\"")),
            ("ops", channel("slack", "url_env = \"S\"")),
        ],
        vec![
            ("D", "discord.com/api/webhooks/1/SECRET".into()),
            ("S", "http://hooks.slack.com/services/SECRET".into()),
        ],
    );
    let d = health(&n, "team").last_error.unwrap();
    assert_eq!(d, "$D does not hold a valid URL (expected https://…)");
    let s = health(&n, "ops").last_error.unwrap();
    assert_eq!(s, "$S holds a http:// URL; expected https://");
}

#[tokio::test]
async fn a_retry_after_given_as_an_http_date_is_honoured() {
    let server = serve(|_: &Seen, _: &[Seen]| {
        Reply::status(429, "slow down").with("Retry-After", "Fri, 01 Jan 2100 00:00:00 GMT")
    })
    .await;
    let n = notifier(
        vec![("ops", channel("slack", "url_env = \"U\""))],
        vec![("U", format!("{}/s", server.url))],
    );
    let health = n.health_reader();
    n.send(&fill(1));
    wait_for("the first try", || server.seen().len() == 1).await;
    // with a 50 ms backoff the retry would be here by now; the date (capped) holds it back
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.seen().len(), 1);
    n.finish(Duration::from_millis(200)).await;
    let h = health().into_iter().find(|h| h.name == "ops").unwrap();
    assert_eq!(h.undelivered, 1, "{h:?}");
}
