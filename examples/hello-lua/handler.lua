-- The smallest Lua function: answers every request with a greeting (deploy: mote deploy hello-lua ./handler.lua).
function handle(req)
  return "hello from a mote Lua function (" .. req.method .. " " .. req.path .. ")\n"
end
