-- A tiny JSON string encoder (a module of the echo-lua bundle, loaded with require).
local M = {}

-- s as a JSON string: '"' and '\' escaped, bytes below 0x20 and 0x7f as \u00xx, others as they are;
-- nil is null.
function M.string(s)
  if s == nil then return "null" end
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' or c == '\\' then return '\\' .. c end
    return string.format('\\u%04x', c:byte())
  end) .. '"'
end

return M
