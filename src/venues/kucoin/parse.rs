//! KuCoin JSON into the engine's model: the bullet token, REST envelopes (`{"code":"200000",
//! "data":…}`, errors `{"code":"400100","msg":…}`), level-2 snapshots, candles (whose
//! columns run time, open, close, high, low, volume, turnover), symbol rules, and WebSocket
//! frames (welcome, acks, pongs, errors, `trade.l2update` diffs with a sequence per change,
//! `trade.l3match` trades). Prices and sizes are decimal strings, read straight into
//! `Decimal`.

use crate::engine::{LevelChange, MarketEvent, MarketKind, Venue};
use crate::market::Level;
use crate::market::sync::{Diff, Snapshot};
use crate::model::{Candle, Instrument, Side, Symbol, Timestamp};
use crate::venues::parse::{CandleColumns, ParseError, candle_rows, decimal, taker_side};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

/// `BTC-USDT` → the pair.
pub fn pair(s: &str) -> Result<Symbol, ParseError> {
    crate::venues::parse::pair(s, '-')
}

/// The pair → `BTC-USDT`.
pub fn pair_name(s: Symbol) -> String {
    crate::venues::parse::pair_name(s, '-')
}

/// A REST answer's envelope.
#[derive(Deserialize)]
struct Envelope<'a> {
    code: String,
    #[serde(default)]
    msg: Option<String>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

/// KuCoin's success code.
const OK: &str = "200000";

/// The `data` of a REST answer, or KuCoin's code and message.
///
/// # Errors
/// `Err(Ok((code, msg)))` for KuCoin's refusal; `Err(Err(_))` when the body is not the
/// envelope.
pub fn data(body: &str) -> Result<&RawValue, Result<(String, String), ParseError>> {
    let e: Envelope = serde_json::from_str(body).map_err(|e| Err(e.into()))?;
    match (e.code.as_str(), e.data) {
        (OK, Some(d)) => Ok(d),
        (code, _) => Err(Ok((code.to_string(), e.msg.unwrap_or_default()))),
    }
}

/// The public bullet: a token and the server to use it on.
#[derive(Clone, PartialEq)]
pub struct Bullet {
    /// The connect token (a secret of sorts: never logged).
    pub token: String,
    /// The WebSocket endpoint.
    pub endpoint: String,
    /// How often the server wants a ping.
    pub ping_interval_ms: u64,
}

impl std::fmt::Debug for Bullet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bullet")
            .field("token", &"<redacted>")
            .field("endpoint", &self.endpoint)
            .field("ping_interval_ms", &self.ping_interval_ms)
            .finish()
    }
}

/// Reads `POST /api/v1/bullet-public`'s `data`.
///
/// # Errors
/// Not the documented shape, or no server offered.
pub fn bullet(data: &RawValue) -> Result<Bullet, ParseError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Server {
        endpoint: String,
        ping_interval: u64,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        token: String,
        instance_servers: Vec<Server>,
    }
    let d: Data = serde_json::from_str(data.get())?;
    let s = d
        .instance_servers
        .into_iter()
        .next()
        .ok_or_else(|| ParseError::Stream("no instance server in the bullet".into()))?;
    Ok(Bullet {
        token: d.token,
        endpoint: s.endpoint,
        ping_interval_ms: s.ping_interval,
    })
}

fn levels(rows: &[Vec<String>]) -> Result<Vec<Level>, ParseError> {
    rows.iter()
        .map(|r| {
            let (Some(p), Some(q)) = (r.first(), r.get(1)) else {
                return Err(ParseError::Number {
                    field: "level",
                    value: format!("{r:?}"),
                });
            };
            Ok(Level {
                price: decimal("price", p)?,
                qty: decimal("size", q)?,
            })
        })
        .collect()
}

