--- `$/progress` from the yoi server: kept per client for the chat's status
--- line, and announced as `User YoiProgress` so fidget-like plugins can show it.
local compat = require("yoi.compat")

local M = {}

-- client_id -> { token -> { title, message, percentage, done } }
local active = {}
-- The most recent progress of any client, for Neovim 0.7 (no autocmd data).
M.last = nil

function M.handler(err, params, ctx, cfg, root)
  local default = vim.lsp.handlers["$/progress"]
  if default then
    pcall(default, err, params, ctx, cfg) -- keep Neovim's own bookkeeping (LspProgress)
  end
  if type(params) ~= "table" or type(params.value) ~= "table" then
    return
  end
  local value = params.value
  local tokens = active[ctx.client_id] or {}
  active[ctx.client_id] = tokens
  local item = tokens[params.token] or {}
  if value.kind == "begin" then
    item = { title = value.title, message = value.message, percentage = value.percentage }
  else
    item.message = value.message or item.message
    item.percentage = value.percentage or item.percentage
  end
  item.done = value.kind == "end"
  tokens[params.token] = (not item.done) and item or nil
  local data = {
    client_id = ctx.client_id,
    root = root,
    token = params.token,
    kind = value.kind,
    title = item.title,
    message = item.message,
    percentage = item.percentage,
  }
  M.last = data
  compat.fire_user("YoiProgress", data)
  if root then
    require("yoi.chat").refresh_status(root)
  end
end

--- One line about the client's running work ("" when idle).
function M.describe(client_id)
  local parts = {}
  for _, item in pairs(active[client_id] or {}) do
    local text = item.title or ""
    if item.message and item.message ~= "" then
      text = text .. ": " .. item.message
    end
    if item.percentage then
      text = text .. (" (%d%%)"):format(item.percentage)
    end
    table.insert(parts, text)
  end
  table.sort(parts)
  return table.concat(parts, ", ")
end

function M.forget(client_id)
  active[client_id] = nil
end

return M
