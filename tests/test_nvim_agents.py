"""Sub-agents in Neovim (issue 13, point 7), end to end in headless Neovim (both
versions) against the real server and the scripted model, whose steps say whose
request they answer (``match``: the parent's prompt or the sub-agent's task):
a sub-agent is a folded section under the parent's ``spawn_agent`` call, with
its live status, its own transcript and its answer; ``:YoiAgents`` lists it,
shows it, and stops one that runs; a restored session shows its last state."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import test_nvim
from test_nvim import Neovim

from agent.testing import ScriptedModel

pytestmark = [pytest.mark.timeout(120)]

# test_nvim's fixtures: a headless Neovim per version, and its workspace
nvim = test_nvim.nvim
root = test_nvim.root


def call(name: str, arguments: dict[str, Any], match: str, id: str | None = None) -> dict[str, Any]:
    step: dict[str, Any] = {"tool_calls": [{"name": name, "arguments": arguments}], "match": match}
    if id is not None:
        step["tool_calls"][0]["id"] = id
    return step


def say(text: str, match: str, **extra: Any) -> dict[str, Any]:
    return {"text": text, "match": match, **extra}


# Lua helpers for the scripts: the chat's lines, the sub-agent's header, folds.
HELPERS = """
local function lines()
  return vim.api.nvim_buf_get_lines(T.info().bufnr, 0, -1, false)
end
local function header_row(name)
  for row, line in ipairs(lines()) do
    if line:find("^  ◆ " .. name) then
      return row, line
    end
  end
  return nil, ""
end
local function chat_win()
  return vim.fn.win_findbuf(T.info().bufnr)[1]
end
local function status()
  local opts = { winid = chat_win(), maxwidth = 300 }
  return vim.api.nvim_eval_statusline(vim.wo[chat_win()].statusline, opts).str
end
local function closed(row)
  return vim.api.nvim_win_call(chat_win(), function()
    return vim.fn.foldclosed(row)
  end)
