--- A chat's own pod's `yoi/event`s, drawn into its transcript: the reply as
--- it streams, tool calls and their results, the turn's outcome, compaction,
--- and the `subAgent` events that the sub-agents' sections show (agents.lua).
local render = require("yoi.render")
local server = require("yoi.server")
local spinner = require("yoi.spinner")

local M = {}

local function assistant_header(chat)
  if not chat.header then
    render.assistant(chat.t)
    chat.header = true
  end
end

--- Draw one event of the chat's own pod (never a sub-agent's: agents.lua).
function M.apply(chat, event)
  if type(event) ~= "table" then
    return
  end
  local kind = event.type
  if kind ~= "reasoningDelta" then
    chat.t:end_reasoning()
  end
  if kind == "phase" then
    chat.spinner:set(spinner.phase_label(event))
  elseif kind == "textDelta" or kind == "reasoningDelta" or kind == "turnEnd" then
    chat.spinner:set(nil) -- the reply shows for itself
  elseif kind == "edit" and event.status == "applied" and event.uri then
    chat.edited[event.uri] = true
  end
  if kind == "turnStart" then
    chat.running = true
    assistant_header(chat)
    chat:refresh_status()
  elseif kind == "textDelta" then
    assistant_header(chat)
    chat.t:stream(event.text)
  elseif kind == "reasoningDelta" then
    assistant_header(chat)
    chat.t:reasoning(event.text or "")
  elseif kind == "toolCall" then
    assistant_header(chat)
    render.tool_call(chat.t, event.id, event.name, event.arguments)
  elseif kind == "toolOutput" then
    require("yoi.live").feed(chat, event.id, event.text)
  elseif kind == "toolResult" then
    require("yoi.live").done(chat, event.id)
    chat.t:tool_result(event.id, event.ok, event.summary)
  elseif kind == "edit" then
    render.edit(chat.t, chat.root, event)
  elseif kind == "usage" then
    require("yoi.settings").apply_usage(chat, event)
    chat:refresh_status()
  elseif kind == "config" then
    local settings = require("yoi.settings")
    local before = settings.describe({ model = chat.model, mode = chat.mode })
    local model = chat.model
    settings.apply(chat, event)
    if chat.model ~= model then
      chat.context_window = nil -- sized again for the new model: ask the server
      chat:_fetch_name()
    end
    local now = settings.describe({ model = chat.model, mode = chat.mode })
    if now ~= before then
      chat:note("settings: " .. now)
    end
    chat:refresh_status()
  elseif kind == "turnEnd" then
    chat:_show_outcome(event.outcome, event.error)
    chat.running = chat.requesting == true -- a yoi/chat turn ends with its answer
    if not chat.requesting then -- a turn the pod started itself (a sub-agent's note)
      chat.t:blank()
    end
    chat.header = false
    local client = server.client(chat.root)
    if client then
      require("yoi.review").turn_ended(client.id)
    end
    chat:refresh_status()
  elseif kind == "alert" then
    if event.source == "budget" then
      chat.budget_alert_shown = true -- the turn's end need not say it again
    end
    render.alert(chat.t, event)
    require("yoi.rules").hint(chat, event.message) -- an untrusted manifest's ignored key: offer :YoiTrust
  elseif kind == "compactStart" then
    chat:note("compacting the context…")
  elseif kind == "compactDone" then
    chat.session_id = event.sessionId or chat.session_id
    chat.history = nil -- older pages belong to the session before
    chat:note("context compacted")
  elseif kind == "compactFailed" then
    chat:note("compaction failed: " .. tostring(event.error))
  elseif kind == "subAgent" then
    require("yoi.agents").on_sub_agent(chat, event)
  end
end

return M
