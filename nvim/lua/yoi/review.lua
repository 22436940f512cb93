--- `workspace/applyEdit` with review: an edit whose change annotation needs
--- confirmation (every edit the agent proposes) is shown as a diff and applied
--- only if the user accepts it; `applied` tells the server what happened.
--- Other edits keep Neovim's default behaviour.
local ask = require("yoi.ask")
local compat = require("yoi.compat")
local config = require("yoi.config")
local server = require("yoi.server")

local M = {}

-- client_id -> true while "accept all for this turn" holds
local accept_all = {}

local CHOICES = {
  { label = "Accept", answer = "accept" },
  { label = "Reject", answer = "reject" },
  { label = "Accept all for this turn", answer = "all" },
}

local function needs_confirmation(edit)
  for _, annotation in pairs(type(edit) == "table" and edit.changeAnnotations or {}) do
    if type(annotation) == "table" and annotation.needsConfirmation then
      return true
    end
  end
  return false
end

local function read_lines(path)
  if vim.fn.filereadable(path) == 1 then
    return vim.fn.readfile(path)
  end
  return {}
end

-- The loaded buffer holding `path` (compared as real paths), or nil.
local function loaded_buffer(path)
  local real = (vim.uv or vim.loop).fs_realpath(path) or path
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and server.buffer_path(bufnr) == real then
      return bufnr
    end
  end
  return nil
end

-- An empty buffer still has one (empty) line: text inserted into it must not
-- leave that line behind as an extra blank line at the end.
local function apply_text_edits(bufnr, edits, encoding)
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local was_empty = #lines == 1 and lines[1] == ""
  vim.lsp.util.apply_text_edits(edits, bufnr, encoding)
  local count = vim.api.nvim_buf_line_count(bufnr)
  if was_empty and count > 1 and vim.api.nvim_buf_get_lines(bufnr, count - 1, count, false)[1] == "" then
    vim.api.nvim_buf_set_lines(bufnr, count - 1, count, false, {})
  end
end

-- The lines after applying `edits` (applied to a scratch copy, exactly as they will be).
local function edited(lines, edits, encoding)
  local scratch = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(scratch, 0, -1, false, lines)
  local ok, err = pcall(apply_text_edits, scratch, edits, encoding)
  local result = vim.api.nvim_buf_get_lines(scratch, 0, -1, false)
  vim.api.nvim_buf_delete(scratch, { force = true })
  if not ok then
    error(err, 0)
  end
  return result
end

--- Turn a WorkspaceEdit into steps with their before/after text; errors name
--- what cannot be applied.
local function plan(edit, encoding)
  local steps = {}
  local created = {}
  local changes = edit.documentChanges
  if not changes and edit.changes then
    changes = {}
    for uri, edits in pairs(edit.changes) do
      table.insert(changes, { textDocument = { uri = uri }, edits = edits })
    end
  end
  for _, change in ipairs(changes or {}) do
    if change.kind == "create" then
      local path = vim.uri_to_fname(change.uri)
      created[path] = true
      table.insert(steps, { kind = "create", path = path, options = change.options or {} })
    elseif change.kind == "rename" or change.kind == "delete" then
      local path = vim.uri_to_fname(change.oldUri or change.uri)
      table.insert(steps, { kind = change.kind, path = path, change = change })
    else
      local path = vim.uri_to_fname(change.textDocument.uri)
      local bufnr = loaded_buffer(path)
      local before = bufnr and vim.api.nvim_buf_get_lines(bufnr, 0, -1, false) or created[path] and {}
        or read_lines(path)
      local version = change.textDocument.version
      if bufnr and type(version) == "number" and compat.buf_version(bufnr) ~= version then
        error(("%s changed in Neovim after the agent read it"):format(vim.fn.fnamemodify(path, ":~:.")), 0)
      end
      table.insert(steps, {
        kind = "text",
        path = path,
        bufnr = bufnr,
        edits = change.edits,
        before = before,
        after = edited(before, change.edits, encoding),
      })
    end
  end
  return steps
end

