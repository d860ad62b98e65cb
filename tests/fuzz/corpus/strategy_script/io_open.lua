params = {}
timeframe = "1s"
function on_bar(ctx, bar)
  local f = io.open("/etc/passwd")
end
