-- yoi: user commands only; every module loads on first use (:help yoi).
if vim.fn.has("nvim-0.7") == 0 then
  return
end

local function yoi()
  return require("yoi")
end

local command = vim.api.nvim_create_user_command

command("YoiChat", function(args)
  yoi().chat({ text = args.args })
end, { nargs = "*", desc = "yoi: open the chat (and send the text, if any)" })

command("YoiNew", function()
  yoi().new()
end, { desc = "yoi: start a new pod and session in the chat" })

command("YoiSessions", function(args)
  yoi().sessions({ all = args.bang })
end, { bang = true, desc = "yoi: resume a session of this folder (! for every folder)" })

command("YoiInterrupt", function()
  yoi().interrupt()
end, { desc = "yoi: stop the running turn" })

command("YoiCompact", function()
  yoi().compact()
end, { desc = "yoi: compact the chat's context now" })

command("YoiKnowledge", function()
  yoi().knowledge()
end, { desc = "yoi: open a knowledge record" })

command("YoiRestart", function()
  yoi().restart()
end, { desc = "yoi: restart the server; the chat resumes its session" })
