--- The pod's settings (`yoi/pod/configure`): :YoiMode, :YoiModel, :YoiProfile,
--- :YoiExecutePlan, and the "<model> · <mode> · NN% · $0.31" part of the status line.
local p = require("yoi.protocol")

local M = {}

M.MODES = { "agent", "plan", "ask" }

M.DESCRIPTIONS = {
  agent = "every tool: edit files and run commands (with your approval)",
  plan = "read and search only: the agent plans, no edits, no commands",
  ask = "no tools: answers from the conversation alone",
}

M.PLAN_MESSAGE = "Carry out the plan."

local function notify(message, level)
  vim.notify("yoi: " .. message, level or vim.log.levels.INFO)
end

local function root()
  return require("yoi.server").root_for(0)
end

-- The chat of the current workspace, opened (without focus) when there is none.
local function chat_for_command()
  local chat = require("yoi.chat")
  return chat.get(root()) or chat.open(root(), { focus = false })
end

--- Remember the settings a `yoi/pod/create` or `yoi/pod/configure` result, a
--- `config` event or a `yoi/pod/list` entry carries (absent fields are kept).
function M.apply(chat, settings)
  if type(settings) ~= "table" then
    return
  end
  if type(settings.model) == "string" then
    chat.model = settings.model
  end
  if type(settings.mode) == "string" then
    chat.mode = settings.mode
  end
  if settings.reasoningEffort ~= nil then
    chat.reasoning_effort = settings.reasoningEffort ~= vim.NIL and settings.reasoningEffort or nil
  end
  if settings.profile ~= nil then
    chat.profile = settings.profile ~= vim.NIL and settings.profile or nil
  end
end

--- Remember the context size and window, and what the session has spent, that
--- a `usage` event or `yoi/pod/list` entry carries.
function M.apply_usage(chat, usage)
  if type(usage.sessionCostUsd) == "number" then
    chat.session_cost_usd = usage.sessionCostUsd
  end
  if type(usage.dayCostUsd) == "number" then
    chat.day_cost_usd = usage.dayCostUsd
  end
  if type(usage.contextTokens) == "number" then
    chat.context_tokens = usage.contextTokens
  end
  if type(usage.contextWindow) == "number" and usage.contextWindow > 0 then
    chat.context_window = usage.contextWindow
  end
end

--- The context's share of the model's window in percent, or nil while unknown.
function M.context_percent(info)
  local tokens, window = info.context_tokens, info.context_window
  if type(tokens) ~= "number" or type(window) ~= "number" or window <= 0 then
    return nil
  end
  return math.floor(tokens * 100 / window + 0.5)
end

--- "$0.31", "<$0.01", or nil while nothing is known to be spent (a model
--- without a price spends tokens, not dollars).
function M.cost(usd)
  if type(usd) ~= "number" or usd <= 0 then
    return nil
  end
  if usd < 0.005 then
    return "<$0.01"
  end
  return ("$%.2f"):format(usd)
end

--- "<model> · <mode> · NN% · $0.31" (each part only once known).
function M.describe(info)
  local parts = {}
  if info.model and info.model ~= "" then
    table.insert(parts, info.model)
  end
  if info.mode then
    table.insert(parts, info.mode)
  end
  local percent = M.context_percent(info)
  if percent then
    table.insert(parts, percent .. "%")
  end
  local cost = M.cost(info.session_cost_usd)
  if cost then
    table.insert(parts, cost)
  end
  return table.concat(parts, " · ")
end

--- Send `yoi/pod/configure` with `change` for the chat's pod; `callback(result)`
--- on success. A refusal is told with vim.notify.
function M.configure(chat, change, callback)
  chat:ensure_pod(function(pod_id, err)
    if not pod_id then
      notify("not changed: " .. tostring(err), vim.log.levels.WARN)
      return
    end
    local params = vim.tbl_extend("force", { podId = pod_id }, change)
    require("yoi.server").request(chat.root, p.POD_CONFIGURE, params, function(rpc_err, result)
      if rpc_err then
        if p.reason(rpc_err) == "busy" then
          notify("a turn is running; wait for it or :YoiInterrupt", vim.log.levels.WARN)
        elseif type(rpc_err) == "table" and rpc_err.code == p.METHOD_NOT_FOUND then
          notify("this yoi server cannot change a pod's settings (update yoi)", vim.log.levels.WARN)
        else
          notify(p.describe_error(rpc_err), vim.log.levels.WARN)
        end
        return
      end
      M.apply(chat, result)
      chat:refresh_status()
      if callback then
        callback(result)
      end
    end)
  end)
end

local function item_label(mode, current)
  return ("%-5s  %s%s"):format(mode, M.DESCRIPTIONS[mode], mode == current and "  (current)" or "")
end

--- `:YoiMode [mode]`: switch the chat's pod to `mode`, or pick one.
function M.mode(mode)
  local chat = chat_for_command()
  if mode and mode ~= "" then
    M.configure(chat, { mode = mode })
    return
  end
  vim.ui.select(M.MODES, {
    prompt = "yoi mode",
    kind = "yoi.mode",
    format_item = function(item)
      return item_label(item, chat.mode)
    end,
  }, function(choice)
    if choice then
      M.configure(chat, { mode = choice })
    end
  end)
end

--- `:YoiModel [model]`: the litellm model the chat's next requests go to.
function M.model(model)
  local chat = chat_for_command()
  if model and model ~= "" then
    M.configure(chat, { model = model })
    return
  end
  vim.ui.input({ prompt = "yoi model: ", default = chat.model or "" }, function(input)
    input = input and vim.trim(input) or ""
    if input ~= "" and input ~= chat.model then
      M.configure(chat, { model = input })
    end
  end)
end

--- `:YoiProfile {name}`: apply a `[profiles.<name>]` of the manifests.
function M.profile(name)
  local chat = chat_for_command()
  if not name or name == "" then
    notify(("profile: %s; give a name: :YoiProfile {name}"):format(chat.profile or "none"))
    return
  end
  M.configure(chat, { profile = name })
end

--- `:YoiExecutePlan`: back to agent mode, then "Carry out the plan.".
function M.execute_plan()
  local chat = require("yoi.chat").get(root())
  if not chat or not (chat.plan_ready or chat.mode == "plan") then
    notify("no plan to carry out: plan one first in plan mode (:YoiMode plan)")
    return
  end
  if chat.running then
    notify("a turn is running; wait for it or :YoiInterrupt", vim.log.levels.WARN)
    return
  end
  M.configure(chat, { mode = "agent" }, function()
    chat.plan_ready = false
    chat:submit(M.PLAN_MESSAGE)
  end)
end

--- Completion of :YoiMode.
function M.complete_mode(arglead)
  return vim.tbl_filter(function(mode)
    return mode:sub(1, #arglead) == arglead
  end, M.MODES)
end

return M
