--- Completion of mentions through `yoi/references/complete`: `@` files
--- (quoted when the path has a space: `@"my file.py"`), `#` knowledge records
--- and `/` workflows (at the start of the message); an omnifunc (the chat
--- buffer's, <C-x><C-o>) and an nvim-cmp source. The slugs offered are
--- remembered per root: only those `#slug`/`/slug` become references.
local compat = require("yoi.compat")
local p = require("yoi.protocol")
local server = require("yoi.server")

local M = {}

M.LIMIT = 50

local KINDS = { ["@"] = "file", ["#"] = "knowledge", ["/"] = "workflow" }

-- root -> { knowledge = { slug = true }, workflows = { slug = true } }
local known = {}

--- The slugs the root's server offered so far ({ knowledge, workflows }).
function M.known(root)
  known[root] = known[root] or { knowledge = {}, workflows = {} }
  return known[root]
end

local function remember(root, kind, items)
  local slugs = M.known(root)[kind == "knowledge" and "knowledge" or "workflows"]
  for _, item in ipairs(items) do
    if item.label then
      slugs[item.label] = true
    end
  end
end

--- Learn the root's knowledge and workflow slugs (so typed `#slug` counts).
function M.prefetch(root)
  local client = server.client(root)
  if not client then
    return
  end
  for _, kind in ipairs({ "knowledge", "workflow" }) do
    compat.request(client, p.REFERENCES_COMPLETE, { prefix = "", kind = kind, limit = 1000 }, function(err, result)
      if not err and type(result) == "table" then
        remember(root, kind, result.items or {})
        M.known(root)[kind .. "_fetched"] = true
      end
    end)
  end
end

--- The slugs known for `text`: when it has a `#word` or starts with `/word`
--- and the lists have not come yet, they are asked for now (1 s at most).
function M.known_for(root, text)
  local slugs = M.known(root)
  local client = server.client(root)
  local wants = {
    knowledge = text:find("#%w") ~= nil,
    workflow = text:match("^/%w") ~= nil,
  }
  for kind, wanted in pairs(wants) do
    if wanted and client and not slugs[kind .. "_fetched"] and not vim.in_fast_event() then
      local params = { prefix = "", kind = kind, limit = 1000 }
      local response = compat.request_sync(client, p.REFERENCES_COMPLETE, params, 1000)
      if response and not response.err and type(response.result) == "table" then
        remember(root, kind, response.result.items or {})
        slugs[kind .. "_fetched"] = true
      end
    end
  end
  return slugs
end

--- The mention being typed before byte column `col` of `line`: the 1-based
--- column of its sigil, what is typed after it (without an opening quote),
--- and the sigil; nil when the cursor is not in a mention. `/` counts only
--- at the start of the message (`line_is_first`).
local function mention_before(line, col, line_is_first)
  local before = line:sub(1, col)
  local at, prefix = before:match('()@"([^"]*)$')
  local sigil = "@"
  if not at then
    at, sigil, prefix = before:match("()([@#/])([^%s@#]*)$")
  end
  if not at then
    return nil
  end
  local previous = at > 1 and before:sub(at - 1, at - 1) or ""
  if previous ~= "" and not previous:match("[%s%(%[{\"'`]") then
    return nil
  end
  if sigil == "/" and (at ~= 1 or line_is_first == false) then
    return nil
  end
  if sigil ~= "@" and prefix:match("[^%w%-]") then
    return nil
  end
  return at, prefix, sigil
end
M.mention_before = mention_before

local function quote(path)
  if path:find('[%s"]') then
    return '"' .. path:gsub('"', "") .. '"'
  end
  return path
end

local function to_item(item)
  local kind = item.kind or "file"
  local label = item.label or item.path or ""
  if kind == "file" then
    local path = item.path or label
    local shown = require("yoi.segments").is_image(path) and "image" or "file" -- sent as the image
    return { word = quote(path), abbr = label, menu = item.detail or "", kind = shown }
  end
  return { word = label, abbr = label, menu = item.detail or "", kind = kind }
end

local function params_for(sigil, prefix)
  return { prefix = prefix, kind = KINDS[sigil], limit = M.LIMIT }
end

-- The items of an answer (remembering the slugs it offered).
local function answered(root, kind, err, result)
  if err or type(result) ~= "table" then
    return {}
  end
  local items = result.items or {}
  if kind ~= "file" then
    remember(root, kind, items)
  end
  return items
end

--- Completion items for what follows `sigil` (default `@`) from the root's
--- server (waits at most 2 s).
function M.items(root, prefix, sigil)
  local client = server.client(root)
  if not client then
    return {}
  end
  local params = params_for(sigil or "@", prefix)
  local response = compat.request_sync(client, p.REFERENCES_COMPLETE, params, 2000)
  if not response then
    return {}
  end
  return vim.tbl_map(to_item, answered(root, params.kind, response.err, response.result))
end

-- Whether the cursor's line is the first line of the chat's input.
local function first_input_line(bufnr, row)
  local chat = require("yoi.chat").for_buffer(bufnr)
  if not chat then
    return nil
  end
  return row - 1 == chat.t:prompt_row() + 1
end

local pending_sigil = "@"

--- 'omnifunc' for `@path`, `#knowledge` and `/workflow` mentions.
function M.omnifunc(findstart, base)
  if findstart == 1 then
    local line = vim.api.nvim_get_current_line()
    local cursor = vim.api.nvim_win_get_cursor(0)
    local at, _, sigil = mention_before(line, cursor[2], first_input_line(0, cursor[1]))
    if not at then
      return -3 -- not in a mention: leave completion mode quietly
    end
    pending_sigil = sigil
    return at -- 0-based column of the character after the sigil
  end
  local prefix = base:gsub('^"', ""):gsub('"$', "")
  return M.items(server.root_for(0), prefix, pending_sigil)
end

-- ---------------------------------------------------------------- nvim-cmp

local source = {}

function source.new()
  return setmetatable({}, { __index = source })
end

function source:get_trigger_characters()
  return { "@", "#", "/" }
end

function source:is_available()
  return require("yoi.chat").for_buffer(vim.api.nvim_get_current_buf()) ~= nil
end

function source:get_keyword_pattern()
  return [[\%(@\zs"[^"]*\|[@#/]\zs\S*\)]]
end

local CMP_KINDS = { file = 17, knowledge = 18, workflow = 14 } -- File, Reference, Keyword

function source:complete(params, callback)
  local line = params.context.cursor_before_line
  local row = params.context.cursor and params.context.cursor.row
  local is_first = row and first_input_line(params.context.bufnr or 0, row) or nil
  local at, prefix, sigil = mention_before(line, #line, is_first)
  local root = server.root_for(0)
  local client = server.client(root)
  if not at or not client then
    callback()
    return
  end
  local request = params_for(sigil, prefix)
  compat.request(client, p.REFERENCES_COMPLETE, request, function(err, result)
    local items = {}
    for _, item in ipairs(answered(root, request.kind, err, result)) do
      local converted = to_item(item)
      table.insert(items, {
        label = converted.abbr,
        insertText = converted.word,
        filterText = item.path or item.label,
        detail = item.detail,
        kind = CMP_KINDS[request.kind] or 17,
      })
    end
    callback({ items = items, isIncomplete = true })
  end)
end
--- The nvim-cmp source (`source.new()`), registered as "yoi".
M.source = source

--- Register the `yoi` source with nvim-cmp, when it is installed.
function M.register_cmp()
  local ok, cmp = pcall(require, "cmp")
  if ok and type(cmp.register_source) == "function" then
    cmp.register_source("yoi", source.new())
    return true
  end
  return false
end

return M
