-- wrk script for scripts/bench.ts. Arguments after `--`:
--   post FILE [START [COUNT]]  POST /webhook: line i of FILE is "<signature>\t<body>"; each line is
--                              sent once, from line START on; past COUNT lines (or the end) it
--                              starts again at START
--   get FILE                   GET each path of FILE in turn, round and round
-- and, last, optionally pause=MS: each connection waits MS ms after an answer before its next
-- request, so that 50 connections send about 50 * 1000 / (MS + latency) requests a second
-- done() prints one JSON line: requests, seconds, p50/p99/max in ms, status counts, errors and
-- how many lines were sent.
local mode, lines, first, count, pause = nil, {}, 1, nil, nil
local next_line = 0
-- globals, so that done() can read them through thread:get
sent, statuses = 0, {}

function init(args)
  local positional = {}
  for _, arg in ipairs(args) do
    local ms = arg:match("^pause=([%d.]+)$")
    if ms then pause = tonumber(ms) else positional[#positional + 1] = arg end
  end
  mode = positional[1]
  for line in io.lines(positional[2]) do lines[#lines + 1] = line end
  first = tonumber(positional[3] or "1")
  count = tonumber(positional[4] or tostring(#lines - first + 1))
  next_line = first
  -- defined only when asked for: wrk takes the timer path for every request once delay() exists
  if pause then
    delay = function() return pause end
  end
end

function request()
  local line = lines[next_line]
  next_line = next_line + 1
  if next_line >= first + count then next_line = first end
  sent = sent + 1
  if mode == "get" then return wrk.format("GET", line) end
  local tab = line:find("\t", 1, true)
  return wrk.format("POST", "/webhook", {
    ["Content-Type"] = "application/json",
    ["X-Signature"] = line:sub(1, tab - 1),
  }, line:sub(tab + 1))
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

-- each wrk thread runs this script in a Lua state of its own; done() runs in yet another, and
-- reads the threads' counters through the handles setup() kept
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency)
  local totals, lines_sent = {}, 0
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do totals[code] = (totals[code] or 0) + n end
    lines_sent = lines_sent + thread:get("sent")
  end
  local status_json = {}
  for code, n in pairs(totals) do status_json[#status_json + 1] = string.format('"%d":%d', code, n) end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"sent":%d,"seconds":%.3f,"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"errors":%d,"status":{%s}}\n',
    summary.requests, lines_sent, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout, table.concat(status_json, ",")))
end
