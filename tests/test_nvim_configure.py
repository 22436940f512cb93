"""Modes, model switching and profiles in Neovim (``yoi/pod/configure``, issue 15),
end to end in headless Neovim (both versions) against the real server and the
scripted model: ``:YoiMode``, ``:YoiModel``, ``:YoiProfile`` change the chat's pod,
the status line says "<model> · <mode> · NN%", the requests the model gets
follow (plan mode offers no tool that writes), a plan-mode turn offers
``:YoiExecutePlan``, and a refusal (a running turn, a bad value) is told."""

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

WRITERS = {"edit_file", "write_file", "run_command"}

# Lua helpers: the chat window's drawn status line; vim.ui.input answered from
# T.inputs (what it was asked goes to T.result.inputs).
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
local function messages()
  return vim.tbl_map(function(n) return n.message end, T.notifications)
end
"""


def tool_names(body: dict[str, Any]) -> set[str]:
    return {t["function"]["name"] for t in body.get("tools") or []}


def last_user_message(body: dict[str, Any]) -> str:
    users = [m for m in body["messages"] if m["role"] == "user"]
    return str(users[-1]["content"])


def test_plan_mode_then_execute_the_plan(nvim: Neovim, scripted_model: ScriptedModel) -> None:
    scripted_model.load([{"text": "1. Change app.py."}, {"text": "Done."}])
    result = nvim.run(
        HELPERS
        + """
        vim.o.columns = 200
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.result.before = status()
        T.result.complete = vim.fn.getcompletion("YoiMode ", "cmdline")
        T.result.complete_p = vim.fn.getcompletion("YoiMode p", "cmdline")
        -- no argument: pick from the modes
        T.answers = { { match = "plan " } }
        vim.cmd("YoiMode")
        T.wait("plan mode", function() return T.info().mode == "plan" end)
        T.result.plan_status = status()
        T.result.api_status = require("yoi").status()
        T.send("PLAN how would you change app.py?")
        T.result.offer = T.info().plan_ready
        T.result.after_plan = status()
        T.result.settings_status = require("yoi").settings_status()
        T.result.chat_after_plan = T.chat_text()
        -- the chat's mapping carries it out: agent mode, then the message
        vim.api.nvim_set_current_win(vim.fn.win_findbuf(T.info().bufnr)[1])
        T.keys("gp")
        T.wait("the second turn", function()
          return T.chat_text():find("Done.", 1, true) ~= nil and not T.info().running
        end, 40000)
        T.result.executed_mode = T.info().mode
        T.result.executed_status = status()
        T.result.plan_ready_after = T.info().plan_ready
        T.result.chat = T.chat_text()
        -- nothing planned now: the command says so
        vim.cmd("YoiExecutePlan")
        T.result.messages = messages()
        """
    )
    assert result["before"].startswith("yoi · openai/scripted · agent · idle")
    assert result["complete"] == ["agent", "plan", "ask"]
    assert result["complete_p"] == ["plan"]
    (asked,) = result["asked"]
    assert asked["kind"] == "yoi.mode"
    assert [item.split()[0] for item in asked["items"]] == ["agent", "plan", "ask"]
    assert asked["items"][0].endswith("(current)")  # agent, the mode it had
    assert not any(item.endswith("(current)") for item in asked["items"][1:])
    assert "no edits" in asked["items"][1]
    assert result["plan_status"].startswith("yoi · openai/scripted · plan · ")
    assert result["api_status"].startswith("yoi · openai/scripted · plan · ")
    # the plan-mode request offered reading tools only
    plan_request, execute_request = scripted_model.requests
    offered = tool_names(plan_request)
    assert "read_file" in offered and not offered & WRITERS
    # after the turn: the context's share of the window, and the offer to execute
    assert re.fullmatch(
        r"yoi · openai/scripted · plan · \d+% · idle · context \S+", result["after_plan"]
    )
    assert re.fullmatch(r"openai/scripted · plan · \d+%", result["settings_status"])
    assert result["offer"] is True
    assert (
        "── plan ready: gp or :YoiExecutePlan carries it out in agent mode ──"
        in result["chat_after_plan"]
    )
    # executed: agent mode, every tool again, and the message sent as a chat message
    assert result["executed_mode"] == "agent"
    assert result["executed_status"].startswith("yoi · openai/scripted · agent · ")
    assert result["plan_ready_after"] is False
    assert last_user_message(execute_request) == "Carry out the plan."
    assert tool_names(execute_request) >= WRITERS
    assert "## You\nCarry out the plan." in result["chat"]
    assert "── settings: openai/scripted · agent ──" in result["chat"]
    assert result["messages"] == [
        "yoi: no plan to carry out: plan one first in plan mode (:YoiMode plan)"
    ]


def test_yoi_model_switches_the_next_request(nvim: Neovim, scripted_model: ScriptedModel) -> None:
    scripted_model.load([{"text": "one"}, {"text": "two"}, {"text": "three"}])
    result = nvim.run(
        HELPERS
        + """
        vim.o.columns = 200
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.send("first")
        -- no argument: typed, starting from the current model
        T.inputs = { "openai/other-model" }
        vim.cmd("YoiModel")
        T.wait("the new model", function() return T.info().model == "openai/other-model" end)
        T.result.status = status()
        T.send("second")
        T.result.after = status()
        vim.cmd("YoiModel openai/third-model")
        T.wait("the third model", function() return T.info().model == "openai/third-model" end)
        T.send("third")
        T.result.chat = T.chat_text()
        """
    )
    assert [r["model"] for r in scripted_model.requests] == [
        "scripted",
        "other-model",
        "third-model",
    ]
    assert result["inputs"] == [{"prompt": "yoi model: ", "default": "openai/scripted"}]
    assert result["status"].startswith("yoi · openai/other-model · agent · ")
    assert re.match(r"yoi · openai/other-model · agent · \d+% · idle", result["after"])
    assert "── settings: openai/other-model · agent ──" in result["chat"]
    assert "── settings: openai/third-model · agent ──" in result["chat"]


PROFILES = """
[profiles.reviewer]
model = "openai/review-model"
mode = "ask"
"""


def test_profiles_and_refusals(nvim: Neovim, tmp_path: Path, scripted_model: ScriptedModel) -> None:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "manifest.toml").write_text(PROFILES)
    scripted_model.load([{"hang": True, "text": "thinking"}, {"text": "no tools here"}])
    result = nvim.run(
        HELPERS
        + """
        vim.o.columns = 200
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        -- a turn runs: the server refuses, the message says what to do
        require("yoi").submit("BUSY take your time")
        T.wait("the streamed text", function()
          return T.chat_text():find("thinking", 1, true) ~= nil
        end)
        vim.cmd("YoiMode plan")
        T.wait("the refusal", function() return #T.notifications > 0 end)
        T.result.busy = messages()
        T.result.busy_mode = T.info().mode
        vim.cmd("YoiInterrupt")
        T.wait("the interrupted turn", function() return not T.info().running end)
        -- bad values: the server's message
        T.notifications = {}
        vim.cmd("YoiMode bogus")
        T.wait("the refusal", function() return #T.notifications > 0 end)
        local bad = T.notifications[1]
        bad.level_name = bad.level == vim.log.levels.WARN and "warn" or "other"
        T.result.bad_mode = bad
        T.notifications = {}
        vim.cmd("YoiProfile nope")
        T.wait("the refusal", function() return #T.notifications > 0 end)
        T.result.bad_profile = messages()
        -- a profile: its model and mode
        vim.cmd("YoiProfile reviewer")
        T.wait("the profile", function() return T.info().profile == "reviewer" end)
        T.result.info = T.info()
        T.result.status = status()
        T.send("ASK what is app.py?")
        T.notifications = {}
        vim.cmd("YoiProfile")
        T.result.profile_message = messages()
        """
    )
    assert result["busy"] == ["yoi: a turn is running; wait for it or :YoiInterrupt"]
    assert result["busy_mode"] == "agent"
    bad_mode = result["bad_mode"]
    assert bad_mode["level_name"] == "warn"
    # the server's message, saying what is accepted
    assert bad_mode["message"].startswith("yoi: yoi/pod/configure: `mode`")
    assert all(f"'{mode}'" in bad_mode["message"] for mode in ("agent", "plan", "ask"))
    (bad_profile,) = result["bad_profile"]
    assert "nope" in bad_profile and "reviewer" in bad_profile
    info = result["info"]
    assert (info["model"], info["mode"], info["profile"]) == (
        "openai/review-model",
        "ask",
        "reviewer",
    )
    assert result["status"].startswith("yoi · openai/review-model · ask · ")
    ask_request = scripted_model.requests[-1]
    assert ask_request["model"] == "review-model"
    assert not tool_names(ask_request)  # ask mode: no tools at all
    assert result["profile_message"] == ["yoi: profile: reviewer; give a name: :YoiProfile {name}"]


def test_the_help_has_the_new_commands(nvim: Neovim, tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    shutil.copytree(test_nvim.PLUGIN / "doc", runtime / "doc")
    tags = [":YoiMode", ":YoiModel", ":YoiProfile", ":YoiExecutePlan", "yoi-modes"]
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


def test_the_profile_option_and_checkhealth(
    nvim: Neovim, tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "manifest.toml").write_text(PROFILES)
    scripted_model.load([{"text": "answered"}])
    result = nvim.run(
        HELPERS
        + """
        T.setup()
        vim.cmd("checkhealth yoi")
        T.result.plain = T.text(0)
        T.setup({ profile = "reviewer" })
        vim.cmd("checkhealth yoi")
        T.result.health = T.text(0)
        vim.cmd("YoiChat")
        T.wait_pod()
        T.result.info = T.info()
        T.send("hello")
        """
    )
    assert "new chats start in agent mode (switch with :YoiMode" in result["plain"]
    health = result["health"]
    assert "ERROR" not in health and "WARNING" not in health
    assert "model for " in health and ": openai/review-model" in health
    assert "new chats start in ask mode with the profile `reviewer`" in health
    info = result["info"]
    assert (info["model"], info["mode"], info["profile"]) == (
        "openai/review-model",
        "ask",
        "reviewer",
    )
    assert scripted_model.requests[-1]["model"] == "review-model"
