--- The MCP part of :checkhealth yoi: each MCP server of a running yoi server
--- (`yoi/mcp/list`), ok when connected, a warning or an error with its last
--- error otherwise. A fresh probe server would not have started its MCP
--- servers yet (they wait for the model's warm-up), so only running servers
--- are asked.
local compat = require("yoi.compat")
local p = require("yoi.protocol")

local M = {}

local function tools(entry)
  local n = entry.toolCount or 0
  return n == 1 and "1 tool" or (tostring(n) .. " tools")
end

local function last_error(entry)
  if type(entry.lastError) == "string" and entry.lastError ~= "" then
    return entry.lastError
  end
  return nil
end

--- Report one server of `yoi/mcp/list`.
function M.report_server(h, entry)
  local where = entry.transport ~= "" and (", " .. entry.transport) or ""
  local name = ("MCP server %s%s"):format(entry.name, where)
  local err = last_error(entry)
  if entry.status == "ready" then
    h.ok(("%s: connected, %s"):format(name, tools(entry)))
  elseif entry.status == "disabled" then
    h.info(("%s: disabled in the configuration"):format(name))
  elseif entry.status == "error" then
    h.error(("%s: failed: %s"):format(name, err or "no reason given"), {
      "yoi reconnects by itself (after 1 s, doubling up to a minute);",
      "fix its entry ([mcp.servers." .. entry.name .. "] or .mcp.json), then :YoiMcp → Restart.",
    })
  else
    local text = ("%s: %s"):format(name, entry.status)
    h.warn(err and (text .. " (last error: " .. err .. ")") or text)
  end
end

--- Report the MCP servers of the yoi server running for `root` (`client`).
function M.report(h, root, client)
  local response = compat.request_sync(client, p.MCP_LIST, vim.empty_dict(), 2000)
  if not response then
    h.warn(("MCP servers of %s: yoi/mcp/list did not answer in 2 s"):format(root))
    return
  end
  if response.err then
    if response.err.code ~= p.METHOD_NOT_FOUND then
      h.warn(("MCP servers of %s: %s"):format(root, p.describe_error(response.err)))
    end
    return
  end
  local result = response.result or {}
  local servers = result.servers or {}
  if #servers == 0 then
    if result.configured then
      h.info(("MCP servers of %s: none configured ([mcp.servers.<name>] in a manifest)"):format(root))
    else
      h.info(("MCP servers of %s: not started yet (they start once the model is warm)"):format(root))
    end
    return
  end
  table.sort(servers, function(a, b)
    return a.name < b.name
  end)
  for _, entry in ipairs(servers) do
    M.report_server(h, entry)
  end
end

return M
