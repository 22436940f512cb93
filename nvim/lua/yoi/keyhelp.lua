--- `?` in the chat: a window listing the chat buffer's keys and commands.
local config = require("yoi.config")

local M = {}

--- The help's lines for the current mappings.
function M.lines()
  local m = config.values.mappings
  local rows = {}
  local function add(key, what)
    if key then
      table.insert(rows, { key, what })
    end
  end
  add(m.submit, "send the message (on a tool call: open or close it)")
  add(m.submit_insert, "send the message (insert mode too)")
  add(m.interrupt, "stop the running turn")
  add("<C-x><C-o>", "complete @file, #knowledge, /workflow (insert mode)")
  add(m.yank_code, "yank the code block under the cursor")
  add(m.apply_code, "apply it (over the lines sent with :'<,'>YoiChat)")
  add(m.execute_plan, "carry out the plan (after a turn in plan mode)")
  add("za", "open or close a tool call or a sub-agent")
  add(m.top, "to the top, loading older messages")
  add(m.help, "this help")
  if config.values.selection_key then
    add(config.values.selection_key, "(visual, any buffer) add the selection")
  end
  local width = 0
  for _, row in ipairs(rows) do
    width = math.max(width, vim.fn.strdisplaywidth(row[1]))
  end
  local lines = { " yoi chat keys" }
  for _, row in ipairs(rows) do
    table.insert(lines, (" %s%s  %s"):format(row[1], (" "):rep(width - vim.fn.strdisplaywidth(row[1])), row[2]))
  end
  vim.list_extend(lines, {
    "",
    " :YoiUnsaved   files the agent changed, not saved yet (! saves)",
    " :YoiSessions  resume a session · :YoiNew start over",
    " :YoiAgents    the sub-agents: show one's transcript, or stop it",
    " :YoiMode      agent, plan or ask · :YoiModel · :YoiProfile",
    " :YoiContext   what fills the context window · :YoiRaiseBudget",
    " :YoiRules     lasting approval rules: list, revoke one",
    " :YoiTrust     trust this workspace (its .yoi/manifest.toml applies whole)",
    "",
    " An approval asks: 1 Allow · 2 Allow for this session · 3 Deny ·",
    "   4 Always allow in this workspace (lasts; :YoiRules revokes)",
    " q or <Esc> closes this help",
  })
  return lines
end

--- Show the help in a window above the chat's (a split, not a float: it
--- shows on every Neovim's grid); q, <Esc> or the help key close it.
function M.show()
  local lines = M.lines()
  local parent = vim.api.nvim_get_current_win()
  local height = math.min(#lines, math.max(3, vim.api.nvim_win_get_height(parent) - 4))
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = "wipe"
  vim.cmd(("aboveleft %dsplit"):format(height))
  local win = vim.api.nvim_get_current_win()
  vim.api.nvim_win_set_buf(win, buf)
  local wo = vim.wo[win]
  wo.wrap, wo.number, wo.relativenumber, wo.signcolumn = true, false, false, "no"
  wo.foldenable, wo.winfixheight, wo.statusline = false, true, " yoi: keys of the chat"
  local function close()
    if vim.api.nvim_win_is_valid(win) and #vim.api.nvim_list_wins() > 1 then
      vim.api.nvim_win_close(win, true)
    end
    if vim.api.nvim_win_is_valid(parent) then
      vim.api.nvim_set_current_win(parent)
    end
  end
  for _, key in ipairs({ "q", "<Esc>", config.values.mappings.help or "?" }) do
    vim.keymap.set("n", key, close, { buffer = buf, nowait = true, silent = true, desc = "yoi: close the help" })
  end
  vim.api.nvim_create_autocmd("WinLeave", {
    buffer = buf,
    once = true,
    callback = function()
      vim.schedule(function()
        if vim.api.nvim_win_is_valid(win) and #vim.api.nvim_list_wins() > 1 then
          vim.api.nvim_win_close(win, true)
        end
      end)
    end,
  })
  return win
end

return M
