--- :checkhealth yoi — the server command, its Python, and whether it starts.
local compat = require("yoi.compat")
local config = require("yoi.config")

local M = {}

local function frame(message)
  local body = vim.json.encode(message)
  return ("Content-Length: %d\r\n\r\n%s"):format(#body, body)
end

-- The bodies of the framed messages in `output`.
local function messages(output)
  local found = {}
  local pos = 1
  while true do
    local s, e, length = output:find("Content%-Length: (%d+)\r\n.-\r\n\r\n", pos)
    if not s then
      break
    end
    local body = output:sub(e + 1, e + tonumber(length))
    local ok, decoded = pcall(vim.json.decode, body)
    if ok then
      table.insert(found, decoded)
    end
    pos = e + tonumber(length) + 1
  end
  return found
end

--- Start the server, initialize it without a workspace and shut it down.
--- Returns the initialize result, or nil and what went wrong.
function M.probe(cmd, timeout_ms)
  local stdout, stderr = {}, {}
  local ok, job = pcall(vim.fn.jobstart, cmd, {
    env = next(config.values.cmd_env) and config.values.cmd_env or nil,
    stdout_buffered = true,
    stderr_buffered = true,
    on_stdout = function(_, data)
      stdout = data
    end,
    on_stderr = function(_, data)
      stderr = data
    end,
  })
  if not ok or job <= 0 then
    return nil, "could not run it: " .. tostring(ok and job or "jobstart failed")
  end
  local input = frame({
    jsonrpc = "2.0",
    id = 1,
    method = "initialize",
    params = { processId = vim.NIL, rootUri = vim.NIL, capabilities = vim.empty_dict() },
  }) .. frame({ jsonrpc = "2.0", method = "initialized", params = vim.empty_dict() }) .. frame({
    jsonrpc = "2.0",
    id = 2,
    method = "shutdown",
  }) .. frame({ jsonrpc = "2.0", method = "exit" })
  vim.fn.chansend(job, input)
  vim.fn.chanclose(job, "stdin")
  local code = vim.fn.jobwait({ job }, timeout_ms or 15000)[1]
  if code == -1 then
    vim.fn.jobstop(job)
    return nil, "it did not answer within " .. math.floor((timeout_ms or 15000) / 1000) .. " s"
  end
  for _, message in ipairs(messages(table.concat(stdout, "\n"))) do
    if message.id == 1 and type(message.result) == "table" then
      return message.result
    end
  end
  local tail = vim.trim(table.concat(stderr, "\n"))
  local why = tail ~= "" and (":\n" .. tail) or ""
  return nil, ("it exited with code %d without answering initialize%s"):format(code, why)
end

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

  local result, err = M.probe(cmd)
  if not result then
    h.error("`" .. table.concat(cmd, " ") .. "` does not start: " .. err, { "Run it in a terminal to see why." })
  else
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
    end
  end

  local server = require("yoi.server")
  local roots = server.roots()
  table.sort(roots)
  for _, root in ipairs(roots) do
    local client = server.client(root)
    h.info(("running for %s%s"):format(root, client and (" (client " .. client.id .. ")") or " (starting)"))
  end
  if pcall(require, "cmp") then
    h.info("nvim-cmp found: add { name = 'yoi' } to its sources to complete @files")
  else
    h.info("@file completion: <C-x><C-o> in the chat buffer (or install nvim-cmp)")
  end
end

return M
