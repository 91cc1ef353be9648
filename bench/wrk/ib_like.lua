-- Likes only (a diagnostic beside the mix): toggles a random seeded post with a random
-- seeded user's token, so each request is a like or an unlike with its whole cascade.
dofile("bench/wrk/report.lua")
local first = tonumber(os.getenv("BENCH_FIRST_POST") or "1")
local last = tonumber(os.getenv("BENCH_LAST_POST") or "5000")
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end

init = function(args) math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6)) end

request = function()
  return wrk.format("POST", "/api/posts/" .. math.random(first, last) .. "/like/",
    {["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]}, "")
end
