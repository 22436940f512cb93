--- A short conversation with a fresh server for :checkhealth yoi:
--- initialize (with the workspace root), create a pod to see which model it
--- gets, read its context fields from `yoi/pod/list`, dispose it, list the
--- workspace's lasting approval rules, shut down.
local config = require("yoi.config")
local p = require("yoi.protocol")

local M = {}

local function frame(message)
  local body = vim.json.encode(message)
  return ("Content-Length: %d\r\n\r\n%s"):format(#body, body)
end

--- The bodies of the framed messages in `output`.
function M.messages(output)
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

--- Talk to `cmd` in `root`. Returns { init, pod, pod_error, pods, rules,
--- rules_error } or nil
--- and what went wrong (the server did not start or answer initialize).
function M.run(cmd, root, timeout_ms)
  timeout_ms = timeout_ms or 15000
  local stdout, stderr = "", ""
  local ok, job = pcall(vim.fn.jobstart, cmd, {
    cwd = root,
    env = next(config.values.cmd_env) and config.values.cmd_env or nil,
    on_stdout = function(_, data)
      stdout = stdout .. table.concat(data, "\n")
    end,
    on_stderr = function(_, data)
      stderr = stderr .. table.concat(data, "\n")
    end,
  })
  if not ok or job <= 0 then
    return nil, "could not run it: " .. tostring(ok and job or "jobstart failed")
  end
  local function send(message)
    message.jsonrpc = "2.0"
    pcall(vim.fn.chansend, job, frame(message))
  end
  local function answer(id, ms)
    local found
    vim.wait(ms, function()
      for _, message in ipairs(M.messages(stdout)) do
        if message.id == id and message.method == nil then
          found = message
          return true
        end
      end
      return vim.fn.jobwait({ job }, 0)[1] ~= -1
    end, 20)
    return found
  end
  local uri = root and vim.uri_from_fname(root) or vim.NIL
  local params = { processId = vim.NIL, rootUri = uri, capabilities = vim.empty_dict() }
  local options = {}
  if config.values.model ~= "" then
    options.model = config.values.model
  end
  if config.values.profile ~= "" then
    options.profile = config.values.profile
  end
  if next(options) then
    params.initializationOptions = options
  end
  send({ id = 1, method = "initialize", params = params })
  local init = answer(1, timeout_ms)
  local out = {}
  if init and type(init.result) == "table" then
    out.init = init.result
    send({ method = "initialized", params = vim.empty_dict() })
    send({ id = 2, method = p.POD_CREATE, params = vim.empty_dict() })
    local created = answer(2, timeout_ms)
    if created and type(created.result) == "table" then
      out.pod = created.result
      send({ id = 3, method = p.POD_LIST, params = vim.empty_dict() })
      local listed = answer(3, 5000)
      for _, pod in ipairs(listed and listed.result and listed.result.pods or {}) do
        if pod.podId == out.pod.podId then
          out.pods = pod
        end
      end
      send({ id = 4, method = p.POD_DISPOSE, params = { podId = out.pod.podId } })
      answer(4, 5000)
    else
      out.pod_error = created and p.describe_error(created.error) or "no answer to yoi/pod/create"
    end
    if root then
      send({ id = 6, method = p.APPROVALS_RULES, params = vim.empty_dict() })
      local rules = answer(6, 5000)
      if rules and type(rules.result) == "table" then
        out.rules = type(rules.result.rules) == "table" and rules.result.rules or {}
      else
        out.rules_error = rules and rules.error or { message = "no answer to yoi/approvals/rules" }
      end
    end
  end
  send({ id = 5, method = "shutdown" })
  answer(5, 3000)
  send({ method = "exit" })
  pcall(vim.fn.chanclose, job, "stdin")
  local code = vim.fn.jobwait({ job }, 3000)[1]
  if code == -1 then
    vim.fn.jobstop(job)
  end
  if out.init then
    return out
  end
  if code == -1 and not init then
    return nil, "it did not answer within " .. math.floor(timeout_ms / 1000) .. " s"
  end
  local tail = vim.trim(stderr)
  local why = tail ~= "" and (":\n" .. tail) or ""
  return nil, ("it exited with code %d without answering initialize%s"):format(code, why)
end

return M
