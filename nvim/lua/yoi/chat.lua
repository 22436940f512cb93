--- The chat: one buffer and one pod per workspace root.
---
--- Submitting sends `yoi/chat`; the reply streams in through `yoi/event`
--- (see transcript.lua for how it is drawn). When the server stops, the chat
--- keeps its session id, and the next message starts a server and resumes it.
local compat = require("yoi.compat")
local complete = require("yoi.complete")
local config = require("yoi.config")
local history = require("yoi.history")
local p = require("yoi.protocol")
local render = require("yoi.render")
local segments = require("yoi.segments")
local server = require("yoi.server")
local spinner = require("yoi.spinner")
local transcript = require("yoi.transcript")
local window = require("yoi.window")

local M = {}

local chats = {} -- root -> Chat
local early_events = {} -- root -> events of pods not known yet (sent while a pod is created)

local Chat = {}
Chat.__index = Chat

local function notify(message, level)
  vim.notify("yoi: " .. message, level or vim.log.levels.INFO)
end

local function create(root)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(buf, "yoi://chat/" .. root)
  vim.bo[buf].filetype = "markdown"
  vim.bo[buf].omnifunc = "v:lua.require'yoi'.omnifunc" -- after the filetype's own
  -- `generation` counts server stops: answers from a stopped server are ignored.
  -- `edited`: URIs of the files whose agent edits were applied (:YoiUnsaved).
  local chat = setmetatable({ root = root, buf = buf, waiting = {}, generation = 0, edited = {} }, Chat)
  chat.t = transcript.new(buf, window.hint())
  chat.spinner = spinner.new(function(text)
    chat.t:set_hint(text and window.busy_hint(text) or window.hint())
    chat:refresh_status()
  end)
  server.set_buffer_root(buf, root)
  window.map_keys(chat)
  history.watch(chat)
  local group = vim.api.nvim_create_augroup("yoi_chat_" .. buf, { clear = true })
  vim.api.nvim_create_autocmd("BufWinEnter", {
    group = group,
    buffer = buf,
    callback = function()
      window.set_options(vim.api.nvim_get_current_win(), chat:statusline())
    end,
  })
  vim.api.nvim_create_autocmd("BufWipeout", {
    group = group,
    buffer = buf,
    callback = function()
      chat:_wiped()
    end,
  })
  chats[root] = chat
  return chat
end

function Chat:statusline()
  local client = server.client(self.root)
  local progress = client and require("yoi.progress").describe(client.id) or ""
  return window.statusline(self:info(), progress)
end

function Chat:refresh_status()
  window.set_statusline(self.buf, self:statusline())
end

function Chat:note(text)
  render.note(self.t, text)
end

function Chat:show(focus)
  local wins = vim.fn.win_findbuf(self.buf)
  if #wins == 0 then
    return window.open(self.buf, focus, self:statusline())
  end
  if focus then
    vim.api.nvim_set_current_win(wins[1])
  end
  return wins[1]
end

--- Call `callback(pod_id)` once the chat has a live pod (resuming the chat's
--- session after a server restart); `callback(nil, message)` if it cannot.
function Chat:ensure_pod(callback)
  if self.pod_id then
    callback(self.pod_id)
    return
  end
  table.insert(self.waiting, callback)
  if #self.waiting > 1 then
    return
  end
  self.starting = true
  self:refresh_status()
  local resume = self.session_id
  local generation = self.generation
  local adopted = self.adopted
  self:_create_pod(resume, function(err, result)
    if generation ~= self.generation then
      return
    end
    self.starting = false
    if not err and self.adopted ~= adopted and self.pod_id then
      -- another pod was adopted meanwhile (:YoiSessions resumed one): keep it
      server.request(self.root, p.POD_DISPOSE, { podId = result.podId }, function() end)
      err, result = nil, { podId = self.pod_id, sessionId = self.session_id, model = self.model }
      resume = nil
    elseif err and resume then
      self:note(("could not resume the session: %s; the next message starts a new one"):format(p.describe_error(err)))
      self.session_id = nil
    end
    if not err and result.podId ~= self.pod_id then
      self:_adopt(result)
      if resume then
        self:note("the yoi server restarted; session resumed")
      end
    end
    local waiting = self.waiting
    self.waiting = {}
    for _, cb in ipairs(waiting) do
      if err then
        cb(nil, p.describe_error(err))
      else
        cb(self.pod_id)
      end
    end
    self:refresh_status()
  end)
end

function Chat:_create_pod(resume, callback)
  local params = vim.empty_dict()
  if config.values.chat.pod_name ~= "" then
    params.name = config.values.chat.pod_name
  end
  if resume then
    params.resumeSessionId = resume
  end
  server.request(self.root, p.POD_CREATE, params, callback)
end