end
"""


def test_a_foreground_sub_agent_is_a_folded_section_with_its_answer(
    nvim: Neovim, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [
            call(
                "spawn_agent",
                {"task": "CHILD-A find the answer", "name": "research-agent", "readOnly": True},
                "PARENT-1",
                id="call_spawn",
            ),
            call("read_file", {"path": "app.py"}, "CHILD-A"),
            say("The answer is 42.", "CHILD-A", chunk_size=4, chunk_delay_ms=150),
            say("The sub-agent found 42.", "PARENT-1"),
        ]
    )
    result = nvim.run(
        HELPERS
        + """
        vim.o.columns = 160
        vim.o.lines = 40
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        require("yoi").submit("PARENT-1 ask a sub-agent")
        -- while it runs: its header says so, and its text streams into its section
        T.wait("the sub-agent's text", function()
          return T.chat_text():find("┆ The answer", 1, true) ~= nil
        end)
        T.result.live = select(2, header_row("research%-agent"))
        T.wait("the turn to end", function()
          return not T.info().running
        end, 40000)
        T.wait("the sub-agent to finish", function()
          return select(2, header_row("research%-agent")):find("finished") ~= nil
        end)
        T.result.chat = lines()
        local row, header = header_row("research%-agent")
        T.result.header = header
        T.result.closed = closed(row) == row
        T.result.screen = T.screen()
        -- :YoiAgents lists it; "Show its transcript" unfolds its section
        T.answers = { { match = "research-agent" }, { label = "Show its transcript" } }
        vim.cmd("YoiAgents")
        T.result.cursor = vim.api.nvim_win_get_cursor(0)[1]
        T.result.row = row
        T.result.open = closed(row) == -1
        T.result.in_chat = vim.api.nvim_get_current_buf() == T.info().bufnr
        -- and in a split of its own, whose folds are its own
        T.answers = { { match = "research-agent" }, { label = "Open its transcript in a split" } }
        local before = #vim.api.nvim_list_wins()
        vim.cmd("YoiAgents")
        T.result.split = #vim.api.nvim_list_wins() == before + 1
        T.result.split_cursor = vim.api.nvim_win_get_cursor(0)[1]
        """
    )
    assert result["live"] == "  ◆ research-agent · … running · read-only — CHILD-A find the answer"
    chat = result["chat"]
    header = result["header"]
    assert header == "  ◆ research-agent · ✓ finished · read-only — CHILD-A find the answer"
    row = chat.index(header)
    # under the parent's spawn_agent call and its result
    call_row = next(i for i, line in enumerate(chat) if line.startswith("  ⚙ spawn_agent"))
    assert call_row < row
    assert all(line.startswith("  │ ") for line in chat[call_row + 1 : row])
    section = []
    for line in chat[row + 1 :]:
        if not line.startswith("  ┆ "):
            break
        section.append(line[len("  ┆ ") :])
    assert section[0] == "task: CHILD-A find the answer"
    assert any(line.startswith("⚙ read_file app.py  ✓") for line in section)
    assert "The answer is 42." in section
    assert section[-1] == "── finished ──"
    # the sub-agent's text is in its section only, never in the parent's transcript
    assert [line for line in chat if "The answer is 42." in line] == ["  ┆ The answer is 42."]
    # the parent went on with the answer, after the section
    assert "The sub-agent found 42." in chat[row + len(section) :]
    assert result["closed"] is True
    # the closed fold shows the header line (the window is narrower than the line)
    assert any(
        line.endswith("│  ◆ research-agent · ✓ finished · read-only — CHILD-A find the a")
        for line in result["screen"]
    )
    picker, action = result["asked"][:2]
    assert picker["kind"] == "yoi.agent"
    assert picker["items"] == [header.removeprefix("  ◆ ")]
    assert action["kind"] == "yoi.agent.action"
    assert action["items"] == ["Show its transcript", "Open its transcript in a split"]
    assert result["in_chat"] is True and result["open"] is True
    assert result["cursor"] == result["row"]
    assert result["split"] is True and result["split_cursor"] == result["row"]
    told = [m["content"] for m in scripted_model.requests[-1]["messages"] if m["role"] == "tool"]
    assert any("The answer is 42." in str(t) for t in told)
    # a resumed session shows it again, folded, with its answer
    again = nvim.run(
        HELPERS
        + """
        T.setup()
        T.answers = { { match = "PARENT-1 ask" } }
        vim.cmd("YoiSessions")
        T.wait("the resumed session", function()
          return T.info().bufnr and T.chat_text():find("resumed session", 1, true) ~= nil
        end)
        T.result.chat = lines()
        local row = header_row("research%-agent")
        T.result.closed = closed(row) == row
        """
    )
    restored = again["chat"]
    row = restored.index(header)
    assert restored[row + 1 : row + 5] == [
        "  ┆ task: CHILD-A find the answer",
        "  ┆ answer:",
        "  ┆ The answer is 42.",
        "  ┆ ── finished ──",
    ]
    assert again["closed"] is True


def test_stop_a_running_sub_agent_from_yoi_agents_and_restore_its_state(
    nvim: Neovim, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [
            call(
                "spawn_agent",
                {"task": "CHILD-S wait", "name": "slow", "readOnly": True, "background": True},
                "PARENT-S",
            ),
            say("Started it.", "PARENT-S"),
            {"match": "CHILD-S", "hang": True},
            say("It was stopped.", "PARENT-S"),
        ]
    )
    first = nvim.run(
        HELPERS
        + """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.send("PARENT-S start a slow one")
        T.wait("the sub-agent's running row", function()
          return select(2, header_row("slow")):find("running") ~= nil
        end)
        T.result.running = select(2, header_row("slow"))
        T.result.status = status()
        T.answers = { { match = "slow" }, { label = "Stop it" } }
        vim.cmd("YoiAgents")
        T.wait("the sub-agent to stop", function()
          return select(2, header_row("slow")):find("interrupted") ~= nil
        end)
        T.result.stopped = select(2, header_row("slow"))
        T.wait("the parent to hear of it", function()
          return T.chat_text():find("It was stopped.", 1, true) ~= nil and not T.info().running
        end)
        T.result.chat = lines()
        T.result.session = T.info().session_id
        """
    )
    assert first["running"] == "  ◆ slow · … running · read-only — CHILD-S wait"
    assert "· idle · 1 sub-agent running · context" in first["status"]
    assert first["stopped"] == "  ◆ slow · ■ interrupted · read-only — CHILD-S wait"
    picker, action = first["asked"][:2]
    assert picker["items"] == ["slow · … running · read-only — CHILD-S wait"]
    assert action["items"][-1] == "Stop it"
    assert "  ┆ ── interrupted ──" in first["chat"]
    # the turn the parent started by itself for the note ends with a blank line too
    prompt = first["chat"].index("──── ✎ message yoi ────")
    assert first["chat"][prompt - 2 : prompt] == ["It was stopped.", ""]
    # the parent was told, as a note, and went on
    notes = str(scripted_model.requests[-1]["messages"])
    assert "`slow` was interrupted" in notes
    second = nvim.run(
        HELPERS
        + """
        T.setup()
        T.answers = { { match = "PARENT-S start" } }
        vim.cmd("YoiSessions")
        T.wait("the resumed session", function()
          return T.info().bufnr and T.chat_text():find("resumed session", 1, true) ~= nil
        end)
        T.result.chat = lines()
        local row = header_row("slow")
        T.result.closed = closed(row) == row
        T.answers = { { match = "slow" } }
        vim.cmd("YoiAgents")
        """
    )
    restored = second["chat"]
    row = restored.index("  ◆ slow · ■ interrupted · read-only — CHILD-S wait")
    assert restored[row - 1].startswith("  │ ✓ Started the sub-agent `slow`")  # under its call
    assert restored[row + 1 : row + 3] == ["  ┆ task: CHILD-S wait", "  ┆ ── interrupted ──"]
    assert second["closed"] is True
    sessions = second["asked"][0]["items"]
    assert any(item.startswith("↳ sub-agent: ") for item in sessions)
    # restored: listed, but there is nothing to stop
    assert second["asked"][1]["items"] == ["slow · ■ interrupted · read-only — CHILD-S wait"]


def test_a_sub_agents_approval_names_it(nvim: Neovim, scripted_model: ScriptedModel) -> None:
    scripted_model.load(
        [
            call("spawn_agent", {"task": "CHILD-P run it", "name": "runner"}, "PARENT-P"),
            call("run_command", {"command": "echo from-the-child"}, "CHILD-P"),
            say("ran it", "CHILD-P"),
            say("done", "PARENT-P"),
        ]
    )
    result = nvim.run(
        HELPERS
        + """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.answers = { { label = "Allow" } }
        T.send("PARENT-P go")
        T.result.chat = lines()
        """
    )
    (asked,) = result["asked"]
    assert asked["kind"] == "yoi.approval"
    assert asked["prompt"].startswith("yoi sub-agent: runner wants to run `echo from-the-child`")
    assert any(
        line.startswith("  ┆ ⚙ run_command echo from-the-child  ✓") for line in result["chat"]
    )


def test_the_help_has_the_sub_agents_tags(nvim: Neovim, tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    shutil.copytree(test_nvim.PLUGIN / "doc", runtime / "doc")
    result = nvim.run(
        """
        local dir = os.getenv("YOI_TEST_RUNTIME")
        vim.cmd("helptags " .. dir .. "/doc")
        vim.opt.runtimepath:append(dir)
        T.result.found = {}
        for _, tag in ipairs({ ":YoiAgents", "yoi-sub-agents" }) do
          vim.cmd("help " .. tag)
          table.insert(T.result.found, vim.fn.expand("%:t"))
        end
        """,
        env={"YOI_TEST_RUNTIME": str(runtime)},
    )
    assert result["found"] == ["yoi.txt", "yoi.txt"]


def test_a_sub_agents_own_sub_agent_is_a_line_in_its_section(
    nvim: Neovim, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [
            call("spawn_agent", {"task": "CHILD-N delegate", "name": "mid"}, "PARENT-N"),
            call(
                "spawn_agent",
                {"task": "GRAND-N look", "name": "leaf", "readOnly": True},
                "CHILD-N",
            ),
            say("leaf says hi", "GRAND-N"),
            say("mid is done", "CHILD-N"),
            say("all done", "PARENT-N"),
        ]
    )
    result = nvim.run(
        HELPERS
        + """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.send("PARENT-N go")
        T.wait("the sub-agent to finish", function()
          return select(2, header_row("mid")):find("finished") ~= nil
        end)
        T.result.chat = lines()
        T.answers = { { match = "mid" } }
        vim.cmd("YoiAgents")
        """
    )
    chat = result["chat"]
    row = chat.index("  ◆ mid · ✓ finished · writes . — CHILD-N delegate")
    section = chat[row + 1 : chat.index("  ┆ ── finished ──", row) + 1]
    assert "  ┆ ◆ leaf · … running · read-only — GRAND-N look" in section
    assert "  ┆ ◆ leaf · ✓ finished · read-only — GRAND-N look" in section
    assert "  ┆ mid is done" in section
    # the sub-agent's sub-agent's own text shows nowhere: its parent has its answer
    assert not any("leaf says hi" in line for line in chat)
    assert "all done" in chat
    assert result["asked"][0]["items"] == [chat[row].removeprefix("  ◆ ")]
