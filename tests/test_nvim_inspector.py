"""The context inspector, money and budgets in Neovim (issue 15), end to end in
headless Neovim (both versions) against the real server and the scripted
model: ``:YoiContext`` shows ``yoi/pod/context`` in a float (the total against
the window, then System / Tools / History, largest first, with bars), the
status line says what the session has spent, and a turn a ``[budget]`` stopped
says why and offers ``:YoiRaiseBudget``, which raises it once confirmed so the
next message goes through."""

from __future__ import annotations

import json
import re
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

# $1,000 / $2,000 per million tokens: 3,000 in + 100 out is $3.20
PRICES = "[model]\ninput_cost_per_mtok = 1000.0\noutput_cost_per_mtok = 2000.0\n"
BUDGET = PRICES + "\n[budget]\nper_session_usd = 5.0\n"

# Lua helpers: the chat window's drawn status line; vim.ui.input answered from
# T.inputs (what it was asked goes to T.result.inputs); the floating windows.
HELPERS = """
local function status()
  local win = vim.fn.win_findbuf(T.info().bufnr)[1]
  local opts = { winid = win, maxwidth = 300 }
  return vim.trim(vim.api.nvim_eval_statusline(vim.wo[win].statusline, opts).str)
end
T.inputs = {}
T.result.inputs = {}
vim.ui.input = function(opts, on_confirm)
  table.insert(T.result.inputs, { prompt = opts.prompt, default = opts.default })
  on_confirm(table.remove(T.inputs, 1))
end
local function floats()
  return vim.tbl_filter(function(win)
    return vim.api.nvim_win_get_config(win).relative ~= ""
  end, vim.api.nvim_list_wins())
end
local function messages()
  return vim.tbl_map(function(n) return n.message end, T.notifications)
end
"""


def user_manifest(tmp_path: Path, text: str) -> None:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "manifest.toml").write_text(text)


def reply(text: str, prompt: int, completion: int, **more: Any) -> dict[str, Any]:
    return {
        "text": text,
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion},
        **more,
    }


def last_user_message(body: dict[str, Any]) -> str:
    users = [m for m in body["messages"] if m["role"] == "user"]
    return str(users[-1]["content"])


