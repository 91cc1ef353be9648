-- GET /api/comments/?post_id= over every seeded post.
dofile("bench/wrk/report.lua")
local first = tonumber(os.getenv("BENCH_FIRST_POST") or "1")
local last = tonumber(os.getenv("BENCH_LAST_POST") or "5000")
init = function(args) math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6)) end
request = function()
  return wrk.format("GET", "/api/comments/?post_id=" .. math.random(first, last))
end
