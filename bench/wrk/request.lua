-- The request wrk sends, from the environment (set by bench/lib/wrk.ts):
--   WRK_METHOD, WRK_BODY, WRK_HEADERS ("name: value" lines)
--   WRK_TOKENS  a file of refresh tokens, one a line: refresh mode. Each request sends
--               WRK_BODY .. (a token taken from a queue); each 200 response puts its new
--               refresh_token back on the queue. Every token is presented exactly once,
--               whichever connection carries it (with more tokens than connections the queue
--               never runs dry while responses succeed).
--   WRK_BODIES  a file of request bodies, one a line, sent in turn (logins of several users).
--   WRK_DELAY_MS  a pause before each request on a connection (a lighter, paced load).
-- done() prints one line `WRK_JSON {...}` that the harness parses.

wrk.method = os.getenv('WRK_METHOD') or 'GET'
wrk.body = os.getenv('WRK_BODY')
for line in (os.getenv('WRK_HEADERS') or ''):gmatch('[^\n]+') do
  local name, value = line:match('^([^:]+):%s*(.*)$')
  if name then wrk.headers[name] = value end
end

local tokens_file = os.getenv('WRK_TOKENS')
if tokens_file then
  local queue, head, tail = {}, 1, 0
  for line in io.lines(tokens_file) do
    if line ~= '' then
      tail = tail + 1
      queue[tail] = line
    end
  end
  local last = queue[1]
  local prefix = wrk.body or ''

  request = function()
    if head <= tail then
      last = queue[head]
      queue[head] = nil
      head = head + 1
    end
    -- An empty queue (only after failed responses) resends the last token: it fails and counts.
    return wrk.format(nil, nil, nil, prefix .. last)
  end

  response = function(status, _, body)
    local token = status == 200 and body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if token then
      tail = tail + 1
      queue[tail] = token
    end
  end
end

local bodies_file = os.getenv('WRK_BODIES')
if bodies_file then
  local bodies, i = {}, 0
  for line in io.lines(bodies_file) do
    if line ~= '' then bodies[#bodies + 1] = line end
  end
  request = function()
    i = i % #bodies + 1
    return wrk.format(nil, nil, nil, bodies[i])
  end
end

local delay_ms = tonumber(os.getenv('WRK_DELAY_MS') or '')
if delay_ms and delay_ms > 0 then
  delay = function() return delay_ms end
end

done = function(summary, latency)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    math.floor(latency:percentile(50)), math.floor(latency:percentile(99)), math.floor(latency.max)))
end
