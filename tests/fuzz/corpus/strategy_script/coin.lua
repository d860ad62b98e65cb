-- Test strategy: trades on a seeded coin toss (ctx.random) every few bars.
params = { every = 3 }
timeframe = "1s"
local bars = 0
function on_bar(ctx, bar)
  bars = bars + 1
  if bars % params.every ~= 0 then return end
  local toss = ctx.random()
  ctx.state("toss", string.format("%.3f", toss))
  if ctx.position() == 0 and toss < 0.7 then
    ctx.buy{ fraction = 0.02, reason = "coin " .. string.format("%.3f", toss) }
  elseif ctx.position() > 0 and toss > 0.4 then
    ctx.close("coin says out")
  end
end
