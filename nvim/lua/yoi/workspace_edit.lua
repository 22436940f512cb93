--- A WorkspaceEdit the agent proposes, taken apart for review: its steps
--- (text changes, created, renamed and deleted files), the hunks of each text
--- change (the server sends one TextEdit per changed hunk of lines), and
--- applying only the hunks the user kept.
local compat = require("yoi.compat")
local server = require("yoi.server")

local M = {}

--- Whether any change annotation of `edit` asks for confirmation.
function M.needs_confirmation(edit)
  for _, annotation in pairs(type(edit) == "table" and edit.changeAnnotations or {}) do
    if type(annotation) == "table" and annotation.needsConfirmation then
      return true
    end
  end
  return false
end

local function shown(path)
  return vim.fn.fnamemodify(path, ":~:.")
end

local function read_lines(path)
  if vim.fn.filereadable(path) == 1 then
    return vim.fn.readfile(path)
  end
  return {}
end

-- The loaded buffer holding `path` (compared as real paths), or nil.
local function loaded_buffer(path)
  local real = compat.uv.fs_realpath(path) or path
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and server.buffer_path(bufnr) == real then
      return bufnr
    end
  end
  return nil
end

-- Neovim 0.11+ asks about annotated edits itself (and refuses them without their
-- annotations): the user answered already, so the edits go in plain.
local function plain(edits)
  return vim.tbl_map(function(edit)
    return { range = edit.range, newText = edit.newText }
  end, edits)
end

-- An empty buffer still has one (empty) line: text inserted into it must not
-- leave that line behind as an extra blank line at the end.
local function apply_text_edits(bufnr, edits, encoding)
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local was_empty = #lines == 1 and lines[1] == ""
  vim.lsp.util.apply_text_edits(plain(edits), bufnr, encoding)
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

local function slice(list, first, last)
  local out = {}
  for i = first, last do
    table.insert(out, list[i])
  end
  return out
end

--- One text edit as a hunk: the old lines it replaces (from 0-based line
--- `start`) and the new lines, as applying it alone shows them.
local function hunk(before, edit, encoding)
  local after = edited(before, { edit }, encoding)
  if #before == 0 and #after == 1 and after[1] == "" then
    after = {} -- nothing inserted into an empty file
  end
  local start, stop = edit.range.start.line, edit.range["end"]
  local last = math.min(stop.line, #before - 1) -- 0-based, inclusive
  local tail = math.max(#before - last - 1, 0) -- unchanged lines after it
  local old = slice(before, start + 1, last + 1)
  local new = slice(after, start + 1, #after - tail)
  -- an edit ending at the start of a line leaves that line as it was
  if stop.character == 0 and stop.line < #before and #old > 0 and #new > 0 and old[#old] == new[#new] then
    table.remove(old)
    table.remove(new)
  end
  return { edit = edit, start = start, old = old, new = new }
end

local function text_step(change, created, encoding)
  local path = vim.uri_to_fname(change.textDocument.uri)
  local bufnr = loaded_buffer(path)
  local before = bufnr and vim.api.nvim_buf_get_lines(bufnr, 0, -1, false) or created[path] and {} or read_lines(path)
  local version = change.textDocument.version
  if bufnr and type(version) == "number" and compat.buf_version(bufnr) ~= version then
    error(("%s changed in Neovim after the agent read it"):format(shown(path)), 0)
  end
  local edits = vim.deepcopy(change.edits or {})
  table.sort(edits, function(a, b)
    local x, y = a.range.start, b.range.start
    return x.line < y.line or (x.line == y.line and x.character < y.character)
  end)
  local hunks = {}
  for _, edit in ipairs(edits) do
    table.insert(hunks, hunk(before, edit, encoding))
  end
  return {
    kind = "text",
    path = path,
    bufnr = bufnr,
    before = before,
    after = edited(before, edits, encoding), -- fails here if the edits cannot apply
    hunks = hunks,
  }
end

--- The steps of a WorkspaceEdit, each text change with its `hunks`; errors
--- name what cannot be applied.
function M.plan(edit, encoding)
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
      table.insert(steps, text_step(change, created, encoding))
    end
  end
  return steps
end

--- Every hunk of the plan, in order, as { step = i, hunk = j }.
function M.all_hunks(steps)
  local out = {}
  for i, step in ipairs(steps) do
    for j in ipairs(step.hunks or {}) do
      table.insert(out, { step = i, hunk = j })
    end
  end
  return out
end

local function ensure_file(step)
  if vim.fn.filereadable(step.path) == 1 then
    if not (step.options.overwrite or step.options.ignoreIfExists) then
      error(("%s already exists"):format(shown(step.path)), 0)
    end
    return
  end
  vim.fn.mkdir(vim.fn.fnamemodify(step.path, ":h"), "p")
  local file = assert(io.open(step.path, "w"))
  file:close()
end

local function load(path, bufnr)
  bufnr = bufnr or vim.fn.bufadd(path)
  vim.fn.bufload(bufnr)
  vim.bo[bufnr].buflisted = true
  return bufnr
end

--- The steps to apply when the user kept the hunks for which `keep(i, j)` is
--- true: text steps with their kept edits only; a created file only when some
--- of its text is kept (or it has none); renames and deletes as they are.
function M.kept(steps, keep)
  local texts, kept_paths, text_paths = {}, {}, {}
  for i, step in ipairs(steps) do
    if step.kind == "text" then
      text_paths[step.path] = true
      local edits = {}
      for j, h in ipairs(step.hunks) do
        if keep(i, j) then
          table.insert(edits, h.edit)
        end
      end
      if #edits > 0 then
        kept_paths[step.path] = true
        texts[i] = vim.tbl_extend("force", step, { edits = edits })
      end
    end
  end
  local result = {}
  for i, step in ipairs(steps) do
    if step.kind == "text" then
      if texts[i] then
        table.insert(result, texts[i])
      end
    elseif step.kind ~= "create" or kept_paths[step.path] or not text_paths[step.path] then
      table.insert(result, step)
    end
  end
  return result
end

--- Apply `steps` (from M.kept). Nothing is applied if a buffer changed while
--- the user was reading the diff.
function M.apply(steps, encoding)
  for _, step in ipairs(steps) do
    if step.bufnr and not vim.deep_equal(vim.api.nvim_buf_get_lines(step.bufnr, 0, -1, false), step.before) then
      error(("%s changed while the edit was being reviewed"):format(shown(step.path)), 0)
    end
  end
  for _, step in ipairs(steps) do
    if step.kind == "create" then
      ensure_file(step)
      load(step.path)
    elseif step.kind == "text" then
      apply_text_edits(load(step.path, step.bufnr), step.edits, encoding)
    else
      vim.lsp.util.apply_workspace_edit({ documentChanges = { step.change } }, encoding)
    end
  end
end

return M
