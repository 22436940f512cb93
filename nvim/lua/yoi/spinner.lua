--- What a running turn is doing, as a spinner: `⠋ waiting for the model`.
---
--- The chat sets an activity from the `phase` events of `yoi/event` (and
--- clears it once the reply streams in or the turn ends); while one is set a
--- timer turns the spinner and calls `on_change(text)` every frame.
local compat = require("yoi.compat")

local M = {}

M.FRAMES = { "⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏" }
M.INTERVAL_MS = 120

--- The activity for a `phase` event, or nil.
function M.phase_label(event)
  local phase = event.phase
  if phase == "loadingModel" then
    return "loading the model client"
  elseif phase == "waitingForModel" then
    return "waiting for the model"
  elseif phase == "runningTool" then
    return event.tool and event.tool ~= "" and ("running " .. event.tool) or "running tools"
  elseif phase == "compacting" then
    return "compacting the context"
  end
  return nil
end

local Spinner = {}
Spinner.__index = Spinner

---@param on_change fun(text: string|nil) called with the spinner's line (nil once stopped)
function M.new(on_change)
  return setmetatable({ on_change = on_change, frame = 1 }, Spinner)
end

--- The spinner's line ("⠋ waiting for the model"), or nil when idle.
function Spinner:text()
  if not self.label then
    return nil
  end
  return M.FRAMES[self.frame] .. " " .. self.label
end

function Spinner:_tick()
  self.frame = self.frame % #M.FRAMES + 1
  self.on_change(self:text())
end

--- Show `label` (nil stops the spinner).
function Spinner:set(label)
  if label == self.label then
    return
  end
  self.label = label
  if label and not self.timer then
    self.timer = compat.uv.new_timer()
    self.timer:start(M.INTERVAL_MS, M.INTERVAL_MS, vim.schedule_wrap(function()
      if self.label then
        self:_tick()
      end
    end))
  elseif not label and self.timer then
    self.timer:stop()
    self.timer:close()
    self.timer = nil
  end
  self.on_change(self:text())
end

return M
