//! What a message looks like on each service: the text a phone shows, and the HTTP request
//! each service expects (URL and JSON body).

use super::{ChannelKind, Notice};
use crate::model::Mode;
use serde_json::json;

/// Most notices listed in one message; the rest are counted.
const MAX_LINES: usize = 20;

/// One message's text for `notices` (oldest first), tagged with the mode: a single notice is
/// one line, a burst is a count and one line each.
pub fn compose(mode: Mode, notices: &[Notice]) -> String {
    let tag = mode.badge();
    match notices {
        [] => format!("{tag} · nothing to report"),
        [one] => format!("{tag} · {}", one.text),
        many => {
            let mut text = format!("{tag} · {} notices", many.len());
            for n in many.iter().take(MAX_LINES) {
                text.push_str("\n• ");
                text.push_str(&n.text);
            }
            if many.len() > MAX_LINES {
                text.push_str(&format!("\n… and {} more", many.len() - MAX_LINES));
            }
            text
        }
    }
}

/// An HTTP POST with a JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// Where to (holds the secret: never logged).
    pub url: String,
    /// The JSON body.
    pub body: serde_json::Value,
}

/// The service's longest message, in characters.
fn max_chars(kind: ChannelKind) -> usize {
    match kind {
        ChannelKind::Telegram => 4096,
        ChannelKind::Discord => 2000,
        ChannelKind::Slack => 3000,
        ChannelKind::Webhook => 16_000,
    }
}

/// `text` cut to `max` characters, marked when cut.
fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The request that posts `notices` on a channel of `kind`. `secret` is the webhook URL, or
/// the bot token for Telegram (whose API host is `api_url`).
pub fn request(
    kind: ChannelKind,
    secret: &str,
    api_url: &str,
    chat_id: &str,
    mode: Mode,
    notices: &[Notice],
) -> Request {
    let text = fit(&compose(mode, notices), max_chars(kind));
    match kind {
        ChannelKind::Telegram => Request {
            url: format!("{}/bot{secret}/sendMessage", api_url.trim_end_matches('/')),
            body: json!({ "chat_id": chat_id, "text": text, "disable_web_page_preview": true }),
        },
        // no mentions: a symbol like @everyone in a reason must not ping a server
        ChannelKind::Discord => Request {
            url: secret.into(),
            body: json!({ "content": text, "allowed_mentions": { "parse": [] } }),
        },
        // Slack reads &, < and > as markup (`<!channel>` pings everyone): escape them
        ChannelKind::Slack => Request {
            url: secret.into(),
            body: json!({ "text": text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;") }),
        },
        ChannelKind::Webhook => Request {
            url: secret.into(),
            body: json!({
                "source": "tradedeck",
                "mode": mode.badge().to_lowercase(),
                "text": text,
                "notices": notices,
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::AlertLevel;
    use crate::model::Timestamp;
    use crate::notify::Topic;

    fn fill(i: usize) -> Notice {
        Notice {
            ts: Timestamp(1_700_000_000_000),
            topic: Topic::Fills,
            level: AlertLevel::Info,
            text: format!("Filled BUY 0.0{i} BTC/USDT @ 60000"),
        }
    }

    #[test]
    fn a_burst_is_one_message_with_a_line_each_and_the_mode() {
        assert_eq!(
            compose(Mode::Paper, &[fill(1)]),
            "PAPER · Filled BUY 0.01 BTC/USDT @ 60000"
        );
        let burst: Vec<Notice> = (1..=25).map(fill).collect();
        let text = compose(Mode::Testnet, &burst);
        assert!(
            text.starts_with("TESTNET · 25 notices\n• Filled BUY 0.01"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1 + MAX_LINES + 1);
        assert!(text.ends_with("… and 5 more"), "{text}");
    }

    #[test]
    fn each_service_gets_its_own_shape_and_length() {
        let r = request(
            ChannelKind::Telegram,
            "123:abc",
            "https://api.telegram.org/",
            "42",
            Mode::Paper,
            &[fill(1)],
        );
        assert_eq!(r.url, "https://api.telegram.org/bot123:abc/sendMessage");
        assert_eq!(r.body["chat_id"], "42");
        assert_eq!(r.body["text"], "PAPER · Filled BUY 0.01 BTC/USDT @ 60000");
        let long: Vec<Notice> = (0..20)
            .map(|_| Notice {
                text: "x".repeat(500),
                ..fill(1)
            })
            .collect();
        let d = request(
            ChannelKind::Discord,
            "http://h/w",
            "",
            "",
            Mode::Paper,
            &long,
        );
        assert_eq!(d.body["content"].as_str().unwrap().chars().count(), 2000);
        assert_eq!(d.body["allowed_mentions"]["parse"], json!([]));
        let s = request(
            ChannelKind::Slack,
            "http://h/s",
            "",
            "",
            Mode::Paper,
            &[fill(2)],
        );
        assert_eq!(
            s.body,
            json!({ "text": "PAPER · Filled BUY 0.02 BTC/USDT @ 60000" })
        );
        let halt = Notice {
            text: "HALTED by ctl: <!channel> & co".into(),
            ..fill(1)
        };
        let s = request(
            ChannelKind::Slack,
            "http://h/s",
            "",
            "",
            Mode::Paper,
            &[halt],
        );
        assert_eq!(
            s.body["text"],
            "PAPER · HALTED by ctl: &lt;!channel&gt; &amp; co"
        );
        let w = request(
            ChannelKind::Webhook,
            "http://h/x",
            "",
            "",
            Mode::Paper,
            &[fill(3)],
        );
        assert_eq!(w.body["mode"], "paper");
        assert_eq!(w.body["notices"][0]["topic"], "fills");
        assert_eq!(w.body["notices"][0]["level"], "info");
    }
}
