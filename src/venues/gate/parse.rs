//! Gate.io API v4 JSON into the engine's model: spot WebSocket frames (`spot.order_book_update`
//! diffs and full books, `spot.trades`, `spot.candlesticks`, pongs, acknowledgements and
//! errors), REST order-book snapshots, candlesticks (whose columns run time, quote volume,
//! close, high, low, open, base volume, closed) and currency-pair rules. Prices and amounts
//! are decimal strings, read straight into `Decimal`.

use crate::engine::{MarketEvent, MarketKind, Venue};
use crate::market::sync::{Diff, Snapshot};
use crate::model::{Candle, Instrument, Side, Symbol, Timestamp};
use crate::venues::parse::{
    CandleColumns, ParseError, candle_rows, decimal, level_changes, levels, seconds, taker_side,
};
use crate::venues::stream::Parsed;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

/// `BTC_USDT` → the pair.
pub fn pair(s: &str) -> Result<Symbol, ParseError> {
    crate::venues::parse::pair(s, '_')
}

/// The pair → `BTC_USDT`.
pub fn pair_name(s: Symbol) -> String {
    crate::venues::parse::pair_name(s, '_')
}

/// One WebSocket frame: `{time, time_ms, channel, event, error, result}`.
#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(borrow)]
    channel: &'a str,
    #[serde(borrow, default)]
    event: &'a str,
    #[serde(default)]
    error: Option<WsError>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
}

/// A WebSocket error (`{"code":2,"message":"…"}`).
#[derive(Deserialize)]
struct WsError {
    code: i64,
    message: String,
}

/// `spot.order_book_update`'s result.
#[derive(Deserialize)]
struct BookUpdate {
    t: i64,
    s: String,
    #[serde(rename = "U")]
    first: u64,
    #[serde(rename = "u")]
    last: u64,
    #[serde(default)]
    b: Vec<[String; 2]>,
    #[serde(default)]
    a: Vec<[String; 2]>,
    #[serde(default)]
    full: bool,
}

/// `spot.trades`' result.
#[derive(Deserialize)]
struct Trade {
    create_time_ms: serde_json::Value,
    side: String,
    currency_pair: String,
    amount: String,
    price: String,
}

/// `spot.candlesticks`' result.
#[derive(Deserialize)]
struct CandleUpdate {
    t: String,
    c: String,
    h: String,
    l: String,
    o: String,
    n: String,
    #[serde(default)]
    a: Option<String>,
    #[serde(default)]
    w: Option<bool>,
}

/// Milliseconds from Gate's `"1606292218213.4578"` (a string or a number).
fn millis(v: &serde_json::Value) -> Result<Timestamp, ParseError> {
    let text = match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let whole = text.split('.').next().unwrap_or_default();
    whole
        .parse::<i64>()
        .map(Timestamp)
        .map_err(|_| ParseError::Number {
            field: "create_time_ms",
            value: text,
        })
}

/// Reads one spot WebSocket frame received at `received`.
///
/// # Errors
/// A frame that is not Gate's JSON, a channel we did not subscribe to, or a field that does
/// not parse.
pub fn stream_message(text: &str, received: Timestamp) -> Result<Parsed, ParseError> {
    let f: Frame = serde_json::from_str(text)?;
    if let Some(e) = f.error {
        // a refused subscription: the feed goes on without it, the log says why
        tracing::warn!(
            channel = f.channel,
            code = e.code,
            "gate refused: {}",
            e.message
        );
        return Ok(Parsed::Ignore);
    }
    if f.event != "update" && f.event != "all" {
        // subscribe acknowledgements, pongs
        return Ok(Parsed::Ignore);
    }
    let Some(result) = f.result else {
        return Ok(Parsed::Ignore);
    };
    match f.channel {
        "spot.order_book_update" => {
            let u: BookUpdate = serde_json::from_str(result.get())?;
            let mut ch = Vec::with_capacity(u.b.len() + u.a.len());
            level_changes(Side::Buy, &u.b, &mut ch)?;
            level_changes(Side::Sell, &u.a, &mut ch)?;
            let mut diff = Diff::new(u.first, u.last, ch);
            diff.full = u.full;
            Ok(Parsed::Depth {
                symbol: pair(&u.s)?,
                exchange_ts: Timestamp(u.t),
                diff,
            })
        }
        "spot.trades" => {
            let t: Trade = serde_json::from_str(result.get())?;
            Ok(Parsed::Market(MarketEvent {
                venue: Venue::Gate,
                symbol: pair(&t.currency_pair)?,
                exchange_ts: millis(&t.create_time_ms)?,
                received_ts: received,
                kind: MarketKind::Trade {
                    price: decimal("price", &t.price)?,
                    qty: decimal("amount", &t.amount)?,
                    // Gate's side is the taker's
                    aggressor: taker_side(&t.side)?,
                },
            }))
        }
        "spot.candlesticks" => {
            let c: CandleUpdate = serde_json::from_str(result.get())?;
            if c.w != Some(true) {
                return Ok(Parsed::Ignore);
            }
            let symbol =
                c.n.split_once('_')
                    .map(|(_, p)| p)
                    .ok_or_else(|| ParseError::Symbol(c.n.clone()))?;
            let open = seconds("t", &c.t)?;
            Ok(Parsed::Market(MarketEvent {
                venue: Venue::Gate,
                symbol: pair(symbol)?,
                exchange_ts: open.plus_ms(60_000),
                received_ts: received,
                kind: MarketKind::Candle(Candle {
                    open_time: open,
                    open: decimal("o", &c.o)?,
                    high: decimal("h", &c.h)?,
                    low: decimal("l", &c.l)?,
                    close: decimal("c", &c.c)?,
                    volume: c
                        .a
                        .as_deref()
                        .map_or(Ok(Decimal::ZERO), |a| decimal("a", a))?,
                }),
            }))
        }
        other => Err(ParseError::Stream(other.to_string())),
    }
}

