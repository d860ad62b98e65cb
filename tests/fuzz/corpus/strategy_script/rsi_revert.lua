-- rsi_revert.lua: RSI mean reversion with an ATR stop.
--
-- Buys when the RSI falls below `oversold` (the market has been sold hard and tends to bounce)
-- and price is still above its long average (so it buys dips in an uptrend, not a falling
-- knife). The stop sits `atr_mult` ATRs under the entry; the exit is the RSI recovering above
-- `exit_rsi`, or the stop.
--
--   tradedeck backtest --data candles.csv --strategy assets/strategies/rsi_revert.lua
--   tradedeck optimize --data candles.csv --strategy assets/strategies/rsi_revert.lua \
--       --grid oversold=20..35:5,exit_rsi=50..70:10

params = { rsi = 14, oversold = 25, exit_rsi = 60, trend = 200, atr = 14, atr_mult = 2 }

function on_bar(ctx, bar)
  local rsi, atr, trend = ctx.rsi(params.rsi), ctx.atr(params.atr), ctx.sma(params.trend)
  if rsi == nil or atr == nil or trend == nil then
    return
  end
  ctx.state("rsi", string.format("%.1f", rsi))
  ctx.state("trend", bar.close > trend and "above" or "below")
  if ctx.position() == 0 then
    if rsi < params.oversold and bar.close > trend then
      ctx.buy{
        fraction = 1.0,
        stop = bar.close - params.atr_mult * atr,
        reason = string.format("RSI %.1f under %d above the %d-bar average; stop %.2f ATR under",
          rsi, params.oversold, params.trend, params.atr_mult),
      }
    end
  elseif rsi > params.exit_rsi then
    ctx.sell{ fraction = 1.0, reason = string.format("RSI recovered to %.1f", rsi) }
  end
end
