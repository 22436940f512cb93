--- The few places where Neovim 0.7 and newer releases differ.
local M = {}

M.uv = vim.uv or vim.loop

local function has(version)
  return vim.fn.has("nvim-" .. version) == 1
end

-- Neovim 0.11 made client methods take `self` (client:request(...)).
local method_calls = has("0.11")

local function call(client, name, ...)
  if method_calls then
    return client[name](client, ...)
  end
  return client[name](...)
end

function M.request(client, method, params, handler, bufnr)
  return call(client, "request", method, params, handler, bufnr)
end

function M.request_sync(client, method, params, timeout_ms, bufnr)
  return call(client, "request_sync", method, params, timeout_ms, bufnr)
end

function M.notify(client, method, params)
  return call(client, "notify", method, params)
end

function M.stop(client, force)
  return call(client, "stop", force)
end

function M.is_stopped(client)
  return call(client, "is_stopped")
end

--- Start a language client; attach `bufnr` when given. Uses vim.lsp.start where
--- it exists (start_client is deprecated in 0.11); yoi keeps its own one client
--- per root, so it never lets Neovim reuse another client.
---@return integer|nil client_id
function M.start_client(config, bufnr)
  local never = function()
    return false
  end
  if vim.lsp.start then
    if bufnr then
      -- 0.8 and 0.9 attach the current buffer, later releases take opts.bufnr.
      return vim.api.nvim_buf_call(bufnr, function()
        return vim.lsp.start(config, { bufnr = bufnr, reuse_client = never })
      end)
    elseif has("0.11") then
      return vim.lsp.start(config, { attach = false, reuse_client = never })
    end
  end
  return vim.lsp.start_client(config)
end

--- Fire `User <pattern>`; the data rides along where Neovim supports it (0.8+).
function M.fire_user(pattern, data)
  local opts = { pattern = pattern, modeline = false }
  if has("0.8") then
    opts.data = data
  end
  vim.api.nvim_exec_autocmds("User", opts)
end

--- Unified diff of two texts.
function M.diff(a, b)
  local diff = (vim.text and vim.text.diff) or vim.diff
  return diff(a, b, { result_type = "unified", ctxlen = 3 })
end

--- The version of a buffer that the language client last reported.
function M.buf_version(bufnr)
  local versions = vim.lsp.util.buf_versions
  local version = versions and versions[bufnr]
  if type(version) ~= "number" then
    version = vim.api.nvim_buf_get_changedtick(bufnr)
  end
  return version
end

--- The health report functions (vim.health since 0.8, renamed in 0.9).
function M.health()
  local h = vim.health or require("health")
  return {
    start = h.start or h.report_start,
    ok = h.ok or h.report_ok,
    info = h.info or h.report_info,
    warn = h.warn or h.report_warn,
    error = h.error or h.report_error,
  }
end

--- Whether a server request handler may yield (Neovim runs them in a
--- coroutine since 0.10; before, a handler must answer before returning).
function M.can_yield()
  local co = coroutine.running()
  return co ~= nil and coroutine.isyieldable ~= nil and coroutine.isyieldable()
end

return M
