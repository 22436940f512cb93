--- A resumed session's transcript, a page at a time (`yoi/pod/history` with
--- `limit` and `before`): the most recent `chat.history_page` items are drawn
--- first, under a line saying how many came before; reaching the top of the
--- chat (`gg`, scrolling) loads the page before, keeping what is under the
--- cursor where it was.
local config = require("yoi.config")
local p = require("yoi.protocol")
local render = require("yoi.render")
local server = require("yoi.server")
local transcript = require("yoi.transcript")

local M = {}

M.MORE = "── ↑ %d earlier item%s: scroll to the top to load them ──"

local function more_line(start)
  return M.MORE:format(start, start == 1 and "" or "s")
end

--- The transcript lines of `items`, drawn apart (for a page above the others).
function M.render_lines(items)
  local scratch = vim.api.nvim_create_buf(false, true)
  local t = transcript.new(scratch, nil)
  render.history(t, items)
  local lines = vim.api.nvim_buf_get_lines(scratch, 0, t:prompt_row(), false)
  vim.api.nvim_buf_delete(scratch, { force = true })
  if #lines > 0 and lines[#lines] ~= "" then
    table.insert(lines, "")
  end
  return lines
end

-- A page is drawn from its first user message on, so that it reads as it
-- would in the whole history; the items before it go with the page before
-- (unless there is none, or the page holds no user message). Returns the
-- items to draw and the index of the first.
local function from_turn_start(result)
  local items, start = result.items or {}, result.start or 0
  if start == 0 then
    return items, 0
  end
  for i, item in ipairs(items) do
    if item.kind == "message" and item.role == "user" then
      return vim.list_slice(items, i), start + i - 1
    end
  end
  return items, start
end

local function request(chat, before, callback)
  local params = { podId = chat.pod_id, limit = config.values.chat.history_page }
  if before then
    params.before = before
  end
  server.request(chat.root, p.POD_HISTORY, params, function(err, result)
    if err or type(result) ~= "table" then
      callback(nil, err or { message = "no history" })
    else
      callback(result)
    end
  end)
end

--- Redraw the chat from the last page of its pod's history;
--- `callback(result)` (nil and the error when it could not).
function M.load(chat, callback)
  chat.history = nil
  request(chat, nil, function(result, err)
    if not result then
      return callback(nil, err)
    end
    local items, start = from_turn_start(result)
    render.history(chat.t, items)
    require("yoi.agents").restore(chat, result.subAgents)
    if result.lastRunInterrupted then
      render.note(chat.t, render.OUTCOMES.interrupted)
    end
    chat.history = { start = start, session_id = result.sessionId, pod_id = chat.pod_id }
    if start > 0 then
      vim.api.nvim_buf_set_lines(chat.buf, 0, 0, false, { more_line(start) })
    end
    callback(result)
  end)
end

--- Continue a stored session in the chat (`:YoiSessions`): `session` is a
--- `yoi/sessions/list` entry (or its id); the note names it by its title.
function M.resume(chat, session, callback)
  callback = callback or function() end
  local session_id = type(session) == "table" and session.sessionId or session
  local described = type(session) == "table" and require("yoi.pickers").describe_session(session) or "the session"
  if session_id == chat.session_id and chat.pod_id then
    callback(true)
    return
  end
  if chat.running then
    vim.notify("yoi: a turn is running; stop it before resuming another session", vim.log.levels.WARN)
    callback(false)
    return
  end
  chat:_create_pod(session_id, function(err, result)
    if err then
      vim.notify(("yoi: could not resume %s: %s"):format(described, p.describe_error(err)), vim.log.levels.ERROR)
      callback(false)
      return
    end
    chat:_dispose()
    chat:_adopt(result)
    chat.edited = {}
    M.load(chat, function()
      chat:note("resumed session " .. described)
      chat.t:blank()
      chat:refresh_status()
      callback(true)
    end)
  end)
end

--- Whether older items are still to load.
function M.has_older(chat)
  local h = chat.history
  return h ~= nil and h.start > 0 and h.pod_id == chat.pod_id
end

--- Load the page before the oldest drawn, above it; `callback(ok)`.
function M.older(chat, callback)
  callback = callback or function() end
  local h = chat.history
  if not M.has_older(chat) or h.loading then
    return callback(false)
  end
  h.loading = true
  request(chat, h.start, function(result, err)
    h.loading = false
    if not result or chat.history ~= h then
      if err then
        vim.notify("yoi: could not load older messages: " .. p.describe_error(err), vim.log.levels.WARN)
      end
      return callback(false)
    end
    if result.sessionId ~= h.session_id then -- compacted meanwhile: those pages are gone
      h.start = 0
      vim.api.nvim_buf_set_lines(chat.buf, 0, 1, false, {})
      return callback(false)
    end
    local items, start = from_turn_start(result)
    local lines = M.render_lines(items)
    if start > 0 then
      table.insert(lines, 1, more_line(start))
    end
    local replaced = 1 -- the "earlier items" line
    local views = {}
    for _, win in ipairs(vim.fn.win_findbuf(chat.buf)) do
      views[win] = vim.api.nvim_win_call(win, vim.fn.winsaveview)
    end
    vim.api.nvim_buf_set_lines(chat.buf, 0, replaced, false, lines)
    local added = #lines - replaced
    local count = vim.api.nvim_buf_line_count(chat.buf)
    for win, view in pairs(views) do
      -- on a line that was replaced: onto the first line after them
      view.lnum = math.min(math.max(view.lnum, replaced + 1) + added, count)
      view.topline = view.topline + added
      vim.api.nvim_win_call(win, function()
        vim.fn.winrestview(view)
      end)
    end
    h.start = start
    callback(true)
  end)
end

--- Load older items whenever a window shows the chat's first line (and
--- with the `top` key, `gg`).
function M.watch(chat)
  local group = vim.api.nvim_create_augroup("yoi_history_" .. chat.buf, { clear = true })
  local function check(win)
    if M.has_older(chat) and vim.api.nvim_win_is_valid(win) and vim.api.nvim_win_get_buf(win) == chat.buf then
      if vim.fn.line("w0", win) == 1 then
        M.older(chat)
      end
    end
  end
  local top = config.values.mappings.top
  if top then
    vim.keymap.set("n", top, function()
      vim.cmd("normal! " .. (vim.v.count > 0 and vim.v.count or "") .. "gg")
      check(vim.api.nvim_get_current_win())
    end, { buffer = chat.buf, silent = true, desc = "yoi: to the top, loading older messages" })
  end
  vim.api.nvim_create_autocmd("CursorMoved", {
    group = group,
    buffer = chat.buf,
    callback = function()
      check(vim.api.nvim_get_current_win())
    end,
  })
  vim.api.nvim_create_autocmd("WinScrolled", {
    group = group,
    callback = function(args)
      check(tonumber(args.match) or vim.api.nvim_get_current_win())
    end,
  })
end

return M
