--- Code blocks of the chat: `gy` yanks the fenced block under the cursor,
--- `ga` applies it: over the lines last sent with `:'<,'>YoiChat` (the usual
--- "rewrite this" round trip), else below the cursor of the file window.
local window = require("yoi.window")

local M = {}

local function notify(message, level)
  vim.notify("yoi: " .. message, level or vim.log.levels.INFO)
end

--- The fenced blocks of `lines`: { first, last, info } with 1-based rows of
--- the fences themselves.
function M.blocks(lines)
  local found = {}
  local open
  for row, line in ipairs(lines) do
    local fence, info = line:match("^%s*(```+)%s*(%S*)")
    if fence then
      if not open then
        open = { first = row, fence = fence, info = info }
      elseif #fence >= #open.fence and info == "" then
        table.insert(found, { first = open.first, last = row, info = open.info })
        open = nil
      end
    end
  end
  return found
end

--- The text lines of the block under (or else just above) 1-based `row`.
function M.at(lines, row)
  local best
  for _, block in ipairs(M.blocks(lines)) do
    if block.first <= row and row <= block.last then
      best = block
      break
    end
    if block.last < row then
      best = block
    end
  end
  if not best then
    return nil
  end
  return vim.list_slice(lines, best.first + 1, best.last - 1), best
end

local function block_under_cursor(chat)
  local lines = vim.api.nvim_buf_get_lines(chat.buf, 0, -1, false)
  local code = M.at(lines, vim.api.nvim_win_get_cursor(0)[1])
  if not code then
    notify("no code block under the cursor", vim.log.levels.WARN)
  end
  return code
end

--- Yank the code block under the cursor (into the register given, else `"`).
function M.yank(chat)
  local code = block_under_cursor(chat)
  if not code then
    return
  end
  local register = vim.v.register ~= "" and vim.v.register or '"'
  vim.fn.setreg(register, code, "l")
  notify(("yanked %d line%s"):format(#code, #code == 1 and "" or "s"))
end

--- Apply the code block under the cursor (see the module's doc).
function M.apply(chat)
  local code = block_under_cursor(chat)
  if not code then
    return
  end
  local target = chat.selection
  local name
  if target and vim.api.nvim_buf_is_loaded(target.bufnr) then
    local count = vim.api.nvim_buf_line_count(target.bufnr)
    local last = math.min(target.last, count)
    vim.api.nvim_buf_set_lines(target.bufnr, target.first - 1, last, false, code)
    name = ("%s:%d-%d"):format(target.path, target.first, target.first + #code - 1)
    chat.selection = vim.tbl_extend("force", target, { last = target.first + #code - 1 })
    local win = vim.fn.win_findbuf(target.bufnr)[1]
    if win then
      pcall(vim.api.nvim_win_set_cursor, win, { target.first, 0 })
    end
  else
    local win = window.editor_window()
    local bufnr = vim.api.nvim_win_get_buf(win)
    local row = vim.api.nvim_win_get_cursor(win)[1]
    vim.api.nvim_buf_set_lines(bufnr, row, row, false, code)
    name = ("%s below line %d"):format(vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ":."), row)
  end
  notify(("applied %d line%s to %s (u in that buffer undoes it)"):format(#code, #code == 1 and "" or "s", name))
end

return M
