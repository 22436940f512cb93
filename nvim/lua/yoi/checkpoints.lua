--- :YoiCheckpoints and :YoiUndo: the chat's turns with their checkpoints
--- (`yoi/checkpoints/list`). Pick a turn, then restore its files and/or the
--- conversation to how they were before it (`yoi/checkpoints/restore`), or see
--- what changed since (`yoi/checkpoints/diff`): a tab per file, the
--- checkpoint's text beside the file with :diffthis.
local p = require("yoi.protocol")
local server = require("yoi.server")

local M = {}

local function notify(message, level)
  vim.notify("yoi: " .. message, level or vim.log.levels.INFO)
end

local function chat_for(root)
  local chat = require("yoi.chat").get(root)
  if not (chat and chat.pod_id) then
    notify("there is no chat here yet (:YoiChat)", vim.log.levels.WARN)
    return nil
  end
  return chat
end

--- One line for a turn in the picker: "2  14:05  fix the test · 3 files".
function M.format_turn(turn)
  local when = os.date("%H:%M", math.floor((turn.time or 0) / 1000))
  local text = (turn.text or ""):gsub("%s+", " ")
  if vim.fn.strchars(text) > 60 then
    text = vim.fn.strcharpart(text, 0, 59) .. "…"
  end
  local suffix = " · no checkpoint"
  if turn.checkpoint then
    local count = #(turn.files or {})
    suffix = count == 1 and " · 1 file" or (" · " .. count .. " files")
  end
  return ("%d  %s  %s%s"):format(turn.turn, when, text, suffix)
end

M.ACTIONS = {
  { label = "Restore files and conversation", files = true, conversation = true },
  { label = "Restore files", files = true, conversation = false },
  { label = "Restore conversation", files = false, conversation = true },
  { label = "Show changes since here", diff = true },
}

local function after_restore(chat, result, callback)
  local count = #(result.files or {})
  local message = ("back to before turn %d: %s"):format(
    result.turn,
    count == 1 and "1 file restored" or (count .. " files restored")
  )
  vim.cmd("checktime") -- buffers of files restored on disk
  if not result.forkedFrom then
    chat:note(message)
    notify(message)
    return callback(true, result)
  end
  chat.session_id = result.sessionId
  chat.t:clear()
  require("yoi.history").load(chat, function()
    chat:note(message .. "; the conversation continues in a fork (the old session is kept)")
    chat.t:blank()
    chat:refresh_status()
    notify(message)
    callback(true, result)
  end)
end

--- Restore turn `turn` of the chat's pod; `callback(ok, result)`.
function M.restore(root, turn, files, conversation, callback)
  callback = callback or function() end
  local chat = chat_for(root)
  if not chat then
    return callback(false)
  end
  if chat.running then
    notify("a turn is running; stop it first (:YoiInterrupt)", vim.log.levels.WARN)
    return callback(false)
  end
  local params = { podId = chat.pod_id, turn = turn, files = files, conversation = conversation }
  server.request(root, p.CHECKPOINTS_RESTORE, params, function(err, result)
    if err then
      notify("nothing was restored: " .. p.describe_error(err), vim.log.levels.ERROR)
      return callback(false)
    end
    after_restore(chat, result, callback)
  end)
end

local function split_lines(text)
  local lines = vim.split(text or "", "\n", { plain = true })
  if lines[#lines] == "" then
    table.remove(lines)
  end
  return lines
end

local function scratch(name, text)
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].swapfile = false
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, split_lines(text))
  vim.bo[buf].modifiable = false
  pcall(vim.api.nvim_buf_set_name, buf, name)
  return buf
end

--- A tab with the file as it was at the checkpoint (left) and as it is now
--- (right, the file itself), in diff mode.
function M.show_file(root, turn, file)
  vim.cmd("tabnew")
  local before = scratch(("yoi://checkpoint/%d/%s"):format(turn, file.path), file.before)
  vim.cmd("diffthis")
  if file.status == "deleted" then
    vim.cmd("rightbelow vnew")
    scratch(("yoi://deleted/%s"):format(file.path), "")
  else
    vim.cmd("rightbelow vsplit " .. vim.fn.fnameescape(root .. "/" .. file.path))
    vim.bo[before].filetype = vim.bo.filetype -- highlighted alike
  end
  vim.cmd("diffthis")
end

--- What changed since the start of `turn`: one file in a diff tab, or a
--- pick of the files; `callback(files)`.
function M.diff(root, turn, callback)
  callback = callback or function() end
  local chat = chat_for(root)
  if not chat then
    return callback(nil)
  end
  server.request(root, p.CHECKPOINTS_DIFF, { podId = chat.pod_id, turn = turn }, function(err, result)
    if err then
      notify("no diff: " .. p.describe_error(err), vim.log.levels.ERROR)
      return callback(nil)
    end
    local files = result.files or {}
    if #files == 0 then
      notify(("nothing changed since turn %d"):format(turn))
    elseif #files == 1 then
      M.show_file(root, turn, files[1])
    else
      vim.ui.select(files, {
        prompt = ("Changed since turn %d"):format(turn),
        kind = "yoi.checkpoint.file",
        format_item = function(file)
          return file.status .. "  " .. file.path
        end,
      }, function(file)
        if file then
          M.show_file(root, turn, file)
        end
      end)
    end
    callback(files)
  end)
end

local function list(root, callback)
  local chat = chat_for(root)
  if not chat then
    return
  end
  server.request(root, p.CHECKPOINTS_LIST, { podId = chat.pod_id }, function(err, result)
    if err then
      notify("no checkpoints: " .. p.describe_error(err), vim.log.levels.ERROR)
      return
    end
    local turns = result.turns or {}
    if #turns == 0 then
      notify("this chat has no turns yet")
      return
    end
    callback(turns)
  end)
end

local function act(root, turn)
  vim.ui.select(M.ACTIONS, {
    prompt = "Turn " .. turn.turn,
    kind = "yoi.checkpoint.action",
    format_item = function(action)
      return action.label
    end,
  }, function(action)
    if not action then
      return
    end
    if action.diff then
      M.diff(root, turn.turn)
    else
      M.restore(root, turn.turn, action.files, action.conversation)
    end
  end)
end

--- :YoiCheckpoints: pick a turn (newest first), then what to do with it.
function M.open(root)
  list(root, function(turns)
    local newest_first = {}
    for i = #turns, 1, -1 do
      table.insert(newest_first, turns[i])
    end
    vim.ui.select(newest_first, {
      prompt = "yoi checkpoints",
      kind = "yoi.checkpoint",
      format_item = M.format_turn,
    }, function(turn)
      if turn then
        act(root, turn)
      end
    end)
  end)
end

--- :YoiUndo: the last turn taken back, files and conversation.
function M.undo(root)
  list(root, function(turns)
    M.restore(root, turns[#turns].turn, true, true)
  end)
end

return M
