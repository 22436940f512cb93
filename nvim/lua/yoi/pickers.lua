--- Pickers (vim.ui.select): sessions to resume, knowledge and memory records
--- to open (in a file window, never over the chat), the chat's sub-agents.
local p = require("yoi.protocol")
local server = require("yoi.server")

local M = {}

local function notify(message, level)
  vim.notify("yoi: " .. message, level or vim.log.levels.INFO)
end

local function ago(ms)
  if type(ms) ~= "number" then
    return ""
  end
  local seconds = math.max(0, os.time() - math.floor(ms / 1000))
  if seconds < 60 then
    return "just now"
  elseif seconds < 3600 then
    return ("%d min ago"):format(math.floor(seconds / 60))
  elseif seconds < 86400 then
    return ("%d h ago"):format(math.floor(seconds / 3600))
  end
  return os.date("%Y-%m-%d", math.floor(ms / 1000))
end

--- Open a record's file in a file window (not the chat's).
local function open_record(uri)
  vim.api.nvim_set_current_win(require("yoi.window").editor_window())
  vim.cmd("edit " .. vim.fn.fnameescape(vim.uri_to_fname(uri)))
end

--- "“title” (3 turns, 2 h ago)": a session as notes name it.
function M.describe_session(session)
  local title = session.title ~= nil and session.title ~= "" and session.title or "(no message yet)"
  local turns = session.turnCount == 1 and "1 turn" or (tostring(session.turnCount or 0) .. " turns")
  return ("“%s” (%s, %s)"):format(title, turns, ago(session.updatedAt))
end

--- One line for a session in the picker (a sub-agent's says so).
function M.format_session(session)
  local title = session.title ~= nil and session.title ~= "" and session.title or "(no message yet)"
  local turns = session.turnCount == 1 and "1 turn" or (tostring(session.turnCount or 0) .. " turns")
  local sub = session.spawnedBySessionId and "↳ sub-agent: " or ""
  return ("%s%s  [%s, %s]"):format(sub, title, turns, ago(session.updatedAt))
end

--- Pick a session of this root (all roots with `opts.all`) and resume it in the chat.
function M.sessions(root, opts)
  opts = opts or {}
  server.request(root, p.SESSIONS_LIST, vim.empty_dict(), function(err, result)
    if err then
      notify("could not list sessions: " .. p.describe_error(err), vim.log.levels.ERROR)
      return
    end
    local sessions = {}
    for _, session in ipairs(result and result.sessions or {}) do
      if opts.all or session.cwd == nil or session.cwd == root then
        table.insert(sessions, session)
      end
    end
    if #sessions == 0 then
      notify(("no sessions in %s yet (:YoiSessions! lists every folder's)"):format(vim.fn.fnamemodify(root, ":~")))
      return
    end
    vim.ui.select(sessions, {
      prompt = "Resume a yoi session",
      kind = "yoi.session",
      format_item = M.format_session,
    }, function(session)
      if not session then
        return
      end
      local chat = require("yoi.chat").open(root)
      chat:resume(session, opts.on_resumed)
    end)
  end)
end

--- Pick a knowledge record and open its file.
function M.knowledge(root)
  local function unsupported()
    notify("this yoi server does not offer knowledge records yet (yoi/knowledge/list)", vim.log.levels.WARN)
  end
  server.ensure(root, function(client, start_err)
    if not client then
      notify(tostring(start_err), vim.log.levels.ERROR)
      return
    end
    if not server.has_feature(root, "knowledge") then
      unsupported()
      return
    end
    server.request(root, p.KNOWLEDGE_LIST, vim.empty_dict(), function(err, result)
      if err then
        if type(err) == "table" and err.code == p.METHOD_NOT_FOUND then
          unsupported()
        else
          notify("could not list knowledge: " .. p.describe_error(err), vim.log.levels.ERROR)
        end
        return
      end
      local records = result and result.records or {}
      if #records == 0 then
        notify("no knowledge records yet (they live in .yoi/knowledge/)")
        return
      end
      vim.ui.select(records, {
        prompt = "Open a knowledge record",
        kind = "yoi.knowledge",
        format_item = function(record)
          local text = record.title or record.slug
          if record.description and record.description ~= "" then
            text = text .. " — " .. record.description
          end
          return text
        end,
      }, function(record)
        if record and record.uri then
          open_record(record.uri)
        end
      end)
    end)
  end)
end

local MEMORY_KINDS = { summary = "summary", decision = "decision", request = "request" }

--- One line for a memory record in the picker.
function M.format_memory(record)
  local text = ("[%s] %s"):format(MEMORY_KINDS[record.kind] or tostring(record.kind), record.title or record.slug or "")
  if record.status and record.status ~= "" then
    text = text .. " (" .. record.status .. ")"
  end
  if record.preview and record.preview ~= "" then
    text = text .. " — " .. record.preview
  end
  if record.problem then
    text = text .. " ⚠ " .. record.problem
  end
  return text
end

--- Pick a memory record (`yoi/memory/list`) and open its file.
function M.memory(root)
  local chat = require("yoi.chat").get(root)
  local params = chat and chat.pod_id and { podId = chat.pod_id } or vim.empty_dict()
  server.request(root, p.MEMORY_LIST, params, function(err, result)
    if err then
      if type(err) == "table" and err.code == p.METHOD_NOT_FOUND then
        notify("this yoi server does not list memory yet (yoi/memory/list)", vim.log.levels.WARN)
      else
        notify("could not list memory: " .. p.describe_error(err), vim.log.levels.ERROR)
      end
      return
    end
    result = result or {}
    local records = result.records or {}
    if result.problem then
      notify(result.problem, vim.log.levels.WARN)
    end
    if #records == 0 then
      local where = result.memoryDir and vim.fn.fnamemodify(vim.uri_to_fname(result.memoryDir), ":~:.") or "memory"
      local off = result.enabled == false and " (memory is off for this workspace)" or ""
      notify(("no memory records in %s yet%s"):format(where, off))
      return
    end
    local staged = (result.staged or 0) > 0 and (" · %d extraction(s) to consolidate"):format(result.staged) or ""
    vim.ui.select(records, {
      prompt = "Open a yoi memory record" .. staged,
      kind = "yoi.memory",
      format_item = M.format_memory,
    }, function(record)
      if record and record.uri then
        open_record(record.uri)
      end
    end)
  end)
end

--- Pick one of the chat's sub-agents (`:YoiAgents`), then what to do with it:
--- show its transcript (its section unfolded, or in a split), or stop it.
function M.agents(root)
  local agents = require("yoi.agents")
  local chat = require("yoi.chat").get(root)
  local list = agents.list(chat)
  if #list == 0 then
    notify("no sub-agents in this chat yet (the agent starts them with its spawn_agent tool)")
    return
  end
  vim.ui.select(list, {
    prompt = "yoi sub-agents",
    kind = "yoi.agent",
    format_item = agents.describe,
  }, function(found)
    if not found then
      return
    end
    local actions = {
      { label = "Show its transcript", run = agents.show },
      { label = "Open its transcript in a split", run = agents.show, split = true },
    }
    if found:running() then
      table.insert(actions, { label = "Stop it", run = agents.stop })
    end
    vim.ui.select(actions, {
      prompt = agents.describe(found),
      kind = "yoi.agent.action",
      format_item = function(action)
        return action.label
      end,
    }, function(action)
      if action then
        action.run(chat, found, action.split)
      end
    end)
  end)
end

return M
