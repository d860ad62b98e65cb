//! Binance JSON (see `wire`) into the engine's model: book diffs and snapshots for
//! `market::sync`, trades and candles as `MarketEvent`s, instrument rules from
//! `exchangeInfo`. A message that does not parse is an error the feed counts and drops.

use super::wire;
use crate::engine::{LevelChange, MarketEvent, MarketKind, Venue};
use crate::market::sync::{Diff, Snapshot};
use crate::model::{Candle, Instrument, Side, Symbol, Timestamp};
pub use crate::venues::parse::{ParseError, decimal};
use crate::venues::parse::{level_changes, levels, plain_prefix};
use rust_decimal::Decimal;
use std::str::FromStr;

/// One market-stream message, read.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamMessage {
    /// A book diff for `market::sync`.
    Depth {
        /// The pair.
        symbol: Symbol,
        /// Event time.
        exchange_ts: Timestamp,
        /// The diff.
        diff: Diff,
    },
    /// A public trade or a candle, ready for the engine.
    Market(MarketEvent),
    /// A candle still forming (the chart may show it; it is not a closed bar).
    OpenCandle {
        /// The pair.
        symbol: Symbol,
        /// The candle so far.
        candle: Candle,
    },
    /// A reply to a subscribe request (`{"result":null,"id":1}`).
    Reply,
}

/// A Binance symbol (`BTCUSDT`) as a pair.
pub fn symbol(s: &str) -> Result<Symbol, ParseError> {
    Symbol::from_str(s).map_err(|_| ParseError::Symbol(s.to_string()))
}

/// A `depthUpdate` event as a diff.
fn depth_update(d: &wire::DepthUpdate<'_>) -> Result<(Symbol, Timestamp, Diff), ParseError> {
    let mut out = Vec::with_capacity(d.bids.len() + d.asks.len());
    level_changes(Side::Buy, &d.bids, &mut out)?;
    level_changes(Side::Sell, &d.asks, &mut out)?;
    Ok((
        symbol(d.symbol)?,
        Timestamp(d.event_time),
        Diff::new(d.first, d.last, out),
    ))
}

/// A `GET /api/v3/depth` answer.
pub fn depth_snapshot(body: &str) -> Result<Snapshot, ParseError> {
    let s: wire::DepthSnapshot = serde_json::from_str(body)?;
    Ok(Snapshot {
        id: s.last_update_id,
        bids: levels(&s.bids)?,
        asks: levels(&s.asks)?,
    })
}

/// A cursor for the depth fast path.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    /// Steps over `lit` if it comes next.
    fn lit(&mut self, lit: &str) -> Option<()> {
        let end = self.at + lit.len();
        (self.text.as_bytes().get(self.at..end)? == lit.as_bytes()).then(|| self.at = end)
    }

    /// A JSON string's plain contents (no escapes), after its opening quote.
    fn until_quote(&mut self) -> Option<&'a str> {
        let rest = self.text.as_bytes().get(self.at..)?;
        let len = rest.iter().position(|b| *b == b'"')?;
        // cut at an ASCII quote, so on a character boundary
        let s = self.text.get(self.at..self.at + len)?;
        if s.as_bytes().contains(&b'\\') {
            return None;
        }
        self.at += len + 1;
        Some(s)
    }

    /// A decimal in the venue's plain shape, up to its closing quote.
    fn decimal(&mut self) -> Option<Decimal> {
        let (d, len) = plain_prefix(self.text.as_bytes().get(self.at..)?)?;
        self.at += len;
        Some(d)
    }

    /// An unsigned integer.
    fn number(&mut self) -> Option<u64> {
        let rest = self.text.as_bytes().get(self.at..)?;
        let len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 || len > 19 {
            return None;
        }
        let n = self.text.get(self.at..self.at + len)?.parse().ok()?;
        self.at += len;
        Some(n)
    }

    /// `["price","qty"],…]` into `out`, after the opening `[`.
    fn levels(&mut self, side: Side, out: &mut Vec<LevelChange>) -> Option<()> {
        if self.lit("]").is_some() {
            return Some(());
        }
        loop {
            self.lit("[\"")?;
            let price = self.decimal()?;
            self.lit("\",\"")?;
            let qty = self.decimal()?;
            self.lit("\"]")?;
            // out of range: the general reader says why
            crate::model::bounds::price("price", price).ok()?;
            crate::model::bounds::size("qty", qty).ok()?;
            out.push(LevelChange { side, price, qty });
            if self.lit("]").is_some() {
                return Some(());
            }
            self.lit(",")?;
        }
    }
}

