//! The commented starter script `tradedeck strategy new NAME` writes.

/// A starter strategy script named `name`: an EMA crossover with an RSI filter and a stop,
/// every part of the API shown in a comment.
pub fn starter(name: &str) -> String {
    format!(
        r#"-- {name}: a tradedeck strategy script (Luau, a sandboxed Lua).
--
-- Run it:      tradedeck backtest --data candles.csv --strategy {name}.lua
--              tradedeck --strategy {name}.lua            (the cockpit, paper trading)
-- Check it:    tradedeck strategy check {name}.lua
-- Tune it:     tradedeck optimize --data candles.csv --strategy {name}.lua --grid fast=5..20:5,slow=20..60:10
--
-- The script sees no clock, no files, no network: only the bars and `ctx`. Its globals persist
-- between calls, so it may keep its own state. An error pauses it (the position keeps its
-- stop); `ctl reload` or the cockpit's reload key loads a fixed version.

-- Defaults; `--param fast=8`, `[strategy.params]` and `optimize --grid` override them.
params = {{ fast = 12, slow = 26, rsi_max = 70, stop_pct = 2 }}

-- The bar length this strategy decides on live (a backtest's bars are its candles).
timeframe = "1m"

local was_above = nil

-- Called at the close of each bar: bar.symbol, bar.ts (ms), bar.open, bar.high, bar.low,
-- bar.close, bar.volume.
function on_bar(ctx, bar)
  -- Indicators by name, created on first use, nil while they warm up:
  -- ctx.sma(n), ctx.ema(n), ctx.wma(n), ctx.rsi(n), ctx.atr(n), ctx.adx(n),
  -- ctx.macd(fast, slow, signal) -> macd, signal, hist
  -- ctx.bbands(n, k) -> upper, middle, lower;  ctx.stoch(k, slow_k, d) -> k, d
  local fast, slow, rsi = ctx.ema(params.fast), ctx.ema(params.slow), ctx.rsi(14)
  if fast == nil or slow == nil or rsi == nil then
    return
  end
  local above = fast > slow
  ctx.state("trend", above and "up" or "down")     -- shown in the cockpit's strategy pane
  ctx.state("rsi", string.format("%.1f", rsi))

  -- ctx.position() is the quantity held (0 when flat); ctx.cash(), ctx.equity() the account.
  if was_above == false and above and ctx.position() == 0 and rsi < params.rsi_max then
    -- size: fraction (of free cash, the fee accounted), or qty, or notional;
    -- optional: limit, stop, take (prices), trail (percent), time_limit (seconds), reason
    ctx.buy{{ fraction = 1.0, stop = bar.close * (1 - params.stop_pct / 100),
              reason = string.format("EMA %d crossed above EMA %d, RSI %.0f", params.fast, params.slow, rsi) }}
  elseif was_above == true and not above and ctx.position() > 0 then
    ctx.sell{{ fraction = 1.0, reason = "EMA cross down" }}   -- or ctx.close("why")
  end
  was_above = above
end

-- Optional: called for each of this strategy's fills (side, price, qty, fee, ts).
function on_fill(ctx, fill)
  ctx.log(fill.side .. " " .. fill.qty .. " at " .. fill.price)
end
"#
    )
}
