--- Attaching an image to the chat (`:YoiAttach path`): the file's mention
--- (`@shot.png`, quoted when the path has a space) goes into the chat's input,
--- and the message sends it as an `image` segment — the image itself, to a
--- model that can see. The server checks the image again and says why when it
--- refuses one (too large, not an image, a model without vision).
local segments = require("yoi.segments")
local server = require("yoi.server")

local M = {}

M.MAX_BYTES = 5 * 1024 * 1024 -- as the server: 5 MB once decoded
local uv = vim.uv or vim.loop

--- The mention of the image at `path` (relative to `root`, or absolute), or
--- nil and why it cannot be attached.
function M.mention(path, root)
  local full = vim.fn.fnamemodify(vim.fn.expand(path), ":p")
  full = uv.fs_realpath(full) or full
  local stat = uv.fs_stat(full)
  if not stat or stat.type ~= "file" then
    return nil, path .. " is not a file"
  end
  if not segments.is_image(full) then
    return nil, path .. " is not an image (PNG, JPEG, GIF or WebP)"
  end
  if stat.size > M.MAX_BYTES then
    return nil, ("%s is %d bytes; images are limited to 5 MB"):format(path, stat.size)
  end
  local shown = server.is_under(full, root) and full:sub(#root + 2) or full
  return segments.mention(shown)
end

--- Put the image's mention in `chat`'s input and show the chat.
function M.add(chat, path)
  local mention, why = M.mention(path, chat.root)
  if not mention then
    vim.notify("yoi: " .. why, vim.log.levels.WARN)
    return false
  end
  local typed = chat.t:input()
  chat.t:set_input((typed == "" and "" or (typed .. " ")) .. mention .. " ")
  local win = chat:show(true)
  local count = vim.api.nvim_buf_line_count(chat.buf)
  local line = vim.api.nvim_buf_get_lines(chat.buf, count - 1, count, false)[1]
  vim.api.nvim_win_set_cursor(win, { count, #line })
  return true
end

--- `:YoiAttach path`: attach to the chat of the current buffer's workspace.
function M.command(path)
  local root = server.root_for(0)
  local chat = require("yoi.chat").for_buffer(vim.api.nvim_get_current_buf())
    or require("yoi.chat").open(root, { focus = false })
  return M.add(chat, path)
end

return M
