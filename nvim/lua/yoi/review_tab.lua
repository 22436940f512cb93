--- The review of one proposed edit, in a tab page of its own: the question
--- and the keys at the top, always in view, and the whole diff below, with
--- long stretches of unchanged lines folded. Keys (`review.keys`): accept,
--- reject, keep or drop the hunk under the cursor, accept this and every
--- edit until the turn ends, move between hunks. Closing the tab rejects.
local config = require("yoi.config")
local diff = require("yoi.review_diff")

local M = {}

local View = {}
View.__index = View

local ns = vim.api.nvim_create_namespace("yoi_review")
local opened = 0

-- (again at each review: a colorscheme clears them)
local function define_highlights()
  vim.cmd([[
    highlight default link YoiReviewQuestion Question
    highlight default link YoiReviewKeys Comment
    highlight default link YoiReviewDropped Comment
  ]])
end

--- The question for an edit's label, without the call id the server adds.
function M.question(label)
  label = (label or "yoi: proposed edit"):gsub("%s*%(call [^)]*%)%s*$", "")
  return label .. " — apply this change?"
end

--- The line of keys shown under the question.
function M.keys_hint()
  local k = config.values.review.keys
  return table.concat({
    k.accept .. " accept",
    k.reject .. " reject",
    k.toggle .. " keep/drop hunk",
    k.next_hunk .. " " .. k.prev_hunk .. " next/prev hunk",
    k.accept_all .. " accept all this turn",
  }, " · ")
end

local function scratch(name, lines, filetype)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(buf, name)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].modifiable = false
  if filetype then
    vim.bo[buf].filetype = filetype
  end
  return buf
end

local function set_lines(buf, first, last, lines)
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, first, last, false, lines)
  vim.bo[buf].modifiable = false
end

local function window_options(win, statusline)
  local wo = vim.wo[win]
  wo.number = false
  wo.relativenumber = false
  wo.signcolumn = "no"
  wo.list = false
  wo.spell = false
  wo.wrap = true
  wo.statusline = statusline
end

function View:kept_count()
  local n = 0
  for _, kept in ipairs(self.kept) do
    n = n + (kept and 1 or 0)
  end
  return n
end