function Chat:_adopt(result)
  local client = server.client(self.root)
  self.client_id = client and client.id
  self.adopted = (self.adopted or 0) + 1
  self.pod_id = result.podId
  self.session_id = result.sessionId
  -- the new pod's settings (an older server leaves the mode unknown, not stale)
  self.context_window = nil -- pod/list or `usage` tells
  self.mode, self.reasoning_effort, self.profile, self.plan_ready = nil, nil, nil, false
  self.session_cost_usd, self.budget_stop = nil, nil -- pod/list and `usage` tell
  require("yoi.settings").apply(self, result)
  complete.prefetch(self.root)
  local known = early_events[self.root] or {}
  early_events[self.root] = nil
  for _, params in ipairs(known) do
    if params.podId == self.pod_id then
      self:on_event(params.event)
    end
  end
  self:_fetch_name()
end

function Chat:_fetch_name()
  server.request(self.root, p.POD_LIST, vim.empty_dict(), function(err, result)
    if err or type(result) ~= "table" then
      return
    end
    for _, pod in ipairs(result.pods or {}) do
      if pod.podId == self.pod_id then
        self.name = pod.name
        require("yoi.settings").apply(self, pod)
        require("yoi.settings").apply_usage(self, pod)
      end
    end
    self:refresh_status()
  end)
end

function Chat:on_enter()
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  if row > self.t:prompt_row() then
    self:submit()
  elseif vim.fn.foldlevel(row + 1) > 0 then
    vim.cmd("normal! za")
  else
    vim.cmd("normal! +")
  end
end

--- Send `text` (default: what is typed under the prompt line).
function Chat:submit(text)
  local typed = text == nil
  text = vim.trim(text or self.t:input())
  if text == "" then
    return
  end
  if self.running then
    notify("a turn is running; wait for it or stop it with :YoiInterrupt", vim.log.levels.WARN)
    return
  end
  if typed then
    self.t:set_input("")
  end
  render.user(self.t, text)
  self.spinner:set("sending")
  self.running = true
  self.header = false
  self.outcome_shown = false
  self.budget_alert_shown = false
  self:refresh_status()
  self:ensure_pod(function(pod_id, err)
    if not pod_id then
      self.running = false
      self.spinner:set(nil)
      self:note("not sent: " .. tostring(err))
      if typed then
        self.t:set_input(text)
      end
      self:refresh_status()
      return
    end
    local params = { podId = pod_id, input = segments.parse(text, self.root, complete.known_for(self.root, text)) }
    self.requesting = true
    local generation = self.generation
    server.request(self.root, p.CHAT, params, function(rpc_err, result)
      if generation == self.generation then
        self:_chat_done(rpc_err, result)
      end
    end)
  end)
end

function Chat:_chat_done(err, result)
  self.requesting = false
  self.running = false
  self.spinner:set(nil)
  self.header = false
  local outcome
  if err then
    outcome = "error"
    if p.reason(err) == "busy" then
      self:note("the pod is already running a turn")
    else
      self:note("error: " .. p.describe_error(err))
    end
  else
    outcome = result.outcome
    self.session_id = result.sessionId or self.session_id
    self.usage = result.usage
    if not self.outcome_shown then
      self:_show_outcome(result.outcome, result.error)
    end
  end
  self.last_outcome = outcome
  if not err and outcome ~= "budgetExceeded" and outcome ~= "error" then
    self.budget_stop = nil -- this turn went through: no limit stops the chat now
  end
  self.plan_ready = self.mode == "plan" and outcome == "finished"
  if self.plan_ready then
    self:note(window.plan_offer())
  end
  self.t:blank()
  self:refresh_status()
  compat.fire_user("YoiTurnEnd", { root = self.root, outcome = outcome, sessionId = self.session_id })
end

function Chat:_show_outcome(outcome, error_text)
  self.outcome_shown = true
  if outcome == "error" then
    self:note("error: " .. tostring(error_text or "the turn failed"))
  elseif outcome == "budgetExceeded" then
    local budget = require("yoi.budget")
    self.budget_stop = budget.parse(error_text)
    if error_text and not self.budget_alert_shown then -- the pod's alert says it, else say it here
      render.alert(self.t, { level = "error", source = "budget", message = error_text })
    end
    self:note(budget.offer(self.budget_stop))
  elseif render.OUTCOMES[outcome] then
    self:note(render.OUTCOMES[outcome])
  end
end

--- A `yoi/event` of the chat's pod (see chat_events.lua).
function Chat:on_event(event)
  require("yoi.chat_events").apply(self, event)
end

--- Continue a stored session in this chat (`:YoiSessions`; see history.resume).
function Chat:resume(session, callback)
  history.resume(self, session, callback)
end