/// A depth frame in exactly the layout Binance writes (`stream`, then `data` with `e`, `E`,
/// `s`, `U`, `u`, `b`, `a` in that order, no spaces), read in one pass without building
/// anything on the way: the feed's hottest path. Anything else is `None`, and the general
/// reader takes the frame.
fn depth_frame(text: &str) -> Option<(Symbol, Timestamp, Diff)> {
    let mut c = Cursor { text, at: 0 };
    c.lit("{\"stream\":\"")?;
    let stream = c.until_quote()?;
    if !stream.split_once('@')?.1.starts_with("depth") {
        return None;
    }
    c.lit(",\"data\":{\"e\":\"depthUpdate\",\"E\":")?;
    let event_time = i64::try_from(c.number()?).ok()?;
    c.lit(",\"s\":\"")?;
    let symbol = symbol(c.until_quote()?).ok()?;
    c.lit(",\"U\":")?;
    let first = c.number()?;
    c.lit(",\"u\":")?;
    let last = c.number()?;
    let mut changes = Vec::with_capacity(32);
    c.lit(",\"b\":[")?;
    c.levels(Side::Buy, &mut changes)?;
    c.lit(",\"a\":[")?;
    c.levels(Side::Sell, &mut changes)?;
    c.lit("}}")?;
    (c.at == text.len()).then_some(())?;
    Some((
        symbol,
        Timestamp(event_time),
        Diff::new(first, last, changes),
    ))
}

/// One combined-stream frame, received at `received`.
pub fn stream_message(text: &str, received: Timestamp) -> Result<StreamMessage, ParseError> {
    if text.starts_with("{\"result\"") {
        return Ok(StreamMessage::Reply);
    }
    if let Some((symbol, exchange_ts, diff)) = depth_frame(text) {
        return Ok(StreamMessage::Depth {
            symbol,
            exchange_ts,
            diff,
        });
    }
    match serde_json::from_str(text)? {
        wire::Frame::Depth(d) => {
            let (symbol, exchange_ts, diff) = depth_update(&d)?;
            Ok(StreamMessage::Depth {
                symbol,
                exchange_ts,
                diff,
            })
        }
        wire::Frame::Trade(t) => Ok(StreamMessage::Market(MarketEvent {
            venue: Venue::Binance,
            symbol: symbol(t.symbol)?,
            exchange_ts: Timestamp(t.trade_time),
            received_ts: received,
            kind: MarketKind::Trade {
                price: decimal("price", t.price)?,
                qty: decimal("qty", t.qty)?,
                aggressor: if t.buyer_is_maker {
                    Side::Sell
                } else {
                    Side::Buy
                },
            },
        })),
        wire::Frame::Kline(k) => {
            let symbol = symbol(k.symbol)?;
            let candle = kline_candle(&k.kline)?;
            if !k.kline.closed {
                return Ok(StreamMessage::OpenCandle { symbol, candle });
            }
            Ok(StreamMessage::Market(MarketEvent {
                venue: Venue::Binance,
                symbol,
                exchange_ts: Timestamp(k.event_time),
                received_ts: received,
                kind: MarketKind::Candle(candle),
            }))
        }
        wire::Frame::Other(stream) => Err(ParseError::Stream(stream.to_string())),
    }
}

fn kline_candle(k: &wire::Kline<'_>) -> Result<Candle, ParseError> {
    Ok(Candle {
        open_time: Timestamp(k.open_time),
        open: decimal("open", k.open)?,
        high: decimal("high", k.high)?,
        low: decimal("low", k.low)?,
        close: decimal("close", k.close)?,
        volume: decimal("volume", k.volume)?,
    })
}

/// A `GET /api/v3/klines` answer, oldest first, as (candle, close time).
pub fn klines(body: &str) -> Result<Vec<(Candle, Timestamp)>, ParseError> {
    let rows: Vec<wire::KlineRow> = serde_json::from_str(body)?;
    rows.iter()
        .map(|r| {
            Ok((
                Candle {
                    open_time: Timestamp(r.0),
                    open: decimal("open", r.1)?,
                    high: decimal("high", r.2)?,
                    low: decimal("low", r.3)?,
                    close: decimal("close", r.4)?,
                    volume: decimal("volume", r.5)?,
                },
                Timestamp(r.6),
            ))
        })
        .collect()
}