/// Reads a level-2 snapshot's `data` (`{"time","sequence","bids","asks"}`).
///
/// # Errors
/// Not the documented shape, or a value that does not parse.
pub fn order_book(data: &RawValue) -> Result<Snapshot, ParseError> {
    #[derive(Deserialize)]
    struct Book {
        sequence: String,
        bids: Vec<Vec<String>>,
        asks: Vec<Vec<String>>,
    }
    let b: Book = serde_json::from_str(data.get())?;
    Ok(Snapshot {
        id: b.sequence.parse().map_err(|_| ParseError::Number {
            field: "sequence",
            value: b.sequence.clone(),
        })?,
        bids: levels(&b.bids)?,
        asks: levels(&b.asks)?,
    })
}

/// Reads `GET /api/v1/market/candles`' `data` (`[time s, open, close, high, low, volume,
/// turnover]`, newest first) as closed candles of `len_ms` with their close times, oldest
/// first; the period still forming at `now` is left out.
///
/// # Errors
/// Not the documented shape, or a value that does not parse.
pub fn candles(
    data: &RawValue,
    len_ms: i64,
    now: Timestamp,
) -> Result<Vec<(Candle, Timestamp)>, ParseError> {
    let rows: Vec<Vec<String>> = serde_json::from_str(data.get())?;
    let cols = CandleColumns {
        open: 1,
        close: 2,
        high: 3,
        low: 4,
        volume: 5,
        closed: None,
        len_ms,
    };
    candle_rows(&rows, cols, now)
}

/// Reads `GET /api/v2/symbols/{symbol}`' `data`: tick `priceIncrement`, lot `baseIncrement`,
/// minimum `baseMinSize`, minimum notional `minFunds`; status `TRADING` or `disabled`.
///
/// # Errors
/// Not the documented shape, or a value that does not parse.
pub fn symbol_rules(data: &RawValue) -> Result<(Instrument, String), ParseError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Rules {
        symbol: String,
        base_min_size: String,
        base_increment: String,
        price_increment: String,
        #[serde(default)]
        min_funds: Option<String>,
        enable_trading: bool,
    }
    let r: Rules = serde_json::from_str(data.get())?;
    Ok((
        Instrument {
            symbol: pair(&r.symbol)?,
            tick_size: decimal("priceIncrement", &r.price_increment)?,
            lot_size: decimal("baseIncrement", &r.base_increment)?,
            min_qty: decimal("baseMinSize", &r.base_min_size)?,
            min_notional: r
                .min_funds
                .as_deref()
                .map_or(Ok(Decimal::ZERO), |m| decimal("minFunds", m))?,
        },
        if r.enable_trading {
            "TRADING"
        } else {
            "disabled"
        }
        .to_string(),
    ))
}

/// One WebSocket frame, read.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// The server is ready for subscriptions.
    Welcome,
    /// A book diff.
    Depth {
        /// The pair.
        symbol: Symbol,
        /// The venue's time.
        exchange_ts: Timestamp,
        /// The diff, with each change's own sequence.
        diff: Diff,
    },
    /// A trade.
    Market(MarketEvent),
    /// The server refused something (`code` 401: the token is no good).
    Error {
        /// KuCoin's code.
        code: i64,
        /// Its words.
        message: String,
    },
    /// An ack, a pong, or a topic we do not read.
    Ignore,
}

#[derive(Deserialize)]
struct WsFrame<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(default)]
    subject: Option<&'a str>,
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct L2Update {
    changes: L2Changes,
    sequence_start: u64,
    sequence_end: u64,
    symbol: String,
    time: i64,
}

#[derive(Deserialize)]
struct L2Changes {
    #[serde(default)]
    asks: Vec<Vec<String>>,
    #[serde(default)]
    bids: Vec<Vec<String>>,
}

#[derive(Deserialize)]
struct Match {
    price: String,
    size: String,
    side: String,
    symbol: String,
    time: String,
}

