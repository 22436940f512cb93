--- Keys for a window while a server request waits for the user in a handler
--- that cannot yield (Neovim 0.7 to 0.9 answer a request before its handler
--- returns). Each whole command is read with getcharstr() and run as typed
--- (`:normal`, mappings applied), so the window's own keys and the usual
--- motions and folds (j, <C-d>, G, zo, /pattern, :command) work.
local M = {}

local CTRL_C = "\3"
local ESC = "\27"

local function raw(keys)
  return vim.api.nvim_replace_termcodes(keys, true, true, true)
end

-- Normal-mode commands that take one more key (an operator takes one motion key: yy, yj, y$).
local PENDING = {}
for _, key in ipairs({ "g", "z", "Z", "[", "]", "'", "`", "m", "f", "F", "t", "T", "@", "y", raw("<C-w>") }) do
  PENDING[key] = true
end

-- The left-hand sides (as typed) of the normal-mode mappings in effect here.
local function mapped()
  local lhs = {}
  for _, map in ipairs(vim.api.nvim_buf_get_keymap(0, "n")) do
    table.insert(lhs, raw(map.lhs))
  end
  for _, map in ipairs(vim.api.nvim_get_keymap("n")) do
    table.insert(lhs, raw(map.lhs))
  end
  return lhs
end

local function mapping_state(keys, maps)
  local longer = false
  for _, lhs in ipairs(maps) do
    if lhs == keys then
      return "exact"
    end
    longer = longer or (#lhs > #keys and lhs:sub(1, #keys) == keys)
  end
  return longer and "prefix" or "none"
end

--- One whole command as typed: a register, a count, then a mapping or a
--- built-in command. Returns the register and count (as typed), and the command.
local function read_command()
  local prefix = ""
  local keys = vim.fn.getcharstr()
  if keys == '"' then
    prefix = '"' .. vim.fn.getcharstr()
    keys = vim.fn.getcharstr()
  end
  while keys:match("^%d$") and (prefix:match("%d$") or keys ~= "0") do
    prefix = prefix .. keys
    keys = vim.fn.getcharstr()
  end
  local maps = mapped()
  local state = mapping_state(keys, maps)
  while state == "prefix" do
    keys = keys .. vim.fn.getcharstr()
    state = mapping_state(keys, maps)
  end
  if state == "none" and PENDING[keys] then
    keys = keys .. vim.fn.getcharstr()
  end
  return prefix, keys
end

local function run(command)
  local ok, err = pcall(vim.cmd, command)
  if not ok then
    vim.api.nvim_echo({ { tostring(err):gsub("^Vim%(%a+%):", ""), "ErrorMsg" } }, false, {})
  end
end

--- Run the user's keys until `done()`. `quit()` is called on <C-c>.
--- `focus()` runs after each command (to keep the cursor where it belongs).
function M.run(opts)
  while not opts.done() do
    vim.cmd("redraw")
    local prefix, keys = read_command()
    if keys == CTRL_C then
      opts.quit()
    elseif keys == ":" then
      local line = vim.fn.input({ prompt = ":", completion = "command" })
      if line ~= "" then
        run(line)
      end
    elseif keys == "/" or keys == "?" then
      local pattern = vim.fn.input({ prompt = keys })
      if pattern ~= "" then
        run("normal! " .. prefix .. keys .. pattern .. "\r")
      end
    elseif keys ~= ESC then
      -- a count keeps a leading <Space> from being taken for the space after :normal
      run("normal " .. (prefix ~= "" and prefix or (keys:sub(1, 1) == " " and "1" or "")) .. keys)
    end
    if not opts.done() then
      opts.focus()
    end
  end
end

return M
