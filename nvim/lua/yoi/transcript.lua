--- The chat buffer's text: the transcript above a prompt line, the user's
--- input below it.
---
--- Streamed text is appended to the last transcript line; a tool call is a
--- header line (`  ⚙ name args`) with body lines (`  │ ...`) that the chat
--- window folds; results and edit statuses are added to their call's block.
--- A sub-agent is a section of its own, folded the same way: a header line
--- (`  ◆ name · status`) with body lines (`  ┆ ...`); see agent_section.lua.
local M = {}

local Transcript = {}
Transcript.__index = Transcript

M.PROMPT = "──── ✎ message yoi ────"
M.TOOL = "  ⚙ "
M.THINKING = "  ✻ "
M.BODY = "  │ "
M.LIVE = "  ▸ " -- before a running command's last output line, on its header
M.AGENT = "  ◆ " -- a sub-agent's header
M.AGENT_BODY = "  ┆ " -- a sub-agent's own transcript, under its header
-- Folds for the chat window: a tool, reasoning or sub-agent header opens a fold, body lines belong to it.
M.FOLDEXPR = [[getline(v:lnum)=~#'^  [⚙✻◆] '?'>1':(getline(v:lnum)=~#'^  [│┆]'?'1':'0')]]
M.FOLDTEXT = [[getline(v:foldstart).'  ['.(v:foldend-v:foldstart).' more]']]

local ns = vim.api.nvim_create_namespace("yoi_transcript")
M.ns = ns -- the marks of blocks and sections (cleared with the transcript)

function M.new(bufnr, hint)
  local self = setmetatable({ buf = bufnr, hint = hint, streaming = false, blocks = {} }, Transcript)
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, { M.PROMPT, "" })
  self:_mark_prompt(0)
  return self
end

function Transcript:_mark_prompt(row)
  local opts = { id = self.prompt_id }
  if self.hint then
    opts.virt_text = { { "  " .. self.hint, "Comment" } }
  end
  self.prompt_id = vim.api.nvim_buf_set_extmark(self.buf, ns, row, 0, opts)
end

--- Show `hint` next to the prompt line (the keys, or what the turn is doing).
function Transcript:set_hint(hint)
  self.hint = hint
  self:_mark_prompt(self:prompt_row())
end

--- The 0-based row of the prompt line (restored at the end if it was deleted).
function Transcript:prompt_row()
  local pos = vim.api.nvim_buf_get_extmark_by_id(self.buf, ns, self.prompt_id, {})
  local row = pos[1]
  if row and vim.api.nvim_buf_get_lines(self.buf, row, row + 1, false)[1] == M.PROMPT then
    return row
  end
  local count = vim.api.nvim_buf_line_count(self.buf)
  vim.api.nvim_buf_set_lines(self.buf, count, count, false, { M.PROMPT, "" })
  self:_mark_prompt(count)
  self.streaming = false
  return count
end

function Transcript:input()
  local lines = vim.api.nvim_buf_get_lines(self.buf, self:prompt_row() + 1, -1, false)
  return vim.trim(table.concat(lines, "\n"))
end

function Transcript:set_input(text)
  local row = self:prompt_row()
  vim.api.nvim_buf_set_lines(self.buf, row + 1, -1, false, vim.split(text, "\n", { plain = true }))
end

function Transcript:_set(first, last, lines)
  vim.api.nvim_buf_set_lines(self.buf, first, last, false, lines)
  self:_follow()
end

-- Windows other than the current one keep showing the newest text.
function Transcript:_follow()
  local current = vim.api.nvim_get_current_win()
  for _, win in ipairs(vim.fn.win_findbuf(self.buf)) do
    if win ~= current then
      pcall(vim.api.nvim_win_set_cursor, win, { math.max(1, self:prompt_row()), 0 })
    end
  end
end

function Transcript:_last_line()
  local row = self:prompt_row()
  if row == 0 then
    return nil
  end
  return vim.api.nvim_buf_get_lines(self.buf, row - 1, row, false)[1]
end

--- Add whole lines at the end of the transcript.
function Transcript:lines(lines)
  local row = self:prompt_row()
  self.streaming = false
  self:_set(row, row, lines)
end

--- Insert whole lines before the 0-based `row` (inside the transcript). At
--- its end, text streamed next starts a line of its own.
function Transcript:insert(row, lines)
  if row >= self:prompt_row() then
    self.streaming = false
    self.thinking = false
  end
  self:_set(row, row, lines)
end

--- Append text (which may hold newlines) to the end of the 0-based `row`.
function Transcript:append(row, text)
  self:_append(row, text)
end

--- A blank line, unless the transcript is empty or already ends with one.
function Transcript:blank()
  local last = self:_last_line()
  if last ~= nil and last ~= "" then
    self:lines({ "" })
  end
end

-- Append text (which may hold newlines) to the end of a line, in place, so
-- the marks on that line stay put.
function Transcript:_append(row, text)
  local line = vim.api.nvim_buf_get_lines(self.buf, row, row + 1, false)[1] or ""
  vim.api.nvim_buf_set_text(self.buf, row, #line, row, #line, vim.split(text, "\n", { plain = true }))
  self:_follow()
end

--- Append streamed text to the transcript's last line.
function Transcript:stream(text)
  if text == nil or text == "" then
    return
  end
  if not self.streaming then
    self:after_tools()
    local row = self:prompt_row()
    self:_set(row, row, { "" })
    self.streaming = true
  end
  self:_append(self:prompt_row() - 1, text)
end

--- A blank line after a tool block, so the text that follows stands apart.
function Transcript:after_tools()
  local last = self:_last_line()
  local prefixes = { M.BODY, M.TOOL, M.THINKING, M.AGENT, M.AGENT_BODY }
  if last and vim.tbl_contains(prefixes, last:sub(1, #M.BODY)) then
    self:lines({ "" })
  end
end

local function one_line(text, width)
  text = tostring(text or ""):gsub("%s+", " ")
  if width and #text > width then
    text = text:sub(1, width - 1) .. "…"
  end
  return text
end
M.one_line = one_line

--- A tool call's block; `brief` is shown on the header, `detail` in the body.
function Transcript:tool_call(id, name, brief, detail, prefix)
  local row = self:prompt_row()
  local header = (prefix or M.TOOL) .. name .. (brief ~= "" and (" " .. brief) or "")
  local body = {}
  for _, line in ipairs(vim.split(detail or "", "\n", { plain = true })) do
    table.insert(body, M.BODY .. line)
  end
  self.streaming = false
  self:_set(row, row, vim.list_extend({ header }, body))
  local mark = vim.api.nvim_buf_set_extmark(self.buf, ns, row, 0, {})
  self.blocks[id or ("#" .. row)] = { mark = mark, size = #body, header = header }
end

--- The 0-based row of a call's header, and its number of body lines (nil if unknown).
function Transcript:block(id)
  local block = id and self.blocks[id]
  local row = block and vim.api.nvim_buf_get_extmark_by_id(self.buf, ns, block.mark, {})[1]
  if row then
    return row, block.size
  end
  return nil
end

--- Add a body line to a call's block (or at the end if the call is unknown).
function Transcript:tool_note(id, text)
  local block = id and self.blocks[id]
  if not block then
    self:lines({ M.BODY .. text })
    return
  end
  local row = vim.api.nvim_buf_get_extmark_by_id(self.buf, ns, block.mark, {})[1]
  if not row then
    return
  end
  local at = row + 1 + block.size
  local was_last = at == self:prompt_row()
  self:_set(at, at, { M.BODY .. text })
  block.size = block.size + 1
  if was_last then
    self.streaming = false
  end
end

--- Show `line` (a running command's last output line) on the call's header,
--- the line its fold shows; nil removes it.
function Transcript:tool_live(id, line)
  local block = id and self.blocks[id]
  local row = block and vim.api.nvim_buf_get_extmark_by_id(self.buf, ns, block.mark, {})[1]
  if not row then
    return
  end
  local text = vim.api.nvim_buf_get_lines(self.buf, row, row + 1, false)[1] or ""
  local suffix = line and (M.LIVE .. one_line(line, 80)) or ""
  vim.api.nvim_buf_set_text(self.buf, row, #block.header, row, #text, { suffix })
end

--- The id of the tool call whose block holds the 0-based `row`, if any.
function Transcript:call_at(row)
  for id, block in pairs(self.blocks) do
    local start = vim.api.nvim_buf_get_extmark_by_id(self.buf, ns, block.mark, {})[1]
    if start and row >= start and row <= start + block.size then
      return id
    end
  end
  return nil
end

--- Show a call's outcome on its header and in its body.
function Transcript:tool_result(id, ok, summary)
  local icon = ok and "✓" or "✗"
  local block = id and self.blocks[id]
  if block then
    self:tool_live(id, nil)
    local row = vim.api.nvim_buf_get_extmark_by_id(self.buf, ns, block.mark, {})[1]
    if row then
      self:_append(row, "  " .. icon .. " " .. one_line(summary, 80))
    end
  end
  self:tool_note(id, icon .. " " .. (summary or ""))
end

--- Stream reasoning into a folded block of its own.
function Transcript:reasoning(text)
  if not self.thinking then
    self:tool_call(nil, "thinking", "", "", M.THINKING)
    self.thinking = true
  end
  self:_append(self:prompt_row() - 1, (text:gsub("\n", "\n" .. M.BODY)))
end

function Transcript:end_reasoning()
  self.thinking = false
end

--- Forget the transcript, keeping what the user is typing.
function Transcript:clear()
  local row = self:prompt_row()
  self:_set(0, row, {})
  vim.api.nvim_buf_clear_namespace(self.buf, ns, 0, -1)
  self.prompt_id = nil
  self:_mark_prompt(0)
  self.blocks = {}
  self.agents = nil -- the sub-agents' sections (agents.lua)
  self.streaming = false
  self.thinking = false
end

return M