/// `GET /spot/order_book?…&with_id=true`: `{"id","current","update","asks","bids"}`.
#[derive(Deserialize)]
struct Book {
    id: u64,
    asks: Vec<[String; 2]>,
    bids: Vec<[String; 2]>,
}

/// Reads a REST order-book snapshot (`with_id=true`).
///
/// # Errors
/// Not the documented shape, or a level that does not parse.
pub fn order_book(body: &str) -> Result<Snapshot, ParseError> {
    let b: Book = serde_json::from_str(body)?;
    Ok(Snapshot {
        id: b.id,
        bids: levels(&b.bids)?,
        asks: levels(&b.asks)?,
    })
}

/// Reads `GET /spot/candlesticks` rows (`[t s, quote volume, close, high, low, open, base
/// volume, closed]`) as closed candles of `len_ms` with their close times: a row marked not
/// closed, or (without the mark) one whose period has not ended by `now`, is left out.
///
/// # Errors
/// Not the documented shape, or a value that does not parse.
pub fn candles(
    body: &str,
    len_ms: i64,
    now: Timestamp,
) -> Result<Vec<(Candle, Timestamp)>, ParseError> {
    let rows: Vec<Vec<String>> = serde_json::from_str(body)?;
    let cols = CandleColumns {
        close: 2,
        high: 3,
        low: 4,
        open: 5,
        volume: 6,
        closed: Some(7),
        len_ms,
    };
    candle_rows(&rows, cols, now)
}

/// `GET /spot/currency_pairs/{pair}`.
#[derive(Deserialize)]
struct CurrencyPair {
    id: String,
    #[serde(default)]
    min_base_amount: Option<String>,
    #[serde(default)]
    min_quote_amount: Option<String>,
    amount_precision: u32,
    precision: u32,
    trade_status: String,
}

/// Reads a currency pair's rules: tick `10^-precision`, lot `10^-amount_precision`, the
/// minimum base amount and quote notional; and its status (`tradable`, or why not).
///
/// # Errors
/// Not the documented shape, or a value that does not parse.
pub fn currency_pair(body: &str) -> Result<(Instrument, String), ParseError> {
    let p: CurrencyPair = serde_json::from_str(body)?;
    let step = |dp: u32| Decimal::new(1, dp.min(28));
    let min =
        |v: &Option<String>, name| v.as_deref().map_or(Ok(Decimal::ZERO), |s| decimal(name, s));
    let status = if p.trade_status == "tradable" {
        "TRADING".to_string()
    } else {
        p.trade_status
    };
    Ok((
        Instrument {
            symbol: pair(&p.id)?,
            tick_size: step(p.precision),
            lot_size: step(p.amount_precision),
            min_qty: min(&p.min_base_amount, "min_base_amount")?,
            min_notional: min(&p.min_quote_amount, "min_quote_amount")?,
        },
        status,
    ))
}

