--- Drawing the agent's work into a chat transcript: tool calls (folded),
--- their results and edits, alerts, and whole histories after a resume.
local segments = require("yoi.segments")
local transcript = require("yoi.transcript")

local M = {}

-- Notes for the ways a turn can end (nothing for "finished").
M.OUTCOMES = {
  interrupted = "interrupted",
  paused = "paused: the agent is waiting for you",
  limitReached = "stopped: the turn reached its limit of model requests",
}

-- How the note the pod logs after an interrupted turn begins.
M.INTERRUPTED_NOTE = "[Interrupted by user]"

-- The argument worth showing on a tool call's folded line.
local function brief(args)
  if type(args) ~= "table" then
    return ""
  end
  local main = args.path or args.command or args.pattern or args.query or args.task
  if type(main) == "string" then
    return transcript.one_line(main, 60)
  end
  local ok, json = pcall(vim.json.encode, args)
  return ok and transcript.one_line(json, 60) or ""
end

M.brief = brief

-- Every argument, one per line (multi-line strings indented below their name).
local function detail(args)
  if type(args) ~= "table" then
    return tostring(args)
  end
  local keys = vim.tbl_keys(args)
  table.sort(keys)
  local lines = {}
  for _, key in ipairs(keys) do
    local value = args[key]
    if type(value) == "string" and value:find("\n") then
      table.insert(lines, key .. ":")
      for _, line in ipairs(vim.split(value, "\n", { plain = true })) do
        table.insert(lines, "  " .. line)
      end
    elseif type(value) == "string" then
      table.insert(lines, key .. ": " .. value)
    else
      local ok, json = pcall(vim.json.encode, value)
      table.insert(lines, key .. ": " .. (ok and json or tostring(value)))
    end
  end
  return table.concat(lines, "\n")
end

function M.note(t, text)
  t:blank()
  t:lines({ "── " .. text .. " ──" })
end

function M.tool_call(t, id, name, args)
  t:tool_call(id, name or "tool", brief(args), detail(args))
end

local function relative(uri, root)
  local ok, path = pcall(vim.uri_to_fname, uri)
  if not ok then
    return tostring(uri)
  end
  if vim.startswith(path, root .. "/") then
    return path:sub(#root + 2)
  end
  return path
end

--- An `edit` event, as a line in its tool call's block.
function M.edit(t, root, event)
  t:tool_note(event.id, M.edit_text(root, event))
end

--- "edit app.py: applied (message)": an `edit` event in one line.
function M.edit_text(root, event)
  local text = ("edit %s: %s"):format(relative(event.uri, root), tostring(event.status))
  if event.message and event.message ~= "" then
    text = text .. " (" .. event.message .. ")"
  end
  return text
end

function M.alert(t, event)
  local icon = ({ info = "ℹ", warn = "⚠", error = "✗" })[event.level] or "ℹ"
  t:lines({ ("> %s %s: %s"):format(icon, tostring(event.source), tostring(event.message)) })
end

function M.user(t, text)
  t:blank()
  t:lines(vim.list_extend({ "## You" }, vim.split(text, "\n", { plain = true })))
end

function M.assistant(t)
  t:blank()
  t:lines({ "## yoi" })
end

--- Redraw a transcript from `yoi/pod/history` items.
function M.history(t, items)
  t:clear()
  local last_role
  local function assistant()
    if last_role ~= "assistant" then
      M.assistant(t)
      last_role = "assistant"
    end
  end
  for _, item in ipairs(items or {}) do
    if item.kind == "message" and item.role == "user" then
      M.user(t, item.segments and segments.to_text(item.segments) or item.text or "")
      last_role = "user"
    elseif item.kind == "message" and item.role == "assistant" then
      assistant()
      if item.text and item.text ~= "" then
        t:after_tools()
        t:lines(vim.split(item.text, "\n", { plain = true }))
      end
    elseif item.kind == "message" and vim.startswith(vim.trim(item.text or ""), M.INTERRUPTED_NOTE) then
      M.note(t, M.OUTCOMES.interrupted) -- the pod's note after an interrupted turn
      last_role = nil
    elseif item.kind == "message" then
      t:lines({ "> ℹ " .. transcript.one_line(item.text, 200) })
    elseif item.kind == "toolCall" then
      assistant()
      M.tool_call(t, item.id, item.name, item.arguments)
    elseif item.kind == "toolResult" then
      t:tool_result(item.id, item.ok, item.summary)
    elseif item.kind == "reasoning" then
      assistant()
      t:reasoning(item.text or "")
      t:end_reasoning()
    end
  end
end

return M
