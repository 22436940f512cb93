--- `:YoiUnsaved`: the files the agent changed (edits you accepted) that are
--- not saved yet, in the quickfix list; `:YoiUnsaved!` writes them all, as
--- `:wa` would, leaving your other modified buffers alone.
local M = {}

local function notify(message, level)
  vim.notify("yoi: " .. message, level or vim.log.levels.INFO)
end

--- The chat's edited files with unsaved changes: { bufnr, path }, by path.
function M.files(chat)
  local found = {}
  for uri in pairs(chat and chat.edited or {}) do
    local ok, bufnr = pcall(vim.uri_to_bufnr, uri)
    if ok and vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].modified then
      local path = vim.api.nvim_buf_get_name(bufnr)
      if vim.startswith(path, chat.root .. "/") then
        path = path:sub(#chat.root + 2)
      end
      table.insert(found, { bufnr = bufnr, path = path })
    end
  end
  table.sort(found, function(a, b)
    return a.path < b.path
  end)
  return found
end

local function names(files)
  return table.concat(
    vim.tbl_map(function(file)
      return file.path
    end, files),
    ", "
  )
end

--- Write every file the agent left unsaved; returns what was saved.
function M.save(chat)
  local saved, failed = {}, {}
  for _, file in ipairs(M.files(chat)) do
    local ok, err = pcall(vim.api.nvim_buf_call, file.bufnr, function()
      vim.cmd("silent write")
    end)
    table.insert(ok and saved or failed, ok and file or { path = file.path .. " (" .. tostring(err) .. ")" })
  end
  if #failed > 0 then
    notify("could not save " .. names(failed), vim.log.levels.ERROR)
  end
  if #saved > 0 then
    notify(("saved %d file%s: %s"):format(#saved, #saved == 1 and "" or "s", names(saved)))
  elseif #failed == 0 then
    notify("no files left unsaved by the agent")
  end
  return saved
end

--- List the files in the quickfix list (`save`: write them instead).
function M.show(chat, save)
  if save then
    return M.save(chat)
  end
  local files = M.files(chat)
  if #files == 0 then
    notify("no files left unsaved by the agent")
    return files
  end
  local items = vim.tbl_map(function(file)
    return { bufnr = file.bufnr, lnum = 1, text = "changed by yoi, not saved (:YoiUnsaved! saves them all)" }
  end, files)
  vim.fn.setqflist({}, " ", { title = "yoi: files left unsaved by the agent", items = items })
  vim.cmd("botright copen")
  return files
end

return M
