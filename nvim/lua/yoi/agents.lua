--- The chat's sub-agents (pods its pod spawned with `spawn_agent`): each is a
--- folded section of the transcript (agent_section.lua), fed by the parent's
--- `subAgent` events and by the sub-agent's own `yoi/event`s (those with
--- `parentPodId`), which never reach the parent's own transcript.
--- `:YoiAgents` lists them (pickers.lua): show one's transcript, or stop it.
local p = require("yoi.protocol")
local section = require("yoi.agent_section")

local M = {}

-- A sub-agent's events that came before the parent's `subAgent` event said who it is.
local PENDING_MAX = 500

-- The sections live with the transcript (cleared with it: a new or resumed session).
local function state(chat)
  local t = chat.t
  t.agents = t.agents or { list = {}, by_pod = {}, by_session = {}, pending = {} }
  return t.agents
end

--- The parent's `subAgent` event (or an entry of `subAgents` in `yoi/pod/history`).
function M.on_sub_agent(chat, info)
  if type(info) ~= "table" then
    return
  end
  local s = state(chat)
  local found = (info.sessionId and s.by_session[info.sessionId]) or (info.podId and s.by_pod[info.podId])
  if found then
    found:update(info)
  else
    found = section.open(chat.t, info)
    table.insert(s.list, found)
  end
  if info.sessionId then
    s.by_session[info.sessionId] = found
  end
  if info.podId then
    s.by_pod[info.podId] = found
    local pending = s.pending[info.podId]
    s.pending[info.podId] = nil
    for _, event in ipairs(pending or {}) do
      found:on_event(event, chat.root)
    end
  end
  chat:refresh_status()
end

--- A `yoi/event` with `parentPodId`: a sub-agent's own event. It goes to its
--- section (or waits for the `subAgent` event that names it); events of
--- sub-agents that are not this chat's are dropped.
function M.on_child_event(chat, params)
  if type(params.event) ~= "table" or not chat.pod_id then
    return
  end
  local s = state(chat)
  local found = s.by_pod[params.podId]
  if found then
    found:on_event(params.event, chat.root)
  elseif params.parentPodId == chat.pod_id then
    local pending = s.pending[params.podId] or {}
    if #pending < PENDING_MAX then
      table.insert(pending, params.event)
    end
    s.pending[params.podId] = pending
  end
end

--- Draw the `subAgents` of a `yoi/pod/history` result (their last states).
function M.restore(chat, sub_agents)
  for _, info in ipairs(type(sub_agents) == "table" and sub_agents or {}) do
    M.on_sub_agent(chat, info)
  end
end

--- The server stopped: the sub-agents still running were cut off.
function M.server_stopped(chat)
  for _, found in ipairs(chat.t.agents and chat.t.agents.list or {}) do
    found:lost()
  end
end

--- The chat's sub-agents' sections, oldest first (`.info`: name, status, podId, …).
function M.list(chat)
  return chat and chat.t.agents and chat.t.agents.list or {}
end

--- How many of the chat's sub-agents are running.
function M.running(chat)
  local count = 0
  for _, found in ipairs(M.list(chat)) do
    count = count + (found:running() and 1 or 0)
  end
  return count
end

--- One line for a sub-agent in the picker.
function M.describe(found)
  return section.describe(found.info)
end

local function open_folds(win, first, last)
  vim.api.nvim_win_call(win, function()
    pcall(vim.cmd, ("%d,%dfoldopen!"):format(first, last))
  end)
end

--- Show a sub-agent's section unfolded, in the chat's window (`split`: in a
--- new window of its own over the chat, whose folds are its own).
function M.show(chat, found, split)
  local row = found:row()
  if not row then
    return false
  end
  local win = chat:show(true)
  if split then
    vim.cmd("aboveleft split")
    win = vim.api.nvim_get_current_win()
    require("yoi.window").set_options(win, chat:statusline())
    vim.api.nvim_win_set_height(win, math.max(found.size + 2, 5))
  end
  vim.api.nvim_win_set_cursor(win, { row + 1, 0 })
  open_folds(win, row + 1, row + 1 + found.size)
  vim.api.nvim_win_call(win, function()
    vim.cmd("normal! zt")
  end)
  return true
end

--- Stop a running sub-agent (`yoi/pod/interrupt` with its own pod); false when it is not running.
function M.stop(chat, found)
  if not (found:running() and found.info.podId) then
    return false
  end
  require("yoi.server").request(chat.root, p.POD_INTERRUPT, { podId = found.info.podId }, function(err)
    if err then
      local message = ("yoi: could not stop %s: %s"):format(tostring(found.info.name), p.describe_error(err))
      vim.notify(message, vim.log.levels.WARN)
    end
  end)
  return true
end

return M
