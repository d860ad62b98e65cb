//! Headlines out of an RSS 2.0 or Atom document: each `<item>` or `<entry>` gives its title and
//! publication time (`pubDate` in RFC 2822, `published`/`updated` in RFC 3339). A small,
//! forgiving reader: CDATA and the common entities are handled; an item without a usable time
//! gets the time it was read.

use super::Headline;
use crate::model::Timestamp;

/// The text between `<tag ...>` and `</tag>` inside `block`, if any.
fn element<'a>(block: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}");
    let mut from = 0;
    loop {
        let start = from + block[from..].find(&open)?;
        let after = &block[start + open.len()..];
        // `<title>` or `<title type="text">`, not `<titles>`
        if after.starts_with('>') || after.starts_with(' ') {
            let body_start = start + open.len() + after.find('>')? + 1;
            let end = body_start + block[body_start..].find(&format!("</{tag}>"))?;
            return Some(&block[body_start..end]);
        }
        from = start + open.len();
    }
}

/// CDATA unwrapped, entities decoded, whitespace collapsed.
fn text(raw: &str) -> String {
    let raw = raw.trim();
    let raw = raw
        .strip_prefix("<![CDATA[")
        .and_then(|r| r.strip_suffix("]]>"))
        .unwrap_or(raw);
    let decoded = raw
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `HH:MM[:SS]` as seconds; `None` beyond a day's clock.
fn hms(s: &str) -> Option<i64> {
    let mut p = s.split(':').map(|x| x.parse::<i64>().ok());
    let (h, m) = (p.next()??, p.next()??);
    let sec = p.next().flatten().unwrap_or(0);
    let valid = (0..=24).contains(&h) && (0..=59).contains(&m) && (0..=60).contains(&sec);
    valid.then(|| h * 3600 + m * 60 + sec)
}

/// `+0100`, `-05:00`, `Z`, `GMT`, `UT` as seconds east of UTC.
fn zone(z: &str) -> Option<i64> {
    match z {
        "Z" | "GMT" | "UT" | "UTC" => Some(0),
        _ => {
            let sign = match z.chars().next()? {
                '+' => 1,
                '-' => -1,
                _ => return None,
            };
            let digits: String = z[1..].chars().filter(char::is_ascii_digit).collect();
            let (h, m) = (
                digits.get(..2)?.parse::<i64>().ok()?,
                digits.get(2..4)?.parse::<i64>().ok()?,
            );
            ((0..=23).contains(&h) && (0..=59).contains(&m)).then(|| sign * (h * 3600 + m * 60))
        }
    }
}

/// `Mon, 23 Nov 2026 17:00:00 GMT` (RFC 2822; also HTTP's date form, as in `Retry-After`).
pub fn rfc2822(s: &str) -> Option<Timestamp> {
    let s = s.split_once(',').map_or(s, |(_, rest)| rest).trim();
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [d, mon, y, t, z] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let m = MONTHS
        .iter()
        .position(|x| mon.to_lowercase().starts_with(x))? as i64
        + 1;
    let secs = crate::model::days_from_civil(y.parse().ok()?, m, d.parse().ok()?)? * 86_400
        + hms(t)?
        - zone(z)?;
    Some(Timestamp(secs * 1000))
}

/// `2026-11-23T17:00:00Z` or with an offset / fraction (RFC 3339).
fn rfc3339(s: &str) -> Option<Timestamp> {
    let (date, rest) = s.trim().split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let zpos = rest.find(['Z', '+', '-'])?;
    let (time, z) = rest.split_at(zpos);
    let time = time.split('.').next()?;
    let secs = crate::model::days_from_civil(y, m, day)? * 86_400 + hms(time)? - zone(z)?;
    Some(Timestamp(secs * 1000))
}

/// Every item's headline; `source` names the feed; `now` stands in for a missing time.
pub fn headlines(doc: &str, source: &str, now: Timestamp) -> Vec<Headline> {
    let mut out = Vec::new();
    for tag in ["item", "entry"] {
        let open = format!("<{tag}");
        let close = format!("</{tag}>");
        let mut rest = doc;
        while let Some(i) = rest.find(&open) {
            let after = &rest[i + open.len()..];
            if !(after.starts_with('>') || after.starts_with(' ')) {
                rest = after;
                continue;
            }
            let Some(j) = after.find(&close) else { break };
            let block = &after[..j];
            rest = &after[j + close.len()..];
            let Some(title) = element(block, "title").map(text).filter(|t| !t.is_empty()) else {
                continue;
            };
            let ts = element(block, "pubDate")
                .and_then(|d| rfc2822(&text(d)))
                .or_else(|| element(block, "published").and_then(|d| rfc3339(&text(d))))
                .or_else(|| element(block, "updated").and_then(|d| rfc3339(&text(d))))
                .unwrap_or(now);
            out.push(Headline {
                ts,
                source: source.to_string(),
                text: title,
                symbols: Vec::new(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_and_atom_items_with_their_times() {
        let rss = r#"<?xml version="1.0"?><rss><channel><title>Crypto wire</title>
          <item><title><![CDATA[Bitcoin ETF inflows hit a record]]></title>
            <pubDate>Mon, 23 Nov 2026 17:00:00 GMT</pubDate></item>
          <item><title>Exchange hacked &amp; drained</title><pubDate>Mon, 23 Nov 2026 18:30:00 +0100</pubDate></item>
          <item><title></title></item>
        </channel></rss>"#;
        let h = headlines(rss, "wire", Timestamp(7));
        assert_eq!(
            h.len(),
            2,
            "the empty title is skipped; the channel title is not an item"
        );
        assert_eq!(h[0].text, "Bitcoin ETF inflows hit a record");
        assert_eq!(h[0].ts.to_string(), "2026-11-23T17:00:00.000Z");
        assert_eq!(h[1].text, "Exchange hacked & drained");
        assert_eq!(h[1].ts.to_string(), "2026-11-23T17:30:00.000Z");
        let atom = r#"<feed><title>Atom</title>
          <entry><title type="text">Ether rallies</title><updated>2026-11-23T16:00:00.5-05:00</updated></entry>
          <entry><title>No time here</title></entry></feed>"#;
        let h = headlines(atom, "atom", Timestamp(7));
        assert_eq!(h[0].ts.to_string(), "2026-11-23T21:00:00.000Z");
        assert_eq!(
            (h[1].text.as_str(), h[1].ts),
            ("No time here", Timestamp(7))
        );
    }
}
