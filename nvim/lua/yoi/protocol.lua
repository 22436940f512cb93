--- The editor protocol, contract v1: the method names the plugin uses.
---
--- Mirrors `server/protocol.py`; `docs/protocol.md` documents every field.
--- No other module of the plugin spells a method name.
local M = {}

M.VERSION = 1

M.POD_CREATE = "yoi/pod/create"
M.POD_LIST = "yoi/pod/list"
M.POD_DISPOSE = "yoi/pod/dispose"
M.POD_HISTORY = "yoi/pod/history"
M.POD_INTERRUPT = "yoi/pod/interrupt"
M.POD_NOTIFY = "yoi/pod/notify"
M.POD_COMPACT = "yoi/pod/compact"
M.POD_CONFIGURE = "yoi/pod/configure"
M.POD_CONTEXT = "yoi/pod/context"
M.BUDGET_RAISE = "yoi/budget/raise"
M.SESSIONS_LIST = "yoi/sessions/list"
M.CHAT = "yoi/chat"
M.EVENT = "yoi/event" -- server → client notification
M.APPROVAL = "yoi/approval" -- server → client request
M.APPROVALS_RULES = "yoi/approvals/rules"
M.APPROVALS_REVOKE = "yoi/approvals/revoke"
M.WORKSPACE_TRUST = "yoi/workspace/trust"
M.DOCUMENT_SAVE = "yoi/document/save" -- server → client request
M.TOOL_CANCEL = "yoi/tool/cancel"
M.REFERENCES_COMPLETE = "yoi/references/complete"
M.KNOWLEDGE_LIST = "yoi/knowledge/list"
M.KNOWLEDGE_GET = "yoi/knowledge/get"
M.MEMORY_LIST = "yoi/memory/list"
M.CHECKPOINTS_LIST = "yoi/checkpoints/list"
M.CHECKPOINTS_DIFF = "yoi/checkpoints/diff"
M.CHECKPOINTS_RESTORE = "yoi/checkpoints/restore"
M.MCP_LIST = "yoi/mcp/list"
M.MCP_RESTART = "yoi/mcp/restart"
M.MCP_CHANGED = "yoi/mcp/changed" -- server → client notification

-- Standard LSP methods the plugin handles itself.
M.APPLY_EDIT = "workspace/applyEdit"
M.PROGRESS = "$/progress"
M.SHOW_MESSAGE = "window/showMessage"

-- JSON-RPC error codes of the custom methods.
M.METHOD_NOT_FOUND = -32601
M.INVALID_PARAMS = -32602
M.REQUEST_FAILED = -32803

--- The error's message, with its `data.reason` when there is one.
---@param err table|string|nil
---@return string
function M.describe_error(err)
  if type(err) ~= "table" then
    return tostring(err)
  end
  local message = err.message or vim.inspect(err)
  return message
end

--- `data.reason` of a `-32803` error (`busy`, `sessionInUse`, ...), or nil.
---@param err table|string|nil
---@return string|nil
function M.reason(err)
  if type(err) == "table" and type(err.data) == "table" then
    return err.data.reason
  end
  return nil
end

return M
