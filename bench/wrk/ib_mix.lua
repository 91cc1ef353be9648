-- The mix: 60% list, 20% detail, 10% comments, 5% like, 4% comment, 1% post.
-- Writes carry a bearer token taken at random from BENCH_TOKENS (a file, one per line).
dofile("bench/wrk/report.lua")
local first = tonumber(os.getenv("BENCH_FIRST_POST") or "1")
local last = tonumber(os.getenv("BENCH_LAST_POST") or "5000")
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local boundary = "----wrkbenchboundary7MA4YWxkTrZu0gW"
local counter = 0

init = function(args) math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6)) end

local function auth(extra)
  local headers = {["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]}
  for k, v in pairs(extra) do headers[k] = v end
  return headers
end

local function multipart(fields)
  local parts = {}
  for name, value in pairs(fields) do
    parts[#parts + 1] = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\""
      .. name .. "\"\r\n\r\n" .. value .. "\r\n"
  end
  return table.concat(parts) .. "--" .. boundary .. "--\r\n"
end

request = function()
  local r = math.random(100)
  local post = math.random(first, last)
  counter = counter + 1
  if r <= 60 then
    return wrk.format("GET", "/api/posts/?page=" .. math.random(1, 5))
  elseif r <= 80 then
    return wrk.format("GET", "/api/posts/" .. post .. "/")
  elseif r <= 90 then
    return wrk.format("GET", "/api/comments/?post_id=" .. post)
  elseif r <= 95 then
    return wrk.format("POST", "/api/posts/" .. post .. "/like/", auth({}), "")
  elseif r <= 99 then
    return wrk.format("POST", "/api/comments/", auth({["Content-Type"] = "application/json"}),
      '{"post_id": ' .. post .. ', "content": "bench comment ' .. counter .. '"}')
  else
    return wrk.format("POST", "/api/posts/",
      auth({["Content-Type"] = "multipart/form-data; boundary=" .. boundary}),
      multipart({title = "bench post " .. counter, content = "written during the mix"}))
  end
end