local function diff_lines(label, steps)
  local lines = { label or "yoi: proposed edit", "" }
  for _, step in ipairs(steps) do
    local name = vim.fn.fnamemodify(step.path, ":~:.")
    if step.kind == "text" then
      local a = table.concat(step.before, "\n") .. (#step.before > 0 and "\n" or "")
      local b = table.concat(step.after, "\n") .. (#step.after > 0 and "\n" or "")
      table.insert(lines, "--- a/" .. name)
      table.insert(lines, "+++ b/" .. name)
      vim.list_extend(lines, vim.split(vim.trim(compat.diff(a, b)), "\n", { plain = true }))
    elseif step.kind == "create" then
      table.insert(lines, "new file " .. name)
    elseif step.kind == "rename" then
      local target = vim.fn.fnamemodify(vim.uri_to_fname(step.change.newUri), ":~:.")
      table.insert(lines, ("rename %s → %s"):format(name, target))
    else
      table.insert(lines, "delete " .. name)
    end
  end
  return lines
end

local function show_diff(lines)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].filetype = "diff"
  vim.bo[buf].modifiable = false
  local height = math.min(#lines, config.values.review.max_height)
  vim.cmd(("botright %dsplit"):format(math.max(height, 3)))
  local win = vim.api.nvim_get_current_win()
  vim.api.nvim_win_set_buf(win, buf)
  vim.wo[win].foldenable = false
  vim.cmd("redraw")
  return win, buf
end

local function close_diff(previous, win, buf)
  if vim.api.nvim_win_is_valid(win) then
    vim.api.nvim_win_close(win, true)
  end
  if vim.api.nvim_buf_is_valid(buf) then
    vim.api.nvim_buf_delete(buf, { force = true })
  end
  if vim.api.nvim_win_is_valid(previous) then
    vim.api.nvim_set_current_win(previous)
  end
end

local function ensure_file(step)
  if vim.fn.filereadable(step.path) == 1 then
    if not (step.options.overwrite or step.options.ignoreIfExists) then
      error(("%s already exists"):format(vim.fn.fnamemodify(step.path, ":~:.")), 0)
    end
    return
  end
  vim.fn.mkdir(vim.fn.fnamemodify(step.path, ":h"), "p")
  local file = assert(io.open(step.path, "w"))
  file:close()
end

local function apply(steps, encoding)
  -- Nothing is applied if a buffer changed while the user was reading the diff.
  for _, step in ipairs(steps) do
    if step.bufnr and not vim.deep_equal(vim.api.nvim_buf_get_lines(step.bufnr, 0, -1, false), step.before) then
      error(("%s changed while the edit was being reviewed"):format(vim.fn.fnamemodify(step.path, ":~:.")), 0)
    end
  end
  for _, step in ipairs(steps) do
    if step.kind == "create" then
      ensure_file(step)
      local bufnr = vim.fn.bufadd(step.path)
      vim.fn.bufload(bufnr)
      vim.bo[bufnr].buflisted = true
    elseif step.kind == "text" then
      local bufnr = step.bufnr or vim.fn.bufadd(step.path)
      vim.fn.bufload(bufnr)
      vim.bo[bufnr].buflisted = true
      apply_text_edits(bufnr, step.edits, encoding)
    else
      vim.lsp.util.apply_workspace_edit({ documentChanges = { step.change } }, encoding)
    end
  end
end

--- Answer one `workspace/applyEdit`.
function M.handler(err, params, ctx, cfg)
  if type(params) ~= "table" or not needs_confirmation(params.edit) then
    return vim.lsp.handlers["workspace/applyEdit"](err, params, ctx, cfg)
  end
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local encoding = client and client.offset_encoding or "utf-16"
  local ok, steps = pcall(plan, params.edit, encoding)
  if not ok then
    return { applied = false, failureReason = tostring(steps) }
  end
  if not accept_all[ctx.client_id] then
    local previous = vim.api.nvim_get_current_win()
    local shown, win, buf = pcall(show_diff, diff_lines(params.label, steps)) -- no room: ask anyway
    local choice = ask.select(CHOICES, {
      prompt = (params.label or "yoi: proposed edit") .. ": apply it?",
      kind = "yoi.review",
      format_item = function(item)
        return item.label
      end,
    })
    if shown then
      close_diff(previous, win, buf)
    end
    local answer = choice and choice.answer or "reject"
    if answer == "reject" then
      return { applied = false, failureReason = "The user rejected the edit in Neovim." }
    end
    if answer == "all" then
      accept_all[ctx.client_id] = true
    end
  end
  local applied, apply_err = pcall(apply, steps, encoding)
  if not applied then
    return { applied = false, failureReason = tostring(apply_err) }
  end
  return { applied = true }
end

--- "Accept all" lasts until the end of the turn.
function M.turn_ended(client_id)
  accept_all[client_id] = nil
end

function M.forget(client_id)
  accept_all[client_id] = nil
end

return M
