-- wrk script for bench/run.sh: POST /v1/comments with realistic comments, a new CMS id each time.
-- wrk ... URL -- KEY ROUND
local comments = {
  "Great reporting, thank you for covering the council meeting in such detail.",
  "The referendum result was closer than the polls suggested; turnout matters.",
  "you are a fucking idiot and so is everyone who agrees with you",
  "This is the worst article I have read all year. Who edits this stuff?",
  "My grandfather fought in that war and never spoke about the massacre he saw.",
  "Shut up, you pathetic moron. Nobody cares what you think.",
  "Could the author clarify where the budget figures in the third paragraph come from?",
  "What a load of bullshit. The mayor lied and you all swallowed it.",
  "I disagree with the conclusion, but the piece is well argued and fair.",
  "you are all idiots if you believe this",
}

local key, round, n = "", "0", 0

function setup(thread)
  tid = (tid or 0) + 1
  thread:set("tid", tid)
end

function init(args)
  key = args[1] or ""
  round = args[2] or "0"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
  n = n + 1
  local text = comments[(n % #comments) + 1]
  local body = string.format(
    '{"text": "%s", "id": "r%s-t%s-%d", "site": "bench.example", "thread": "story-%d", ' ..
    '"author": {"id": "u%d", "name": "Reader %d"}, "ip": "198.51.100.%d"}',
    text, round, tostring(tid), n, n % 40, n % 500, n % 500, n % 250)
  return wrk.format("POST", nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.status + e.timeout, summary.requests))
end
