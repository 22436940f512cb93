"""``[model] fallbacks`` through the real server and the real litellm: a
rate-limited, failing or overflowing main model hands the request to the next
model, and the user is told which model answered."""

from __future__ import annotations

from pathlib import Path

import pytest
from lspkit import env as env  # noqa: PLC0414 (the fixture)
from lspkit import start, stop
from mcpkit import write_user_manifest

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws.resolve()


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 429, "error": "Rate limit reached for requests"},
        {"status": 503, "error": "The server is overloaded"},
        {
            "status": 400,
            "error": "This model's maximum context length is 8192 tokens. However, your "
            "messages resulted in 9000 tokens. context_length_exceeded",
        },
    ],
    ids=["rate-limit", "overloaded", "context-window"],
)
async def test_a_fallback_model_answers_when_the_main_one_fails(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel, failure: dict[str, object]
) -> None:
    write_user_manifest(env, '[model]\nmax_retries = 0\nfallbacks = ["openai/backup-model"]\n')
    scripted_model.load([failure, {"text": "Answered by the backup."}, {"text": "again"}])
    lsp = await start(env, root)
    try:
        pod = await lsp.create_pod()
        result = await lsp.chat(pod, "hello")
        assert result["outcome"] == "finished", result
        assert [b["model"] for b in scripted_model.requests] == ["scripted", "backup-model"]
        history = await lsp.request("yoi/pod/history", {"podId": pod})
        assert history["items"][-1]["text"] == "Answered by the backup."
        alerts = [a["message"] for a in lsp.events(pod, "alert") if a["source"] == "llm"]
        assert any("openai/backup-model answered" in m and "openai/scripted" in m for m in alerts)
        # the next turn tries the main model first again
        await lsp.chat(pod, "and now")
        assert scripted_model.requests[2]["model"] == "scripted"
    finally:
        await stop(lsp)


async def test_a_429_storm_is_retried_then_the_fallback_answers(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    write_user_manifest(
        env,
        "[model]\nmax_retries = 2\nretry_base_delay = 0.01\nretry_max_delay = 0.05\n"
        'fallbacks = ["openai/backup-model"]\n',
    )
    storm = [{"status": 429, "error": "Rate limit reached"}] * 3
    scripted_model.load([*storm, {"text": "Backup here."}])
    lsp = await start(env, root)
    try:
        pod = await lsp.create_pod()
        assert (await lsp.chat(pod, "hello"))["outcome"] == "finished"
        models = [b["model"] for b in scripted_model.requests]
        assert models == ["scripted"] * 3 + ["backup-model"]  # its retries first, then the next
        retries = [a for a in lsp.events(pod, "alert") if "retrying" in a["message"]]
        assert len(retries) == 2
    finally:
        await stop(lsp)


async def test_when_every_model_fails_the_error_is_the_usual_one(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    write_user_manifest(env, '[model]\nmax_retries = 0\nfallbacks = ["openai/backup-model"]\n')
    scripted_model.load([{"status": 429, "error": "slow down"}] * 2)
    lsp = await start(env, root)
    try:
        pod = await lsp.create_pod()
        result = await lsp.chat(pod, "hello")
        assert result["outcome"] == "error"
        assert "rate" in result["error"].lower()
        assert [b["model"] for b in scripted_model.requests] == ["scripted", "backup-model"]
    finally:
        await stop(lsp)