/// A diff's changes with their sequences; a price of `"0"` only advances the sequence.
fn l2_changes(
    side: Side,
    rows: &[Vec<String>],
    changes: &mut Vec<LevelChange>,
    seqs: &mut Vec<u64>,
) -> Result<(), ParseError> {
    for r in rows {
        let (Some(p), Some(q), Some(seq)) = (r.first(), r.get(1), r.get(2)) else {
            return Err(ParseError::Number {
                field: "change",
                value: format!("{r:?}"),
            });
        };
        let price = decimal("price", p)?;
        if price.is_zero() {
            continue;
        }
        changes.push(LevelChange {
            side,
            price,
            qty: decimal("size", q)?,
        });
        seqs.push(seq.parse().map_err(|_| ParseError::Number {
            field: "sequence",
            value: seq.clone(),
        })?);
    }
    Ok(())
}

/// Reads one WebSocket frame received at `received`.
///
/// # Errors
/// Not KuCoin's JSON, or a field that does not parse.
pub fn frame(text: &str, received: Timestamp) -> Result<Frame, ParseError> {
    let f: WsFrame = serde_json::from_str(text)?;
    match (f.kind, f.subject) {
        ("welcome", _) => Ok(Frame::Welcome),
        ("error", _) => Ok(Frame::Error {
            code: f
                .code
                .as_ref()
                .and_then(|c| c.as_i64().or_else(|| c.as_str()?.parse().ok()))
                .unwrap_or(0),
            message: f
                .data
                .map(|d| d.get().trim_matches('"').to_string())
                .unwrap_or_default(),
        }),
        ("message", Some("trade.l2update")) => {
            let data = f
                .data
                .ok_or_else(|| ParseError::Stream("l2update without data".into()))?;
            let u: L2Update = serde_json::from_str(data.get())?;
            let (mut changes, mut seqs) = (Vec::new(), Vec::new());
            l2_changes(Side::Buy, &u.changes.bids, &mut changes, &mut seqs)?;
            l2_changes(Side::Sell, &u.changes.asks, &mut changes, &mut seqs)?;
            let mut diff = Diff::new(u.sequence_start, u.sequence_end, changes);
            diff.change_seqs = seqs;
            Ok(Frame::Depth {
                symbol: pair(&u.symbol)?,
                exchange_ts: Timestamp(u.time),
                diff,
            })
        }
        ("message", Some("trade.l3match")) => {
            let data = f
                .data
                .ok_or_else(|| ParseError::Stream("match without data".into()))?;
            let m: Match = serde_json::from_str(data.get())?;
            // nanoseconds since the epoch, as a string
            let ns: i128 = m.time.parse().map_err(|_| ParseError::Number {
                field: "time",
                value: m.time.clone(),
            })?;
            Ok(Frame::Market(MarketEvent {
                venue: Venue::Kucoin,
                symbol: pair(&m.symbol)?,
                exchange_ts: Timestamp((ns / 1_000_000) as i64),
                received_ts: received,
                kind: MarketKind::Trade {
                    price: decimal("price", &m.price)?,
                    qty: decimal("size", &m.size)?,
                    // the side is the taker's
                    aggressor: taker_side(&m.side)?,
                },
            }))
        }
        ("message", Some(other)) => Err(ParseError::Stream(other.to_string())),
        _ => Ok(Frame::Ignore),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_envelopes_books_candles_and_rules_are_read() {
        let t = Timestamp(1);
        assert_eq!(
            frame(r#"{"id":"hQvf8jkno","type":"welcome"}"#, t).ok(),
            Some(Frame::Welcome)
        );
        assert_eq!(
            frame(r#"{"id":"1","type":"ack"}"#, t).ok(),
            Some(Frame::Ignore)
        );
        assert_eq!(
            frame(
                r#"{"id":"1","type":"error","code":401,"data":"token is expired"}"#,
                t
            )
            .ok(),
            Some(Frame::Error {
                code: 401,
                message: "token is expired".into()
            })
        );
        let l2 = r#"{"type":"message","topic":"/market/level2:BTC-USDT","subject":"trade.l2update","data":{"changes":{"asks":[["18906","0.00331","14103845"],["18907.3","0.58751503","14103844"]],"bids":[["18891.9","0.15688","14103847"],["0","0","14103848"]]},"sequenceEnd":14103848,"sequenceStart":14103844,"symbol":"BTC-USDT","time":1663747970273}}"#;
        let Ok(Frame::Depth {
            symbol,
            exchange_ts,
            diff,
        }) = frame(l2, t)
        else {
            panic!("not a diff")
        };
        assert_eq!(
            (symbol.as_str(), exchange_ts),
            ("BTC/USDT", Timestamp(1663747970273))
        );
        assert_eq!((diff.first, diff.last), (14103844, 14103848));
        // the price-0 change only advances the sequence
        assert_eq!(diff.changes.len(), 3);
        assert_eq!(diff.change_seqs, vec![14103847, 14103845, 14103844]);
        let m = r#"{"type":"message","topic":"/market/match:BTC-USDT","subject":"trade.l3match","data":{"makerOrderId":"a","price":"20302.1","sequence":"1","side":"sell","size":"0.00001","symbol":"BTC-USDT","takerOrderId":"b","time":"1663751234656000000","tradeId":"c","type":"match"}}"#;
        let Ok(Frame::Market(ev)) = frame(m, t) else {
            panic!("not a trade")
        };
        assert_eq!(ev.exchange_ts, Timestamp(1663751234656));
        assert!(matches!(
            ev.kind,
            MarketKind::Trade {
                aggressor: Side::Sell,
                ..
            }
        ));
        assert!(frame("nope", t).is_err());
        assert!(frame(r#"{"type":"message","subject":"trade.l2update","data":{"changes":{"bids":[["x","1","2"]]},"sequenceStart":1,"sequenceEnd":2,"symbol":"BTC-USDT","time":1}}"#, t).is_err());

        let err = data(r#"{"code":"400100","msg":"Parameter Error"}"#).err();
        assert!(matches!(err, Some(Ok((c, m))) if c == "400100" && m == "Parameter Error"));
        let d = data(r#"{"code":"200000","data":{"token":"tok","instanceServers":[{"endpoint":"wss://ws-api-spot.kucoin.com/","encrypt":true,"protocol":"websocket","pingInterval":18000,"pingTimeout":10000}]}}"#).unwrap_or_else(|_| panic!("envelope"));
        assert_eq!(
            bullet(d).ok().map(|b| (b.endpoint, b.ping_interval_ms)),
            Some(("wss://ws-api-spot.kucoin.com/".into(), 18000))
        );
        let d = data(r#"{"code":"200000","data":{"time":1,"sequence":"3262786978","bids":[["6500.12","0.45054140"]],"asks":[["6500.13","0.1"]]}}"#).unwrap_or_else(|_| panic!("envelope"));
        assert_eq!(order_book(d).ok().map(|b| b.id), Some(3262786978));
        let d = data(r#"{"code":"200000","data":[["1700000040","1","2","3","0.5","9","10"],["1699999980","100","101","102","99","2.5","250"]]}"#).unwrap_or_else(|_| panic!("envelope"));
        let c = candles(d, 60_000, Timestamp(1_700_000_070_000)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].0.open, c[0].0.close, c[0].0.high, c[0].0.low),
            (
                Decimal::new(100, 0),
                Decimal::new(101, 0),
                Decimal::new(102, 0),
                Decimal::new(99, 0)
            )
        );
        let d = data(r#"{"code":"200000","data":{"symbol":"BTC-USDT","baseMinSize":"0.00001","quoteMinSize":"0.1","baseIncrement":"0.00000001","priceIncrement":"0.1","minFunds":"0.1","enableTrading":true}}"#).unwrap_or_else(|_| panic!("envelope"));
        let (i, status) = symbol_rules(d).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (i.tick_size, i.min_qty, status.as_str()),
            (Decimal::new(1, 1), Decimal::new(1, 5), "TRADING")
        );
    }
}
