--- `yoi/document/save`: the server asks to save a buffer after you accepted the
--- agent's edit to it and it had no unsaved changes before (so the commands the
--- agent runs next see the edit). `save_accepted_edits = false` answers no.
local M = {}

--- Handler of the server request: write the buffer, answer `{ saved }`.
function M.handler(params)
  if require("yoi.config").values.save_accepted_edits == false then
    return { saved = false }
  end
  local ok, bufnr = pcall(vim.uri_to_bufnr, params.uri)
  if not ok or not vim.api.nvim_buf_is_loaded(bufnr) then
    return { saved = false }
  end
  if not vim.bo[bufnr].modified then
    return { saved = true }
  end
  local written, err = pcall(vim.api.nvim_buf_call, bufnr, function()
    vim.cmd("silent update")
  end)
  if not written then
    vim.notify("yoi: could not save " .. vim.api.nvim_buf_get_name(bufnr) .. ": " .. tostring(err), vim.log.levels.WARN)
  end
  return { saved = written and not vim.bo[bufnr].modified }
end

return M
