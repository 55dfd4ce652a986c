-- wrk script of bench/load.py: replays the requests of one scenario and prints the figures.
--
--   wrk -t2 -c16 -d10s -s bench/load.lua http://127.0.0.1:PORT -- REQUESTS_FILE
--
-- REQUESTS_FILE (written by load.py) has one request per line, tab separated:
--   METHOD <tab> PATH <tab> HEADERS <tab> BODY
-- HEADERS is `Name: value` pairs joined by `|` (or `-` for none), BODY is the raw body (or `-`).
-- Every `{n}` in PATH or BODY becomes a number unique to the request (thread and count), so
-- created records differ. Each thread walks the lines in turn from its own starting point.
-- At the end one line `WRKJSON {...}` gives requests, duration, errors (non-2xx/3xx answers in
-- errors.status) and the latency percentiles in microseconds.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local function split(line, sep)
  local out = {}
  local start = 1
  while true do
    local i = string.find(line, sep, start, true)
    if not i then
      out[#out + 1] = string.sub(line, start)
      return out
    end
    out[#out + 1] = string.sub(line, start, i - 1)
    start = i + #sep
  end
end

local function plain_replace(text, token, value)
  local out, start = {}, 1
  while true do
    local i, j = string.find(text, token, start, true)
    if not i then
      out[#out + 1] = string.sub(text, start)
      return table.concat(out)
    end
    out[#out + 1] = string.sub(text, start, i - 1)
    out[#out + 1] = value
    start = j + 1
  end
end

function init(args)
  rows = {}
  for line in io.lines(args[1]) do
    if line ~= "" then
      local f = split(line, "\t")
      local headers = {}
      if f[3] ~= "-" then
        for _, pair in ipairs(split(f[3], "|")) do
          local c = string.find(pair, ":", 1, true)
          headers[string.sub(pair, 1, c - 1)] = string.gsub(string.sub(pair, c + 1), "^%s+", "")
        end
      end
      local body = nil
      if f[4] ~= "-" then body = f[4] end
      rows[#rows + 1] = {method = f[1], path = f[2], headers = headers, body = body,
                         templated = string.find(f[2] .. (body or ""), "{n}", 1, true) ~= nil}
    end
  end
  if #rows == 0 then
    error("no requests in " .. args[1])
  end
  count = 0
  base = (tid or 1) * 100000000
  offset = ((tid or 1) - 1) * math.floor(#rows / 2 + 1)
end

function request()
  count = count + 1
  local row = rows[((offset + count) % #rows) + 1]
  if not row.templated then
    return wrk.format(row.method, row.path, row.headers, row.body)
  end
  local n = tostring(base + count)
  local body = row.body and plain_replace(row.body, "{n}", n) or nil
  return wrk.format(row.method, plain_replace(row.path, "{n}", n), row.headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.mean, latency.max))
end
