--- yoi for Neovim: chat with the yoi agent, @-mention files, review its edits.
---
--- Everything acts on the workspace root of the current buffer (see
--- `root_markers`); each root has one server, one chat buffer and one pod.
--- See :help yoi.
local M = {}

local function root()
  return require("yoi.server").root_for(0)
end

local function current_chat()
  return require("yoi.chat").get(root())
end

--- Configure yoi (optional: the defaults work without it). See :help yoi-setup.
---@param opts table|nil
function M.setup(opts)
  local config = require("yoi.config")
  config.setup(opts)
  local group = vim.api.nvim_create_augroup("yoi_autostart", { clear = true })
  if config.values.autostart then
    local failed = {} -- roots whose server could not start: say so once
    vim.api.nvim_create_autocmd("BufReadPost", {
      group = group,
      desc = "yoi: start the server for workspaces with a .yoi folder",
      callback = function(args)
        local server = require("yoi.server")
        local buf_root = server.root_for(args.buf)
        if failed[buf_root] or server.buffer_path(args.buf) == "" or vim.fn.isdirectory(buf_root .. "/.yoi") == 0 then
          return
        end
        server.ensure(buf_root, function(client, err)
          if not client then
            failed[buf_root] = true
            vim.notify("yoi: " .. tostring(err), vim.log.levels.WARN)
          end
        end)
      end,
    })
  end
  require("yoi.complete").register_cmp()
  if config.values.selection_key then
    vim.keymap.set("x", config.values.selection_key, ":YoiChat<CR>", {
      silent = true,
      desc = "yoi: add the selection to the chat",
    })
  end
end

--- Open the chat of the current workspace (`:YoiChat`); with `opts.text`, send it.
---@param opts {text: string|nil, focus: boolean|nil}|nil
function M.chat(opts)
  opts = opts or {}
  local chat = require("yoi.chat").open(root(), { focus = opts.focus })
  if opts.text and opts.text ~= "" then
    chat:submit(opts.text)
  end
  return chat:info()
end

--- Add lines `first`..`last` of the current buffer to the chat's input as
--- `@path:first-last` (`:'<,'>YoiChat`); with `text`, send both at once.
function M.add_selection(first, last, text)
  local bufnr = vim.api.nvim_get_current_buf()
  if require("yoi.chat").for_buffer(bufnr) then
    return M.chat({ text = text })
  end
  local chat = require("yoi.chat").open(root(), { focus = false })
  require("yoi.context").add(chat, bufnr, first, last, text)
end

--- List the files the agent changed that are not saved (`:YoiUnsaved`);
--- `save`: write them all (`:YoiUnsaved!`).
function M.unsaved(save)
  return require("yoi.unsaved").show(current_chat(), save)
end

--- Pick a memory record (summary, decisions, requests) and open it (`:YoiMemory`).
function M.memory()
  require("yoi.pickers").memory(root())
end

--- Send the typed message (or `text`) from the current workspace's chat.
---@param text string|nil
function M.submit(text)
  local chat = current_chat() or require("yoi.chat").open(root())
  chat:submit(text)
end

--- Stop the running turn (`:YoiInterrupt`).
function M.interrupt()
  local chat = current_chat()
  if not (chat and chat:interrupt()) then
    vim.notify("yoi: nothing is running", vim.log.levels.INFO)
  end
end

--- Stop the running command, not the turn (`:YoiStopCommand`): the one under
--- the cursor in the chat, else the latest.
function M.stop_command()
  if not require("yoi.live").stop(current_chat()) then
    vim.notify("yoi: no command is running", vim.log.levels.INFO)
  end
end

--- Start a new pod and session in the chat (`:YoiNew`).
function M.new(callback)
  local chat = require("yoi.chat").open(root())
  chat:new_session(callback)
end

--- Pick a session and resume it in the chat (`:YoiSessions`; `all` lists every folder's).
---@param opts {all: boolean|nil, on_resumed: function|nil}|nil
function M.sessions(opts)
  require("yoi.pickers").sessions(root(), opts)
end

--- Compact the chat's context now (`:YoiCompact`).
function M.compact()
  local chat = current_chat()
  if chat then
    chat:compact()
  else
    vim.notify("yoi: no chat to compact", vim.log.levels.INFO)
  end
end

--- Pick a knowledge record and open it (`:YoiKnowledge`).
function M.knowledge()
  require("yoi.pickers").knowledge(root())
end

--- Pick one of the chat's sub-agents: show its transcript or stop it (`:YoiAgents`).
function M.agents()
  require("yoi.pickers").agents(root())
end

--- Restart the workspace's server; the chat resumes its session (`:YoiRestart`).
function M.restart(callback)
  local workspace = root()
  local server = require("yoi.server")
  server.stop(workspace, function()
    local chat = require("yoi.chat").get(workspace)
    if chat then
      chat:ensure_pod(callback or function() end)
    else
      server.ensure(workspace, callback or function() end)
    end
  end)
end

--- A snapshot of the workspace's chat: root, bufnr, pod_id, session_id, model,
--- running, last_outcome, ... (nil when no chat is open).
function M.info()
  local chat = current_chat()
  return chat and chat:info() or nil
end

--- One line for a statusline: pod, model, mode, context use (NN% of the
--- model's window), the session's cost, state, context size, progress.
function M.status()
  local chat = current_chat()
  return chat and vim.trim(chat:statusline()) or ""
end

--- Just "<model> · <mode> · NN% · $0.31" (the percentage once the window is
--- known, the session's cost once it has spent some), for a statusline
--- component; "" without a chat.
function M.settings_status()
  local chat = current_chat()
  return chat and require("yoi.settings").describe(chat:info()) or ""
end

--- Switch the chat's mode: "agent", "plan" or "ask" (`:YoiMode`; nil: pick one).
function M.mode(mode)
  require("yoi.settings").mode(mode)
end

--- Switch the chat's model (`:YoiModel`; nil: type it).
function M.model(model)
  require("yoi.settings").model(model)
end

--- Apply a `[profiles.<name>]` of the manifests (`:YoiProfile`).
function M.profile(name)
  require("yoi.settings").profile(name)
end

--- Agent mode, then "Carry out the plan." (`:YoiExecutePlan`).
function M.execute_plan()
  require("yoi.settings").execute_plan()
end

--- Show what fills the chat's context window in a float (`:YoiContext`).
function M.context()
  require("yoi.inspector").open(root())
end

--- Raise this session's budget to `usd` (or a suggested amount) once
--- confirmed (`:YoiRaiseBudget`).
function M.raise_budget(usd)
  require("yoi.budget").raise(usd and tostring(usd) or nil)
end

--- Pick one of the workspace's lasting approval rules and revoke it once
--- confirmed (`:YoiRules`).
function M.rules()
  require("yoi.rules").open(root())
end

--- Trust the workspace once confirmed (`:YoiTrust`): new chats take its
--- .yoi/manifest.toml whole.
function M.trust()
  require("yoi.rules").trust(root())
end

--- 'omnifunc' completing `@path` mentions (set in the chat buffer).
function M.omnifunc(findstart, base)
  return require("yoi.complete").omnifunc(findstart, base)
end

return M
