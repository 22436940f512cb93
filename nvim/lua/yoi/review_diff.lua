--- The text of an edit review: every file of the edit with its changes in
--- their whole context, as a unified diff (`-` old, `+` new, ` ` unchanged),
--- one `@@` header line per hunk, and the long stretches of unchanged lines
--- marked for folding.
local M = {}

-- Unchanged lines shown around a hunk; the rest of a stretch is folded.
M.CONTEXT = 3

local function shown(path)
  return vim.fn.fnamemodify(path, ":~:.")
end

--- The header line of a hunk: where it is, its number and whether it is kept.
function M.hunk_header(entry, index, total, kept)
  local h = entry.data
  -- as in unified diffs, an empty side names the line before it
  local function range(start, lines)
    return ("%d,%d"):format(#lines > 0 and start + 1 or start, #lines)
  end
  return ("@@ -%s +%s @@  hunk %d of %d · %s"):format(
    range(h.start, h.old),
    range(entry.new_start, h.new),
    index,
    total,
    kept and "✓ keep" or "✗ drop"
  )
end

local Writer = {}
Writer.__index = Writer

function Writer:add(line)
  table.insert(self.lines, line)
  return #self.lines - 1 -- its 0-based row
end

-- Unchanged lines first..last (1-based) of `before`, folded beyond the context
-- next to a hunk before (`after_hunk`) or after (`before_hunk`) them.
function Writer:unchanged(before, first, last, after_hunk, before_hunk)
  if last < first then
    return
  end
  local start_row = #self.lines + 1 -- 1-based row of the first of them
  for i = first, last do
    self:add(" " .. before[i])
  end
  local fold_first = start_row + (after_hunk and M.CONTEXT or 0)
  local fold_last = start_row + (last - first) - (before_hunk and M.CONTEXT or 0)
  if fold_last - fold_first >= 1 then
    table.insert(self.folds, { fold_first, fold_last })
  end
end

function Writer:text(step, created)
  if not created then
    self:add("--- a/" .. shown(step.path))
  end
  self:add("+++ b/" .. shown(step.path))
  local line = 1 -- next line of `before` to show (1-based)
  local delta = 0 -- new line numbers minus old ones, so far
  for j, h in ipairs(step.hunks) do
    self:unchanged(step.before, line, h.start, j > 1, true)
    local entry = { step = self.step, hunk = j, data = h, new_start = h.start + delta }
    table.insert(self.hunks, entry)
    entry.row = self:add("") -- its header, written once the numbering is known
    for _, old in ipairs(h.old) do
      self:add("-" .. old)
    end
    for _, new in ipairs(h.new) do
      self:add("+" .. new)
    end
    entry.last_row = #self.lines - 1
    line = h.start + #h.old + 1
    delta = delta + #h.new - #h.old
  end
  if #step.hunks == 0 then
    self:add("  (no changes)")
  else
    self:unchanged(step.before, line, #step.before, true, false)
  end
end

--- Render `steps` (workspace_edit.plan). Returns the lines, the hunks (in
--- order: { step, hunk, row, last_row, data, new_start }, rows 0-based, the header at
--- `row`) and the folds ({ first, last }, 1-based lines).
function M.render(steps)
  local w = setmetatable({ lines = {}, hunks = {}, folds = {} }, Writer)
  local created = {}
  for i, step in ipairs(steps) do
    if #w.lines > 0 then
      w:add("")
    end
    w.step = i
    if step.kind == "text" then
      w:text(step, created[step.path])
    elseif step.kind == "create" then
      created[step.path] = true
      w:add("new file " .. shown(step.path))
    elseif step.kind == "rename" then
      w:add(("rename %s → %s"):format(shown(step.path), shown(vim.uri_to_fname(step.change.newUri))))
    else
      w:add("delete " .. shown(step.path))
    end
  end
  for index, entry in ipairs(w.hunks) do
    w.lines[entry.row + 1] = M.hunk_header(entry, index, #w.hunks, true)
  end
  return { lines = w.lines, hunks = w.hunks, folds = w.folds }
end

return M
