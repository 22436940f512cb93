"""``:YoiCheckpoints`` and ``:YoiUndo`` in a real headless Neovim (both
Neovims, like tests/test_nvim.py), against the real server and the scripted
model: the changes since a turn in a diff tab, a restore of files and
conversation picked from the list, and the last turn undone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lspkit import server_env
from test_nvim import NVIMS, YOI, Binary, Neovim

from agent.testing import ScriptedModel

pytestmark = [pytest.mark.timeout(120)]

COMMAND = "echo more >> notes.txt && echo generated > gen.txt && rm old.txt"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / ".git").mkdir(parents=True)
    (ws / "notes.txt").write_text("notes\n")
    (ws / "old.txt").write_text("old\n")
    return ws.resolve()


@pytest.fixture(params=NVIMS)
def nvim(
    request: pytest.FixtureRequest, tmp_path: Path, root: Path, scripted_model: ScriptedModel
) -> Neovim:
    binary: Binary = request.param
    home = tmp_path / "home"
    home.mkdir()
    config = tmp_path / "config"
    config.mkdir()
    (config / "manifest.toml").write_text('[approvals]\nmode = "auto"\n')
    env = server_env(home, config, scripted_model.base_url)
    env["YOI_TEST_ROOT"] = str(root)
    env["YOI_TEST_CMD"] = json.dumps([str(YOI), "lsp", "--stdio"])
    return Neovim(binary=binary, root=root, env=env, tmp=tmp_path)


def script() -> list[dict[str, object]]:
    return [
        {"tool_calls": [{"name": "run_command", "arguments": {"command": COMMAND}}]},
        {"text": "Changed them."},
        {"tool_calls": [{"name": "run_command", "arguments": {"command": "echo 2 > two.txt"}}]},
        {"text": "Second done."},
    ]


def test_checkpoints_diff_then_restore_files_and_conversation(
    nvim: Neovim, root: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(script())
    result = nvim.run(
        """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.send("change the files")
        T.send("one more")
        local session = T.info().session_id
        -- the changes since turn 1, notes.txt side by side with its checkpoint
        T.answers = { { match = "change the files" }, { label = "Show changes since here" },
                      { match = "notes.txt" } }
        vim.cmd("YoiCheckpoints")
        T.wait("the diff tab", function() return vim.fn.tabpagenr("$") == 2 end)
        T.result.diff = {}
        for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
          local buf = vim.api.nvim_win_get_buf(win)
          table.insert(T.result.diff, {
            name = vim.api.nvim_buf_get_name(buf),
            diff = vim.api.nvim_win_get_option(win, "diff"),
            lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false),
          })
        end
        vim.cmd("tabclose")
        -- back to before turn 1: files and conversation
        T.answers = { { match = "change the files" }, { label = "Restore files and conversation" } }
        vim.cmd("YoiCheckpoints")
        T.wait("the restore", function()
          return T.info().session_id ~= session and T.chat_text():find("back to before turn 1")
        end)
        T.result.chat = T.chat_text()
        T.result.session_changed = T.info().session_id ~= session
        -- notes.txt is open (the diff showed it): restored in its buffer, saved by the user
        local notes = vim.fn.bufnr(T.root .. "/notes.txt")
        T.result.notes_buffer = vim.api.nvim_buf_get_lines(notes, 0, -1, false)
        T.result.notes_modified = vim.api.nvim_buf_get_option(notes, "modified")
        vim.cmd("wall")
        """
    )
    turns, actions, files = result["asked"][:3]
    assert turns["kind"] == "yoi.checkpoint"
    assert turns["items"][0].startswith("2  ") and "one more" in turns["items"][0]
    assert "change the files · 3 files" in turns["items"][1]
    assert "Restore files and conversation" in actions["items"]
    assert sorted(files["items"]) == [
        "added  gen.txt",
        "added  two.txt",  # since turn 1: turn 2's too
        "deleted  old.txt",
        "modified  notes.txt",
    ]
    left, right = result["diff"]
    assert left["name"].endswith("yoi://checkpoint/1/notes.txt") and left["diff"] is True
    assert left["lines"] == ["notes"]
    assert right["name"] == str(root / "notes.txt") and right["diff"] is True
    assert right["lines"] == ["notes", "more"]
    assert result["notes_buffer"] == ["notes"] and result["notes_modified"] is True
    assert (root / "notes.txt").read_text() == "notes\n"  # after :wall
    assert (root / "old.txt").read_text() == "old\n"
    assert not (root / "gen.txt").exists() and not (root / "two.txt").exists()
    assert result["session_changed"] is True
    assert "change the files" not in result["chat"]  # the conversation ends before turn 1
    assert "back to before turn 1" in result["chat"]


def test_yoi_undo_takes_the_last_turn_back(
    nvim: Neovim, root: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([*script(), {"text": "After the undo."}])
    result = nvim.run(
        """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.send("change the files")
        T.send("one more")
        local session = T.info().session_id
        vim.cmd("YoiUndo")
        T.wait("the undo", function() return T.info().session_id ~= session end)
        T.wait("the history", function() return T.chat_text():find("back to before turn 2") end)
        T.send("instead")
        T.result.chat = T.chat_text()
        T.result.outcome = T.info().last_outcome
        """
    )
    assert (root / "gen.txt").exists() and not (root / "two.txt").exists()
    assert result["outcome"] == "finished"
    assert "one more" not in result["chat"] and "change the files" in result["chat"]
    sent = scripted_model.requests[-1]["messages"]
    users = [m["content"] for m in sent if m["role"] == "user"]
    assert users == ["change the files", "instead"]