--- Start over with a new pod and session (`:YoiNew`).
function Chat:new_session(callback)
  if self.running then
    notify("a turn is running; stop it before starting a new session", vim.log.levels.WARN)
    return
  end
  self:_dispose()
  self.session_id = nil
  self.history = nil
  self.edited = {}
  self.name = nil
  self.context_tokens = nil
  self.context_window = nil
  self.plan_ready = false
  self.session_cost_usd = nil
  self.budget_stop = nil
  self.t:clear()
  self:ensure_pod(callback or function() end)
end

--- Stop the running turn; false when nothing is running.
function Chat:interrupt()
  if not (self.pod_id and self.running) then
    return false
  end
  server.request(self.root, p.POD_INTERRUPT, { podId = self.pod_id }, function(err)
    if err then
      notify("could not interrupt: " .. p.describe_error(err), vim.log.levels.WARN)
    end
  end)
  return true
end

--- Compact the context now (`:YoiCompact`); the pod moves to the new session.
function Chat:compact()
  if not self.pod_id then
    notify("no pod to compact yet")
    return
  end
  if self.running then
    notify("a turn is running; compact when it is over", vim.log.levels.WARN)
    return
  end
  server.request(self.root, p.POD_COMPACT, { podId = self.pod_id }, function(err, result)
    if err then
      notify("could not compact: " .. p.describe_error(err), vim.log.levels.WARN)
      return
    end
    self.session_id = result.sessionId or self.session_id
    self:_fetch_name()
  end)
end

-- Release the pod (its session stays resumable).
function Chat:_dispose()
  local pod_id = self.pod_id
  self.pod_id = nil
  if pod_id and server.client(self.root) then
    server.request(self.root, p.POD_DISPOSE, { podId = pod_id }, function() end)
  end
end

function Chat:_wiped()
  self.spinner:set(nil)
  pcall(vim.api.nvim_del_augroup_by_name, "yoi_history_" .. self.buf)
  self:_dispose()
  server.set_buffer_root(self.buf, nil)
  chats[self.root] = nil
end

function Chat:info()
  return {
    root = self.root,
    bufnr = self.buf,
    pod_id = self.pod_id,
    session_id = self.session_id,
    model = self.model,
    mode = self.mode,
    reasoning_effort = self.reasoning_effort,
    profile = self.profile,
    plan_ready = self.plan_ready == true,
    name = self.name,
    running = self.running == true,
    activity = self.spinner:text(),
    starting = self.starting == true,
    last_outcome = self.last_outcome,
    context_tokens = self.context_tokens,
    context_window = self.context_window,
    session_cost_usd = self.session_cost_usd,
    day_cost_usd = self.day_cost_usd,
    budget_stopped = self.budget_stop ~= nil,
    agents_running = require("yoi.agents").running(self),
  }
end

-- ---------------------------------------------------------------- module API

function M.get(root)
  return chats[root]
end

--- The chat shown in (or owning) a buffer, or nil.
function M.for_buffer(bufnr)
  for _, chat in pairs(chats) do
    if chat.buf == bufnr then
      return chat
    end
  end
  return nil
end

--- Open (and focus) the root's chat, creating its pod.
function M.open(root, opts)
  opts = opts or {}
  local chat = chats[root] or create(root)
  chat:show(opts.focus ~= false)
  chat:ensure_pod(function(pod_id, err)
    if not pod_id then
      chat:note("could not start: " .. tostring(err))
      notify(tostring(err) .. " (see :checkhealth yoi)", vim.log.levels.ERROR)
    end
  end)
  return chat
end

function M.on_event(root, params)
  if type(params) ~= "table" then
    return
  end
  local chat = root and chats[root]
  if chat and chat.pod_id and params.podId == chat.pod_id then
    chat:on_event(params.event)
  elseif params.parentPodId then -- a sub-agent's own: in its section, never the parent's transcript
    if chat then
      require("yoi.agents").on_child_event(chat, params)
    end
  elseif root then
    local queue = early_events[root] or {}
    if #queue < 100 then
      table.insert(queue, params)
    end
    early_events[root] = queue
  end
end

function M.refresh_status(root)
  local chat = chats[root]
  if chat then
    chat:refresh_status()
  end
end

function M.server_stopped(root, info)
  early_events[root] = nil
  local chat = chats[root]
  if not chat or (chat.client_id and chat.client_id ~= info.client_id) then
    return -- the chat's pod lives in another (newer) server
  end
  local was_running = chat.running
  chat.generation = chat.generation + 1
  chat.pod_id = nil
  chat.running = false
  chat.requesting = false
  chat.starting = false
  chat.header = false
  chat.spinner:set(nil)
  require("yoi.agents").server_stopped(chat)
  local waiting = chat.waiting
  chat.waiting = {}
  for _, cb in ipairs(waiting) do
    cb(nil, info.reason)
  end
  if not info.deliberate then
    chat:note(info.reason .. (was_running and "; the turn was lost" or "") .. "; your next message restarts it")
  end
  chat:refresh_status()
end

return M
