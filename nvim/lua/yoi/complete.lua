--- `@` completion of workspace files through `yoi/references/complete`: an
--- omnifunc (the chat buffer's, <C-x><C-o>) and an nvim-cmp source.
local compat = require("yoi.compat")
local p = require("yoi.protocol")
local server = require("yoi.server")

local M = {}

M.LIMIT = 50

--- The byte column just after the `@` of the mention under the cursor, and
--- what is typed after it; nil when the cursor is not in a mention.
local function mention_before(line, col)
  local before = line:sub(1, col)
  local at, prefix = before:match("()@([^%s]*)$")
  if not at then
    return nil
  end
  local previous = at > 1 and before:sub(at - 1, at - 1) or ""
  if previous ~= "" and not previous:match("[%s%(%[{\"'`]") then
    return nil
  end
  return at, prefix
end
M.mention_before = mention_before

local function to_item(item)
  local word = item.path or item.label
  return {
    word = word,
    abbr = item.label or word,
    menu = item.detail or "",
    kind = item.open and "open" or "file",
  }
end

--- Complete items for `prefix` from the root's server (waits at most 2 s).
function M.items(root, prefix)
  local client = server.client(root)
  if not client then
    return {}
  end
  local params = { prefix = prefix, kind = "file", limit = M.LIMIT }
  local response = compat.request_sync(client, p.REFERENCES_COMPLETE, params, 2000)
  if not response or response.err or type(response.result) ~= "table" then
    return {}
  end
  return vim.tbl_map(to_item, response.result.items or {})
end

--- 'omnifunc' for `@path` mentions.
function M.omnifunc(findstart, base)
  if findstart == 1 then
    local line = vim.api.nvim_get_current_line()
    local col = vim.api.nvim_win_get_cursor(0)[2]
    local at = mention_before(line, col)
    if not at then
      return -3 -- not in a mention: leave completion mode quietly
    end
    return at -- 0-based column of the character after `@`
  end
  return M.items(server.root_for(0), base)
end

-- ---------------------------------------------------------------- nvim-cmp

local source = {}

function source.new()
  return setmetatable({}, { __index = source })
end

function source:get_trigger_characters()
  return { "@" }
end

function source:is_available()
  return require("yoi.chat").for_buffer(vim.api.nvim_get_current_buf()) ~= nil
end

function source:get_keyword_pattern()
  return [[@\zs\S*]]
end

function source:complete(params, callback)
  local line = params.context.cursor_before_line
  local at, prefix = mention_before(line, #line)
  local client = server.client(server.root_for(0))
  if not at or not client then
    callback()
    return
  end
  local query = { prefix = prefix, kind = "file", limit = M.LIMIT }
  compat.request(client, p.REFERENCES_COMPLETE, query, function(err, result)
    if err or type(result) ~= "table" then
      callback()
      return
    end
    local items = {}
    for _, item in ipairs(result.items or {}) do
      local word = item.path or item.label
      table.insert(items, {
        label = item.label or word,
        insertText = word,
        filterText = word,
        detail = item.detail,
        kind = 17, -- CompletionItemKind.File
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
