-- A test function for tests/e2e/functions.sh: echoes the request as it arrived (raw body, every header as
-- x-echo-NAME) and has paths that misbehave on purpose. The C twin is gw_echo.c.
--   /spin          loops forever (the function timeout ends it)
--   /error         raises a Lua error (a 500, the error in the log)
--   /log?text=T    prints T (the function's log)
--   /file?name=F   answers the bundle file F
--   /env?name=V    answers os.getenv(V)
--   /status?code=N answers status N
local function param(query, name)
  for k, v in query:gmatch("([^&=]+)=([^&]*)") do
    if k == name then return (v:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)) end
  end
end

function handle(req)
  local p = req.path
  if p == "/spin" then
    while true do end
  elseif p == "/error" then
    error("failing on purpose")
  elseif p == "/log" then
    print(param(req.query, "text"))
    return "logged\n"
  elseif p == "/file" then
    local f = io.open(param(req.query, "name"), "rb")
    if not f then return { status = 404, body = "no such file\n" } end
    return { body = f:read("a") }
  elseif p == "/env" then
    return os.getenv(param(req.query, "name")) or "unset"
  elseif p == "/status" then
    return { status = math.tointeger(tonumber(param(req.query, "code"))), body = "status\n" }
  end
  local headers = { ["content-type"] = "application/octet-stream", ["x-method"] = req.method,
                    ["x-path"] = req.path, ["x-query"] = req.query }
  local n = 0
  for name, value in pairs(req.headers) do
    headers["x-echo-" .. name] = value
    n = n + 1
  end
  headers["x-nheaders"] = tostring(n)
  return { status = 200, headers = headers, body = req.body }
end
