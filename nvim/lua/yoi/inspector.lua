--- `:YoiContext`: what fills the chat's context window (`yoi/pod/context`),
--- in a floating window: the total against the window, then each part of the
--- next request grouped System / Tools / History, largest first, with a bar.
local p = require("yoi.protocol")

local M = {}

M.GROUPS = { { "system", "System" }, { "tools", "Tools" }, { "history", "History" } }

M.BAR_WIDTH = 24

local EIGHTHS = { "", "▏", "▎", "▍", "▌", "▋", "▊", "▉" }

local function notify(message, level)
  vim.notify("yoi: " .. message, level or vim.log.levels.INFO)
end

--- 42180 -> "42,180".
function M.thousands(n)
  local s = tostring(math.floor((tonumber(n) or 0) + 0.5))
  local sign, digits = s:match("^(-?)(%d+)$")
  if not digits then
    return s
  end
  local out = digits:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return sign .. out:gsub("^,", "")
end

--- A bar of `width` cells for `value` out of `max`, in eighths of a block;
--- anything above zero shows at least a sliver.
function M.bar(value, max, width)
  width = width or M.BAR_WIDTH
  if type(value) ~= "number" or type(max) ~= "number" or max <= 0 or value <= 0 then
    return ""
  end
  local eighths = math.floor(math.min(value / max, 1) * width * 8 + 0.5)
  eighths = math.max(eighths, 1)
  return ("█"):rep(math.floor(eighths / 8)) .. EIGHTHS[eighths % 8 + 1]
end

--- "42,180 / 128,000 tokens (33%) · compacts at 96,000" (what is known of it).
function M.summary(result)
  local tokens = result.contextTokens or 0
  local window = result.contextWindow
  local text
  if type(window) == "number" and window > 0 then
    text = ("%s / %s tokens (%d%%)"):format(
      M.thousands(tokens),
      M.thousands(window),
      math.floor(tokens * 100 / window + 0.5)
    )
  else
    text = M.thousands(tokens) .. " tokens (the model's window is not known yet)"
  end
  if type(result.compactAt) == "number" then
    text = text .. " · compacts at " .. M.thousands(result.compactAt)
  end
  return text
end

local function pad(text, width)
  return text .. (" "):rep(math.max(0, width - vim.fn.strdisplaywidth(text)))
end

local function lpad(text, width)
  return (" "):rep(math.max(0, width - vim.fn.strdisplaywidth(text))) .. text
end

-- What the prune projection leaves out of the request.
local function pruned_line(pruned)
  if type(pruned) ~= "table" then
    return nil
  end
  local results, saved, would = pruned.results or 0, pruned.tokens or 0, pruned.wouldSave or 0
  if results > 0 then
    return ("Pruned: %d old tool result%s left out of the request (−%s tokens; the log keeps them)"):format(
      results,
      results == 1 and "" or "s",
      M.thousands(saved)
    )
  elseif would > 0 then
    return ("Pruned: nothing left out (pruning would save %s tokens: too few to prune yet)"):format(
      M.thousands(would)
    )
  end
  return "Pruned: nothing left out"
end

