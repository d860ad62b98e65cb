params = {}
timeframe = "1s"
function on_bar(ctx, bar)
  os.execute("touch /tmp/tradedeck-pwned")
end
