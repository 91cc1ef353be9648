-- GET /api/posts/?page=1..5 (the first pages of the feed, as readers see them).
dofile("bench/wrk/report.lua")
init = function(args) math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6)) end
request = function()
  return wrk.format("GET", "/api/posts/?page=" .. math.random(1, 5))
end
