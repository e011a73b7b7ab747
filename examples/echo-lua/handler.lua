-- An echo function in Lua: answers with what arrived as JSON, the same bytes as examples/echo-c, so that
-- tests can compare the runtimes. ?status=NNN sets the status; an x-echo request header comes back as
-- x-echo; the environment variable ECHO_GREETING (mote deploy --env) is read once at load.
-- Deploy the directory: mote deploy echo-lua examples/echo-lua
local json = require("json")

local greeting = os.getenv("ECHO_GREETING")
local served = 0

-- The first value of query parameter `name` (form-decoded), or nil.
local function query_param(query, name)
  for pair in query:gmatch("[^&]+") do
    local k, eq, v = pair:match("^([^=]*)(=?)(.*)$")
    local function decode(s)
      return (s:gsub("%+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
    end
    if decode(k) == name then
      return eq == "" and "" or decode(v)
    end
  end
  return nil
end

function handle(req)
  served = served + 1
  local status = 200
  local s = query_param(req.query, "status")
  if s then
    status = s:match("^%d+$") and math.tointeger(tonumber(s)) or 400
    if status < 100 or status > 599 then status = 400 end
  end
  local headers = { ["content-type"] = "application/json" }
  local echo = req.headers["x-echo"]
  if echo then headers["x-echo"] = echo end
  local body = '{"runtime":"lua",'
    .. '"method":' .. json.string(req.method) .. ','
    .. '"path":' .. json.string(req.path) .. ','
    .. '"query":' .. json.string(req.query) .. ','
    .. '"name":' .. json.string(query_param(req.query, "name")) .. ','
    .. '"x_echo":' .. json.string(echo) .. ','
    .. '"content_type":' .. json.string(req.headers["content-type"]) .. ','
    .. '"greeting":' .. json.string(greeting) .. ','
    .. '"served":' .. served .. ','
    .. '"body_length":' .. #req.body .. ','
    .. '"body":' .. json.string(req.body) .. '}\n'
  return { status = status, headers = headers, body = body }
end
