"""The Neovim plugin and issue 16's items 2 and 3, end to end in headless
Neovim (both versions): a running command's last output line shows on its
folded tool line and :YoiStopCommand stops that one command; an accepted edit
to a buffer with the user's unsaved changes is not saved, and the command run
after it says so."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_nvim
from test_nvim import ORIGINAL, Neovim, tool_messages

from agent.testing import ScriptedModel

pytestmark = [pytest.mark.timeout(120)]

# test_nvim's fixtures: a headless Neovim per version, and its workspace
nvim = test_nvim.nvim
root = test_nvim.root

TICKS = "i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo tick-$i; sleep 0.1; done\n"


def run(command: str) -> dict[str, object]:
    return {"tool_calls": [{"name": "run_command", "arguments": {"command": command}}]}


def test_live_output_on_the_folded_line_and_stop_command(
    nvim: Neovim, root: Path, scripted_model: ScriptedModel
) -> None:
    (root / "ticks.sh").write_text(TICKS)
    scripted_model.load([run("sh ticks.sh"), {"text": "stopped it"}])
    result = nvim.run(
        """
        vim.o.columns = 160
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.answers = { { label = "Allow" } }
        require("yoi").submit("run the ticks")
        local function header()
          for _, line in ipairs(vim.api.nvim_buf_get_lines(T.info().bufnr, 0, -1, false)) do
            if line:find("^  ⚙ run_command") then
              return line
            end
          end
          return ""
        end
        T.wait("a live line", function()
          return header():find("▸ tick%-[3-9]") ~= nil
        end)
        T.result.live = header()
        T.result.screen = T.screen()
        local first = header()
        T.wait("the live line to move on", function()
          return header() ~= first
        end)
        vim.cmd("YoiStopCommand")
        T.wait("the turn to end", function()
          return not T.info().running
        end, 40000)
        T.result.done = header()
        T.result.chat = T.chat_text()
        """
    )
    assert result["live"].startswith("  ⚙ run_command sh ticks.sh  ▸ tick-")
    # the fold shows it: the header line with its live output, then "[N more]"
    assert any(
        "⚙ run_command sh ticks.sh  ▸ tick-" in row and "more]" in row for row in result["screen"]
    )
    assert "▸" not in result["done"]
    assert result["done"].startswith("  ⚙ run_command sh ticks.sh  ✓ stopped by the user")
    told = tool_messages(scripted_model, 1)[-1]
    assert "stopped by the user" in told
    assert "tick-1\ntick-2\ntick-3\n" in told and "tick-600" not in told
    assert "stopped it" in result["chat"]


def test_an_edit_to_a_buffer_with_unsaved_changes_is_not_saved_and_the_command_says_so(
    nvim: Neovim, root: Path, scripted_model: ScriptedModel
) -> None:
    edit = {"path": "app.py", "old_string": "return 1", "new_string": "return 2"}
    scripted_model.load(
        [
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}]},
            {"tool_calls": [{"name": "edit_file", "arguments": edit}]},
            run("cat app.py"),
            {"text": "done"},
        ]
    )
    result = nvim.run(
        """
        T.setup()
        vim.cmd("edit " .. T.root .. "/app.py")
        vim.api.nvim_buf_set_lines(0, 2, 2, false, { "# my unsaved work" })
        vim.cmd("YoiChat")
        T.wait_pod()
        T.reviews = { { "a" } }
        T.answers = { { label = "Allow" } }
        T.send("make it 2")
        local app = vim.fn.bufnr(T.root .. "/app.py")
        T.result.app = vim.api.nvim_buf_get_lines(app, 0, -1, false)
        T.result.modified = vim.bo[app].modified
        """
    )
    assert result["app"] == ["def main():", "    return 2", "# my unsaved work"]
    assert result["modified"] is True
    assert (root / "app.py").read_text() == ORIGINAL  # never saved behind the user's back
    (asked,) = result["asked"]
    assert (
        "app.py has unsaved changes in the editor; the command will see the saved"
        in (asked["prompt"])
    )
    told = tool_messages(scripted_model, 3)[-1]
    assert "note: app.py has unsaved changes in the editor; the command saw the saved version" in (
        told
    )
    assert "return 1" in told  # what the command saw
