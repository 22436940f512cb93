"""Approvals that last and trusting a workspace in Neovim, end to end in
headless Neovim (both versions) against the real server and the scripted
model: the approval's "Always allow in this workspace" answers ``allowAlways``
so a new chat of the workspace is not asked again; ``:YoiRules`` lists the
rule and revokes it once confirmed (the next run asks again); ``:YoiTrust``,
once confirmed, makes new chats take the workspace's ``.yoi/manifest.toml``
whole, and an ignored manifest key offers it in the chat."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import test_nvim
from test_nvim import Neovim

from agent.testing import ScriptedModel

pytestmark = [pytest.mark.timeout(150)]

# test_nvim's fixtures: a headless Neovim per version, and its workspace
nvim = test_nvim.nvim
root = test_nvim.root

ALWAYS = "Always allow in this workspace"
REVOKE = "Revoke it (ask again next time)"
TRUST = "Yes, trust this workspace"
HINT = ":YoiTrust trusts this workspace"

HELPERS = """
local function messages()
  return vim.tbl_map(function(n) return n.message end, T.notifications)
end
local function told(text)
  for _, message in ipairs(messages()) do
    if message:find(text, 1, true) then
      return true
    end
  end
  return false
end
local function new_chat()
  local before = T.info().pod_id
  vim.cmd("YoiNew")
  T.wait("a new pod", function()
    local now = T.info().pod_id
    return now ~= nil and now ~= before
  end)