/// What `exchangeInfo` says about trading.
#[derive(Clone, Debug, PartialEq)]
pub struct ExchangeRules {
    /// Per symbol asked for: its rules, and the venue's status for it (`TRADING`, `BREAK`,
    /// `HALT`, …).
    pub instruments: Vec<(Instrument, String)>,
    /// The request-weight limit per minute, if listed.
    pub weight_per_minute: Option<u32>,
}

/// A `GET /api/v3/exchangeInfo` answer: tick size from PRICE_FILTER, step and minimum
/// quantity from LOT_SIZE, minimum notional from NOTIONAL (or the older MIN_NOTIONAL).
pub fn exchange_info(body: &str) -> Result<ExchangeRules, ParseError> {
    let info: wire::ExchangeInfo = serde_json::from_str(body)?;
    let weight_per_minute = info
        .rate_limits
        .iter()
        .find(|l| l.kind == "REQUEST_WEIGHT" && l.interval == "MINUTE" && l.interval_num == 1)
        .map(|l| l.limit);
    let mut instruments = Vec::with_capacity(info.symbols.len());
    for s in &info.symbols {
        let symbol = Symbol::new(s.base_asset, s.quote_asset)
            .map_err(|_| ParseError::Symbol(s.symbol.to_string()))?;
        let mut i = Instrument {
            symbol,
            tick_size: Decimal::ZERO,
            lot_size: Decimal::ZERO,
            min_qty: Decimal::ZERO,
            min_notional: Decimal::ZERO,
        };
        for f in &s.filters {
            let value = |field: &'static str, v: Option<&str>| v.map(|v| decimal(field, v));
            match f.kind {
                "PRICE_FILTER" => {
                    if let Some(t) = value("tickSize", f.tick_size) {
                        i.tick_size = t?;
                    }
                }
                "LOT_SIZE" => {
                    if let Some(step) = value("stepSize", f.step_size) {
                        i.lot_size = step?;
                    }
                    if let Some(min) = value("minQty", f.min_qty) {
                        i.min_qty = min?;
                    }
                }
                "NOTIONAL" | "MIN_NOTIONAL" => {
                    if let Some(min) = value("minNotional", f.min_notional) {
                        i.min_notional = i.min_notional.max(min?);
                    }
                }
                _ => {}
            }
        }
        instruments.push((i, s.status.to_string()));
    }
    Ok(ExchangeRules {
        instruments,
        weight_per_minute,
    })
}

/// An error body, if `body` is one.
pub fn error_body(body: &str) -> Option<wire::ErrorBody> {
    serde_json::from_str(body).ok()
}

