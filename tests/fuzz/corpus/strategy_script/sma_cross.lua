-- sma_cross.lua: the built-in `sma-cross` written as a script, rule for rule.
-- Long when the fast simple moving average of the closes crosses strictly above the slow one
-- (below the bar before, above at this bar's close); out when it crosses strictly below.
-- All the free cash goes in (the fee accounted); one position at a time.
--
--   tradedeck backtest --data candles.csv --strategy assets/strategies/sma_cross.lua
--   tradedeck optimize --data candles.csv --strategy assets/strategies/sma_cross.lua --grid fast=5..20:5,slow=20..60:10

params = { fast = 10, slow = 30 }

local prev_fast, prev_slow

function on_bar(ctx, bar)
  local fast, slow = ctx.sma(params.fast), ctx.sma(params.slow)
  if fast == nil or slow == nil then
    return
  end
  if prev_fast ~= nil then
    if prev_fast < prev_slow and fast > slow and ctx.position() == 0 then
      ctx.buy{ fraction = 1.0, reason = "SMA " .. params.fast .. " crossed above SMA " .. params.slow }
    elseif prev_fast > prev_slow and fast < slow and ctx.position() > 0 then
      ctx.sell{ fraction = 1.0, reason = "SMA " .. params.fast .. " crossed below SMA " .. params.slow }
    end
  end
  prev_fast, prev_slow = fast, slow
end
