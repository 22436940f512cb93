-- Helpers for the Lua scripts that tests/test_nvim.py runs in a headless Neovim.
--
-- A script is `local T = dofile(harness); T.run(function() ... end)`. T.run
-- writes T.result (plus what vim.notify showed, what vim.ui.select asked, what
-- each edit review showed and which deprecated functions were called) as JSON
-- to $YOI_TEST_OUT, then quits (exit code 1 if the body raised).
local T = {}

T.root = assert(os.getenv("YOI_TEST_ROOT"), "YOI_TEST_ROOT is not set")
T.cmd = vim.json.decode((assert(os.getenv("YOI_TEST_CMD"), "YOI_TEST_CMD is not set")))
T.result = {}
T.notifications = {}
T.asked = {}
-- Answers for vim.ui.select, in order: { label = "exact" } or { match = "substring" },
-- with `async = true` to answer from a scheduled callback like UI plugins do.
T.answers = {}
-- Keys for each edit review, in order: a list of keys (typed in the review as
-- the user would) and functions (run at that point, e.g. to look at the screen).
T.reviews = {}
-- What each review showed when it opened: { question, modal, screen }.
T.reviewed = {}
T.deprecated = {}
local problems = {}

if vim.deprecate then
  local deprecate = vim.deprecate
  vim.deprecate = function(name, ...)
    table.insert(T.deprecated, name)
    return deprecate(name, ...)
  end
end

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

--- The screen as the user sees it: one string per row, trailing blanks cut.
function T.screen()
  vim.cmd("redraw")
  local rows = {}
  for row = 1, vim.o.lines do
    local cells = {}
    for col = 1, vim.o.columns do
      cells[col] = vim.fn.screenstring(row, col)
    end
    rows[row] = (table.concat(cells):gsub("%s+$", ""))
  end
  return rows
end

--- Whether `text` is on one of the screen's rows.
function T.on_screen(screen, text)
  for _, row in ipairs(screen) do
    if row:find(text, 1, true) then
      return true
    end
  end
  return false
end

-- A review that holds Neovim (Neovim < 0.10) reads its keys itself: they are
-- queued, a function step as a key mapped to it. Otherwise the keys are typed
-- once the review waits, from the event loop.
local steps_due = {}
vim.keymap.set("n", "<Plug>(yoi-test-step)", function()
  table.remove(steps_due, 1)()
end)

vim.api.nvim_create_autocmd("User", {
  pattern = "YoiReview",
  callback = function()
    local review = require("yoi.review").current()
    table.insert(T.reviewed, { question = review.question, modal = review.modal, screen = T.screen() })
    local steps = table.remove(T.reviews, 1)
    if not steps then
      table.insert(problems, "a review that the test did not expect: " .. review.question)
      steps = { "r" }
    end
    if review.modal then
      local keys = {}
      for _, step in ipairs(steps) do
        if type(step) == "function" then
          table.insert(steps_due, step)
          step = "<Plug>(yoi-test-step)"
        end
        table.insert(keys, step)
      end
      vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(table.concat(keys), true, false, true), "t", false)
    else
      vim.schedule(function()
        for _, step in ipairs(steps) do
          if type(step) == "function" then
            step()
          else
            T.keys(step)
          end
        end
      end)
    end
  end,
})

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
  if ok and #problems > 0 then
    ok, err = false, table.concat(problems, "\n")
  end
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
  T.result.reviewed = T.reviewed
  T.result.deprecated = T.deprecated
  T.result.globals = globals()
  vim.fn.writefile({ vim.json.encode(T.result) }, assert(os.getenv("YOI_TEST_OUT")))
  vim.cmd(ok and "qall!" or "cquit 1")
end

return T