/// A `GET /api/v3/time` answer.
pub fn server_time(body: &str) -> Result<Timestamp, ParseError> {
    let t: wire::ServerTime = serde_json::from_str(body)?;
    Ok(Timestamp(t.server_time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn a_documented_depth_update_becomes_a_diff() {
        // Binance's web-socket-streams.md example, in a combined-stream frame
        let text = r#"{"stream":"bnbbtc@depth@100ms","data":{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}}"#;
        let StreamMessage::Depth {
            symbol,
            exchange_ts,
            diff,
        } = stream_message(text, Timestamp(1)).unwrap()
        else {
            panic!("not a depth message");
        };
        assert_eq!(symbol.as_str(), "BNB/BTC");
        assert_eq!(exchange_ts, Timestamp(1672515782136));
        assert_eq!((diff.first, diff.last), (157, 160));
        assert_eq!(
            diff.changes,
            vec![
                LevelChange {
                    side: Side::Buy,
                    price: dec!(0.0024),
                    qty: dec!(10)
                },
                LevelChange {
                    side: Side::Sell,
                    price: dec!(0.0026),
                    qty: dec!(100)
                }
            ]
        );
    }

    #[test]
    fn the_depth_fast_path_reads_what_the_general_reader_reads() {
        let frames = [
            r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"],["61730.17","1.5"]],"a":[["61837.64000000","1.54698000"]]}}"#,
            r#"{"stream":"btcusdt@depth","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":1,"b":[],"a":[]}}"#,
        ];
        for f in frames {
            let fast = depth_frame(f).expect("Binance's layout takes the fast path");
            let d: wire::Frame = serde_json::from_str(f).unwrap();
            let wire::Frame::Depth(d) = d else {
                panic!("a depth frame");
            };
            assert_eq!(fast, depth_update(&d).unwrap());
        }
        // other layouts, spaces or escapes go to the general reader, which still reads them
        for f in [
            r#"{"stream":"btcusdt@depth@100ms","data":{"E":1,"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}}"#,
            r#"{"stream": "btcusdt@depth@100ms", "data": {"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}}"#,
        ] {
            assert!(depth_frame(f).is_none(), "{f}");
            assert!(
                matches!(
                    stream_message(f, Timestamp(0)),
                    Ok(StreamMessage::Depth { .. })
                ),
                "{f}"
            );
        }
        // an escaped string is never taken by the fast path (nor read as a borrowed one)
        let escaped = r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTC\u0055SDT","U":1,"u":2,"b":[],"a":[]}}"#;
        assert!(depth_frame(escaped).is_none());
        assert!(stream_message(escaped, Timestamp(0)).is_err());
        // a truncated or trailing-garbage frame is not taken by the fast path either
        let good = frames[0];
        assert!(depth_frame(&good[..good.len() - 1]).is_none());
        assert!(depth_frame(&format!("{good}x")).is_none());
        assert!(stream_message(&good[..good.len() - 1], Timestamp(0)).is_err());
    }

    #[test]
    fn trades_and_closed_klines_become_engine_events() {
        let trade = r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1672515782136,"s":"BTCUSDT","t":12345,"p":"61837.63000000","q":"0.00100000","T":1672515782134,"m":true,"M":true}}"#;
        let StreamMessage::Market(ev) = stream_message(trade, Timestamp(9)).unwrap() else {
            panic!("not a trade");
        };
        assert_eq!(ev.exchange_ts, Timestamp(1672515782134));
        assert_eq!(
            ev.kind,
            MarketKind::Trade {
                price: dec!(61837.63),
                qty: dec!(0.001),
                aggressor: Side::Sell
            }
        );
        assert_eq!(format!("{}", dec!(61837.63)), "61837.63");
        let kline = |closed: bool| {
            format!(
                r#"{{"stream":"btcusdt@kline_1m","data":{{"e":"kline","E":1672515782136,"s":"BTCUSDT","k":{{"t":1672515780000,"T":1672515839999,"s":"BTCUSDT","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":{closed},"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}}}}}"#
            )
        };
        assert!(matches!(
            stream_message(&kline(false), Timestamp(9)).unwrap(),
            StreamMessage::OpenCandle { .. }
        ));
        let StreamMessage::Market(ev) = stream_message(&kline(true), Timestamp(9)).unwrap() else {
            panic!("not a candle");
        };
        let MarketKind::Candle(c) = ev.kind else {
            panic!("not a candle");
        };
        assert_eq!(
            (c.open, c.high, c.low, c.close, c.volume),
            (
                dec!(0.001),
                dec!(0.0025),
                dec!(0.0015),
                dec!(0.002),
                dec!(1000)
            )
        );
    }

    #[test]
    fn decimals_read_as_the_venue_wrote_them() {
        for (text, want) in [
            ("61837.63000000", dec!(61837.63)),
            ("0.00000000", dec!(0)),
            ("0.00100000", dec!(0.001)),
            ("431", dec!(431)),
            ("100.", dec!(100)),
            (".5", dec!(0.5)),
            ("-1.50", dec!(-1.5)),
            (
                "123456789012345678.5000001",
                dec!(123456789012345678.5000001),
            ),
            ("60000.00000000", dec!(60000)),
            ("0.12345000", dec!(0.12345)),
            ("99999999999.99999999", dec!(99999999999.99999999)),
            ("999999999999.99999999", dec!(999999999999.99999999)),
            ("1.000000001", dec!(1.000000001)),
            ("-0.00000000", dec!(0)),
            ("7.00000010", dec!(7.0000001)),
        ] {
            let got = decimal("x", text).unwrap();
            assert_eq!(got, want, "{text}");
            assert_eq!(got.to_string(), want.to_string(), "{text} keeps its scale");
        }
        // beyond any amount of money: refused, not carried into the engine
        assert!(matches!(
            decimal("x", "123456789012345678901.5"),
            Err(ParseError::Range(_))
        ));
        for bad in [
            "",
            ".",
            "1.2.3",
            "abc",
            "1,5",
            "--1",
            "1_0",
            "+1",
            "1e3",
            " 1",
            "1.0000000a",
            "1.00000:00",
        ] {
            assert!(decimal("x", bad).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        /// Any plain decimal reads as `Decimal`'s own parser reads it without its trailing
        /// zeros: the same value and the same text.
        #[test]
        fn decimals_match_decimals_parser(
            negative in proptest::bool::ANY,
            whole in "[0-9]{1,15}",
            frac in proptest::option::of("[0-9]{0,12}"),
        ) {
            let text = format!(
                "{}{whole}{}",
                if negative { "-" } else { "" },
                frac.as_ref().map(|f| format!(".{f}")).unwrap_or_default()
            );
            let trimmed = if text.contains('.') {
                text.trim_end_matches('0').trim_end_matches('.')
            } else {
                &text
            };
            let want = Decimal::from_str(trimmed).unwrap();
            let got = decimal("x", &text).unwrap();
            proptest::prop_assert_eq!(got, want);
            proptest::prop_assert_eq!(got.to_string(), want.to_string());
        }
    }

    #[test]
    fn malformed_messages_are_errors_not_panics() {
        for bad in [
            "",
            "{",
            "[]",
            r#"{"stream":"btcusdt@depth@100ms","data":{}}"#,
            r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["x","1"]],"a":[]}}"#,
            r#"{"stream":"btcusdt@bookTicker","data":{}}"#,
            r#"{"stream":"btcusdt@trade","data":{"E":1,"s":"??","p":"1","q":"1","T":1,"m":true}}"#,
        ] {
            assert!(stream_message(bad, Timestamp(0)).is_err(), "{bad:?}");
        }
        assert_eq!(
            stream_message(r#"{"result":null,"id":1}"#, Timestamp(0)).unwrap(),
            StreamMessage::Reply
        );
    }

    #[test]
    fn exchange_info_filters_become_instrument_rules() {
        let body = r#"{"timezone":"UTC","serverTime":1565246363776,"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000},{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":100}],"exchangeFilters":[],"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","baseAssetPrecision":8,"quoteAsset":"USDT","quotePrecision":8,"orderTypes":["LIMIT","MARKET"],"filters":[{"filterType":"PRICE_FILTER","minPrice":"0.01000000","maxPrice":"1000000.00000000","tickSize":"0.01000000"},{"filterType":"LOT_SIZE","minQty":"0.00001000","maxQty":"9000.00000000","stepSize":"0.00001000"},{"filterType":"ICEBERG_PARTS","limit":10},{"filterType":"NOTIONAL","minNotional":"5.00000000","applyMinToMarket":true,"maxNotional":"9000000.00000000","applyMaxToMarket":false,"avgPriceMins":5}]},{"symbol":"ETHBTC","status":"BREAK","baseAsset":"ETH","quoteAsset":"BTC","filters":[{"filterType":"MIN_NOTIONAL","minNotional":"0.00010000","applyToMarket":true,"avgPriceMins":5}]}]}"#;
        let rules = exchange_info(body).unwrap();
        assert_eq!(rules.weight_per_minute, Some(6000));
        let (btc, status) = &rules.instruments[0];
        assert_eq!(status, "TRADING");
        assert_eq!(btc.symbol.as_str(), "BTC/USDT");
        assert_eq!(
            (btc.tick_size, btc.lot_size, btc.min_qty, btc.min_notional),
            (dec!(0.01), dec!(0.00001), dec!(0.00001), dec!(5))
        );
        let (eth, status) = &rules.instruments[1];
        assert_eq!(status, "BREAK");
        assert_eq!(eth.min_notional, dec!(0.0001));
    }

    #[test]
    fn snapshots_klines_errors_and_time() {
        let snap = depth_snapshot(
            r#"{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]}"#,
        )
        .unwrap();
        assert_eq!(snap.id, 1027024);
        assert_eq!(snap.bids[0].qty, dec!(431));
        let rows = klines(r#"[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","0"]]"#).unwrap();
        assert_eq!(rows[0].0.close, dec!(0.015771));
        assert_eq!(rows[0].1, Timestamp(1499644799999));
        let e = error_body(
            r#"{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}"#,
        )
        .unwrap();
        assert_eq!(e.code, -1021);
        assert_eq!(
            server_time(r#"{"serverTime":1499827319559}"#).unwrap(),
            Timestamp(1499827319559)
        );
    }
}
