-- Test strategy: buy when flat, sell on the next bar; fills quickly on any market.
params = { every = 1 }
timeframe = "1s"
local bars = 0
function on_bar(ctx, bar)
  bars = bars + 1
  ctx.state("bars", bars)
  if bars % params.every ~= 0 then return end
  if ctx.position() == 0 then
    ctx.buy{ fraction = 0.01, reason = "flip: in at " .. bar.close }
  else
    ctx.sell{ fraction = 1.0, reason = "flip: out" }
  end
end
