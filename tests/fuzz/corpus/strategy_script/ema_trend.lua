-- ema_trend.lua: an EMA trend filter with a trailing stop.
--
-- Trades only with the trend: long when the fast EMA is above the slow one and the close is
-- above the trend EMA, entering on the first bar where all three line up. The position is
-- protected by a trailing stop `trail` percent under its highest price; it also exits when the
-- fast EMA crosses back under the slow one.
--
--   tradedeck backtest --data candles.csv --strategy assets/strategies/ema_trend.lua
--   tradedeck optimize --data candles.csv --strategy assets/strategies/ema_trend.lua \
--       --grid fast=10..30:10,slow=40..100:20

params = { fast = 20, slow = 50, trend = 200, trail = 1.5 }

local was_up = nil

function on_bar(ctx, bar)
  local fast, slow, trend = ctx.ema(params.fast), ctx.ema(params.slow), ctx.ema(params.trend)
  if fast == nil or slow == nil or trend == nil then
    return
  end
  local up = fast > slow and bar.close > trend
  ctx.state("trend", up and "up" or "not up")
  if ctx.position() == 0 then
    if up and was_up == false then
      ctx.buy{
        fraction = 1.0,
        trail = params.trail,
        reason = string.format("EMA %d over EMA %d, close over EMA %d; trailing %.1f%%",
          params.fast, params.slow, params.trend, params.trail),
      }
    end
  elseif fast < slow then
    ctx.sell{ fraction = 1.0, reason = "fast EMA back under the slow one" }
  end
  was_up = up
end
