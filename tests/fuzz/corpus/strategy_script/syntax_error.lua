params = { fast = 10 }
function on_bar(ctx, bar)
  local x = = 1
end
