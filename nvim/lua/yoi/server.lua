--- One `yoi lsp --stdio` client per workspace root: start, attach the root's
--- file buffers (so the agent reads unsaved text), route server messages, and
--- notice when the server stops.
local compat = require("yoi.compat")
local config = require("yoi.config")
local p = require("yoi.protocol")

local M = {}

local uv = compat.uv

-- root -> { root, client_id, ready, features, waiting = {callbacks}, stopping, on_stopped }
local entries = {}
-- client_id -> its entry
local by_client = {}
-- bufnr -> root, for buffers that are not files (the chat buffers)
local buffer_roots = {}
-- client_id -> true once its server process has exited
local exited = {}
-- How long quitting Neovim waits for the servers to exit.
local EXIT_WAIT_MS = 3000

local GROUP = "yoi_attach"
local watching = false

-- ---------------------------------------------------------------- roots

local function realpath(path)
  return uv.fs_realpath(path) or path
end

local function find_root(dir)
  while dir and dir ~= "" do
    for _, marker in ipairs(config.values.root_markers) do
      if uv.fs_stat(dir .. "/" .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      return nil
    end
    dir = parent
  end
  return nil
end

--- The real path of a file buffer ("" for other buffers).
function M.buffer_path(bufnr)
  if not vim.api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= "" then
    return ""
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" then
    return ""
  end
  name = vim.fn.fnamemodify(name, ":p")
  local real = uv.fs_realpath(name)
  if real then
    return real
  end
  return realpath(vim.fn.fnamemodify(name, ":h")) .. "/" .. vim.fn.fnamemodify(name, ":t")
end

--- The workspace root of a buffer: the chat's root, the nearest folder up from
--- the file holding a root marker, or the current directory.
function M.root_for(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if buffer_roots[bufnr] then
    return buffer_roots[bufnr]
  end
  local path = M.buffer_path(bufnr)
  if path ~= "" then
    local root = find_root(vim.fn.fnamemodify(path, ":h"))
    if root then
      return root
    end
  end
  return realpath(uv.cwd())
end

function M.set_buffer_root(bufnr, root)
  buffer_roots[bufnr] = root
end

--- Whether `path` is `root` or inside it.
function M.is_under(path, root)
  return path == root or path:sub(1, #root + 1) == root .. "/"
end

-- ---------------------------------------------------------------- buffers

local function attach(bufnr, entry)
  if not entry.client_id or not vim.api.nvim_buf_is_loaded(bufnr) then
    return
  end
  local path = M.buffer_path(bufnr)
  if path ~= "" and M.is_under(path, entry.root) and not vim.lsp.buf_is_attached(bufnr, entry.client_id) then
    vim.lsp.buf_attach_client(bufnr, entry.client_id)
  end
end

local function attach_all(entry)
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    attach(bufnr, entry)
  end
end

-- Neovim 0.10+ quits without waiting for its language servers to stop: a
-- server could still hold its session when the next Neovim resumes it. Ours
-- are waited for (they exit at once).
local function wait_for_exits()
  local stopping = {}
  for client_id in pairs(by_client) do
    local client = vim.lsp.get_client_by_id(client_id)
    if client then
      compat.stop(client)
    end
    table.insert(stopping, client_id)
  end
  vim.wait(EXIT_WAIT_MS, function()
    for _, client_id in ipairs(stopping) do
      if not exited[client_id] then
        return false
      end
    end
    return true
  end, 10)
end

local function watch_buffers()
  local group = vim.api.nvim_create_augroup(GROUP, { clear = true })
  vim.api.nvim_create_autocmd("VimLeavePre", {
    group = group,
    desc = "yoi: let the servers release their sessions before Neovim exits",
    callback = wait_for_exits,
  })
  vim.api.nvim_create_autocmd({ "BufReadPost", "BufNewFile", "BufFilePost" }, {
    group = group,
    desc = "yoi: let the agent read this buffer's unsaved text",
    callback = function(args)
      for _, entry in pairs(entries) do
        attach(args.buf, entry)
      end
    end,
  })
end

-- ---------------------------------------------------------------- client

local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.workspace = caps.workspace or {}
  caps.workspace.applyEdit = true
  caps.workspace.workspaceEdit = vim.tbl_extend("force", caps.workspace.workspaceEdit or {}, {
    documentChanges = true,
    resourceOperations = { "create", "rename", "delete" },
    changeAnnotationSupport = { groupsOnLabel = true },
  })
  caps.window = caps.window or {}
  caps.window.workDoneProgress = true
  caps.experimental = { yoi = { approvals = true, saveDocuments = true } }
  return caps
end

local function init_options()
  local opts = {}
  if config.values.model ~= "" then
    opts.model = config.values.model
  end
  if config.values.profile ~= "" then
    opts.profile = config.values.profile
  end
  if config.values.approvals ~= "" then
    opts.approvals = config.values.approvals
  end
  return next(opts) and opts or nil
end

local function root_of(ctx)
  local entry = by_client[ctx.client_id]
  return entry and entry.root
end

local function handlers()
  return {
    [p.EVENT] = function(_, params, ctx)
      require("yoi.chat").on_event(root_of(ctx), params)
    end,
    [p.APPROVAL] = function(_, params, ctx)
      return require("yoi.ask").approval(params, ctx)
    end,
    [p.DOCUMENT_SAVE] = function(_, params)
      return require("yoi.save").handler(params)
    end,
    [p.APPLY_EDIT] = function(err, params, ctx, cfg)
      return require("yoi.review").handler(err, params, ctx, cfg)
    end,
    [p.PROGRESS] = function(err, params, ctx, cfg)
      return require("yoi.progress").handler(err, params, ctx, cfg, root_of(ctx))
    end,
    [p.SHOW_MESSAGE] = function(err, params, ctx, cfg)
      local default = vim.lsp.handlers[p.SHOW_MESSAGE]
      local result = default and default(err, params, ctx, cfg) or nil
      local root = root_of(ctx)
      if root and type(params) == "table" then
        require("yoi.rules").hint(require("yoi.chat").get(root), params.message)
      end
      return result
    end,
  }
end

local function finish_waiting(entry, client, err)
  local waiting = entry.waiting
  entry.waiting = {}
  for _, callback in ipairs(waiting) do
    callback(client, err)
  end
end

local function on_exit(code, signal, client_id)
  exited[client_id] = true
  vim.schedule(function()
    local entry = by_client[client_id]
    by_client[client_id] = nil
    if not entry then
      return
    end
    local root = entry.root
    if entries[root] == entry then
      entries[root] = nil
    end
    require("yoi.progress").forget(client_id)
    require("yoi.review").forget(client_id)
    local deliberate = entry.stopping or vim.v.exiting ~= vim.NIL
    local reason = ("the yoi server for %s stopped (exit code %s%s)"):format(
      vim.fn.fnamemodify(root, ":~"),
      tostring(code),
      (signal and signal ~= 0) and (", signal " .. signal) or ""
    )
    if not entry.ready then
      finish_waiting(entry, nil, reason .. " before it was ready")
    end
    require("yoi.chat").server_stopped(root, { client_id = client_id, deliberate = deliberate, reason = reason })
    if entry.on_stopped then
      entry.on_stopped()
    end
  end)
end

local function on_init(entry)
  return function(_, result)
    local experimental = result and result.capabilities and result.capabilities.experimental
    local yoi = type(experimental) == "table" and experimental.yoi or nil
    entry.features = (type(yoi) == "table" and yoi.features) or {}
    if type(yoi) ~= "table" or yoi.protocolVersion ~= p.VERSION then
      vim.schedule(function()
        vim.notify(
          "yoi: the server does not speak yoi protocol v" .. p.VERSION .. "; check `cmd` in require('yoi').setup()",
          vim.log.levels.WARN
        )
      end)
    end
    -- Callbacks run once Neovim has registered the client and sent didOpen.
    vim.schedule(function()
      if entries[entry.root] ~= entry then
        return
      end
      entry.ready = true
      finish_waiting(entry, vim.lsp.get_client_by_id(entry.client_id))
    end)
  end
end

local function first_buffer_under(root)
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    local path = vim.api.nvim_buf_is_loaded(bufnr) and M.buffer_path(bufnr) or ""
    if path ~= "" and M.is_under(path, root) then
      return bufnr
    end
  end
  return nil
end

local function start(entry)
  local cmd = config.values.cmd
  if vim.fn.executable(cmd[1]) ~= 1 then
    return nil,
      ("cannot start the yoi server: `%s` is not an executable on $PATH "
        .. "(install yoi, or set `cmd` in require('yoi').setup())"):format(cmd[1])
  end
  local client_id = compat.start_client({
    name = "yoi",
    cmd = cmd,
    cmd_cwd = entry.root,
    cmd_env = config.values.cmd_env,
    root_dir = entry.root,
    workspace_folders = { { uri = vim.uri_from_fname(entry.root), name = vim.fn.fnamemodify(entry.root, ":t") } },
    capabilities = capabilities(),
    init_options = init_options(),
    handlers = handlers(),
    on_init = on_init(entry),
    on_exit = on_exit,
    -- No debounce: an edit's didChange must reach the server before its applyEdit answer.
    flags = { debounce_text_changes = 0 },
  }, first_buffer_under(entry.root))
  if not client_id then
    return nil, ("cannot start the yoi server with `%s`"):format(table.concat(cmd, " "))
  end
  return client_id
end

--- Call `callback(client)` once the root's server is ready, starting it if
--- needed; `callback(nil, message)` if it cannot start.
function M.ensure(root, callback)
  local entry = entries[root]
  if entry and entry.ready then
    local client = vim.lsp.get_client_by_id(entry.client_id)
    if client and not compat.is_stopped(client) then
      callback(client)
      return
    end
  end
  if entry and not entry.stopping then
    table.insert(entry.waiting, callback)
    return
  end
  if not watching then
    watch_buffers()
    watching = true
  end
  entry = { root = root, waiting = { callback }, features = {} }
  entries[root] = entry
  local client_id, err = start(entry)
  if not client_id then
    entries[root] = nil
    callback(nil, err)
    return
  end
  entry.client_id = client_id
  by_client[client_id] = entry
  attach_all(entry)
end

--- Send a request to the root's server (starting it if needed);
--- `callback(err, result)`.
function M.request(root, method, params, callback)
  M.ensure(root, function(client, err)
    if not client then
      callback({ message = err })
      return
    end
    local ok = compat.request(client, method, params, function(rpc_err, result)
      callback(rpc_err, result)
    end)
    if not ok then
      callback({ message = "the yoi server is not running" })
    end
  end)
end

--- Stop the root's server; `callback()` once it has exited.
function M.stop(root, callback)
  local entry = entries[root]
  local client = entry and entry.client_id and vim.lsp.get_client_by_id(entry.client_id)
  if not client then
    entries[root] = nil
    if callback then
      callback()
    end
    return
  end
  entry.stopping = true
  entry.on_stopped = callback
  compat.stop(client)
  vim.defer_fn(function()
    if not compat.is_stopped(client) then
      compat.stop(client, true)
    end
  end, 3000)
end

--- The running client of a root, or nil.
function M.client(root)
  local entry = entries[root]
  if entry and entry.ready then
    return vim.lsp.get_client_by_id(entry.client_id)
  end
  return nil
end

--- Whether the root's server advertised a feature (see protocol.md).
function M.has_feature(root, feature)
  local entry = entries[root]
  return entry ~= nil and vim.tbl_contains(entry.features or {}, feature)
end

--- Roots with a running (or starting) server.
function M.roots()
  return vim.tbl_keys(entries)
end

return M
