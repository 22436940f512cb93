"""The Neovim plugin: the papercuts of issue 16 (item 6) and a resumed
history loaded a page at a time (issue 10, item 5).

Same harness and fixtures as tests/test_nvim.py: a real headless Neovim
(both versions) typing keys and reading the screen, the real server, the
scripted model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from test_nvim import Neovim, nvim, read, root  # noqa: F401

from agent.testing import ScriptedModel

pytestmark = [pytest.mark.timeout(120)]

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def screen_text(screen: list[str]) -> str:
    return "\n".join(screen)


def test_the_chat_window_spinner_keys_and_an_interrupt_that_survives_a_resume(
    nvim: Neovim,  # noqa: F811
    root: Path,  # noqa: F811
    scripted_model: ScriptedModel,
) -> None:
    knowledge = root / ".yoi" / "knowledge"
    knowledge.mkdir(parents=True)
    (knowledge / "deploy.md").write_text("# Deploying\n\nTag, then push.\n")
    decisions = root / ".yoi" / "memory" / "decisions"
    decisions.mkdir(parents=True)
    (decisions / "use-postgres.md").write_text(
        "---\nstatus: open\ncreated_at: 2026-11-30T10:00:00Z\nupdated_at: 2026-12-01T09:30:00Z\n"
        "sources:\n  - session_id: s1\n    range: [0, 4]\n---\n"
        "# Use Postgres\n\nFor concurrent writers.\n"
    )
    # the first chunk comes after 3 s (interrupting before it is another matter: see the report)
    slow = {"text": "slow answer", "chunk_size": 4, "chunk_delay_ms": 3000}
    scripted_model.load([slow, {"text": "All done."}])
    result = nvim.run(
        """
        vim.o.columns = 150
        vim.o.lines = 40
        T.setup({ chat = { size = 64 } })
        vim.cmd("edit " .. T.root .. "/app.py")
        vim.cmd("YoiChat")
        T.wait_pod()
        local chat_win = vim.api.nvim_get_current_win()
        T.result.width = vim.api.nvim_win_get_width(chat_win)
        T.result.opened = T.screen()
        -- (the workspace index reports its progress in the status line too: wait it out)
        T.wait("the index", function()
          local line = vim.api.nvim_eval_statusline(vim.wo.statusline, {}).str
          return not line:find("Indexing", 1, true)
        end)
        T.result.status = vim.api.nvim_eval_statusline(vim.wo.statusline, {}).str
        -- ? shows the keys; q closes the help
        T.keys("?")
        T.result.help = T.screen()
        T.keys("q")
        T.result.windows_after_help = #vim.api.nvim_list_wins()
        -- the spinner while the model has not answered
        require("yoi").submit("a long story")
        T.wait("the spinner", function()
          return (T.info().activity or ""):find("waiting for the model", 1, true) ~= nil
        end)
        T.result.waiting = T.screen()
        local wide = { maxwidth = 300 }
        T.result.waiting_status = vim.api.nvim_eval_statusline(vim.wo.statusline, wide).str
        T.wait("streamed text", function() return T.chat_text():find("slow", 1, true) ~= nil end)
        T.result.streaming_activity = T.info().activity or false
        T.keys("<C-c>")
        T.wait("the interrupted turn", function() return not T.info().running end)
        T.result.activity_after = T.info().activity or false
        -- resumed: the interrupted marker is still there, the note names the session
        local function resume()
          vim.cmd("YoiNew")
          T.wait("a new session", function() return T.info().pod_id ~= nil end)
          T.answers = { { match = "a long story" } }
          vim.cmd("YoiSessions")
          T.wait("the resumed session", function()
            return T.chat_text():find("resumed session", 1, true) ~= nil
          end)
          return T.chat_text()
        end
        T.result.resumed = resume()
        T.send("go on")
        T.result.resumed_again = resume()
        -- :YoiKnowledge and :YoiMemory from the chat open beside it
        vim.api.nvim_set_current_win(chat_win)
        T.answers = { { match = "Deploying" } }
        vim.cmd("YoiKnowledge")
        T.wait("the record", function()
          return vim.api.nvim_buf_get_name(0):find("deploy.md", 1, true) ~= nil
        end)
        T.result.chat_kept = vim.api.nvim_win_get_buf(chat_win) == T.info().bufnr
        vim.api.nvim_set_current_win(chat_win)
        T.answers = { { match = "Use Postgres" } }
        vim.cmd("YoiMemory")
        T.wait("the memory record", function()
          return vim.api.nvim_buf_get_name(0):find("use-postgres.md", 1, true) ~= nil
        end)
        T.result.chat_kept_memory = vim.api.nvim_win_get_buf(chat_win) == T.info().bufnr
        """
    )
    assert result["width"] == 64
    opened = screen_text(result["opened"])
    assert re.search(r"──── ✎ message yoi ──── +<CR> send · <C-c> stop · \? keys", opened)
    assert result["status"].strip() == "yoi · openai/scripted · agent · idle"  # the name once
    help_screen = screen_text(result["help"])
    assert "gy" in help_screen and "yank the code block under the cursor" in help_screen
    assert "<C-c>" in help_screen and "stop the running turn" in help_screen
    assert result["windows_after_help"] == 2
    waiting = screen_text(result["waiting"])
    assert re.search(r"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] waiting for the model · <C-c> stop", waiting), waiting
    assert "waiting for the model" in result["waiting_status"]
    assert result["streaming_activity"] is False  # the reply shows for itself
    assert result["activity_after"] is False
    resumed = result["resumed"]
    assert "## You\na long story\n\n## yoi\nslow\n\n── interrupted ──" in resumed
    assert "── resumed session “a long story” (1 turn, just now) ──" in resumed
    assert not UUID.search(resumed)
    again = result["resumed_again"]
    assert "## yoi\nslow\n\n── interrupted ──\n\n## You\ngo on\n\n## yoi\nAll done." in again
    assert again.count("interrupted") == 1
    assert "[Interrupted by user]" not in again
    assert result["chat_kept"] is True and result["chat_kept_memory"] is True
    kinds = [a["kind"] for a in result["asked"]]
    assert kinds == ["yoi.session", "yoi.session", "yoi.knowledge", "yoi.memory"]
    assert result["asked"][3]["items"] == [
        "[decision] Use Postgres (open) — For concurrent writers."
    ]


def test_checkhealth_fails_without_a_model_and_shows_the_context_window(
    nvim: Neovim,  # noqa: F811
    root: Path,  # noqa: F811
) -> None:
    (root / ".yoi").mkdir()
    (root / ".yoi" / "manifest.toml").write_text("[model]\ncontext_window = 50000\n")
    result = nvim.run(
        """
        T.setup()
        vim.cmd("checkhealth yoi")
        T.result.without = T.text(0)
        T.setup({ model = "openai/scripted" })
        vim.cmd("checkhealth yoi")
        T.result.with = T.text(0)
        """,
        env={"YOI_MODEL": ""},
    )
    without = result["without"]
    assert "ERROR" in without and "no model configured for" in without
    assert "YOI_MODEL" in without  # says how to fix it
    with_model = result["with"]
    assert "no model configured" not in with_model
    assert "model for " in with_model and ": openai/scripted" in with_model
    assert "context window: 50,000 tokens (from the manifest); compacts at 37,500" in with_model


def turn(reply: str) -> list[dict[str, Any]]:
    return [read("app.py"), {"text": reply}]


def test_a_long_session_resumes_a_page_at_a_time(
    nvim: Neovim,  # noqa: F811
    scripted_model: ScriptedModel,
) -> None:
    # five turns of four items each (message, call, result, reply): 20 items
    replies = ["reply one", "reply two", "reply three", "reply four", "five"]
    scripted_model.load([step for reply in replies for step in turn(reply)])
    result = nvim.run(
        """
        vim.o.lines = 20
        T.setup({ chat = { history_page = 9, position = "bottom", size = 10 } })
        vim.cmd("YoiChat")
        T.wait_pod()
        for _, n in ipairs({ "one", "two", "three", "four", "five" }) do
          T.send("message " .. n)
        end
        local session = T.info().session_id
        vim.cmd("YoiNew")
        T.wait("a new session", function() return T.info().pod_id ~= nil end)
        T.answers = { { match = "message one" } }
        vim.cmd("YoiSessions")
        T.wait("the resumed session", function()
          return T.info().session_id == session and T.chat_text():find("resumed", 1, true) ~= nil
        end)
        local buf = T.info().bufnr
        T.result.first_page = T.chat_text()
        T.keys("G")
        T.keys("gg")
        T.wait("the second page", function()
          return T.chat_text():find("## You\\nmessage two", 1, true) ~= nil
        end)
        T.result.second_page = T.chat_text()
        T.result.cursor_line = vim.api.nvim_get_current_line()
        T.result.cursor_row = vim.api.nvim_win_get_cursor(0)[1]
        T.result.screen = T.screen()
        -- scrolling up to the first line loads too (WinScrolled, which Neovim's
        -- main loop fires after <C-y>; a script's keys leave that to us)
        T.keys("G")
        T.keys(vim.fn.line(".") .. "<C-y>")
        T.result.top_shown = vim.fn.line("w0")
        local win = tostring(vim.api.nvim_get_current_win())
        vim.api.nvim_exec_autocmds("WinScrolled", { pattern = win })
        T.wait("the last page", function()
          return T.chat_text():find("## You\\nmessage one", 1, true) ~= nil
        end)
        T.result.whole = T.chat_text()
        -- the whole history drawn at once, for comparison
        local full
        local pod = T.info().pod_id
        require("yoi.server").request(T.root, "yoi/pod/history", { podId = pod }, function(_, r)
          full = r
        end)
        T.wait("the whole history", function() return full ~= nil end)
        T.result.full = require("yoi.history").render_lines(full.items)
        """
    )
    # a page starts at a user message: items 11 to 19 drawn from 12 (message four)
    first = result["first_page"]
    assert first.startswith("── ↑ 12 earlier items: scroll to the top to load them ──\n## You\n")
    assert "message four" in first and "message five" in first
    assert "reply three" not in first
    second = result["second_page"]
    assert second.startswith("── ↑ 4 earlier items: scroll to the top to load them ──\n## You\n")
    assert "## You\nmessage two" in second and "## You\nmessage three" in second
    assert "reply one" not in second
    # the cursor stayed on what was at the top before the page came in
    first_lines, second_lines = first.split("\n"), second.split("\n")
    assert second_lines[result["cursor_row"] - 1 :] == first_lines[1:]
    assert result["cursor_line"] == "## You" and result["cursor_line"] in screen_text(
        result["screen"]
    )
    assert result["top_shown"] == 1
    whole = result["whole"]
    assert "earlier items" not in whole
    for text in ("message one", "reply one", "message two", "reply three", "message four", "four"):
        assert text in whole
    assert whole.index("message one") < whole.index("message two") < whole.index("message four")
    assert whole.index("reply one") < whole.index("message two")
    drawn = whole.split("\n")
    assert drawn[: len(result["full"])] == result["full"]  # as if drawn at once