def test_yoi_context_shows_the_parts_in_a_float_and_the_status_the_cost(
    nvim: Neovim, tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    user_manifest(tmp_path, PRICES)
    read = reply("", 1_000, 50, tool_calls=[{"name": "read_file", "arguments": {"path": "app.py"}}])
    # $1.10, then $2.20: the session has spent $3.30
    scripted_model.load([read, reply("It returns 1.", 2_000, 100)])
    result = nvim.run(
        HELPERS
        + """
        vim.o.columns = 200
        vim.o.lines = 60
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.result.before = status()
        T.send("what does @app.py return?")
        T.result.after = status()
        T.result.settings_status = require("yoi").settings_status()
        T.result.info = T.info()
        -- the inspector: a float with the parts of the next request
        vim.cmd("YoiContext")
        T.wait("the context float", function() return #floats() == 1 end)
        local win = floats()[1]
        T.result.relative = vim.api.nvim_win_get_config(win).relative
        T.result.focused = vim.api.nvim_get_current_win() == win
        T.result.lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
        T.result.screen = T.screen()
        T.keys("q")
        T.result.after_q = #floats()
        -- again, and <Esc> closes it too
        vim.cmd("YoiContext")
        T.wait("the context float", function() return #floats() == 1 end)
        T.keys("<Esc>")
        T.result.after_esc = #floats()
        """
    )
    # the status: no dollars before anything is spent, the session's cost after
    assert "$" not in result["before"]
    assert result["info"]["session_cost_usd"] == pytest.approx(3.3)
    assert re.fullmatch(
        r"yoi · openai/scripted · agent · \d+% · \$3\.30 · idle · context \S+", result["after"]
    )
    assert re.fullmatch(r"openai/scripted · agent · \d+% · \$3\.30", result["settings_status"])

    assert result["relative"] == "editor"
    assert result["focused"] is True
    lines: list[str] = result["lines"]
    # the total against the window (the scripted model's: the 32,000 fallback)
    assert re.fullmatch(r" [\d,]+ / 32,000 tokens \(\d+%\)( · compacts at [\d,]+)?", lines[0]), (
        lines[0]
    )
    total = int(re.match(r" ([\d,]+)", lines[0])[1].replace(",", ""))  # type: ignore[index]
    assert "openai/scripted" in lines[1]
    groups = [line.split()[0] for line in lines if re.match(r" [A-Z]\w+ +[\d,]+$", line)]
    assert groups == ["System", "Tools", "History"]
    rows = {}
    group_of = {}
    current = ""
    for line in lines:
        if re.match(r" [A-Z]\w+ +[\d,]+$", line):
            current = line.split()[0]
        found = re.fullmatch(r"   (.+?)  +([\d,]+)  ([█▏▎▍▌▋▊▉]+)", line)
        if found:
            rows[found[1]] = int(found[2].replace(",", ""))
            group_of[found[1]] = current
    assert group_of["tool results: read_file"] == "History"
    assert group_of["tool calls: read_file"] == "History"
    assert group_of["read_file"] == "Tools" and group_of["edit_file"] == "Tools"
    assert group_of["instructions (template)"] == "System"
    # the parts add up to the total (up to rounding), largest first in each group
    assert abs(sum(rows.values()) - total) <= len(rows)
    for group in ("System", "Tools", "History"):
        sizes = [rows[label] for label in rows if group_of[label] == group]
        assert sizes == sorted(sizes, reverse=True), group
    # the largest part has the whole bar
    largest = max(rows, key=lambda label: rows[label])
    bar = next(line for line in lines if line.startswith(f"   {largest} "))
    assert bar.endswith("█" * 24)
    assert any(line.startswith(" Pruned: ") for line in lines)
    assert lines[-1] == " q or <Esc> closes"
    # the float is on the screen (0.7 without a UI leaves floats out of screenstring())
    if nvim.version >= (0, 10):
        assert on_screen(result["screen"], "tool results: read_file"), "\n".join(result["screen"])
    assert result["after_q"] == 0 and result["after_esc"] == 0


def on_screen(screen: list[str], text: str) -> bool:
    return any(text in row for row in screen)


def test_a_cost_under_a_cent(nvim: Neovim, tmp_path: Path, scripted_model: ScriptedModel) -> None:
    # $1 a million tokens: 3,000 in is $0.003
    user_manifest(tmp_path, "[model]\ninput_cost_per_mtok = 1.0\noutput_cost_per_mtok = 1.0\n")
    scripted_model.load([reply("cheap", 3_000, 0)])
    result = nvim.run(
        HELPERS
        + """
        vim.o.columns = 200
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.send("hello")
        T.result.settings_status = require("yoi").settings_status()
        """
    )
    assert re.fullmatch(r"openai/scripted · agent · \d+% · <\$0\.01", result["settings_status"])


def test_a_budget_stops_the_turn_and_yoi_raise_budget_lets_the_next_go_through(
    nvim: Neovim, tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    # The first request (about 3,500 tokens: $3.50) fits the $5 budget and costs
    # $3.20; the second's estimate does not (tests/test_lsp_money.py).
    user_manifest(tmp_path, BUDGET)
    scripted_model.load([reply("one", 3_000, 100), reply("after the raise", 3_000, 100)])
    result = nvim.run(
        HELPERS
        + """
        vim.o.columns = 200
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.send("first")
        T.result.first_status = status()
        T.send("second")
        T.result.stopped = T.info()
        T.result.stopped_chat = T.chat_text()
        -- no amount: suggested; cancelled, nothing is raised
        T.inputs = {}
        vim.cmd("YoiRaiseBudget")
        T.result.after_cancel = T.info().budget_stopped
        -- a bad amount is refused at once
        vim.cmd("YoiRaiseBudget lots")
        -- the amount given, confirmed
        T.inputs = { "20" }
        vim.cmd("YoiRaiseBudget 20")
        T.wait("the raise", function() return not T.info().budget_stopped end)
        T.result.raised_chat = T.chat_text()
        T.result.messages = messages()
        T.send("third")
        T.result.info = T.info()
        T.result.chat = T.chat_text()
        T.result.status = status()
        """
    )
    assert re.fullmatch(
        r"yoi · openai/scripted · agent · \d+% · \$3\.20 · idle · context \S+",
        result["first_status"],
    )
    stopped = result["stopped"]
    assert stopped["last_outcome"] == "budgetExceeded"
    assert stopped["budget_stopped"] is True
    chat = result["stopped_chat"]
    # the message once (the pod's alert), and the offer
    assert chat.count("Budget reached: this session has spent $3.2000") == 1
    assert "per_session_usd = 5" in chat
    assert (
        "── budget reached: :YoiRaiseBudget [usd] raises this session's limit, then send again ──"
        in chat
    )
    suggested, given = result["inputs"]
    # no amount: twice the limit it met ($10 beats twice the $3.20 spent)
    assert suggested == {"prompt": "Raise this session's budget to (USD): ", "default": "10"}
    assert given == {"prompt": "Raise this session's budget to (USD): ", "default": "20"}
    assert result["after_cancel"] is True
    raised = (
        "this session's budget is raised to $20.00 (spent so far: $3.20); send your message again"
    )
    assert f"── {raised} ──" in result["raised_chat"]
    assert result["messages"] == [
        "yoi: give a positive amount: :YoiRaiseBudget 20",
        "yoi: " + raised,
    ]
    # the stopped request never went out; the next message went through to the model
    assert len(scripted_model.requests) == 2
    assert result["info"]["last_outcome"] == "finished"
    assert last_user_message(scripted_model.requests[1]) == "third"
    assert "after the raise" in result["chat"]
    assert re.search(r" · \$6\.40 · idle", result["status"])


def test_the_help_has_the_new_commands(nvim: Neovim, tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    shutil.copytree(test_nvim.PLUGIN / "doc", runtime / "doc")
    tags = [":YoiContext", ":YoiRaiseBudget", "yoi-budget"]
    result = nvim.run(
        """
        local dir = os.getenv("YOI_TEST_RUNTIME")
        vim.cmd("helptags " .. dir .. "/doc")
        vim.opt.runtimepath:append(dir)
        T.result.found = {}
        for _, tag in ipairs(vim.json.decode(os.getenv("YOI_TEST_TAGS"))) do
          vim.cmd("help " .. tag)
          table.insert(T.result.found, vim.fn.expand("%:t"))
        end
        """,
        env={"YOI_TEST_RUNTIME": str(runtime), "YOI_TEST_TAGS": json.dumps(tags)},
    )
    assert result["found"] == ["yoi.txt"] * len(tags)
