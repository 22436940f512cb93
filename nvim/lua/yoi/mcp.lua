--- :YoiMcp: the MCP servers of this workspace's yoi server, with their status
--- and tool count; pick one to restart it or to see its tools and last error.
local p = require("yoi.protocol")
local server = require("yoi.server")

local M = {}

local function notify(message, level)
  vim.notify("yoi: " .. message, level or vim.log.levels.INFO)
end

local function text_or_nil(value)
  if type(value) == "string" and value ~= "" then
    return value
  end
  return nil
end

--- One line for a server in the picker: "time  ready · 2 tools".
function M.format_server(entry)
  local tools = entry.toolCount == 1 and "1 tool" or (tostring(entry.toolCount or 0) .. " tools")
  local text = ("%s  %s · %s"):format(entry.name, entry.status, tools)
  local err = text_or_nil(entry.lastError)
  if err and entry.status ~= "ready" then
    text = text .. " — " .. err
  end
  return text
end

--- What "Show details" says about a server.
function M.describe(entry)
  local transport = entry.transport ~= "" and entry.transport or "-"
  local lines = { ("%s (%s, %s): %s"):format(entry.name, transport, entry.source or "", entry.status) }
  local tools = entry.tools or {}
  table.insert(lines, #tools > 0 and ("tools: " .. table.concat(tools, ", ")) or "tools: none")
  if entry.prompts and #entry.prompts > 0 then
    table.insert(lines, "prompts (/" .. entry.name .. ":…): " .. table.concat(entry.prompts, ", "))
  end
  local err = text_or_nil(entry.lastError)
  if err then
    table.insert(lines, "last error: " .. err)
  end
  return table.concat(lines, "\n")
end

local function restart(root, name)
  server.request(root, p.MCP_RESTART, { name = name }, function(err, result)
    if err then
      notify("could not restart " .. name .. ": " .. p.describe_error(err), vim.log.levels.ERROR)
    elseif result and result.restarting == false then
      notify("the MCP server " .. name .. " is no longer configured; it was stopped")
    else
      notify("restarting the MCP server " .. name .. " (its configuration read again)")
    end
  end)
end

local function act(root, entry)
  local actions = { "Restart", "Show details" }
  if entry.status == "disabled" then
    actions = { "Show details" }
  end
  vim.ui.select(actions, { prompt = "MCP server " .. entry.name, kind = "yoi.mcp.action" }, function(action)
    if action == "Restart" then
      restart(root, entry.name)
    elseif action == "Show details" then
      notify(M.describe(entry))
    end
  end)
end

--- List the servers (`yoi/mcp/list`) and act on the one picked.
---@param root string
function M.open(root)
  server.ensure(root, function(client, start_err)
    if not client then
      notify(tostring(start_err), vim.log.levels.ERROR)
      return
    end
    server.request(root, p.MCP_LIST, vim.empty_dict(), function(err, result)
      if err then
        if type(err) == "table" and err.code == p.METHOD_NOT_FOUND then
          notify("this yoi server does not offer MCP servers yet (yoi/mcp/list)", vim.log.levels.WARN)
        else
          notify("could not list MCP servers: " .. p.describe_error(err), vim.log.levels.ERROR)
        end
        return
      end
      local servers = result and result.servers or {}
      if #servers == 0 then
        local why = result and result.configured == false and "the configuration is still being read"
          or "none is configured ([mcp.servers.<name>] in ~/.config/yoi/manifest.toml)"
        notify("no MCP servers: " .. why)
        return
      end
      vim.ui.select(servers, {
        prompt = "yoi MCP servers",
        kind = "yoi.mcp",
        format_item = M.format_server,
      }, function(entry)
        if entry then
          act(root, entry)
        end
      end)
    end)
  end)
end

return M
