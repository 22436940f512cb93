"""The Neovim plugin: context for a message (issue 16, item 5).

A selection sent with the visual-mode key and with ``:'<,'>YoiChat`` (a
``file`` segment with its lines), ``#knowledge`` and ``/workflow`` completion,
a quoted mention of a path with spaces, ``gy``/``ga`` on a code block of the
reply, and ``:YoiUnsaved``. Same harness and fixtures as tests/test_nvim.py:
a real headless Neovim (both versions), the real server, the scripted model.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_nvim import UTIL, Neovim, edit, nvim, root, user_message  # noqa: F401

from agent.testing import ScriptedModel

pytestmark = [pytest.mark.timeout(120)]

SPACED = "one\ntwo\nthree\nfour\n"
REWRITE = "Here it is:\n\n```python\ndef one():\n    return 100\n```\n\nThat is all."


def test_selections_mentions_and_code_blocks(
    nvim: Neovim,  # noqa: F811
    root: Path,  # noqa: F811
    scripted_model: ScriptedModel,
) -> None:
    (root / "my file.py").write_text(SPACED)
    (root / ".yoi" / "knowledge").mkdir(parents=True)
    (root / ".yoi" / "knowledge" / "deploy.md").write_text(
        "---\ndescription: How we ship\n---\n# Deploying\n\nTag, then push DEPLOY-BODY.\n"
    )
    (root / ".yoi" / "workflows").mkdir()
    (root / ".yoi" / "workflows" / "release.md").write_text("Cut a release: RELEASE-BODY.\n")
    scripted_model.load([{"text": "ok"}, {"text": "ok"}, {"text": REWRITE}])
    result = nvim.run(
        """
        T.setup()
        vim.cmd("edit " .. T.root .. "/src/util.py")
        vim.cmd("YoiChat")
        T.wait_pod()
        vim.cmd("wincmd p")
        -- the visual-mode key: the selection lands in the chat's input
        T.keys("4GVj\\\\ya")
        T.result.input_after_key = require("yoi.chat").get(T.root).t:input()
        T.result.in_chat = vim.api.nvim_get_current_buf() == T.info().bufnr
        -- /workflow and #knowledge completion, then a quoted @ mention of a spaced path
        vim.api.nvim_buf_set_lines(0, -2, -1, false, { "" })
        vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(0), 0 })
        T.keys("i/rel<C-x><C-o> compare #dep<C-x><C-o> with @myfi<C-x><C-o>")
        T.keys("<Esc>")
        T.result.typed = vim.api.nvim_get_current_line()
        -- the menu: a kind and a detail, not "open open"
        T.result.menu = require("yoi.complete").items(T.root, "util", "@")[1]
        T.keys("o@src/util.py:4-5<Esc>")
        T.keys("<C-s>")
        T.wait("the first turn", function() return T.info().last_outcome == "finished" end)
        -- :'<,'>YoiChat with text sends at once
        vim.cmd("wincmd p")
        vim.cmd("edit " .. vim.fn.fnameescape(T.root .. "/my file.py"))
        vim.cmd("2,3YoiChat what are these?")
        T.wait("the second turn", function() return not T.info().running end)
        -- the selection round trip: send lines 1-2, apply the reply's code block with ga
        vim.cmd("wincmd p")
        vim.cmd("edit " .. T.root .. "/src/util.py")
        T.keys("ggVj:YoiChat rewrite<CR>")
        T.wait("the third turn", function() return not T.info().running end)
        vim.api.nvim_set_current_win(vim.fn.win_findbuf(T.info().bufnr)[1])
        T.keys("gg/return 100<CR>")
        vim.fn.setreg('"', "")
        T.keys("gy")
        T.result.yanked = vim.fn.getreg('"')
        T.keys("ga")
        local util = vim.fn.bufnr(T.root .. "/src/util.py")
        T.result.util = vim.api.nvim_buf_get_lines(util, 0, -1, false)
        -- with no lines sent from a file, ga puts the block below the file window's cursor
        require("yoi.chat").get(T.root).selection = nil
        T.keys("ga")
        T.result.util_below = vim.api.nvim_buf_get_lines(util, 0, 4, false)
        T.result.chat = T.chat_text()
        """
    )
    assert result["input_after_key"] == "@src/util.py:4-5"
    assert result["in_chat"] is True
    assert result["typed"] == '/release compare #deploy with @"my file.py"'
    menu = result["menu"]
    assert menu["word"] == "src/util.py" and menu["kind"] == "file" and menu["menu"] == "open"
    first = user_message(scripted_model, 0)
    assert first.startswith("/release compare #deploy with @")  # the server's own spelling
    assert "my file.py" in first.splitlines()[0] and first.splitlines()[1] == "@src/util.py:4-5"
    assert "RELEASE-BODY" in first and "DEPLOY-BODY" in first  # workflow and knowledge attached
    assert "four" in first  # the spaced file, whole
    assert "     4\t" in first and "     5\tdef two():" in first and "def one" not in first
    second = user_message(scripted_model, 1)
    assert "what are these?" in second
    assert "     2\ttwo" in second and "     3\tthree" in second and "four" not in second
    assert '## You\n@"my file.py":2-3 what are these?' in result["chat"]
    third = user_message(scripted_model, 2)
    assert "     1\tdef one():" in third and "def two" not in third
    assert result["yanked"] == "def one():\n    return 100\n"
    assert result["util"] == ["def one():", "    return 100", "", "", "def two():", "    return 2"]
    told = [n["message"] for n in result["notifications"]]
    assert any("applied 2 lines to src/util.py:1-2" in m for m in told)
    assert result["util_below"] == ["def one():", "def one():", "    return 100", "    return 100"]
    assert any("applied 2 lines to src/util.py below line 1" in m for m in told)
    assert (root / "src" / "util.py").read_text() == UTIL  # the disk is the user's to save


def test_unsaved_lists_the_agents_files_and_saves_them(
    nvim: Neovim,  # noqa: F811
    root: Path,  # noqa: F811
    scripted_model: ScriptedModel,
) -> None:
    (root / "notes.txt").write_text("mine\n")
    scripted_model.load(
        [
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}]},
            edit("return 1", "return 2"),
            {"text": "done"},
        ]
    )
    result = nvim.run(
        """
        T.setup()
        vim.cmd("edit " .. T.root .. "/notes.txt")
        vim.api.nvim_buf_set_lines(0, 0, 1, false, { "mine, unsaved" })
        vim.cmd("edit " .. T.root .. "/app.py")
        vim.api.nvim_buf_set_lines(0, 0, 0, false, { "# the user's line, unsaved" })
        vim.cmd("YoiChat")
        T.wait_pod()
        vim.cmd("YoiUnsaved")
        T.result.before = T.notifications[#T.notifications].message
        T.reviews = { { "a" } }
        T.send("change it")
        vim.cmd("YoiUnsaved")
        T.result.list = vim.fn.getqflist({ title = 1, items = 1 })
        T.result.list_names = vim.tbl_map(function(item)
          return vim.api.nvim_buf_get_name(item.bufnr)
        end, T.result.list.items)
        T.result.screen = T.screen()
        vim.cmd("YoiUnsaved!")
        T.result.saved = T.notifications[#T.notifications].message
        T.result.app_modified = vim.bo[vim.fn.bufnr(T.root .. "/app.py")].modified
        T.result.notes_modified = vim.bo[vim.fn.bufnr(T.root .. "/notes.txt")].modified
        vim.cmd("YoiUnsaved")
        T.result.after = T.notifications[#T.notifications].message
        T.result.list = nil
        """
    )
    assert result["before"] == "yoi: no files left unsaved by the agent"
    question = "\n".join(result["reviewed"][0]["screen"])
    assert "edit_file app.py — apply this change?" in question and "call_" not in question
    assert result["list_names"] == [str(root / "app.py")]
    assert "app.py|1| changed by yoi, not saved" in "\n".join(result["screen"])
    assert result["saved"] == "yoi: saved 1 file: app.py"
    assert (
        root / "app.py"
    ).read_text() == "# the user's line, unsaved\ndef main():\n    return 2\n"
    assert result["app_modified"] is False
    assert result["notes_modified"] is True  # not the agent's: left alone
    assert (root / "notes.txt").read_text() == "mine\n"
    assert result["after"] == "yoi: no files left unsaved by the agent"