/// Gate's error body: `{"label":"INVALID_CURRENCY_PAIR","message":"…"}`.
#[derive(Deserialize)]
pub struct ErrorBody {
    /// The machine-readable reason.
    pub label: String,
    /// The words.
    #[serde(default)]
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn btc() -> Symbol {
        Symbol::new("BTC", "USDT").unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn book_updates_trades_and_closed_candles_are_read_and_the_rest_ignored() {
        let t = Timestamp(5);
        let diff = r#"{"time":1606294781,"time_ms":1606294781236,"channel":"spot.order_book_update","event":"update","result":{"t":1606294781123,"e":"depthUpdate","E":1606294781,"s":"BTC_USDT","U":48776301,"u":48776306,"b":[["19137.74","0.0001"],["19088.37","0"]],"a":[["19137.75","0.6135"]]}}"#;
        let Ok(Parsed::Depth {
            symbol,
            exchange_ts,
            diff,
        }) = stream_message(diff, t)
        else {
            panic!("not a diff")
        };
        assert_eq!((symbol, exchange_ts), (btc(), Timestamp(1606294781123)));
        assert_eq!(
            (diff.first, diff.last, diff.full),
            (48776301, 48776306, false)
        );
        assert_eq!(diff.changes.len(), 3);
        assert_eq!(diff.changes[1].qty, Decimal::ZERO);
        let full = r#"{"channel":"spot.order_book_update","event":"update","result":{"t":1,"full":true,"s":"BTC_USDT","U":10,"u":20,"b":[["1","1"]],"a":[["2","1"]],"l":"100"}}"#;
        assert!(matches!(stream_message(full, t), Ok(Parsed::Depth { diff, .. }) if diff.full));
        let trade = r#"{"time":1606292218,"time_ms":1606292218231,"channel":"spot.trades","event":"update","result":{"id":309143071,"create_time":1606292218,"create_time_ms":"1606292218213.4578","side":"sell","currency_pair":"BTC_USDT","amount":"16.4700000000","price":"0.4705000000","range":"2390902-2390902"}}"#;
        let Ok(Parsed::Market(ev)) = stream_message(trade, t) else {
            panic!("not a trade")
        };
        assert_eq!(ev.exchange_ts, Timestamp(1606292218213));
        assert_eq!(
            ev.kind,
            MarketKind::Trade {
                price: Decimal::new(4705, 4),
                qty: Decimal::new(1647, 2),
                aggressor: Side::Sell
            }
        );
        let open = r#"{"channel":"spot.candlesticks","event":"update","result":{"t":"1606292580","v":"2362.32","c":"19128.1","h":"19128.1","l":"19128.1","o":"19128.1","n":"1m_BTC_USDT","a":"3.8283","w":false}}"#;
        assert_eq!(stream_message(open, t).ok(), Some(Parsed::Ignore));
        let closed = open.replace("\"w\":false", "\"w\":true");
        let Ok(Parsed::Market(ev)) = stream_message(&closed, t) else {
            panic!("not a candle")
        };
        assert_eq!(ev.exchange_ts, Timestamp(1606292640000));
        for ignored in [
            r#"{"time":1,"channel":"spot.pong","event":"","result":null}"#,
            r#"{"time":1,"channel":"spot.trades","event":"subscribe","result":{"status":"success"}}"#,
            r#"{"time":1,"channel":"spot.trades","event":"subscribe","error":{"code":2,"message":"unknown currency pair"},"result":null}"#,
        ] {
            assert_eq!(
                stream_message(ignored, t).ok(),
                Some(Parsed::Ignore),
                "{ignored}"
            );
        }
        for bad in [
            "not json",
            r#"{"channel":"spot.trades","event":"update","result":{"create_time_ms":"x","side":"buy","currency_pair":"BTC_USDT","amount":"1","price":"1"}}"#,
            r#"{"channel":"spot.order_book_update","event":"update","result":{"t":1,"s":"BTC_USDT","U":1,"u":2,"b":[["abc","1"]]}}"#,
            r#"{"channel":"spot.tickers","event":"update","result":{}}"#,
        ] {
            assert!(stream_message(bad, t).is_err(), "{bad}");
        }
    }

    #[test]
    fn rest_books_candles_and_pair_rules_are_read() {
        let book = order_book(r#"{"id":123456,"current":1623898993123,"update":1623898993121,"asks":[["1.52","1.151"],["1.53","1.218"]],"bids":[["1.17","201.863"]]}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((book.id, book.asks.len(), book.bids.len()), (123456, 2, 1));
        // newest first as Gate may send them; the forming minute is left out
        let rows = r#"[["1700000060","10","101","102","99","100","0.1","false"],["1700000000","10","100.5","101","99.5","100","0.2","true"],["1699999940","10","100","100","100","100","0.3"]]"#;
        let c =
            candles(rows, 60_000, Timestamp(1_700_000_090_000)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.len(), 2);
        let (first, close) = &c[1];
        assert_eq!(first.open_time, Timestamp(1_700_000_000_000));
        assert_eq!(*close, Timestamp(1_700_000_060_000));
        assert_eq!(
            (first.open, first.high, first.low, first.close, first.volume),
            (
                Decimal::new(100, 0),
                Decimal::new(101, 0),
                Decimal::new(995, 1),
                Decimal::new(1005, 1),
                Decimal::new(2, 1)
            )
        );
        let (i, status) = currency_pair(r#"{"id":"BTC_USDT","base":"BTC","quote":"USDT","fee":"0.2","min_base_amount":"0.0001","min_quote_amount":"1","amount_precision":4,"precision":2,"trade_status":"tradable","sell_start":0,"buy_start":0}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(status, "TRADING");
        assert_eq!(
            (i.tick_size, i.lot_size, i.min_qty, i.min_notional),
            (
                Decimal::new(1, 2),
                Decimal::new(1, 4),
                Decimal::new(1, 4),
                Decimal::ONE
            )
        );
    }
}
