params = {}
timeframe = "1s"
function on_bar(ctx, bar)
  local t = nil
  return t.field
end
