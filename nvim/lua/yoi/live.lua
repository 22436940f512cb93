--- A running command's live output in the chat: its last line on the call's
--- folded tool line (`  ⚙ run_command make  ▸ compiling foo.c`), until the
--- result replaces it; `:YoiStopCommand` stops that one command (the agent
--- gets the output so far, and the turn goes on).
local p = require("yoi.protocol")

local M = {}

local function state(chat)
  chat.live = chat.live or { calls = {}, order = {} }
  return chat.live
end

--- A `toolOutput` event: keep the call's last line, show it.
function M.feed(chat, id, text)
  if type(id) ~= "string" or type(text) ~= "string" then
    return
  end
  local live = state(chat)
  local call = live.calls[id]
  if not call then
    call = { partial = "", last = nil }
    live.calls[id] = call
    table.insert(live.order, id)
  end
  local lines = vim.split(call.partial .. text, "\n", { plain = true })
  call.partial = table.remove(lines) -- after the last newline: not a whole line yet
  for i = #lines, 1, -1 do
    if vim.trim(lines[i]) ~= "" then
      call.last = lines[i]
      break
    end
  end
  local shown = vim.trim(call.partial) ~= "" and call.partial or call.last
  if shown then
    chat.t:tool_live(id, shown)
  end
end

--- The call ended (its result arrived): forget its live output.
function M.done(chat, id)
  local live = state(chat)
  if live.calls[id] then
    live.calls[id] = nil
    live.order = vim.tbl_filter(function(other)
      return other ~= id
    end, live.order)
  end
end

--- Forget every call (the turn ended).
function M.reset(chat)
  chat.live = nil
end

--- The running command to stop: the one under the cursor in the chat, else the latest.
local function target(chat)
  local live = state(chat)
  if vim.api.nvim_get_current_buf() == chat.buf then
    local id = chat.t:call_at(vim.api.nvim_win_get_cursor(0)[1] - 1)
    if id and live.calls[id] then
      return id
    end
  end
  return live.order[#live.order]
end

--- Stop a running command (`:YoiStopCommand`); false when none is running.
function M.stop(chat)
  local id = chat and chat.pod_id and target(chat)
  if not id then
    return false
  end
  require("yoi.server").request(chat.root, p.TOOL_CANCEL, { podId = chat.pod_id, callId = id }, function(err, result)
    if err then
      vim.notify("yoi: could not stop the command: " .. p.describe_error(err), vim.log.levels.WARN)
    elseif not (result and result.stopped) then
      vim.notify("yoi: that command has already ended", vim.log.levels.INFO)
    end
  end)
  return true
end

return M
