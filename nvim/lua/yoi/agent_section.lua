--- A sub-agent's section in the chat transcript, folded like a tool call:
---
---   ◆ research-agent · ✓ finished · read-only — Find where the cache is…
---   ┆ task: Find where the cache is invalidated
---   ┆ ⚙ grep invalidate  ✓ 3 matches
---   ┆ In cache.py, invalidate() …
---   ┆ ── finished ──
---
--- It sits under the parent's `spawn_agent` call (else at the end of the
--- transcript); its header shows the live status, its body the sub-agent's
--- own events (text, tool calls) and, when a run ends, its answer or error.
local render = require("yoi.render")
local transcript = require("yoi.transcript")

local M = {}

local Section = {}
Section.__index = Section

local ICONS = { running = "…", finished = "✓", error = "✗" }
local one_line = transcript.one_line

--- "research-agent · ✓ finished · read-only — task" (a sub-agent in one line).
function M.describe(info)
  local status = info.status or "running"
  local parts = { info.name or "sub-agent", (ICONS[status] or "■") .. " " .. status }
  if info.scope and info.scope ~= "" then
    table.insert(parts, info.scope)
  end
  local text = table.concat(parts, " · ")
  if info.task and info.task ~= "" then
    text = text .. " — " .. one_line(info.task, 80)
  end
  return text
end

local function split(text)
  return vim.split(tostring(text or ""), "\n", { plain = true })
end

--- Draw a new section for `info` (a `subAgent` event, or an entry of
--- `subAgents` in `yoi/pod/history`) in transcript `t`.
function M.open(t, info)
  local self = setmetatable({ t = t, info = {}, size = 0, calls = {} }, Section)
  local row, size = t:block(info.callId)
  if not row then
    t:after_tools()
  end
  local at = row and (row + 1 + size) or t:prompt_row()
  self.info = vim.deepcopy(info)
  local lines = { transcript.AGENT .. M.describe(info) }
  for i, line in ipairs(split(info.task)) do
    table.insert(lines, transcript.AGENT_BODY .. (i == 1 and "task: " or "      ") .. line)
  end
  t:insert(at, lines)
  self.size = #lines - 1
  self.mark = vim.api.nvim_buf_set_extmark(t.buf, transcript.ns, at, 0, {})
  if self.info.status and self.info.status ~= "running" then
    self:_ended(self.info)
  end
  return self
end

--- The 0-based row of the header (nil once the transcript was cleared).
function Section:row()
  local pos = vim.api.nvim_buf_get_extmark_by_id(self.t.buf, transcript.ns, self.mark, {})
  return pos[1]
end

--- The 0-based row of the section's last line (its header, or its last body line).
function Section:last_row()
  local row = self:row()
  return row and (row + self.size)
end

function Section:running()
  return self.info.status == "running"
end

function Section:_header()
  local row = self:row()
  if not row then
    return
  end
  local old = vim.api.nvim_buf_get_lines(self.t.buf, row, row + 1, false)[1] or ""
  vim.api.nvim_buf_set_text(self.t.buf, row, 0, row, #old, { transcript.AGENT .. M.describe(self.info) })
end

--- Add body lines at the end of the section; returns the index of the first.
function Section:add(lines)
  local row = self:last_row()
  if not row then
    return nil
  end
  local body = {}
  for _, line in ipairs(lines) do
    table.insert(body, transcript.AGENT_BODY .. line)
  end
  self.t:insert(row + 1, body)
  self.streaming = false
  self.size = self.size + #body
  return self.size - #body + 1
end

--- Append streamed text to the section's last line.
function Section:text(text)
  if text == nil or text == "" then
    return
  end
  if not self.streaming then
    if not self:add({ "" }) then
      return
    end
    self.streaming = true
    self.said = ""
  end
  self.said = self.said .. text
  self.t:append(self:last_row(), (text:gsub("\n", "\n" .. transcript.AGENT_BODY)))
  local _, newlines = text:gsub("\n", "")
  self.size = self.size + newlines
end

--- A `subAgent` event for this sub-agent: a run started or ended.
function Section:update(info)
  local was = self.info.status
  for key, value in pairs(info) do
    self.info[key] = value
  end
  if info.status == "running" then
    self.info.answer, self.info.error = info.answer, info.error
    if was and was ~= "running" then
      self:add({ "── running again ──" })
    end
    self.said = nil
  end
  self:_header()
  if info.status ~= "running" and was == "running" then
    self:_ended(info)
  end
end

-- The end of a run: its answer (unless it was just streamed), its error, how it ended.
function Section:_ended(info)
  local lines = {}
  local said = vim.trim(self.said or "")
  if info.answer and info.answer ~= "" and vim.trim(info.answer) ~= said then
    table.insert(lines, "answer:")
    vim.list_extend(lines, split(info.answer))
  end
  if info.error and info.error ~= "" then
    table.insert(lines, "✗ " .. one_line(info.error, 200))
  end
  table.insert(lines, "── " .. tostring(info.status) .. " ──")
  self:add(lines)
end

--- The server stopped while the sub-agent ran.
function Section:lost()
  if self:running() then
    self:update({ status = "interrupted", error = "the yoi server stopped" })
  end
end

--- One of the sub-agent's own `yoi/event`s (`root`: the workspace's, for paths).
function Section:on_event(event, root)
  local kind = event.type
  if kind == "textDelta" then
    self:text(event.text)
  elseif kind == "toolCall" then
    local first = self:add({ transcript.TOOL:sub(3) .. tostring(event.name) .. " " .. render.brief(event.arguments) })
    self.calls[event.id or ""] = first
    self.said = nil
  elseif kind == "toolResult" then
    local index = self.calls[event.id or ""]
    local row = self:row()
    if index and row then
      self.t:append(row + index, "  " .. (event.ok and "✓" or "✗") .. " " .. one_line(event.summary, 80))
    else
      self:add({ (event.ok and "✓ " or "✗ ") .. one_line(event.summary, 80) })
    end
  elseif kind == "edit" and event.status ~= "proposed" then
    self:add({ render.edit_text(root, event) })
  elseif kind == "alert" then
    self:add({ ("⚠ %s: %s"):format(tostring(event.source), one_line(event.message, 200)) })
  elseif kind == "subAgent" then -- a sub-agent of its own: one line each time
    self:add({ transcript.AGENT:sub(3) .. M.describe(event) })
  end
end

return M
