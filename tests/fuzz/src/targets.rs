//! The fuzz targets: each feeds one kind of outside input to the parsers that read it; a
//! panic is a finding. Shared by the AFL binary (`main.rs`) and the corpus replay that
//! `cargo test` runs (`tests/fuzz_corpus.rs`).

use tradedeck::model::Timestamp;

/// A target: its name and what it feeds an input to.
pub type Target = (&'static str, fn(&str));

/// The targets, by name.
pub const TARGETS: [Target; 12] = [
    ("binance_ws", binance_ws),
    ("binance_rest", binance_rest),
    ("gate_ws", gate_ws),
    ("gate_rest", gate_rest),
    ("kucoin_ws", kucoin_ws),
    ("kucoin_rest", kucoin_rest),
    ("control", control),
    ("config", config),
    ("candles_csv", candles_csv),
    ("llm_answer", llm_answer),
    ("news", news),
    ("strategy_script", strategy_script),
];

const NOW: Timestamp = Timestamp(1_700_000_000_000);

/// Binance's combined streams and user data stream.
fn binance_ws(s: &str) {
    use tradedeck::venues::binance::{orders, parse};
    let _ = parse::stream_message(s, NOW);
    let _ = orders::user_event(s);
}

/// Binance's REST answers: depth, klines, exchange info, orders, balances, trades, time.
fn binance_rest(s: &str) {
    use tradedeck::venues::binance::{orders, parse};
    let _ = parse::depth_snapshot(s);
    let _ = parse::klines(s);
    let _ = parse::exchange_info(s);
    let _ = parse::error_body(s);
    let _ = parse::server_time(s);
    let _ = orders::order(s);
    let _ = orders::orders(s);
    let _ = orders::balances(s);
    let _ = orders::my_trades(s);
}

/// Gate.io's spot streams and futures private pushes.
fn gate_ws(s: &str) {
    let _ = tradedeck::venues::gate::parse::stream_message(s, NOW);
    let _ = tradedeck::venues::gate::user::pushed(s);
}

/// Gate.io's REST answers, spot and futures.
fn gate_rest(s: &str) {
    use tradedeck::venues::gate::{futures, parse};
    let _ = parse::order_book(s);
    let _ = parse::candles(s, 60_000, NOW);
    let _ = parse::currency_pair(s);
    let _ = futures::contract(s);
    let _ = futures::order(s);
    let _ = futures::orders(s);
    let _ = futures::trades(s);
    let _ = futures::positions(s);
    let _ = futures::account(s);
}

/// KuCoin's WebSocket frames.
fn kucoin_ws(s: &str) {
    let _ = tradedeck::venues::kucoin::parse::frame(s, NOW);
}

/// KuCoin's REST answers: the envelope, then each payload reader on its data.
fn kucoin_rest(s: &str) {
    use tradedeck::venues::kucoin::parse;
    if let Ok(data) = parse::data(s) {
        let _ = parse::bullet(data);
        let _ = parse::order_book(data);
        let _ = parse::candles(data, 60_000, NOW);
        let _ = parse::symbol_rules(data);
    }
}

/// A control-socket request line.
fn control(s: &str) {
    let _ = serde_json::from_str::<tradedeck::control::Envelope>(s);
}

/// A config file, validated.
fn config(s: &str) {
    if let Ok(c) = tradedeck::config::Config::parse(s, std::path::Path::new("fuzz.toml")) {
        let _ = c.redacted();
    }
}

/// Candle CSV in tradedeck's format and Binance's kline exports, as backtests read them.
fn candles_csv(s: &str) {
    let _ = tradedeck::backtest::data::load(s.as_bytes(), None, None);
}

/// An LLM's answer.
fn llm_answer(s: &str) {
    let _ = tradedeck::signals::parse_answer(s);
}

/// A news JSONL line and an RSS/Atom document.
fn news(s: &str) {
    for line in s.lines() {
        let _ = tradedeck::app::news::parse_line(line, NOW);
    }
    let _ = tradedeck::signals::feed::headlines(s, "fuzz", NOW);
}

/// A strategy script: loaded, and when it loads, run on a few bars with its intents sized as
/// the engine would see them. Errors are answers; only a panic is a finding.
fn strategy_script(s: &str) {
    use tradedeck::strategy::{Ctx, FixedAccount, Strategy, script::Script};
    let Ok(script) = Script::from_source(std::path::Path::new("fuzz.lua"), s) else {
        return;
    };
    let Ok(mut strategy) = script.instantiate(
        &script
            .schema()
            .iter()
            .map(|p| (p.name.clone(), p.default))
            .collect::<Vec<_>>(),
    ) else {
        return;
    };
    let Ok(symbol) = "BTC/USDT".parse() else {
        return;
    };
    let (mut intents, mut logs) = (Vec::new(), Vec::new());
    for i in 0..5i64 {
        let p = rust_decimal::Decimal::from(100 + i);
        let bar = tradedeck::model::Candle::from_trade(Timestamp(NOW.0 + i * 60_000), p, p);
        let account = FixedAccount::default();
        let mut ctx = Ctx::new(symbol, bar.open_time, &account, (&mut intents, &mut logs));
        if strategy.on_bar(&mut ctx, &bar).is_err() {
            return;
        }
    }
    let _ = strategy.state();
}
