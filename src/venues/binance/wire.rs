//! The serde shapes of Binance spot's JSON, as the venue sends it (field names are Binance's
//! one-letter keys, renamed to words here). Prices and quantities stay decimal strings until
//! `parse` turns them into `Decimal`s; nothing goes through `f64`.

use serde::Deserialize;

/// A combined-stream frame, `{"stream":"btcusdt@depth@100ms","data":{…}}`, read in one
/// pass: Binance writes `stream` first, so `data` is read straight into its type.
#[derive(Debug)]
pub enum Frame<'a> {
    /// `<symbol>@depth…`.
    Depth(DepthUpdate<'a>),
    /// `<symbol>@trade`.
    Trade(Trade<'a>),
    /// `<symbol>@kline_<interval>`.
    Kline(KlineEvent<'a>),
    /// A stream we do not read (its name).
    Other(&'a str),
}

impl<'de: 'a, 'a> Deserialize<'de> for Frame<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Frame<'a>, D::Error> {
        d.deserialize_map(FrameVisitor)
    }
}

struct FrameVisitor;

impl<'de> serde::de::Visitor<'de> for FrameVisitor {
    type Value = Frame<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a combined-stream frame {\"stream\":…,\"data\":…}")
    }

    fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Frame<'de>, M::Error> {
        use serde::de::Error;
        let mut stream: Option<&'de str> = None;
        let mut frame = None;
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "stream" => stream = Some(map.next_value()?),
                "data" => {
                    let name = stream.ok_or_else(|| M::Error::custom("data before stream"))?;
                    let channel = name.split_once('@').map_or("", |(_, c)| c);
                    frame = Some(if channel.starts_with("depth") {
                        Frame::Depth(map.next_value()?)
                    } else if channel == "trade" {
                        Frame::Trade(map.next_value()?)
                    } else if channel.starts_with("kline_") {
                        Frame::Kline(map.next_value()?)
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        Frame::Other(name)
                    });
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        frame.ok_or_else(|| M::Error::missing_field("data"))
    }
}

/// A price level: `["61837.63","3.78826"]`.
pub type WireLevel<'a> = [&'a str; 2];

/// `<symbol>@depth@100ms`: one diff of the book.
#[derive(Debug, Deserialize)]
pub struct DepthUpdate<'a> {
    /// Event time (ms).
    #[serde(rename = "E")]
    pub event_time: i64,
    /// Symbol, e.g. `BTCUSDT`.
    #[serde(rename = "s")]
    pub symbol: &'a str,
    /// First update id in the event.
    #[serde(rename = "U")]
    pub first: u64,
    /// Last update id in the event.
    #[serde(rename = "u")]
    pub last: u64,
    /// Bid levels with their new quantities ("0" removes).
    #[serde(rename = "b", borrow)]
    pub bids: Vec<WireLevel<'a>>,
    /// Ask levels with their new quantities.
    #[serde(rename = "a", borrow)]
    pub asks: Vec<WireLevel<'a>>,
}

/// `GET /api/v3/depth`: the book as of `lastUpdateId`.
#[derive(Debug, Deserialize)]
pub struct DepthSnapshot<'a> {
    /// The last update id the snapshot includes.
    #[serde(rename = "lastUpdateId")]
    pub last_update_id: u64,
    /// Bids, best first.
    #[serde(borrow)]
    pub bids: Vec<WireLevel<'a>>,
    /// Asks, best first.
    #[serde(borrow)]
    pub asks: Vec<WireLevel<'a>>,
}

/// `<symbol>@trade`: one public trade.
#[derive(Debug, Deserialize)]
pub struct Trade<'a> {
    /// Event time (ms).
    #[serde(rename = "E")]
    pub event_time: i64,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: &'a str,
    /// Price.
    #[serde(rename = "p")]
    pub price: &'a str,
    /// Quantity.
    #[serde(rename = "q")]
    pub qty: &'a str,
    /// Trade time (ms).
    #[serde(rename = "T")]
    pub trade_time: i64,
    /// The buyer was the maker: the seller took liquidity.
    #[serde(rename = "m")]
    pub buyer_is_maker: bool,
}

/// `<symbol>@kline_<interval>`: the current candle of an interval.
#[derive(Debug, Deserialize)]
pub struct KlineEvent<'a> {
    /// Event time (ms).
    #[serde(rename = "E")]
    pub event_time: i64,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: &'a str,
    /// The candle.
    #[serde(rename = "k", borrow)]
    pub kline: Kline<'a>,
}

