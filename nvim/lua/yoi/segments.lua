--- Chat text ⇄ `yoi/chat` input segments.
---
--- `@path` and `@path:10-20` (or `@path:7`) become `file` segments when the
--- path names a file (relative to the workspace root, or absolute) or an open
--- buffer; anything else stays text. A mention starts the text or follows a
--- space or an opening bracket, so `me@example.com` is text.
local M = {}

local uv = vim.uv or vim.loop

local TRAILING = "[%.,;:!%?%)%]}>\"'`]+$"

local function expand(path, root)
  if path:sub(1, 1) == "~" then
    return vim.fn.expand(path)
  end
  if path:sub(1, 1) == "/" then
    return path
  end
  return root .. "/" .. path
end

local function names_a_file(path, root)
  local full = expand(path, root)
  local stat = uv.fs_stat(full)
  if stat then
    return stat.type == "file"
  end
  return vim.fn.bufexists(full) == 1 -- an open buffer not saved yet
end

--- Split a mention into path and LSP range (end exclusive), or nil.
local function parse_mention(token, root)
  local path, first, last = token:match("^(.-):(%d+)%-(%d+)$")
  if not path then
    path, first = token:match("^(.-):(%d+)$")
    last = first
  end
  if not path or path == "" then
    path, first, last = token, nil, nil
  end
  if not names_a_file(path, root) then
    return nil
  end
  local segment = { kind = "file", path = path }
  if first then
    local a, b = tonumber(first), tonumber(last)
    if a > b then
      a, b = b, a
    end
    a = math.max(a, 1)
    segment.range = {
      start = { line = a - 1, character = 0 },
      ["end"] = { line = b, character = 0 },
    }
  end
  return segment
end

--- The segments for a chat message.
---@param text string
---@param root string the workspace root, for relative paths
---@return table[] segments
function M.parse(text, root)
  local segments = {}
  local pending = ""
  local function flush()
    if pending ~= "" then
      table.insert(segments, { kind = "text", text = pending })
      pending = ""
    end
  end
  local pos = 1
  while pos <= #text do
    local at = text:find("@", pos, true)
    if not at then
      pending = pending .. text:sub(pos)
      break
    end
    local before = at > 1 and text:sub(at - 1, at - 1) or ""
    local token = text:match("^[^%s]+", at + 1)
    local segment, consumed
    if token and (before == "" or before:match("[%s%(%[{\"'`]")) then
      local trimmed = token:gsub(TRAILING, "")
      segment = trimmed ~= "" and parse_mention(trimmed, root) or nil
      if not segment and trimmed ~= token then
        -- a path may end in characters that look like punctuation
        segment = parse_mention(token, root)
        trimmed = token
      end
      consumed = #trimmed
    end
    if segment then
      pending = pending .. text:sub(pos, at - 1)
      flush()
      table.insert(segments, segment)
      pos = at + 1 + consumed
    else
      pending = pending .. text:sub(pos, at)
      pos = at + 1
    end
  end
  flush()
  return segments
end

--- The text a user typed, rebuilt from logged segments (for history).
function M.to_text(segments)
  local parts = {}
  for _, segment in ipairs(segments or {}) do
    local kind = segment.kind
    if kind == "text" or kind == "paste" then
      table.insert(parts, segment.text or "")
    elseif kind == "file" then
      local mention = "@" .. tostring(segment.path)
      local range = segment.range
      if type(range) == "table" and range.start then
        local first, last = range.start.line + 1, range["end"].line
        if range["end"].character and range["end"].character > 0 then
          last = last + 1
        end
        mention = mention .. (first == last and (":" .. first) or (":" .. first .. "-" .. last))
      end
      table.insert(parts, mention)
    elseif kind == "knowledge" then
      table.insert(parts, "#" .. tostring(segment.slug))
    elseif kind == "workflow" then
      table.insert(parts, "/" .. tostring(segment.slug))
    end
  end
  return table.concat(parts)
end

return M
