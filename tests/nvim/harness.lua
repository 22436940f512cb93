-- Helpers for the Lua scripts that tests/test_nvim.py runs in a headless Neovim.
--
-- A script is `local T = dofile(harness); T.run(function() ... end)`. T.run
-- writes T.result (plus what vim.notify showed and what vim.ui.select asked)
-- as JSON to $YOI_TEST_OUT, then quits (exit code 1 if the body raised).
local T = {}

T.root = assert(os.getenv("YOI_TEST_ROOT"), "YOI_TEST_ROOT is not set")
T.cmd = vim.json.decode((assert(os.getenv("YOI_TEST_CMD"), "YOI_TEST_CMD is not set")))
T.result = {}
T.notifications = {}
T.asked = {}
-- Answers for vim.ui.select, in order: { label = "exact" } or { match = "substring" },
-- with `async = true` to answer from a scheduled callback like UI plugins do.
T.answers = {}

vim.notify = function(message, level)
  table.insert(T.notifications, { message = tostring(message), level = level or vim.log.levels.INFO })
end

vim.ui.select = function(items, opts, on_choice)
  local labels = {}
  for i, item in ipairs(items) do
    labels[i] = opts.format_item and opts.format_item(item) or tostring(item)
  end
  table.insert(T.asked, { prompt = opts.prompt, kind = opts.kind, items = labels })
  local answer = table.remove(T.answers, 1)
  local index
  for i, label in ipairs(labels) do
    if answer and (label == answer.label or (answer.match and label:find(answer.match, 1, true))) then
      index = i
      break
    end
  end
  local function reply()
    if index then
      on_choice(items[index], index)
    else
      on_choice(nil, nil)
    end
  end
  if answer and answer.async then
    vim.schedule(reply)
  else
    reply()
  end
end

function T.setup(opts)
  require("yoi").setup(vim.tbl_extend("force", { cmd = T.cmd }, opts or {}))
end

function T.wait(what, condition, ms)
  if not vim.wait(ms or 30000, condition, 10) then
    error("timed out waiting for " .. what, 2)
  end
end

--- Type keys as the user would (mappings apply), and run them now.
function T.keys(keys)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), "x", false)
end

--- The error messages vim.notify showed so far.
function T.errors()
  return vim.tbl_filter(function(n)
    return n.level >= vim.log.levels.ERROR
  end, T.notifications)
end

function T.info()
  return require("yoi").info() or {}
end

function T.text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n")
end

function T.chat_text()
  return T.text(T.info().bufnr)
end

function T.wait_pod()
  T.wait("a pod", function()
    return T.info().pod_id ~= nil
  end)
end

--- Send `text` from the chat and wait until the turn is over.
function T.send(text)
  require("yoi").submit(text)
  T.wait("the turn to end", function()
    local info = T.info()
    return info.pod_id ~= nil and not info.running
  end, 40000)
end

-- Globals defined by anyone but Neovim itself (the plugin must define none).
local function globals()
  local names = {}
  for name in pairs(_G) do
    if type(name) == "string" and name:lower():find("yoi") then
      table.insert(names, name)
    end
  end
  for _, name in ipairs(vim.fn.eval("keys(g:)")) do
    if name:lower():find("yoi") then
      table.insert(names, "g:" .. name)
    end
  end
  return names
end

function T.run(body)
  local ok, err = xpcall(body, debug.traceback)
  if not ok then
    T.result.error = err
    -- what the chat showed, to explain the failure
    local info = require("yoi").info()
    if info then
      T.result.error = err .. "\n--- chat:\n" .. T.text(info.bufnr)
    end
  end
  T.result.notifications = T.notifications
  T.result.asked = T.asked
  T.result.globals = globals()
  vim.fn.writefile({ vim.json.encode(T.result) }, assert(os.getenv("YOI_TEST_OUT")))
  vim.cmd(ok and "qall!" or "cquit 1")
end

return T