--- The float's lines for a `yoi/pod/context` result.
function M.lines(result)
  local parts = type(result.parts) == "table" and result.parts or {}
  local groups, order, largest = {}, {}, 0
  for _, def in ipairs(M.GROUPS) do
    groups[def[1]] = { title = def[2], parts = {}, tokens = 0 }
    table.insert(order, def[1])
  end
  for _, part in ipairs(parts) do
    local key = tostring(part.group)
    if not groups[key] then -- a group this plugin does not know yet
      groups[key] = { title = key:sub(1, 1):upper() .. key:sub(2), parts = {}, tokens = 0 }
      table.insert(order, key)
    end
    local tokens = tonumber(part.tokens) or 0
    local label = tostring(part.label)
    if (tonumber(part.count) or 1) > 1 and key == "history" then
      label = ("%s ×%d"):format(label, part.count)
    end
    table.insert(groups[key].parts, { label = label, tokens = tokens })
    groups[key].tokens = groups[key].tokens + tokens
    largest = math.max(largest, tokens)
  end
  local label_width, token_width = 0, 0
  for _, key in ipairs(order) do
    local group = groups[key]
    table.sort(group.parts, function(a, b)
      if a.tokens ~= b.tokens then
        return a.tokens > b.tokens
      end
      return a.label < b.label
    end)
    label_width = math.max(label_width, vim.fn.strdisplaywidth(group.title) - 2)
    token_width = math.max(token_width, #M.thousands(group.tokens))
    for _, part in ipairs(group.parts) do
      label_width = math.max(label_width, vim.fn.strdisplaywidth(part.label))
    end
  end
  local lines = { " " .. M.summary(result) }
  local model = type(result.model) == "string" and result.model or "the model"
  if result.measured == false then
    table.insert(lines, (" %s · estimated at 4 bytes a token until the first request"):format(model))
  else
    table.insert(lines, (" %s · sizes from the last measured request"):format(model))
  end
  for _, key in ipairs(order) do
    local group = groups[key]
    if #group.parts > 0 then
      table.insert(lines, "")
      local total = lpad(M.thousands(group.tokens), token_width)
      table.insert(lines, (" %s  %s"):format(pad(group.title, label_width + 2), total))
      for _, part in ipairs(group.parts) do
        local row = ("   %s  %s  %s"):format(
          pad(part.label, label_width),
          lpad(M.thousands(part.tokens), token_width),
          M.bar(part.tokens, largest)
        )
        table.insert(lines, (row:gsub("%s+$", "")))
      end
    end
  end
  local prune = pruned_line(result.pruned)
  if prune then
    table.insert(lines, "")
    table.insert(lines, " " .. prune)
  end
  table.insert(lines, "")
  table.insert(lines, " q or <Esc> closes")
  return lines
end

local open_win -- the float shown now (one at a time)

--- Close the float, if it is open.
function M.close()
  if open_win and vim.api.nvim_win_is_valid(open_win) then
    vim.api.nvim_win_close(open_win, true)
  end
  open_win = nil
end

--- Show `lines` in a floating window in the middle of the editor; returns it.
function M.show(lines)
  M.close()
  local width = 0
  for _, line in ipairs(lines) do
    width = math.max(width, vim.fn.strdisplaywidth(line))
  end
  width = math.max(20, math.min(width + 1, vim.o.columns - 4))
  local height = math.max(1, math.min(#lines, vim.o.lines - 6))
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].filetype = "yoicontext"
  local win = vim.api.nvim_open_win(buf, true, {
    relative = "editor",
    width = width,
    height = height,
    row = math.max(0, math.floor((vim.o.lines - height) / 2) - 1),
    col = math.max(0, math.floor((vim.o.columns - width) / 2)),
    style = "minimal",
    border = "rounded",
  })
  vim.wo[win].wrap = false
  open_win = win
  local function close()
    if vim.api.nvim_win_is_valid(win) then
      vim.api.nvim_win_close(win, true)
    end
  end
  for _, key in ipairs({ "q", "<Esc>" }) do
    vim.keymap.set("n", key, close, { buffer = buf, nowait = true, silent = true, desc = "yoi: close" })
  end
  vim.api.nvim_create_autocmd("WinLeave", {
    buffer = buf,
    once = true,
    callback = function()
      vim.schedule(close)
    end,
  })
  return win
end

--- `:YoiContext`: ask the server for the chat's context and show it.
function M.open(root)
  local chat = require("yoi.chat")
  local current = chat.get(root) or chat.open(root, { focus = false })
  current:ensure_pod(function(pod_id, err)
    if not pod_id then
      notify("no context to show: " .. tostring(err), vim.log.levels.WARN)
      return
    end
    require("yoi.server").request(root, p.POD_CONTEXT, { podId = pod_id }, function(rpc_err, result)
      if rpc_err then
        if type(rpc_err) == "table" and rpc_err.code == p.METHOD_NOT_FOUND then
          notify("this yoi server cannot show the context (update yoi)", vim.log.levels.WARN)
        else
          notify("could not read the context: " .. p.describe_error(rpc_err), vim.log.levels.WARN)
        end
        return
      end
      M.show(M.lines(result))
    end)
  end)
end

return M