function View:_header_lines()
  local first = M.question(self.label)
  if #self.hunks > 1 then
    first = first .. ("  (%d of %d hunks kept)"):format(self:kept_count(), #self.hunks)
  end
  return { first, M.keys_hint() }
end

-- Rows the header's lines take in a window `width` columns wide.
local function height(lines, width)
  local rows = 0
  for _, line in ipairs(lines) do
    rows = rows + math.max(1, math.ceil(vim.fn.strdisplaywidth(line) / math.max(width, 1)))
  end
  return rows
end

function View:_draw_header()
  local lines = self:_header_lines()
  set_lines(self.header_buf, 0, -1, lines)
  vim.api.nvim_buf_clear_namespace(self.header_buf, ns, 0, -1)
  for row, group in ipairs({ "YoiReviewQuestion", "YoiReviewKeys" }) do
    vim.api.nvim_buf_set_extmark(self.header_buf, ns, row - 1, 0, { end_row = row, hl_group = group, hl_eol = true })
  end
  if vim.api.nvim_win_is_valid(self.header_win) then
    local width = vim.api.nvim_win_get_width(self.header_win)
    vim.api.nvim_win_set_height(self.header_win, height(lines, width))
  end
end

function View:_draw_hunk(index)
  local entry = self.hunks[index]
  local kept = self.kept[index]
  set_lines(self.buf, entry.row, entry.row + 1, { diff.hunk_header(entry, index, #self.hunks, kept) })
  if entry.mark then
    vim.api.nvim_buf_del_extmark(self.buf, ns, entry.mark)
    entry.mark = nil
  end
  if not kept and entry.last_row > entry.row then
    entry.mark = vim.api.nvim_buf_set_extmark(self.buf, ns, entry.row + 1, 0, {
      end_row = entry.last_row + 1,
      hl_group = "YoiReviewDropped",
      hl_eol = true,
      priority = 200, -- over the diff syntax
    })
  end
end

-- The hunk under the cursor, or the next one below it.
function View:_hunk_at_cursor()
  local row = vim.api.nvim_win_get_cursor(self.win)[1] - 1
  for index, entry in ipairs(self.hunks) do
    if row <= entry.last_row then
      return index
    end
  end
  return nil
end

function View:toggle()
  local index = self:_hunk_at_cursor()
  if not index then
    return
  end
  self.kept[index] = not self.kept[index]
  self:_draw_hunk(index)
  self:_draw_header()
end

--- Move to the next (`step` 1) or previous (-1) hunk.
function View:jump(step)
  local row = vim.api.nvim_win_get_cursor(self.win)[1] - 1
  local target
  for index = step > 0 and 1 or #self.hunks, step > 0 and #self.hunks or 1, step do
    local entry = self.hunks[index]
    if (step > 0 and entry.row > row) or (step < 0 and entry.row < row) then
      target = entry
      break
    end
  end
  if target then
    vim.api.nvim_win_set_cursor(self.win, { target.row + 1, 0 })
    vim.api.nvim_win_call(self.win, function()
      vim.cmd("normal! zv")
    end)
  end
end

function View:_map_keys(buf)
  local k = config.values.review.keys
  local actions = {
    [k.accept] = { "accept the kept hunks", function()
      self:finish("accept")
    end },
    [k.reject] = { "reject the edit", function()
      self:finish("reject")
    end },
    [k.quit] = { "reject the edit", function()
      self:finish("reject")
    end },
    [k.accept_all] = { "accept this and every edit until the turn ends", function()
      self:finish("all")
    end },
    [k.toggle] = { "keep or drop the hunk under the cursor", function()
      self:toggle()
    end },
    [k.next_hunk] = { "next hunk", function()
      self:jump(1)
    end },
    [k.prev_hunk] = { "previous hunk", function()
      self:jump(-1)
    end },
  }
  for lhs, action in pairs(actions) do
    vim.keymap.set("n", lhs, action[2], { buffer = buf, nowait = true, silent = true, desc = "yoi: " .. action[1] })
  end
end

--- Whether the review's windows are all still open.
function View:alive()
  return vim.api.nvim_win_is_valid(self.win) and vim.api.nvim_win_is_valid(self.header_win)
end

--- Put the cursor back in the review if it left it.
function View:focus()
  local current = vim.api.nvim_get_current_win()
  if current ~= self.win and current ~= self.header_win and vim.api.nvim_win_is_valid(self.win) then
    vim.api.nvim_set_current_win(self.win)
  end
end

function View:_close()
  pcall(vim.api.nvim_del_augroup_by_id, self.group)
  local here = vim.api.nvim_get_current_tabpage() == self.tab
  if vim.api.nvim_tabpage_is_valid(self.tab) and #vim.api.nvim_list_tabpages() > 1 then
    pcall(vim.cmd, "tabclose " .. vim.api.nvim_tabpage_get_number(self.tab))
  end
  for _, win in ipairs({ self.header_win, self.win }) do
    if vim.api.nvim_win_is_valid(win) then
      pcall(vim.api.nvim_win_close, win, true)
    end
  end
  if vim.api.nvim_win_is_valid(self.win) then -- the last window: show what it showed before
    vim.api.nvim_win_set_buf(self.win, vim.api.nvim_create_buf(true, false))
  end
  if here and vim.api.nvim_win_is_valid(self.previous) then
    vim.api.nvim_set_current_win(self.previous)
  end
end

--- End the review with `answer` ("accept", "reject" or "all"); once.
function View:finish(answer)
  if self.done then
    return
  end
  self.done = true
  self:_close()
  local kept = self.kept
  local by_step = {}
  for index, entry in ipairs(self.hunks) do
    by_step[entry.step] = by_step[entry.step] or {}
    by_step[entry.step][entry.hunk] = kept[index]
  end
  self.on_done({
    answer = answer,
    keep = function(step, hunk)
      return by_step[step] ~= nil and by_step[step][hunk] == true
    end,
    kept = self:kept_count(),
    total = #self.hunks,
  })
end

--- What a review shows, for scripts and `User YoiReview`: its question, its
--- buffers and windows, its hunks ({ kept }) and whether it holds Neovim until
--- answered (`modal`, on Neovim < 0.10).
function View:info()
  return {
    question = M.question(self.label),
    bufnr = self.buf,
    winid = self.win,
    header_bufnr = self.header_buf,
    tabpage = self.tab,
    modal = self.modal,
    hunks = vim.tbl_map(function(kept)
      return { kept = kept }
    end, self.kept),
  }
end

--- Open the review of `opts.steps` (workspace_edit.plan) with `opts.label`;
--- `opts.on_done(result)` gets { answer, keep(step, hunk), kept, total }.
function M.open(opts)
  define_highlights()
  opened = opened + 1
  local rendered = diff.render(opts.steps)
  local self = setmetatable({
    label = opts.label,
    modal = opts.modal,
    on_done = opts.on_done,
    hunks = rendered.hunks,
    kept = {},
    previous = vim.api.nvim_get_current_win(),
  }, View)
  for index in ipairs(self.hunks) do
    self.kept[index] = true
  end
  self.buf = scratch("yoi review " .. opened, rendered.lines, "diff")
  self.header_buf = scratch("yoi review " .. opened .. " question", self:_header_lines())
  vim.cmd("tab sbuffer " .. self.buf)
  self.tab = vim.api.nvim_get_current_tabpage()
  self.win = vim.api.nvim_get_current_win()
  vim.cmd("aboveleft 2split")
  self.header_win = vim.api.nvim_get_current_win()
  vim.api.nvim_win_set_buf(self.header_win, self.header_buf)
  window_options(self.header_win, " yoi · review")
  vim.wo[self.header_win].winfixheight = true
  vim.wo[self.header_win].foldenable = false
  window_options(self.win, " yoi · review%=%l/%L ")
  vim.wo[self.win].cursorline = true
  vim.wo[self.win].foldmethod = "manual"
  vim.wo[self.win].foldtext = [[printf('  ··· %d unchanged lines ···', v:foldend - v:foldstart + 1)]]
  vim.wo[self.win].fillchars = "fold: "
  vim.wo[self.win].foldlevel = 0
  vim.wo[self.win].foldenable = true
  vim.api.nvim_set_current_win(self.win)
  for _, fold in ipairs(rendered.folds) do
    vim.cmd(("%d,%dfold"):format(fold[1], fold[2]))
  end
  self:_draw_header()
  for _, buf in ipairs({ self.buf, self.header_buf }) do
    self:_map_keys(buf)
  end
  if self.hunks[1] then
    vim.api.nvim_win_set_cursor(self.win, { self.hunks[1].row + 1, 0 })
    vim.cmd("normal! zv")
  end
  self.group = vim.api.nvim_create_augroup("yoi_review_" .. opened, { clear = true })
  vim.api.nvim_create_autocmd("WinClosed", {
    group = self.group,
    pattern = { tostring(self.win), tostring(self.header_win) },
    desc = "yoi: closing the review rejects the edit",
    callback = function()
      vim.schedule(function()
        self:finish("reject")
      end)
    end,
  })
  vim.api.nvim_create_autocmd("VimResized", {
    group = self.group,
    desc = "yoi: keep the whole question in view",
    callback = function()
      self:_draw_header()
    end,
  })
  return self
end

return M
