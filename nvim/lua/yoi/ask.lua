--- Asking the user from inside a server request (approvals) with
--- vim.ui.select, so UI plugins (dressing, telescope, fzf-lua, snacks) show
--- the question their way. (Edit reviews have their own tab: review.lua.)
local compat = require("yoi.compat")
local config = require("yoi.config")

local M = {}

local function plain_prompt(items, opts)
  local lines = { opts.prompt or "yoi:" }
  for i, item in ipairs(items) do
    local label = opts.format_item and opts.format_item(item) or tostring(item)
    table.insert(lines, ("%d. %s"):format(i, label))
  end
  local index = vim.fn.inputlist(lines)
  if index >= 1 and index <= #items then
    return items[index], index
  end
  return nil, nil
end

--- Ask with vim.ui.select and return `item, index` (nil when dismissed).
---
--- Where the request handler runs in a coroutine (Neovim 0.10+), it yields
--- until the answer comes, however long the user takes. Before that, the
--- handler must answer before it returns: a synchronous select answers at
--- once, an asynchronous one is waited for `sync_select_timeout_ms`, and then
--- a plain prompt asks instead.
function M.select(items, opts)
  local answer
  local co = compat.can_yield() and coroutine.running() or nil
  local waiting = false
  vim.ui.select(items, opts, function(item, index)
    if answer then
      return
    end
    answer = { item, index }
    if waiting and co and coroutine.status(co) == "suspended" then
      local ok, err = coroutine.resume(co)
      if not ok then
        vim.notify("yoi: " .. tostring(err), vim.log.levels.ERROR)
      end
    end
  end)
  if not answer and co then
    waiting = true
    coroutine.yield()
  end
  if not answer then
    vim.wait(config.values.sync_select_timeout_ms, function()
      return answer ~= nil
    end, 10)
  end
  if not answer then
    answer = { plain_prompt(items, opts) }
  end
  return answer[1], answer[2]
end

local APPROVAL_CHOICES = {
  { label = "Allow", decision = "allow" },
  { label = "Allow for this session", decision = "allowSession" },
  { label = "Deny", decision = "deny" },
  -- last, so the numbers of the others stay; saved in the user's config (:YoiRules revokes)
  { label = "Always allow in this workspace", decision = "allowAlways" },
}

--- The `yoi/approval` request: allow / allow for session / deny / always
--- allow in this workspace.
function M.approval(params, _ctx)
  params = params or {}
  local reason = params.reason or ("Run " .. tostring(params.tool))
  local choice = M.select(APPROVAL_CHOICES, {
    -- a sub-agent's reason names it: "research-agent wants to run …"
    prompt = params.parentPodId and ("yoi sub-agent: " .. reason) or ("yoi wants to: " .. reason),
    kind = "yoi.approval",
    format_item = function(item)
      return item.label
    end,
  })
  return { decision = choice and choice.decision or "deny" }
end

return M
