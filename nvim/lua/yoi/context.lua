--- Sending a selection to the chat (`:'<,'>YoiChat`, the visual-mode key):
--- it becomes `@path:first-last` in the chat's input (quoted when the path
--- has a space), which the message sends as a `file` segment with that line
--- range — the buffer's text, saved or not.
local segments = require("yoi.segments")
local server = require("yoi.server")

local M = {}

--- The mention of lines `first`..`last` (1-based, inclusive) of a file
--- buffer, and what it refers to; nil and why when the buffer is no file.
function M.mention(bufnr, first, last, root)
  local path = server.buffer_path(bufnr)
  if path == "" then
    return nil, "the selection is not in a file"
  end
  if first > last then
    first, last = last, first
  end
  local shown = server.is_under(path, root) and path ~= root and path:sub(#root + 2) or path
  return segments.mention(shown, first, last), { bufnr = bufnr, path = shown, first = first, last = last }
end

--- Add lines of `bufnr` to `chat`'s input (`text`: send it with them now).
function M.add(chat, bufnr, first, last, text)
  local mention, target = M.mention(bufnr, first, last, chat.root)
  if not mention then
    vim.notify("yoi: " .. target, vim.log.levels.WARN)
    return
  end
  chat.selection = target
  if text and text ~= "" then
    chat:submit(mention .. " " .. text)
    return
  end
  local typed = chat.t:input()
  chat.t:set_input((typed == "" and "" or (typed .. " ")) .. mention .. " ")
  local win = chat:show(true)
  local count = vim.api.nvim_buf_line_count(chat.buf)
  local line = vim.api.nvim_buf_get_lines(chat.buf, count - 1, count, false)[1]
  vim.api.nvim_win_set_cursor(win, { count, #line })
  vim.cmd("startinsert!")
end

return M