end
"""


def run(command: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "run_command", "arguments": {"command": command}}]}


def tool_output(model: ScriptedModel, request: int) -> str:
    return "".join(
        str(m["content"]) for m in model.requests[request]["messages"] if m["role"] == "tool"
    )


def test_always_allow_lasts_for_new_chats_and_yoi_rules_revokes_it(
    nvim: Neovim, root: Path, tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [
            run("echo hi"),
            {"text": "ran hi"},
            run("echo again"),
            {"text": "ran again"},
            run("echo third"),
            {"text": "asked"},
        ]
    )
    result = nvim.run(
        HELPERS
        + """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        -- no rules yet: said so
        vim.cmd("YoiRules")
        T.wait("the no-rules message", function() return told("no lasting approval rules") end)
        T.result.none = messages()
        T.result.where = vim.fn.fnamemodify(T.root, ":~")
        T.answers = { { label = "Always allow in this workspace" } }
        T.send("run hi")
        T.result.saved = table.concat(vim.fn.readfile(os.getenv("YOI_TEST_APPROVALS")), " ")
        -- a new chat (a new pod and session) of the workspace: not asked
        new_chat()
        T.send("run again")
        T.result.asked_after_again = #T.asked
        -- :YoiRules lists the rule; picking it and confirming revokes it
        T.answers = { { match = "echo hi" }, { label = "Revoke it (ask again next time)" } }
        vim.cmd("YoiRules")
        T.wait("the revoke", function() return told("revoked: ") end)
        -- asked again (denied here)
        new_chat()
        T.answers = { { label = "Deny" } }
        T.send("run third")
        T.result.chat = T.chat_text()
        T.result.help = require("yoi.keyhelp").lines()
        vim.cmd("YoiRules")
        T.wait("no rules again", function()
          local n = 0
          for _, message in ipairs(messages()) do
            if message:find("no lasting approval rules", 1, true) then n = n + 1 end
          end
          return n == 2
        end)
        T.result.messages = messages()
        """,
        env={"YOI_TEST_APPROVALS": str(tmp_path / "config" / "approvals.json")},
    )
    assert result["none"] == [
        f"yoi: no lasting approval rules for {result['where']} "
        '("Always allow in this workspace" in an approval makes one)'
    ]
    asked = result["asked"]
    assert [a["kind"] for a in asked] == [
        "yoi.approval",
        "yoi.rules",
        "yoi.confirm",
        "yoi.approval",
    ]
    # the new choice comes last: the others keep their place (and number)
    assert asked[0]["items"] == ["Allow", "Allow for this session", "Deny", ALWAYS]
    assert "echo hi" in asked[0]["prompt"]
    assert result["asked_after_again"] == 1  # the second chat ran `echo again` unasked
    (rule,) = asked[1]["items"]
    assert rule.startswith("echo hi  [run_command: run_command:echo]  since ")
    assert asked[2]["items"] == [REVOKE, "Keep it"]
    assert "echo hi" in asked[2]["prompt"] and "ask again" in asked[2]["prompt"]
    assert "echo third" in asked[3]["prompt"]
    # what the model got back: ran, ran unasked, then denied once revoked
    assert "hi" in tool_output(scripted_model, 1) and "denied" not in tool_output(scripted_model, 1)
    again = tool_output(scripted_model, 3)
    assert "again" in again and "denied" not in again
    assert "denied" in tool_output(scripted_model, 5)
    assert any(
        m.startswith("yoi: revoked: echo hi  [run_command: run_command:echo]")
        for m in result["messages"]
    )
    # the rule lived in the user's config, never the repository
    saved = json.loads(result["saved"])
    assert list(saved["workspaces"]) == [str(root)]
    assert not (root / ".yoi").exists()
    help_text = "\n".join(result["help"])
    assert ":YoiRules" in help_text and ":YoiTrust" in help_text
    assert "4 Always allow in this workspace" in help_text


def test_checkhealth_counts_the_workspaces_lasting_rules(
    nvim: Neovim, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([run("echo hi"), {"text": "ran hi"}])
    result = nvim.run(
        HELPERS
        + """
        T.setup()
        vim.cmd("checkhealth yoi")
        T.result.before = T.text(0)
        vim.cmd("YoiChat")
        T.wait_pod()
        T.answers = { { label = "Always allow in this workspace" } }
        T.send("run hi")
        vim.cmd("checkhealth yoi")
        T.result.after = T.text(0)
        """
    )
    assert "lasting approval rules for " in result["before"]
    assert ": 0" in line_with(result["before"], "lasting approval rules for ")
    after = line_with(result["after"], "lasting approval rules for ")
    assert after.endswith(": 1 (echo hi; :YoiRules lists and revokes them)"), after
    assert "ERROR" not in result["after"] and "WARNING" not in result["after"]


def line_with(text: str, part: str) -> str:
    lines = [line for line in text.splitlines() if part in line]
    assert len(lines) == 1, text
    return lines[0].strip()


def test_yoi_trust_makes_new_chats_take_the_workspace_manifest(
    nvim: Neovim, root: Path, tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    (root / ".yoi").mkdir()
    (root / ".yoi" / "manifest.toml").write_text('[approvals]\nmode = "auto"\n')
    trusted_file = tmp_path / "config" / "trusted-workspaces.json"
    scripted_model.load(
        [run("echo untrusted"), {"text": "asked"}, run("echo trusted"), {"text": "ran"}]
    )
    result = nvim.run(
        HELPERS
        + """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        -- untrusted: mode = "auto" is ignored, so the command is asked (denied here)
        T.answers = { { label = "Deny" } }
        T.send("run untrusted")
        T.wait("the trust hint", function()
          return T.chat_text():find(":YoiTrust trusts this workspace", 1, true) ~= nil
        end)
        T.result.untrusted_chat = T.chat_text()
        -- refused: nothing is trusted
        T.answers = { { label = "No" } }
        vim.cmd("YoiTrust")
        T.wait("the refusal", function() return told("not trusted") end)
        T.result.refused_file = vim.fn.filereadable(os.getenv("YOI_TEST_TRUSTED")) == 1
        -- confirmed
        T.answers = { { label = "Yes, trust this workspace" } }
        vim.cmd("YoiTrust")
        T.wait("the trust", function() return told("yoi: trusted ") end)
        T.result.trusted_chat = T.chat_text()
        new_chat()
        T.send("run trusted")
        T.result.chat = T.chat_text()
        -- the same warning as a standard window/showMessage also offers :YoiTrust
        local client = require("yoi.server").client(T.root)
        local warning = T.root .. "/.yoi/manifest.toml: hooks: [[hooks]] was ignored: "
          .. "this workspace is not trusted; to allow it, add it to [trust] workspaces"
        local ctx = { client_id = client.id, method = "window/showMessage" }
        client.handlers["window/showMessage"](nil, { type = 2, message = warning }, ctx)
        T.result.after_show = T.chat_text()
        T.result.messages = messages()
        """,
        env={"YOI_TEST_TRUSTED": str(trusted_file)},
    )
    chat = result["untrusted_chat"]
    assert "approvals.mode" in chat and "this workspace is not trusted" in chat
    assert chat.count(HINT) == 1  # once, however many keys were ignored
    asked = result["asked"]
    assert [a["kind"] for a in asked] == ["yoi.approval", "yoi.confirm", "yoi.confirm"]
    assert "echo untrusted" in asked[0]["prompt"]
    assert asked[1]["items"] == [TRUST, "No"]
    prompt = asked[1]["prompt"]
    # the question says what trusting means
    assert ".yoi/manifest.toml" in prompt and "taken whole" in prompt
    assert "without asking" in prompt and "hooks" in prompt
    assert result["refused_file"] is False
    assert "yoi: not trusted" in result["messages"]
    told = [m for m in result["messages"] if m.startswith("yoi: trusted ")]
    assert len(told) == 1 and "new chats" in told[0]
    assert "new chats (:YoiNew)" in result["trusted_chat"]
    assert json.loads(trusted_file.read_text())["workspaces"] == [str(root)]
    assert not (root / ".yoi" / "trusted-workspaces.json").exists()  # the user's config only
    # the new chat ran the command without asking: mode = "auto" applies now
    assert "denied" in tool_output(scripted_model, 1)
    trusted = tool_output(scripted_model, 3)
    assert "trusted" in trusted and "denied" not in trusted
    assert HINT not in result["chat"]  # the trusted manifest is no longer cut
    assert result["after_show"].count(HINT) == 1


def test_the_help_has_the_new_commands(nvim: Neovim, tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    shutil.copytree(test_nvim.PLUGIN / "doc", runtime / "doc")
    tags = [":YoiRules", ":YoiTrust", "yoi-approval-rules", "yoi-trust"]
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
