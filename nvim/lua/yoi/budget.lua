--- Budgets: a turn that a `[budget]` limit stopped (outcome `budgetExceeded`)
--- and `:YoiRaiseBudget [usd]`, which raises the session's limit for the
--- chat's pod (`yoi/budget/raise`) once the user confirms the amount.
local p = require("yoi.protocol")

local M = {}

local function notify(message, level)
  vim.notify("yoi: " .. message, level or vim.log.levels.INFO)
end

--- What stopped a turn, from its message ("… over [budget] per_session_usd =
--- 5. The turn stopped …"): { message, key, limit } (key and limit nil when
--- the message does not say).
function M.parse(message)
  local stop = { message = message }
  if type(message) == "string" then
    local key, limit = message:match("%[budget%]%s+([%w_]+)%s*=%s*([%d,%.]+)")
    if key then
      stop.key = key
      stop.limit = tonumber((limit:gsub(",", ""):gsub("%.$", "")))
    end
  end
  return stop
end

local function is_day(stop)
  return stop and (stop.key == "per_day_usd" or stop.key == "per_day_tokens")
end

local function is_tokens(stop)
  return stop and stop.key == "per_session_tokens"
end

--- The chat's note after a turn a budget stopped.
function M.offer(stop)
  if is_day(stop) then
    return "budget reached: today's limit is raised in [budget] of your user manifest"
  end
  return "budget reached: :YoiRaiseBudget [usd] raises this session's limit, then send again"
end

--- "20", "6.40": an amount as the prompt shows it.
local function show_amount(value, tokens)
  if tokens or value == math.floor(value) then
    return ("%d"):format(value)
  end
  return ("%.2f"):format(value)
end

--- A number typed by the user ("$20", "1,000,000", "6.4"), or nil.
function M.amount(text)
  if type(text) ~= "string" then
    return nil
  end
  local cleaned = vim.trim(text):gsub("^%$", ""):gsub(",", "")
  return tonumber(cleaned)
end

--- What the prompt suggests: double what the session has spent, or double
--- the limit it met when that is more (double the spend alone may not cover
--- the next request); nil when neither is known.
function M.suggestion(chat, stop)
  local limit = stop and stop.limit
  if is_tokens(stop) then
    return limit and limit * 2 or nil
  end
  local spent = chat.session_cost_usd
  local best = type(spent) == "number" and spent > 0 and spent * 2 or nil
  if limit and (not best or limit * 2 > best) then
    best = limit * 2
  end
  return best and math.floor(best * 100 + 0.5) / 100 or nil
end

local function send(chat, value, tokens, pod_id)
  local params = { podId = pod_id }
  if tokens then
    params.perSessionTokens = math.floor(value)
  else
    params.perSessionUsd = value
  end
  require("yoi.server").request(chat.root, p.BUDGET_RAISE, params, function(err, result)
    if err then
      if type(err) == "table" and err.code == p.METHOD_NOT_FOUND then
        notify("this yoi server cannot raise a budget (update yoi)", vim.log.levels.WARN)
      else
        notify("budget not raised: " .. p.describe_error(err), vim.log.levels.WARN)
      end
      return
    end
    chat.budget_stop = nil
    local settings = require("yoi.settings")
    settings.apply_usage(chat, { sessionCostUsd = result.sessionCostUsd })
    local what
    if tokens then
      what = ("raised to %s tokens"):format(require("yoi.inspector").thousands(result.perSessionTokens or value))
    else
      what = ("raised to $%.2f (spent so far: %s)"):format(
        result.perSessionUsd or value,
        settings.cost(result.sessionCostUsd) or "$0.00"
      )
    end
    local message = "this session's budget is " .. what .. "; send your message again"
    chat:note(message)
    chat:refresh_status()
    notify(message)
  end)
end

--- `:YoiRaiseBudget [usd]`: confirm the amount (vim.ui.input, prefilled with
--- `arg` or the suggestion), then raise the chat's session budget to it.
function M.raise(arg)
  local root = require("yoi.server").root_for(0)
  local chat = require("yoi.chat").get(root)
  if not chat then
    notify("no chat to raise the budget of: open one with :YoiChat", vim.log.levels.WARN)
    return
  end
  local stop = chat.budget_stop
  if is_day(stop) then
    local why = "today's budget is raised in [budget] of your user manifest, not here: "
    notify(why .. stop.message, vim.log.levels.WARN)
    return
  end
  local tokens = is_tokens(stop)
  local given
  if arg and vim.trim(arg) ~= "" then
    given = M.amount(arg)
    if not given or given <= 0 then
      notify("give a positive amount: :YoiRaiseBudget 20", vim.log.levels.WARN)
      return
    end
  end
  local default = given or M.suggestion(chat, stop)
  local prompt = tokens and "Raise this session's budget to (tokens): " or "Raise this session's budget to (USD): "
  vim.ui.input({ prompt = prompt, default = default and show_amount(default, tokens) or "" }, function(input)
    if input == nil or vim.trim(input) == "" then
      return -- not confirmed
    end
    local value = M.amount(input)
    if not value or value <= 0 then
      notify("not raised: " .. vim.inspect(input) .. " is not a positive amount", vim.log.levels.WARN)
      return
    end
    chat:ensure_pod(function(pod_id, err)
      if pod_id then
        send(chat, value, tokens, pod_id)
      else
        notify("budget not raised: " .. tostring(err), vim.log.levels.WARN)
      end
    end)
  end)
end

return M
