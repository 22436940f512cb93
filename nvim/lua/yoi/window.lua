--- The chat's window: where it opens, its options (folds for tool calls),
--- its status line and the chat buffer's keys.
local config = require("yoi.config")
local transcript = require("yoi.transcript")

local M = {}

--- The keys shown next to the prompt line (short: `?` lists them all).
function M.hint()
  local m = config.values.mappings
  local parts = {}
  if m.submit then
    table.insert(parts, m.submit .. " send")
  end
  if m.interrupt then
    table.insert(parts, m.interrupt .. " stop")
  end
  if m.help then
    table.insert(parts, m.help .. " keys")
  end
  return table.concat(parts, " · ")
end

--- The note after a turn that ran in plan mode.
function M.plan_offer()
  local key = config.values.mappings.execute_plan
  return ("plan ready: %s:YoiExecutePlan carries it out in agent mode"):format(key and (key .. " or ") or "")
end

--- The line next to the prompt while a turn runs: what it does, how to stop it.
function M.busy_hint(activity)
  local key = config.values.mappings.interrupt
  return key and (activity .. " · " .. key .. " stop") or activity
end

local function escape(statusline)
  return (statusline:gsub("%%", "%%%%"))
end

function M.set_options(win, statusline)
  local wo = vim.wo[win]
  wo.wrap = true
  wo.linebreak = true
  wo.number = false
  wo.relativenumber = false
  wo.signcolumn = "no"
  wo.foldmethod = "expr"
  wo.foldexpr = transcript.FOLDEXPR
  wo.foldtext = transcript.FOLDTEXT
  wo.foldlevel = 0
  wo.foldenable = true
  wo.statusline = escape(statusline)
end

--- Show `statusline` in every window of `buf`.
function M.set_statusline(buf, statusline)
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    vim.wo[win].statusline = escape(statusline)
  end
end

--- A window of the current tab to open a file in, never a chat's: the
--- previous window, another file window, or a new split left of the chat.
function M.editor_window()
  local chat = require("yoi.chat")
  local function usable(win)
    if not (win and win ~= 0 and vim.api.nvim_win_is_valid(win)) then
      return false
    end
    local buf = vim.api.nvim_win_get_buf(win)
    local floating = vim.api.nvim_win_get_config(win).relative ~= ""
    return not floating and chat.for_buffer(buf) == nil and vim.bo[buf].buftype == ""
  end
  local current = vim.api.nvim_get_current_win()
  if usable(current) then
    return current
  end
  local previous = vim.fn.win_getid(vim.fn.winnr("#"))
  if usable(previous) then
    return previous
  end
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    if usable(win) then
      return win
    end
  end
  vim.cmd("leftabove vnew")
  return vim.api.nvim_get_current_win()
end

--- Open a window for `buf` where `chat.position` says; returns it.
function M.open(buf, focus, statusline)
  local previous = vim.api.nvim_get_current_win()
  local opts = config.values.chat
  if opts.position == "tab" then
    vim.cmd("tab split")
  else
    local vertical = opts.position == "right" or opts.position == "left"
    local total = vertical and vim.o.columns or vim.o.lines
    local size = opts.size < 1 and math.floor(total * opts.size) or math.floor(opts.size)
    local where = ({
      right = "botright vertical",
      left = "topleft vertical",
      bottom = "botright",
      top = "topleft",
    })[opts.position]
    vim.cmd(("%s %dsplit"):format(where, math.max(size, 10)))
  end
  local win = vim.api.nvim_get_current_win()
  vim.api.nvim_win_set_buf(win, buf)
  M.set_options(win, statusline)
  vim.api.nvim_win_set_cursor(win, { vim.api.nvim_buf_line_count(buf), 0 })
  if not focus then
    vim.api.nvim_set_current_win(previous)
  end
  return win
end

--- The chat buffer's keys (see `mappings` in :help yoi-setup).
function M.map_keys(chat)
  local m = config.values.mappings
  local function opts(desc)
    return { buffer = chat.buf, silent = true, desc = "yoi: " .. desc }
  end
  if m.submit then
    vim.keymap.set("n", m.submit, function()
      chat:on_enter()
    end, opts("send the message (in the transcript: toggle a fold)"))
  end
  if m.submit_insert then
    vim.keymap.set({ "i", "n" }, m.submit_insert, function()
      vim.cmd("stopinsert")
      chat:submit()
    end, opts("send the message"))
  end
  if m.interrupt then
    vim.keymap.set({ "n", "i" }, m.interrupt, function()
      if not chat:interrupt() and vim.fn.mode() == "i" then
        vim.cmd("stopinsert") -- nothing to stop: the key keeps its usual meaning
      end
    end, opts("stop the running turn"))
  end
  if m.yank_code then
    vim.keymap.set("n", m.yank_code, function()
      require("yoi.codeblock").yank(chat)
    end, opts("yank the code block under the cursor"))
  end
  if m.apply_code then
    vim.keymap.set("n", m.apply_code, function()
      require("yoi.codeblock").apply(chat)
    end, opts("apply the code block under the cursor (to the lines you sent, else below the cursor)"))
  end
  if m.execute_plan then
    vim.keymap.set("n", m.execute_plan, function()
      require("yoi.settings").execute_plan()
    end, opts("carry out the plan (agent mode, then \"Carry out the plan.\")"))
  end
  if m.help then
    vim.keymap.set("n", m.help, function()
      require("yoi.keyhelp").show(chat.buf)
    end, opts("show the chat's keys"))
  end
end

local function short_tokens(n)
  if type(n) ~= "number" then
    return nil
  end
  if n >= 1000 then
    return ("%.1fk"):format(n / 1000)
  end
  return tostring(n)
end

--- " yoi · <pod> · <model> · <mode> · NN% · <state> · context <n> · <progress>"
function M.statusline(info, progress)
  local parts = { "yoi" }
  if info.name and info.name ~= "" and info.name ~= "yoi" then
    table.insert(parts, info.name)
  end
  local settings = require("yoi.settings").describe(info)
  if settings ~= "" then
    table.insert(parts, settings)
  end
  local state = "stopped"
  if info.activity then
    state = info.activity
  elseif info.running then
    state = "running"
  elseif info.pod_id then
    state = "idle"
  elseif info.starting then
    state = "starting"
  end
  table.insert(parts, state)
  local agents = info.agents_running or 0
  if agents > 0 then
    table.insert(parts, agents .. (agents == 1 and " sub-agent" or " sub-agents") .. " running")
  end
  local context = short_tokens(info.context_tokens)
  if context then
    table.insert(parts, "context " .. context)
  end
  if progress and progress ~= "" then
    table.insert(parts, progress)
  end
  return " " .. table.concat(parts, " · ")
end

return M
