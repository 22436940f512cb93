"""Money through the real ``yoi lsp`` process and the real litellm: each
request's cost from litellm's cost map (or the manifest's prices), the turn's,
session's and day's spend in ``usage`` events, and ``[budget]`` stopping a
turn before the request that would pass it; spend survives a restart."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lspkit import Session, start, stop
from lspkit import env as env  # noqa: PLC0414 (the fixture)
from mcpkit import write_user_manifest

from agent.manifest import load_manifest
from agent.store import LlmUsage, SessionStore
from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws.resolve()


def reply(text: str, prompt: int, completion: int) -> dict[str, Any]:
    return {"text": text, "usage": {"prompt_tokens": prompt, "completion_tokens": completion}}


def litellm_cost(model: str, prompt: int, completion: int) -> float:
    """What the real litellm's cost map says, asked in a process of its own."""
    code = (
        "import litellm, sys\n"
        f"p, c = litellm.cost_per_token(model={model!r}, prompt_tokens={prompt}, "
        f"completion_tokens={completion})\n"
        "print(repr(p + c))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        timeout=60,
    )
    return float(done.stdout.strip().splitlines()[-1])


def cli_sessions(env: dict[str, str]) -> str:
    """``yoi sessions``, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "sessions"],
        check=True,
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT)},
        timeout=60,
    ).stdout


def usage_events(lsp: Session, pod: str) -> list[dict[str, Any]]:
    return lsp.events(pod, "usage")


async def test_costs_match_litellms_cost_map_and_add_up(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    env = {**env, "YOI_MODEL": "openai/gpt-4o-mini"}
    scripted_model.load([reply("one", 12_000, 800), reply("two", 13_000, 400)])
    lsp = await start(env, root)
    try:
        pod = await lsp.create_pod()
        await lsp.chat(pod, "first")
        await lsp.chat(pod, "second")
        first, second = usage_events(lsp, pod)
        expected = [
            litellm_cost("gpt-4o-mini", 12_000, 800),
            litellm_cost("gpt-4o-mini", 13_000, 400),
        ]
        assert expected[0] > 0
        assert first["costUsd"] == pytest.approx(expected[0])
        assert second["costUsd"] == pytest.approx(expected[1])
        assert second["turnCostUsd"] == pytest.approx(expected[1])  # a new turn
        assert second["sessionCostUsd"] == pytest.approx(sum(expected))
        assert second["dayCostUsd"] == pytest.approx(sum(expected))
        listed = (await lsp.request("yoi/pod/list", {}))["pods"][0]
        assert listed["sessionCostUsd"] == pytest.approx(sum(expected))
        assert listed["sessionTokens"] == 12_000 + 800 + 13_000 + 400
        history = await lsp.request("yoi/pod/history", {"podId": pod, "limit": 1})
        assert history["sessionCostUsd"] == pytest.approx(sum(expected))
        store = SessionStore(Path(env["YOI_HOME"]) / "sessions")
        logged = [e for e in store.read(listed["sessionId"]).entries if isinstance(e, LlmUsage)]
        assert [e.cost_usd for e in logged] == pytest.approx(expected)  # logged before shown
        listing = (await lsp.request("yoi/sessions/list", {}))["sessions"]
        assert listing[0]["costUsd"] == pytest.approx(sum(expected))
        listed_by_cli = await asyncio.to_thread(cli_sessions, env)
        assert f"${sum(expected):7.4f}" in listed_by_cli
    finally:
        await stop(lsp)


async def test_the_manifests_prices_win_and_a_budget_stops_the_turn_before_the_request(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    # $1,000 / $2,000 per million tokens: 3,000 in + 100 out = $3.20. The first
    # request is estimated from its size (system prompt and tools: about 3,500
    # tokens, $3.50), under the $5 budget; the second, after $3.20 spent, is not.
    write_user_manifest(
        env,
        "[model]\ninput_cost_per_mtok = 1000.0\noutput_cost_per_mtok = 2000.0\n\n"
        "[budget]\nper_session_usd = 5.0\n",
    )
    scripted_model.load([reply("one", 3_000, 100), reply("two", 3_000, 100)])
    lsp = await start(env, root)
    try:
        pod = await lsp.create_pod()
        assert (await lsp.chat(pod, "first"))["outcome"] == "finished"
        assert usage_events(lsp, pod)[0]["costUsd"] == pytest.approx(3.2)
        stopped = await lsp.chat(pod, "second")
        assert stopped["outcome"] == "budgetExceeded"
        assert "per_session_usd = 5" in stopped["error"] and "$3.2000" in stopped["error"]
        assert "raise" in stopped["error"].lower()
        assert len(scripted_model.requests) == 1  # the request never went out
        alerts = [a for a in lsp.events(pod, "alert") if a["source"] == "budget"]
        assert alerts and alerts[0]["level"] == "error"
        assert lsp.events(pod, "turnEnd")[-1]["outcome"] == "budgetExceeded"

        raised = await lsp.request("yoi/budget/raise", {"podId": pod, "perSessionUsd": 20.0})
        assert raised["perSessionUsd"] == 20.0
        assert raised["sessionCostUsd"] == pytest.approx(3.2)
        assert (await lsp.chat(pod, "go on"))["outcome"] == "finished"
        assert len(scripted_model.requests) == 2
    finally:
        await stop(lsp)


async def test_spend_survives_a_restart_and_a_day_budget_counts_every_session(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    prices = "[model]\ninput_cost_per_mtok = 1000.0\noutput_cost_per_mtok = 2000.0\n"
    write_user_manifest(env, prices)
    scripted_model.load([reply("one", 3_000, 100)])  # $3.20
    lsp = await start(env, root)
    try:
        pod = await lsp.create_pod()
        await lsp.chat(pod, "first")
        session = (await lsp.request("yoi/pod/list", {}))["pods"][0]["sessionId"]
    finally:
        await stop(lsp)

    # a new server, the same session: its spend comes back from the log. A new
    # session's first request (about $3.50) fits $5 alone, not after today's $3.20.
    write_user_manifest(env, prices + "\n[budget]\nper_day_usd = 5.0\n")
    scripted_model.load([reply("again", 1_000, 100)])
    lsp = await start(env, root)
    try:
        resumed = await lsp.request("yoi/pod/create", {"resumeSessionId": session})
        listed = (await lsp.request("yoi/pod/list", {}))["pods"][0]
        assert listed["sessionCostUsd"] == pytest.approx(3.2)
        # a brand-new session is still bound by what today already spent
        fresh = await lsp.create_pod()
        stopped = await lsp.chat(fresh, "hello")
        assert stopped["outcome"] == "budgetExceeded"
        assert "today has spent $3.2000" in stopped["error"]
        assert "per_day_usd = 5" in stopped["error"]
        estimate = float(re.search(r"would cost about \$([0-9.]+)", stopped["error"])[1])  # type: ignore[index]
        assert estimate < 5.0  # alone it fits: what today spent is what stopped it
        assert scripted_model.requests == []
        await lsp.request("yoi/pod/dispose", {"podId": resumed["podId"]})
    finally:
        await stop(lsp)
    day = json.loads(next((Path(env["YOI_HOME"]) / "spend").glob("*.json")).read_text())
    assert day["usd"] == pytest.approx(3.2)


def test_a_workspace_manifest_cannot_set_a_budget(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".yoi").mkdir(parents=True)
    (ws / ".yoi" / "manifest.toml").write_text("[budget]\nper_session_usd = 1000.0\n")
    loaded = load_manifest(ws, config_dir=tmp_path / "config", env={})
    assert loaded.manifest.budget.per_session_usd is None
    assert any("budget" in str(p) for p in loaded.problems)
