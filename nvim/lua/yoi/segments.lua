--- Chat text ⇄ `yoi/chat` input segments.
---
--- `@path` and `@path:10-20` (or `@path:7`) become `file` segments when the
--- path names a file (relative to the workspace root, or absolute) or an open
--- buffer; a path with spaces is quoted: `@"my file.py":3-5` (as VS Code
--- writes it). `#slug` is a `knowledge` segment and `/slug` (at the very start)
--- a `workflow` segment when the server offered that slug (`known`); anything
--- else stays text. A mention starts the text or follows a space or an opening
--- bracket, so `me@example.com` is text. A mention of an image file
--- (`@shot.png`: PNG, JPEG, GIF, WebP; no line range) is an `image` segment.
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
  if not first and M.is_image(path) then
    return { kind = "image", path = path } -- sent as the image itself
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

-- A quoted mention at `at` (the `@`): path, range suffix, bytes consumed after `@`.
local function quoted(text, at)
  local path, suffix = text:match('^"([^"]+)"(:?%d*%-?%d*)', at + 1)
  if not path then
    return nil
  end
  if not (suffix:match("^:%d+%-%d+$") or suffix:match("^:%d+$")) then
    suffix = ""
  end
  return path, suffix, #path + 2 + #suffix
end

local IMAGE_EXTENSIONS = { png = true, jpg = true, jpeg = true, gif = true, webp = true }

--- Whether a path names an image yoi sends as an image (`@shot.png`).
function M.is_image(path)
  local ext = path:match("%.([%w]+)$")
  return ext ~= nil and IMAGE_EXTENSIONS[ext:lower()] == true
end

local OPENERS = "[%s%(%[{\"'`]"

--- The segments for a chat message.
---@param text string
---@param root string the workspace root, for relative paths
---@param known {knowledge: table<string, boolean>|nil, workflows: table<string, boolean>|nil}|nil
---   slugs the server offered: only these `#slug` and `/slug` are references
---@return table[] segments
function M.parse(text, root, known)
  known = known or {}
  local segments = {}
  local pending = ""
  local function flush()
    if pending ~= "" then
      table.insert(segments, { kind = "text", text = pending })
      pending = ""
    end
  end
  local workflow = text:match("^/([%w][%w%-]*)")
  local after = workflow and text:sub(#workflow + 2, #workflow + 2) or nil
  if workflow and (known.workflows or {})[workflow] and (after == "" or after:match("%s")) then
    table.insert(segments, { kind = "workflow", slug = workflow })
    text = text:sub(#workflow + 2)
  end
  local pos = 1
  while pos <= #text do
    local at = text:find("[@#]", pos)
    if not at then
      pending = pending .. text:sub(pos)
      break
    end
    local before = at > 1 and text:sub(at - 1, at - 1) or ""
    local boundary = before == "" or before:match(OPENERS) ~= nil
    local segment, consumed
    if boundary and text:sub(at, at) == "#" then
      local slug = text:match("^[%w][%w%-]*", at + 1)
      local next_char = slug and text:sub(at + 1 + #slug, at + 1 + #slug) or ""
      if slug and (known.knowledge or {})[slug] and not next_char:match("[%w_/]") then
        segment, consumed = { kind = "knowledge", slug = slug }, #slug
      end
    elseif boundary then
      local path, suffix, used = quoted(text, at)
      if path then
        segment = parse_mention(path .. suffix, root)
        consumed = used
      else
        local token = text:match("^[^%s]+", at + 1)
        if token then
          local trimmed = token:gsub(TRAILING, "")
          segment = trimmed ~= "" and parse_mention(trimmed, root) or nil
          if not segment and trimmed ~= token then
            -- a path may end in characters that look like punctuation
            segment = parse_mention(token, root)
            trimmed = token
          end
          consumed = #trimmed
        end
      end
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

--- `@path` (or `@path:a-b`), quoted when the path holds a space or a quote.
---@param path string
---@param first integer|nil 1-based first line
---@param last integer|nil 1-based last line (inclusive)
function M.mention(path, first, last)
  local body = path:find('[%s"]') and ('"' .. path:gsub('"', "") .. '"') or path
  if first then
    body = body .. (first == last and (":" .. first) or (":" .. first .. "-" .. last))
  end
  return "@" .. body
end

--- The text a user typed, rebuilt from logged segments (for history).
function M.to_text(segments)
  local parts = {}
  for _, segment in ipairs(segments or {}) do
    local kind = segment.kind
    if kind == "text" or kind == "paste" then
      table.insert(parts, segment.text or "")
    elseif kind == "file" then
      local range = segment.range
      local first, last
      if type(range) == "table" and range.start then
        first, last = range.start.line + 1, range["end"].line
        if range["end"].character and range["end"].character > 0 then
          last = last + 1
        end
        last = math.max(first, last)
      end
      table.insert(parts, M.mention(tostring(segment.path), first, last))
    elseif kind == "image" then
      local shown = segment.path and M.mention(tostring(segment.path))
      table.insert(parts, shown or ("[image: " .. tostring(segment.name or "pasted image") .. "]"))
    elseif kind == "knowledge" then
      table.insert(parts, "#" .. tostring(segment.slug))
    elseif kind == "workflow" then
      table.insert(parts, "/" .. tostring(segment.slug))
    end
  end
  return table.concat(parts)
end

return M
