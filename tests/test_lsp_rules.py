"""Approval rules that last, and trusting a workspace from the editor, through
the real ``yoi lsp`` process: an "always allow" answer skips the question in a
later session of the same workspace, never in another; rules are listed and
revoked; a trusted workspace's manifest is taken whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lspkit import Session, start, stop
from lspkit import env as env  # noqa: PLC0414 (the fixture)

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(90)

DENIED = "The user denied"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws.resolve()


def command(text: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "run_command", "arguments": {"command": text}}]}


async def run(lsp: Session, scripted_model: ScriptedModel, text: str) -> str:
    """A turn that runs ``text``; what the model got back."""
    scripted_model.load([command(text), {"text": "done"}])
    pod = await lsp.create_pod()
    await lsp.chat(pod, f"run {text}")
    body = scripted_model.requests[-1]
    return "".join(str(m["content"]) for m in body["messages"] if m["role"] == "tool")


async def test_always_allow_lasts_for_the_workspace_and_can_be_revoked(
    env: dict[str, str], root: Path, tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    lsp = await start(env, root)
    try:
        lsp.state.approval_answers.append({"decision": "allowAlways"})
        assert DENIED not in await run(lsp, scripted_model, "echo first")
        assert len(lsp.state.approvals) == 1

        rules = (await lsp.request("yoi/approvals/rules", {}))["rules"]
        assert [(r["key"], r["label"], r["tool"]) for r in rules] == [
            ("run_command:echo", "echo first", "run_command")
        ]
        saved = json.loads((Path(env["YOI_CONFIG_DIR"]) / "approvals.json").read_text())
        assert list(saved["workspaces"]) == [str(root)]  # the user's config, not the repository
        assert not (root / ".yoi").exists()

        # a new session of the same workspace: not asked
        assert DENIED not in await run(lsp, scripted_model, "echo second")
        assert len(lsp.state.approvals) == 1
    finally:
        await stop(lsp)

    other = tmp_path / "other"
    other.mkdir()
    lsp = await start(env, other.resolve())
    try:  # another workspace: asked (and refused here)
        assert DENIED in await run(lsp, scripted_model, "echo first")
        assert len(lsp.state.approvals) == 1
    finally:
        await stop(lsp)

    lsp = await start(env, root)
    try:  # revoked: asked again
        rule = (await lsp.request("yoi/approvals/rules", {}))["rules"][0]["id"]
        assert (await lsp.request("yoi/approvals/revoke", {"id": rule}))["revoked"] is True
        assert (await lsp.request("yoi/approvals/rules", {}))["rules"] == []
        assert DENIED in await run(lsp, scripted_model, "echo third")
        assert len(lsp.state.approvals) == 1
        assert (await lsp.request("yoi/approvals/revoke", {"id": rule}))["revoked"] is False
    finally:
        await stop(lsp)


async def test_trusting_the_workspace_takes_its_manifest_whole(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    (root / ".yoi").mkdir()
    (root / ".yoi" / "manifest.toml").write_text('[approvals]\nmode = "auto"\n')
    lsp = await start(env, root)
    try:
        # untrusted: the repository cannot turn approvals off; asked, refused here
        assert DENIED in await run(lsp, scripted_model, "echo untrusted")
        assert len(lsp.state.approvals) == 1

        trusted = await lsp.request("yoi/workspace/trust", {})
        assert trusted == {"workspace": str(root), "trusted": True}
        assert DENIED not in await run(lsp, scripted_model, "echo trusted")
        assert len(lsp.state.approvals) == 1  # not asked: mode = "auto" now applies
    finally:
        await stop(lsp)
