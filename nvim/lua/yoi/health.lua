--- :checkhealth yoi — the server command, its Python, whether it starts, and
--- the model a pod of this workspace gets (an error when there is none), and
--- the MCP servers of each running yoi server (health_mcp.lua).
local compat = require("yoi.compat")
local config = require("yoi.config")
local probe = require("yoi.health_probe")

local M = {}

-- The interpreter named on a script's `#!` line, if any.
local function shebang_python(path)
  local file = io.open(path, "r")
  if not file then
    return nil
  end
  local first = file:read("*l") or ""
  file:close()
  local interpreter = first:match("^#!%s*(%S+)")
  if interpreter and interpreter:match("python") then
    return interpreter
  end
  return nil
end

local function thousands(n)
  local text = tostring(math.floor(n))
  return (text:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

-- The model a new pod of `root` gets, and its context window.
function M.report_model(h, found, root)
  local where = vim.fn.fnamemodify(root, ":~")
  if not found.pod then
    h.error(("a pod for %s could not start: %s"):format(where, tostring(found.pod_error)))
    return
  end
  local model = found.pod.model
  if model == nil or model == "" or model == "(no model)" then
    h.error(("no model configured for %s: every chat would fail"):format(where), {
      "Set one in require('yoi').setup({ model = 'anthropic/claude-sonnet-4-5' }),",
      "or `name` under [model] in .yoi/manifest.toml (or the user manifest),",
      "or the environment: YOI_MODEL (with YOI_API_KEY, YOI_API_BASE as needed).",
    })
    return
  end
  h.ok(("model for %s: %s"):format(where, model))
  local mode = type(found.pod.mode) == "string" and found.pod.mode or "agent"
  local profile = found.pod.profile
  local start = ("new chats start in %s mode"):format(mode)
  if type(profile) == "string" then
    start = start .. (" with the profile `%s`"):format(profile)
  end
  h.info(start .. " (switch with :YoiMode, :YoiModel, :YoiProfile)")
  local pod = found.pods or {}
  if type(pod.contextWindow) == "number" then
    local text = ("context window: %s tokens"):format(thousands(pod.contextWindow))
    if pod.contextWindowSource then
      text = text .. " (from the " .. pod.contextWindowSource .. ")"
    end
    if type(pod.compactAt) == "number" then
      text = text .. ("; compacts at %s"):format(thousands(pod.compactAt))
    else
      text = text .. "; compaction between turns is off"
    end
    h.info(text)
  else
    h.info("context window: not known until the first request (set [model] context_window to fix it)")
  end
end

-- The lasting approval rules of `root` ("Always allow in this workspace").
function M.report_rules(h, found, root)
  if not found.rules and not found.rules_error then
    return -- no workspace folder: no rules
  end
  local where = vim.fn.fnamemodify(root, ":~")
  if found.rules then
    local count = #found.rules
    local text = ("lasting approval rules for %s: %d"):format(where, count)
    if count > 0 then
      local labels = {}
      for i, rule in ipairs(found.rules) do
        if i > 5 then
          table.insert(labels, "…")
          break
        end
        table.insert(labels, tostring(rule.label ~= vim.NIL and rule.label or rule.key))
      end
      text = text .. " (" .. table.concat(labels, ", ") .. "; :YoiRules lists and revokes them)"
    end
    h.info(text)
  elseif type(found.rules_error) == "table" and found.rules_error.code == require("yoi.protocol").METHOD_NOT_FOUND then
    h.info("lasting approval rules: this yoi server has none (update yoi for \"Always allow in this workspace\")")
  else
    h.warn("lasting approval rules: " .. require("yoi.protocol").describe_error(found.rules_error))
  end
end

function M.check()
  local h = compat.health()
  h.start("yoi")
  local v = vim.version()
  if vim.fn.has("nvim-0.7") == 1 then
    h.ok(("Neovim %d.%d.%d"):format(v.major, v.minor, v.patch))
  else
    h.error("yoi needs Neovim 0.7 or newer")
  end
  if vim.fn.has("nvim-0.10") == 0 then
    h.info(
      "Neovim < 0.10 answers server requests synchronously: an edit review holds "
        .. "Neovim until you answer it, and an asynchronous vim.ui.select gets a "
        .. "numbered list for approvals instead: see :help yoi-review, yoi-approvals"
    )
  end

  local cmd = config.values.cmd
  local exe = vim.fn.exepath(cmd[1])
  if exe == "" then
    h.error(("server command `%s` not found"):format(cmd[1]), {
      "Install yoi (pip install yoi) so `yoi` is on $PATH,",
      "or point setup() at it: require('yoi').setup({ cmd = { '/path/to/yoi', 'lsp', '--stdio' } })",
    })
    return
  end
  h.ok(("server command: %s (%s)"):format(table.concat(cmd, " "), exe))

  local python = shebang_python(exe)
  if python then
    local version = vim.trim(vim.fn.system({ python, "--version" }))
    if vim.v.shell_error ~= 0 then
      h.error(("Python %s (from %s) does not run"):format(python, exe))
    else
      local major, minor = version:match("(%d+)%.(%d+)")
      if tonumber(major) == 3 and tonumber(minor) >= 11 then
        h.ok(("%s (%s)"):format(version, python))
      else
        h.error(("%s (%s): yoi needs Python 3.11 or newer"):format(version, python))
      end
    end
  else
    h.info("Python: the server command is not a Python script; skipped")
  end

  local workspace = require("yoi.server").root_for(0)
  local found, err = probe.run(cmd, workspace)
  if not found then
    h.error("`" .. table.concat(cmd, " ") .. "` does not start: " .. err, { "Run it in a terminal to see why." })
  else
    local result = found.init
    local info = result.serverInfo or {}
    local yoi = result.capabilities and result.capabilities.experimental and result.capabilities.experimental.yoi
    if type(yoi) ~= "table" or yoi.protocolVersion ~= require("yoi.protocol").VERSION then
      h.error(("`%s` started but is not a yoi protocol v1 server"):format(table.concat(cmd, " ")))
    else
      h.ok(
        ("the server starts: %s %s, protocol v%d, features: %s"):format(
          info.name or "yoi",
          info.version or "?",
          yoi.protocolVersion,
          table.concat(yoi.features or {}, ", ")
        )
      )
      M.report_model(h, found, workspace)
      M.report_rules(h, found, workspace)
      if not vim.tbl_contains(yoi.features or {}, "configure") then
        h.warn("this yoi server cannot change a pod's settings: :YoiMode, :YoiModel, :YoiProfile need a newer yoi")
      end
    end
  end

  local server = require("yoi.server")
  local roots = server.roots()
  table.sort(roots)
  for _, root in ipairs(roots) do
    local client = server.client(root)
    h.info(("running for %s%s"):format(root, client and (" (client " .. client.id .. ")") or " (starting)"))
    if client then
      require("yoi.health_mcp").report(h, root, client)
    end
  end
  if #roots == 0 then
    h.info("MCP servers: reported here once the yoi server runs for this workspace (:YoiChat)")
  end
  if pcall(require, "cmp") then
    h.info("nvim-cmp found: add { name = 'yoi' } to its sources to complete @files")
  else
    h.info("@file completion: <C-x><C-o> in the chat buffer (or install nvim-cmp)")
  end
end

return M
