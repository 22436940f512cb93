-- yoi: user commands only; every module loads on first use (:help yoi).
if vim.fn.has("nvim-0.7") == 0 then
  return
end

local function yoi()
  return require("yoi")
end

local command = vim.api.nvim_create_user_command

command("YoiChat", function(args)
  if args.range > 0 then
    yoi().add_selection(args.line1, args.line2, args.args)
  else
    yoi().chat({ text = args.args })
  end
end, { nargs = "*", range = true, desc = "yoi: open the chat (with a range: add those lines; text: send it)" })

command("YoiAttach", function(args)
  require("yoi.attach").command(args.args)
end, { nargs = 1, complete = "file", desc = "yoi: attach an image (PNG, JPEG, GIF, WebP) to the chat" })

command("YoiNew", function()
  yoi().new()
end, { desc = "yoi: start a new pod and session in the chat" })

command("YoiSessions", function(args)
  yoi().sessions({ all = args.bang })
end, { bang = true, desc = "yoi: resume a session of this folder (! for every folder)" })

command("YoiInterrupt", function()
  yoi().interrupt()
end, { desc = "yoi: stop the running turn" })

command("YoiStopCommand", function()
  yoi().stop_command()
end, { desc = "yoi: stop the running command (the agent gets its output so far)" })

command("YoiCompact", function()
  yoi().compact()
end, { desc = "yoi: compact the chat's context now" })

command("YoiKnowledge", function()
  yoi().knowledge()
end, { desc = "yoi: open a knowledge record" })

command("YoiAgents", function()
  yoi().agents()
end, { desc = "yoi: the chat's sub-agents: show one's transcript or stop it" })

command("YoiRestart", function()
  yoi().restart()
end, { desc = "yoi: restart the server; the chat resumes its session" })

command("YoiUnsaved", function(args)
  yoi().unsaved(args.bang)
end, { bang = true, desc = "yoi: files the agent changed and are not saved (! saves them)" })

command("YoiMemory", function()
  yoi().memory()
end, { desc = "yoi: open a memory record (summary, decisions, requests)" })

command("YoiCheckpoints", function()
  require("yoi.checkpoints").open(require("yoi.server").root_for(0))
end, { desc = "yoi: the chat's turns: restore files or conversation, or diff since one" })

command("YoiUndo", function()
  require("yoi.checkpoints").undo(require("yoi.server").root_for(0))
end, { desc = "yoi: take the last turn back (files and conversation)" })

command("YoiMcp", function()
  require("yoi.mcp").open(require("yoi.server").root_for(0))
end, { desc = "yoi: MCP servers with their status; pick one to restart it or see its tools" })

command("YoiMode", function(args)
  require("yoi.settings").mode(args.args)
end, {
  nargs = "?",
  complete = function(arglead)
    return require("yoi.settings").complete_mode(arglead)
  end,
  desc = "yoi: the chat's mode: agent, plan (read only) or ask (no tools); no argument: pick one",
})

command("YoiModel", function(args)
  require("yoi.settings").model(args.args)
end, { nargs = "?", desc = "yoi: the litellm model the chat's next requests go to" })

command("YoiProfile", function(args)
  require("yoi.settings").profile(args.args)
end, { nargs = "?", desc = "yoi: apply a [profiles.<name>] of the manifests to the chat's pod" })

command("YoiExecutePlan", function()
  require("yoi.settings").execute_plan()
end, { desc = "yoi: carry out the plan: agent mode, then send \"Carry out the plan.\"" })

command("YoiContext", function()
  require("yoi.inspector").open(require("yoi.server").root_for(0))
end, { desc = "yoi: what fills the chat's context window, part by part (a float; q closes)" })

command("YoiRaiseBudget", function(args)
  require("yoi.budget").raise(args.args)
end, { nargs = "?", desc = "yoi: raise this session's budget (in USD) after a turn a budget stopped" })

command("YoiRules", function()
  require("yoi.rules").open(require("yoi.server").root_for(0))
end, { desc = "yoi: this workspace's lasting approval rules; pick one to revoke it" })

command("YoiTrust", function()
  require("yoi.rules").trust(require("yoi.server").root_for(0))
end, { desc = "yoi: trust this workspace (once confirmed): new chats take its .yoi/manifest.toml whole" })
