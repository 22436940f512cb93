--- Options: the defaults, `setup()` merging and validation.
local M = {}

M.defaults = {
  -- The language server command. `yoi` must be on $PATH, or give a full path.
  cmd = { "yoi", "lsp", "--stdio" },
  -- Extra environment for the server process, e.g. { YOI_LOG_LEVEL = "INFO" }.
  cmd_env = {},
  -- A litellm model string for new pods (initializationOptions.model); "" lets the manifest decide.
  model = "",
  -- A `[profiles.<name>]` of the manifests for new pods (initializationOptions.profile); "": none.
  profile = "",
  -- "ask" (confirm commands), "auto" (run them without asking) or "" (the manifest decides).
  approvals = "",
  -- Save a file once you accept the agent's edit to it, when it had no unsaved changes
  -- before (so the commands the agent runs next see the edit). false: never save.
  save_accepted_edits = true,
  -- A folder holding one of these is a workspace root; otherwise the current directory.
  root_markers = { ".yoi", ".git" },
  -- Start the server as soon as a file inside a root holding `.yoi/` is opened
  -- (otherwise it starts on the first :Yoi command).
  autostart = false,
  chat = {
    -- "right", "left", "bottom", "top" or "tab".
    position = "right",
    -- Columns (lines for bottom/top); below 1, a fraction of the editor.
    size = 0.4,
    -- Display name of new pods ("" : the manifest's [pod] name).
    pod_name = "",
    -- Items of a resumed session drawn at first; older ones load as you scroll to the top.
    history_page = 200,
  },
  -- Mappings in the chat buffer: set one to false to skip it, or `mappings = false`.
  mappings = {
    submit = "<CR>", -- normal mode
    submit_insert = "<C-s>", -- insert and normal mode
    interrupt = "<C-c>", -- insert and normal mode
    yank_code = "gy", -- yank the code block under the cursor
    apply_code = "ga", -- apply it to the lines sent with :'<,'>YoiChat (else below the cursor)
    execute_plan = "gp", -- after a plan-mode turn: agent mode, then "Carry out the plan."
    help = "?", -- list the chat's keys
    top = "gg", -- to the first line, loading older messages of a resumed session
  },
  -- Visual mode, in every buffer (set by setup()): add the selection to the chat
  -- as `@path:first-last` (like :'<,'>YoiChat). false: no key.
  selection_key = "<leader>ya",
  review = {
    -- Keys in the review of an edit (see :help yoi-review).
    keys = {
      accept = "a", -- apply the hunks kept
      reject = "r", -- apply nothing
      quit = "q", -- apply nothing (as closing the review does)
      toggle = "-", -- keep or drop the hunk under the cursor
      accept_all = "A", -- accept this edit and every edit until the turn ends
      next_hunk = "]c",
      prev_hunk = "[c",
    },
  },
  -- Neovim < 0.10 answers server requests synchronously: how long to wait for an
  -- asynchronous vim.ui.select before asking with a plain prompt instead.
  sync_select_timeout_ms = 500,
}

M.values = vim.deepcopy(M.defaults)

local function one_of(...)
  local allowed = { ... }
  return function(v)
    return vim.tbl_contains(allowed, v)
  end
end

local function is(kind)
  return function(v)
    return type(v) == kind
  end
end

local function string_list(v)
  if type(v) ~= "table" or #v == 0 then
    return false
  end
  for _, item in ipairs(v) do
    if type(item) ~= "string" then
      return false
    end
  end
  return true
end

local function mapping(v)
  return v == false or type(v) == "string"
end

local function nonempty(v)
  return type(v) == "string" and v ~= ""
end

-- Dotted option path -> { check, what it must be }.
local RULES = {
  cmd = { string_list, "a list of strings" },
  cmd_env = { is("table"), "a table of strings" },
  model = { is("string"), "a string" },
  profile = { is("string"), "a string" },
  approvals = { one_of("", "ask", "auto"), '"ask", "auto" or ""' },
  save_accepted_edits = { is("boolean"), "true or false" },
  root_markers = { string_list, "a list of file names" },
  autostart = { is("boolean"), "true or false" },
  ["chat.position"] = { one_of("right", "left", "bottom", "top", "tab"), "right, left, bottom, top or tab" },
  ["chat.size"] = {
    function(v)
      return type(v) == "number" and v > 0
    end,
    "a positive number",
  },
  ["chat.pod_name"] = { is("string"), "a string" },
  ["mappings.submit"] = { mapping, "a key or false" },
  ["mappings.submit_insert"] = { mapping, "a key or false" },
  ["mappings.interrupt"] = { mapping, "a key or false" },
  ["mappings.yank_code"] = { mapping, "a key or false" },
  ["mappings.apply_code"] = { mapping, "a key or false" },
  ["mappings.execute_plan"] = { mapping, "a key or false" },
  ["mappings.help"] = { mapping, "a key or false" },
  ["mappings.top"] = { mapping, "a key or false" },
  selection_key = { mapping, "a key or false" },
  ["chat.history_page"] = {
    function(v)
      return type(v) == "number" and v >= 1 and v == math.floor(v)
    end,
    "a whole number of at least 1",
  },
  ["review.keys.accept"] = { nonempty, "a key" },
  ["review.keys.reject"] = { nonempty, "a key" },
  ["review.keys.quit"] = { nonempty, "a key" },
  ["review.keys.toggle"] = { nonempty, "a key" },
  ["review.keys.accept_all"] = { nonempty, "a key" },
  ["review.keys.next_hunk"] = { nonempty, "a key" },
  ["review.keys.prev_hunk"] = { nonempty, "a key" },
  sync_select_timeout_ms = { is("number"), "a number" },
}

local function get(tbl, path)
  local node = tbl
  for part in path:gmatch("[^.]+") do
    if type(node) ~= "table" then
      return nil
    end
    node = node[part]
  end
  return node
end

local function set(tbl, path, value)
  local parts = vim.split(path, ".", { plain = true })
  local node = tbl
  for i = 1, #parts - 1 do
    node = node[parts[i]]
  end
  node[parts[#parts]] = value
end

--- Merge user options over the defaults. A bad value is reported, naming the
--- option, and replaced by its default, so a typo never breaks the editor.
---@param opts table|nil
function M.setup(opts)
  opts = opts or {}
  local problems = {}
  for key in pairs(opts) do
    if M.defaults[key] == nil then
      table.insert(problems, ("unknown option `%s` ignored"):format(key))
    end
  end
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  -- Lists replace the defaults instead of merging index by index.
  for _, key in ipairs({ "cmd", "root_markers" }) do
    if opts[key] ~= nil then
      merged[key] = vim.deepcopy(opts[key])
    end
  end
  if opts.mappings == false then
    merged.mappings = vim.tbl_map(function()
      return false
    end, vim.deepcopy(M.defaults.mappings))
  end
  for _, group in ipairs({ "chat", "mappings", "review", "review.keys" }) do
    if type(get(merged, group)) ~= "table" then
      table.insert(problems, ("`%s` must be a table; using the defaults"):format(group))
      set(merged, group, vim.deepcopy(get(M.defaults, group)))
    end
  end
  for path, rule in pairs(RULES) do
    local value = get(merged, path)
    if not rule[1](value) then
      table.insert(problems, ("`%s` must be %s; using the default"):format(path, rule[2]))
      set(merged, path, vim.deepcopy(get(M.defaults, path)))
    end
  end
  for key in pairs(M.defaults) do
    if merged[key] == nil then
      merged[key] = vim.deepcopy(M.defaults[key])
    end
  end
  if #problems > 0 then
    table.sort(problems)
    vim.notify("yoi: " .. table.concat(problems, "; "), vim.log.levels.WARN)
  end
  M.values = merged
end

return M
