--- Approvals that last and trusting a workspace: `:YoiRules` lists the
--- workspace's lasting approval rules (`yoi/approvals/rules`, made by the
--- "Always allow in this workspace" answer) and revokes one once confirmed
--- (`yoi/approvals/revoke`); `:YoiTrust` trusts the workspace once confirmed
--- (`yoi/workspace/trust`), so new chats take its .yoi/manifest.toml whole.
local p = require("yoi.protocol")

local M = {}

--- What the chat says under a warning that an untrusted workspace's manifest
--- key was ignored.
M.TRUST_HINT = ":YoiTrust trusts this workspace (its .yoi/manifest.toml then applies whole to new chats)"

local REVOKE = "Revoke it (ask again next time)"
local KEEP = "Keep it"
local TRUST = "Yes, trust this workspace"
local DONT = "No"

local function notify(message, level)
  vim.notify("yoi: " .. message, level or vim.log.levels.INFO)
end

local function root()
  return require("yoi.server").root_for(0)
end

local function describe_failure(err, what)
  if type(err) == "table" and err.code == p.METHOD_NOT_FOUND then
    return "this yoi server cannot " .. what .. " (update yoi)"
  end
  return p.describe_error(err)
end

--- Whether an alert's (or window/showMessage's) text says that a key of an
--- untrusted workspace's manifest was ignored.
function M.is_untrusted_warning(message)
  return type(message) == "string"
    and message:find("was ignored", 1, true) ~= nil
    and message:find("this workspace is not trusted", 1, true) ~= nil
end

--- One line for a rule in the picker: what was allowed, and when.
function M.describe(rule)
  local label = rule.label ~= nil and rule.label ~= vim.NIL and tostring(rule.label) or tostring(rule.key)
  local text = ("%s  [%s: %s]"):format(label, tostring(rule.tool or "?"), tostring(rule.key or "?"))
  if type(rule.createdAt) == "number" and rule.createdAt > 0 then -- milliseconds since the epoch
    text = text .. "  since " .. os.date("%Y-%m-%d %H:%M", math.floor(rule.createdAt / 1000))
  end
  return text
end

--- `callback(rules, err)`: the lasting rules of `workspace` (rules nil on error).
function M.fetch(workspace, callback)
  require("yoi.server").request(workspace, p.APPROVALS_RULES, vim.empty_dict(), function(err, result)
    if err or type(result) ~= "table" then
      callback(nil, err or { message = "no answer" })
      return
    end
    callback(type(result.rules) == "table" and result.rules or {}, nil)
  end)
end

local function revoke(workspace, rule)
  require("yoi.server").request(workspace, p.APPROVALS_REVOKE, { id = rule.id }, function(err, result)
    if err then
      notify("not revoked: " .. describe_failure(err, "revoke rules"), vim.log.levels.WARN)
    elseif type(result) == "table" and result.revoked then
      notify(("revoked: %s (asked again from now on)"):format(M.describe(rule)))
    else
      notify("that rule was already gone", vim.log.levels.WARN)
    end
  end)
end

--- `:YoiRules`: pick a lasting rule of the workspace; revoke it once confirmed.
function M.open(workspace)
  workspace = workspace or root()
  M.fetch(workspace, function(rules, err)
    if not rules then
      notify("cannot list the approval rules: " .. describe_failure(err, "list rules"), vim.log.levels.WARN)
      return
    end
    if #rules == 0 then
      notify(
        ("no lasting approval rules for %s (\"Always allow in this workspace\" in an approval makes one)"):format(
          vim.fn.fnamemodify(workspace, ":~")
        )
      )
      return
    end
    vim.ui.select(rules, {
      prompt = "yoi: approval rules of this workspace (pick one to revoke it)",
      kind = "yoi.rules",
      format_item = M.describe,
    }, function(rule)
      if not rule then
        return
      end
      vim.ui.select({ REVOKE, KEEP }, {
        prompt = ("yoi: revoke %s? Later runs will ask again"):format(M.describe(rule)),
        kind = "yoi.confirm",
      }, function(choice)
        if choice == REVOKE then
          revoke(workspace, rule)
        end
      end)
    end)
  end)
end

--- `:YoiTrust`: explain what trusting means, and trust the workspace once confirmed.
function M.trust(workspace)
  workspace = workspace or root()
  local manifest = workspace .. "/.yoi/manifest.toml"
  local prompt = (
    "yoi: trust %s? Its %s is then taken whole: it may allow commands to run without asking "
    .. "([approvals] mode = \"auto\"), run [[hooks]] and grant access outside the workspace. "
    .. "Trust only a repository you know."
  ):format(vim.fn.fnamemodify(workspace, ":~"), ".yoi/manifest.toml")
  vim.ui.select({ TRUST, DONT }, { prompt = prompt, kind = "yoi.confirm" }, function(choice)
    if choice ~= TRUST then
      notify("not trusted")
      return
    end
    require("yoi.server").request(workspace, p.WORKSPACE_TRUST, vim.empty_dict(), function(err, result)
      if err or type(result) ~= "table" or not result.trusted then
        local why = err and describe_failure(err, "trust a workspace") or "the server did not say it is trusted"
        notify("not trusted: " .. why, vim.log.levels.WARN)
        return
      end
      local message = ("trusted %s: new chats (:YoiNew) take %s whole; the open chat keeps its settings"):format(
        vim.fn.fnamemodify(result.workspace or workspace, ":~"),
        vim.fn.fnamemodify(manifest, ":~:.")
      )
      local chat = require("yoi.chat").get(workspace)
      if chat then
        chat:note(message)
      end
      notify(message)
    end)
  end)
end

--- Under an untrusted-manifest warning in `chat`: the :YoiTrust hint, once per pod.
function M.hint(chat, message)
  if not chat or not M.is_untrusted_warning(message) then
    return
  end
  local key = chat.pod_id or true
  if chat.trust_hint_for == key then
    return
  end
  chat.trust_hint_for = key
  chat:note(M.TRUST_HINT)
end

return M