/// The candle inside a kline event.
#[derive(Debug, Deserialize)]
pub struct Kline<'a> {
    /// Open time (ms).
    #[serde(rename = "t")]
    pub open_time: i64,
    /// Interval, e.g. `1m`.
    #[serde(rename = "i")]
    pub interval: &'a str,
    /// Open.
    #[serde(rename = "o")]
    pub open: &'a str,
    /// High.
    #[serde(rename = "h")]
    pub high: &'a str,
    /// Low.
    #[serde(rename = "l")]
    pub low: &'a str,
    /// Close.
    #[serde(rename = "c")]
    pub close: &'a str,
    /// Base volume.
    #[serde(rename = "v")]
    pub volume: &'a str,
    /// The candle is closed (final).
    #[serde(rename = "x")]
    pub closed: bool,
}

/// One row of `GET /api/v3/klines`: `[openTime, "open", "high", "low", "close", "volume",
/// closeTime, "quoteVolume", trades, "takerBase", "takerQuote", "0"]`.
#[derive(Debug, Deserialize)]
pub struct KlineRow<'a>(
    pub i64,
    pub &'a str,
    pub &'a str,
    pub &'a str,
    pub &'a str,
    pub &'a str,
    pub i64,
    pub serde::de::IgnoredAny,
    pub serde::de::IgnoredAny,
    pub serde::de::IgnoredAny,
    pub serde::de::IgnoredAny,
    pub serde::de::IgnoredAny,
);

/// `GET /api/v3/exchangeInfo`.
#[derive(Debug, Deserialize)]
pub struct ExchangeInfo<'a> {
    /// The venue's request limits.
    #[serde(rename = "rateLimits", default)]
    pub rate_limits: Vec<RateLimit<'a>>,
    /// One entry per symbol asked for.
    #[serde(borrow)]
    pub symbols: Vec<SymbolInfo<'a>>,
}

/// One of `exchangeInfo`'s `rateLimits`.
#[derive(Debug, Deserialize)]
pub struct RateLimit<'a> {
    /// `REQUEST_WEIGHT`, `ORDERS` or `RAW_REQUESTS`.
    #[serde(rename = "rateLimitType")]
    pub kind: &'a str,
    /// `SECOND`, `MINUTE` or `DAY`.
    pub interval: &'a str,
    /// How many intervals the window spans.
    #[serde(rename = "intervalNum")]
    pub interval_num: u32,
    /// The limit in that window.
    pub limit: u32,
}

/// One symbol of `exchangeInfo`.
#[derive(Debug, Deserialize)]
pub struct SymbolInfo<'a> {
    /// e.g. `BTCUSDT`.
    pub symbol: &'a str,
    /// `TRADING`, `HALT`, `BREAK`.
    pub status: &'a str,
    /// e.g. `BTC`.
    #[serde(rename = "baseAsset")]
    pub base_asset: &'a str,
    /// e.g. `USDT`.
    #[serde(rename = "quoteAsset")]
    pub quote_asset: &'a str,
    /// The symbol's filters; only the ones orders are checked against are read.
    #[serde(borrow)]
    pub filters: Vec<Filter<'a>>,
}

/// A symbol filter (`filterType` decides which fields are present).
#[derive(Debug, Deserialize)]
pub struct Filter<'a> {
    /// `PRICE_FILTER`, `LOT_SIZE`, `NOTIONAL`, `MIN_NOTIONAL`, …
    #[serde(rename = "filterType")]
    pub kind: &'a str,
    /// PRICE_FILTER: price step.
    #[serde(rename = "tickSize")]
    pub tick_size: Option<&'a str>,
    /// LOT_SIZE: quantity step.
    #[serde(rename = "stepSize")]
    pub step_size: Option<&'a str>,
    /// LOT_SIZE: smallest quantity.
    #[serde(rename = "minQty")]
    pub min_qty: Option<&'a str>,
    /// NOTIONAL / MIN_NOTIONAL: smallest price × quantity.
    #[serde(rename = "minNotional")]
    pub min_notional: Option<&'a str>,
}

/// An error body: `{"code":-1121,"msg":"Invalid symbol."}`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    /// Binance's error code (negative).
    pub code: i64,
    /// Its message.
    pub msg: String,
}

/// `GET /api/v3/time`.
#[derive(Debug, Deserialize)]
pub struct ServerTime {
    /// The venue's clock (ms).
    #[serde(rename = "serverTime")]
    pub server_time: i64,
}
