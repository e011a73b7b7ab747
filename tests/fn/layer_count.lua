-- A test function for tests/e2e/layer.sh: its top level does work whose results a layered restore must
-- keep (a random token drawn once, a table built once, a count of top-level runs), and says so in the log.
-- Each response shows them with the number of requests this VM served.
local token = string.format("%08x", math.random(0, 0x7fffffff))
local squares = {}
for i = 1, 20000 do
  squares[i] = i * i
end
INITS = (INITS or 0) + 1
local served = 0
print("layer_count: initialised, token " .. token)

function handle(req)
  served = served + 1
  return string.format("lua token=%s inits=%d served=%d last=%d path=%s\n", token, INITS, served,
    squares[#squares], req.path)
end
