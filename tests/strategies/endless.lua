params = {}
timeframe = "1s"
function on_bar(ctx, bar)
  while true do end
end
