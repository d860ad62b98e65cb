-- bollinger_breakout.lua: a Bollinger band breakout.
--
-- Buys a close above the upper band (volatility expanding upwards) while the bands are wide
-- enough to matter, and exits on a close back under the middle band. A take-profit a few
-- band-widths up locks in a spike.
--
--   tradedeck backtest --data candles.csv --strategy assets/strategies/bollinger_breakout.lua
--   tradedeck optimize --data candles.csv --strategy assets/strategies/bollinger_breakout.lua \
--       --grid period=20..60:20,k=2..3:0.5

params = { period = 20, k = 2, min_width_pct = 0.3, take_widths = 2 }

function on_bar(ctx, bar)
  local upper, middle, lower = ctx.bbands(params.period, params.k)
  if upper == nil then
    return
  end
  local width = upper - lower
  local width_pct = width / middle * 100
  ctx.state("width", string.format("%.2f%%", width_pct))
  if ctx.position() == 0 then
    if bar.close > upper and width_pct >= params.min_width_pct then
      ctx.buy{
        fraction = 1.0,
        take = bar.close + params.take_widths * width,
        reason = string.format("close %.2f above the upper band %.2f (bands %.2f%% wide)",
          bar.close, upper, width_pct),
      }
    end
  elseif bar.close < middle then
    ctx.sell{ fraction = 1.0, reason = string.format("close %.2f back under the middle band", bar.close) }
  end
end
