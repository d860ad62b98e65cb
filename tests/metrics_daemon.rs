//! A running daemon with `[metrics]` and `[notify]` on: `/metrics` parses as Prometheus text,
//! carries the key series, and its values move as the engine trades; the notifications
//! (start, fill, halt, refusal, stop) reach a webhook and a Telegram stand-in on 127.0.0.1;
//! and no webhook URL or token appears in the logs, the database or `/metrics`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;
mod fake_http;

use common::{Home, ctl, poll_until, signal};
use fake_http::{Reply, Seen, serve};
use std::io::{Read, Write};
use std::time::Duration;

/// `GET /metrics` on `port`: (status line, body).
fn scrape(port: u16) -> Option<(String, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_string(), body.to_string()))
}

/// The value of `name` with every label in `labels`, from a parsed scrape.
fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

fn parse(body: &str) -> prometheus_parse::Scrape {
    let lines = body.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines).unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The notices' texts that reached `path`, in order.
fn texts(seen: &[Seen], path: &str) -> Vec<String> {
    seen.iter()
        .filter(|s| s.path == path)
        .map(|s| s.json()["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn metrics_move_as_the_sim_trades_and_notifications_arrive_without_secrets() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(serve(|_: &Seen, _: &[Seen]| {
        Reply::status(200, r#"{"ok":true}"#)
    }));
    let home = Home::new();
    let port = free_port();
    let config = home.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[metrics]\nlisten = \"127.0.0.1:{port}\"\n\
             [notify.channels.hook]\nkind = \"webhook\"\nurl_env = \"TD_HOOK_URL\"\ncoalesce_ms = 100\nmin_interval_ms = 0\n\
             [notify.channels.phone]\nkind = \"telegram\"\ntoken_env = \"TD_TG_TOKEN\"\nchat_id = \"42\"\napi_url = \"{}\"\n\
             events = [\"fills\", \"halts\", \"daemon\"]\ncoalesce_ms = 100\nmin_interval_ms = 0\n\
             [notify.channels.broken]\nkind = \"discord\"\nurl_env = \"TD_BROKEN_URL\"\nmax_attempts = 2\nbackoff_ms = 10\ncoalesce_ms = 100\nmin_interval_ms = 0\n",
            server.url
        ),
    )
    .unwrap();
    let log = home.path().join("daemon.log");
    let mut child = home
        .cmd(&[
            "--daemon",
            "--config",
            config.to_str().unwrap(),
            "--duration",
            "120",
            "--seed",
            "5",
        ])
        .env(
            "TD_HOOK_URL",
            format!("{}/hooks/SECRET-HOOK-abc", server.url),
        )
        .env("TD_TG_TOKEN", "777:SECRET-TOKEN-xyz")
        // nothing listens on port 9: every delivery there fails, and is logged
        .env(
            "TD_BROKEN_URL",
            "http://127.0.0.1:9/api/webhooks/1/SECRET-BROKEN",
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let (status, first) = poll_until(Duration::from_secs(30), "/metrics", || scrape(port));
    assert_eq!(status, "HTTP/1.1 200 OK");
    let m = parse(&first);
    for name in [
        "tradedeck_equity",
        "tradedeck_cash",
        "tradedeck_day_pnl",
        "tradedeck_exposure",
        "tradedeck_engine_queue_depth",
        "tradedeck_store_commits_total",
        "tradedeck_ai_requests_total",
    ] {
        assert!(value(&m, name, &[]).is_some(), "{name} missing:\n{first}");
    }
    assert_eq!(value(&m, "tradedeck_info", &[("mode", "paper")]), Some(1.0));
    assert_eq!(
        value(&m, "tradedeck_trading_state", &[("state", "active")]),
        Some(1.0)
    );
    assert_eq!(
        value(&m, "tradedeck_trading_state", &[("state", "halted")]),
        Some(0.0)
    );
    assert_eq!(
        value(
            &m,
            "tradedeck_notification_channel_healthy",
            &[("channel", "hook"), ("kind", "webhook")]
        ),
        Some(1.0)
    );
    // the sim's book arrives after its candle history: wait for it before trading
    poll_until(Duration::from_secs(20), "the first book", || {
        let (code, out, _) = ctl(&home, &["book", "BTC/USDT", "--depth", "1"]);
        (code == Some(0) && out.contains("bid")).then_some(())
    });
    let m = parse(&scrape(port).unwrap().1);
    assert!(
        value(
            &m,
            "tradedeck_risk_limit",
            &[("limit", "daily loss"), ("unit", "quote")]
        )
        .is_some()
    );
    let messages = value(&m, "tradedeck_feed_messages_total", &[("venue", "sim")]).unwrap();
    let cash = value(&m, "tradedeck_cash", &[]).unwrap();
    let fills = value(
        &m,
        "tradedeck_fills_total",
        &[("symbol", "BTC/USDT"), ("side", "buy")],
    )
    .unwrap_or(0.0);
    assert!(messages > 0.0);
    assert_eq!(
        value(&m, "tradedeck_feed_up", &[("venue", "sim")]),
        Some(1.0)
    );
    let (code, out, err) = ctl(&home, &["order", "buy", "BTC/USDT", "0.01"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("filled buy 0.01 BTC/USDT"), "{out}");
    // the snapshot behind /metrics is published at once after a command
    let after = poll_until(Duration::from_secs(10), "the fill in /metrics", || {
        let m = parse(&scrape(port)?.1);
        let f = value(
            &m,
            "tradedeck_fills_total",
            &[("symbol", "BTC/USDT"), ("side", "buy")],
        )?;
        (f > fills).then_some(m)
    });
    assert!(value(&after, "tradedeck_cash", &[]).unwrap() < cash);
    assert!(
        value(&after, "tradedeck_feed_messages_total", &[("venue", "sim")]).unwrap() > messages
    );
    assert!(value(&after, "tradedeck_orders_total", &[("side", "buy")]).unwrap() >= 1.0);
    assert!(value(&after, "tradedeck_position_qty", &[("symbol", "BTC/USDT")]).unwrap() >= 0.01);
    assert!(
        value(
            &after,
            "tradedeck_engine_events_total",
            &[("kind", "market")]
        )
        .unwrap()
            > 0.0
    );
    // halt, then an order refused by risk
    let (code, _, err) = ctl(&home, &["halt", "--reason", "metrics test"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, _) = ctl(&home, &["order", "buy", "BTC/USDT", "0.01"]);
    assert_eq!(code, Some(1));
    let m = poll_until(Duration::from_secs(10), "the halt in /metrics", || {
        let m = parse(&scrape(port)?.1);
        (value(&m, "tradedeck_trading_state", &[("state", "halted")])? == 1.0).then_some(m)
    });
    let refused: f64 = m
        .samples
        .iter()
        .filter(|s| s.metric == "tradedeck_risk_rejections_total")
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) => v,
            _ => 0.0,
        })
        .sum();
    assert!(refused >= 1.0, "no rejection counted");
    let metrics_text = scrape(port).unwrap().1;
    // every series the example Grafana dashboard reads is one the daemon exposes
    let dashboard = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/grafana-dashboard.json"),
    )
    .unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&dashboard).unwrap();
    let mut used = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap();
            for (i, _) in expr.match_indices("tradedeck_") {
                let name: String = expr[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                used.push(name);
            }
        }
    }
    assert!(used.len() > 30, "{used:?}");
    for name in used {
        let line = format!("\n{name}");
        assert!(
            metrics_text.contains(&format!("{line} "))
                || metrics_text.contains(&format!("{line}{{"))
                || metrics_text.contains(&format!("# TYPE {name} ")),
            "the dashboard reads {name}, which /metrics does not expose"
        );
    }
    // the notices: start, the fill, the halt, the refusal (webhook hears all)
    let hook = "/hooks/SECRET-HOOK-abc";
    let phone = "/bot777:SECRET-TOKEN-xyz/sendMessage";
    poll_until(Duration::from_secs(10), "the halt notice", || {
        texts(&server.seen(), hook)
            .iter()
            .any(|t| t.contains("HALTED by ctl: metrics test"))
            .then_some(())
    });
    signal(&child.id().to_string(), "TERM");
    assert!(child.wait().unwrap().success());
    let seen = server.seen();
    let all = texts(&seen, hook).join("\n");
    assert!(
        all.contains("PAPER · tradedeck started on sim: equity "),
        "{all}"
    );
    assert!(all.contains("Filled BUY 0.01 BTC/USDT @ "), "{all}");
    assert!(all.contains("Order refused: "), "{all}");
    assert!(
        all.contains("PAPER · tradedeck stopped (terminated) on sim: equity "),
        "{all}"
    );
    eprintln!("webhook heard:\n{all}");
    let tg = texts(&seen, phone).join("\n");
    assert!(
        tg.contains("Filled BUY 0.01 BTC/USDT") && tg.contains("HALTED by ctl"),
        "{tg}"
    );
    assert!(
        !tg.contains("Order refused"),
        "the phone does not hear refusals: {tg}"
    );
    for s in seen.iter().filter(|s| s.path == phone) {
        assert_eq!(s.json()["chat_id"], "42");
    }
    // no secret anywhere the daemon writes or shows
    let mut places = vec![("/metrics".to_string(), metrics_text.into_bytes())];
    places.push(("stderr".into(), std::fs::read(&log).unwrap()));
    for dir in ["state", "data"] {
        for entry in walk(&home.path().join(dir)) {
            places.push((entry.display().to_string(), std::fs::read(&entry).unwrap()));
        }
    }
    assert!(
        places.iter().any(|(p, _)| p.ends_with(".db")),
        "the database is checked"
    );
    let stderr = String::from_utf8_lossy(&places[1].1).to_string();
    assert!(
        stderr.contains("notification undelivered (cannot connect"),
        "the failing channel's notices are logged: {stderr}"
    );
    for (place, bytes) in places {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("SECRET"), "a secret in {place}");
    }
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
