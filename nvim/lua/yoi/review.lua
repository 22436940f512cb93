--- `workspace/applyEdit` with review: an edit whose change annotation needs
--- confirmation (every edit the agent proposes) opens in a review tab and is
--- applied only as far as the user accepts it: all of it, the hunks they
--- kept, or nothing. The answer says what happened: `applied: true` once the
--- kept hunks are in the buffers (the server compares them with the whole
--- edit to tell a partial one), `applied: false` with the reason otherwise.
--- Other edits keep Neovim's default behaviour.
local compat = require("yoi.compat")
local modal = require("yoi.modal")
local review_tab = require("yoi.review_tab")
local workspace_edit = require("yoi.workspace_edit")

local M = {}

-- client_id -> true while "accept all for this turn" holds
local accept_all = {}
-- client_id -> { view = true } of the reviews waiting for an answer
local open = {}
-- every review opened, latest last, until it is answered
local opened = {}

local function track(client_id, view, add)
  open[client_id] = open[client_id] or {}
  open[client_id][view] = add or nil
end

--- Show the review and wait for the answer ({ answer, keep, kept, total }).
---
--- Where the request handler runs in a coroutine (Neovim 0.10+), it yields
--- until the user answers, however long they take, and Neovim stays theirs
--- meanwhile. Before that, the handler must answer before it returns: the
--- review then holds Neovim (modal.lua) until it is answered.
local function ask(label, steps, client_id)
  local co = compat.can_yield() and coroutine.running() or nil
  local result, waiting
  local view
  view = review_tab.open({
    label = label,
    steps = steps,
    modal = co == nil,
    on_done = function(answer)
      result = answer
      track(client_id, view, false)
      if waiting then
        vim.schedule(function()
          local ok, err = coroutine.resume(co)
          if not ok then
            vim.notify("yoi: " .. tostring(err), vim.log.levels.ERROR)
          end
        end)
      end
    end,
  })
  track(client_id, view, true)
  table.insert(opened, view)
  compat.fire_user("YoiReview", view:info())
  if not result then
    if co then
      waiting = true
      coroutine.yield()
    else
      modal.run({
        done = function()
          return result ~= nil or not view:alive()
        end,
        quit = function()
          view:finish("reject")
        end,
        focus = function()
          view:focus()
        end,
      })
      view:finish("reject") -- a no-op once answered; rejects if its windows were closed
    end
  end
  return result
end

--- The review waiting for an answer that opened last, as view:info() shows
--- it ({ question, bufnr, winid, modal, hunks, ... }), or nil.
function M.current()
  while opened[#opened] and opened[#opened].done do
    table.remove(opened)
  end
  local view = opened[#opened]
  return view and view:info() or nil
end

local function every(steps)
  return workspace_edit.kept(steps, function()
    return true
  end)
end

--- Answer one `workspace/applyEdit`.
function M.handler(err, params, ctx, cfg)
  if type(params) ~= "table" or not workspace_edit.needs_confirmation(params.edit) then
    return vim.lsp.handlers["workspace/applyEdit"](err, params, ctx, cfg)
  end
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local encoding = client and client.offset_encoding or "utf-16"
  local ok, steps = pcall(workspace_edit.plan, params.edit, encoding)
  if not ok then
    return { applied = false, failureReason = tostring(steps) }
  end
  local chosen = every(steps)
  if not accept_all[ctx.client_id] then
    local result = ask(params.label, steps, ctx.client_id)
    if result.answer == "reject" then
      return { applied = false, failureReason = "The user rejected the edit in Neovim." }
    end
    if result.kept == 0 and result.total > 0 then
      return { applied = false, failureReason = "The user dropped every hunk of the edit in Neovim." }
    end
    if result.answer == "all" then
      accept_all[ctx.client_id] = true
    end
    chosen = workspace_edit.kept(steps, result.keep)
  end
  local applied, apply_err = pcall(workspace_edit.apply, chosen, encoding)
  if not applied then
    return { applied = false, failureReason = tostring(apply_err) }
  end
  return { applied = true }
end

-- Reviews of a turn that is over (interrupted: the server withdrew them) close as rejected.
local function close_reviews(client_id)
  for view in pairs(open[client_id] or {}) do
    view:finish("reject")
  end
  open[client_id] = nil
end

--- "Accept all" lasts until the end of the turn.
function M.turn_ended(client_id)
  accept_all[client_id] = nil
  close_reviews(client_id)
end

function M.forget(client_id)
  accept_all[client_id] = nil
  close_reviews(client_id)
end

return M
