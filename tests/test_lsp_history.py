"""``yoi/pod/history`` pages, and restoring a long session, through the real
``yoi lsp`` process."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import pytest
from lspkit import Session
from pygls.exceptions import JsonRpcException

from agent import items
from agent.items import Item
from agent.segments import TextSegment
from agent.store import (
    ItemsEntry,
    LlmUsage,
    LogEntry,
    RunCompleted,
    SessionStart,
    SessionStore,
    TurnEnd,
    UserInput,
)
from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws.resolve()


def store_of(env: dict[str, str]) -> SessionStore:
    return SessionStore(Path(env["YOI_HOME"]) / "sessions")


async def resume(lsp: Session, session_id: str) -> str:
    created = await lsp.request("yoi/pod/create", {"resumeSessionId": session_id})
    assert created["restored"]
    return str(created["podId"])


async def history(lsp: Session, pod: str, **page: Any) -> dict[str, Any]:
    result: dict[str, Any] = await lsp.request("yoi/pod/history", {"podId": pod, **page})
    return result


def texts(result: dict[str, Any]) -> list[str]:
    return [item["text"] for item in result["items"]]


async def test_history_pages_are_index_ranges_before_a_cursor(
    lsp: Session, env: dict[str, str], scripted_model: ScriptedModel
) -> None:
    seed: list[Item] = [items.assistant(f"m{i}") for i in range(25)]
    store_of(env).create("paged", SessionStart(system_prompt="sys", history=seed))
    pod = await resume(lsp, "paged")
    every = [f"m{i}" for i in range(25)]

    whole = await history(lsp, pod)  # no paging: as before, plus start and total
    assert (texts(whole), whole["start"], whole["total"]) == (every, 0, 25)
    assert whole["sessionId"] == "paged"

    last = await history(lsp, pod, limit=10)
    assert (texts(last), last["start"], last["total"]) == (every[15:], 15, 25)
    older = await history(lsp, pod, limit=10, before=last["start"])
    assert (texts(older), older["start"]) == (every[5:15], 5)
    oldest = await history(lsp, pod, limit=10, before=older["start"])
    assert (texts(oldest), oldest["start"]) == (every[:5], 0)
    assert texts(oldest) + texts(older) + texts(last) == every

    assert (texts(await history(lsp, pod, before=3)), 0) == (every[:3], 0)
    assert texts(await history(lsp, pod, before=0)) == []
    assert texts(await history(lsp, pod, limit=4, before=99)) == every[21:]  # past the end
    assert texts(await history(lsp, pod, limit=500)) == every

    # a turn appends: the indices a client already holds stay valid
    scripted_model.load([{"text": "new reply"}])
    await lsp.chat(pod, "one more")
    grown = await history(lsp, pod, limit=2)
    assert (texts(grown), grown["start"], grown["total"]) == (["one more", "new reply"], 25, 27)
    assert texts(await history(lsp, pod, limit=10, before=15)) == every[5:15]


@pytest.mark.parametrize(
    ("page", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": -3}, "limit"),
        ({"limit": "10"}, "limit"),
        ({"limit": True}, "limit"),
        ({"limit": 2.5}, "limit"),
        ({"before": -1}, "before"),
        ({"before": "end"}, "before"),
        ({"limit": 5, "before": None, "podId": ""}, "podId"),
    ],
)
async def test_bad_paging_params_answer_invalid_params_naming_the_field(
    lsp: Session, env: dict[str, str], page: dict[str, Any], field: str
) -> None:
    store_of(env).create("bad", SessionStart(system_prompt="sys"))
    pod = await resume(lsp, "bad")
    with pytest.raises(JsonRpcException) as caught:
        await asyncio.wait_for(lsp.request("yoi/pod/history", {"podId": pod, **page}), 10)
    assert caught.value.code == -32602
    assert f"`{field}`" in str(caught.value.message)


# ---------------------------------------------------------------- a long session


def long_session(store: SessionStore, session_id: str, turns: int) -> int:
    """A session of ``turns`` turns of 7 entries (a tool round, a reply, usage)
    with outputs of varied sizes, written by the store; returns its items."""
    head = store.create(session_id, SessionStart(system_prompt="sys"))
    batch: list[LogEntry] = []
    for n in range(turns):
        output = f"line {n} of the output\n" * (10 + n % 300)
        call = items.ToolCall(call_id=f"c{n}", name="grep", arguments='{"pattern": "x"}')
        result = items.ToolResult(call_id=f"c{n}", name="grep", summary="found", content=output)
        batch += [
            UserInput(segments=[TextSegment(kind="text", text=f"q{n}")], text=f"q{n}"),
            ItemsEntry(items=[call, result]),
            LlmUsage(history_len=4 * n + 1, input_tokens=100 + n),
            ItemsEntry(items=[items.assistant(f"answer {n} " * 40)]),
            LlmUsage(history_len=4 * n + 3, input_tokens=200 + n),
            TurnEnd(turn_count=n + 1),
            RunCompleted(outcome="finished"),
        ]
        if len(batch) >= 5000:
            head = store.append(session_id, head, batch).head
            batch = []
    store.append(session_id, head, batch)
    return 4 * turns


async def pings_while(lsp: Session, busy: asyncio.Future[Any]) -> list[float]:
    """Round trips of a request the server refuses at once (``-32601``),
    sent one after another (2 ms apart) until ``busy`` is done: how long the
    server's loop keeps a request waiting."""
    lags: list[float] = []
    while not busy.done():
        began = time.perf_counter()
        with contextlib.suppress(JsonRpcException):
            await lsp.request("yoi/no-such-method", {})
        lags.append(time.perf_counter() - began)
        await asyncio.sleep(0.002)
    return lags


@pytest.mark.quiet
async def test_restoring_a_long_session_never_stalls_the_server(
    lsp: Session, env: dict[str, str]
) -> None:
    """A loop-lag probe: requests keep being answered within 20 ms while a
    25 MB session is restored, and while the first listing of it sizes its
    items. The restore is repeated and the best run
    counts: a stall in the restore itself shows in every run, a moment when
    this (shared) machine is busy elsewhere does not."""
    count = await asyncio.to_thread(long_session, store_of(env), "long", 4000)

    async def restore_and_list() -> str:
        pod = await resume(lsp, "long")
        # the first listing with the pod sizes its 16,000 restored items
        listing = await lsp.request("yoi/pod/list", {})
        assert listing["pods"][0]["contextTokens"] >= 4199  # the last usage measured
        return pod

    worst: list[float] = []
    for _ in range(3):
        job = asyncio.ensure_future(restore_and_list())
        lags = await pings_while(lsp, job)
        pod = await job
        assert len(lags) >= 10, f"the probe ran too briefly ({len(lags)} pings)"
        worst.append(max(lags) * 1000)
        page = await history(lsp, pod, limit=200)
        assert (page["start"], page["total"], len(page["items"])) == (count - 200, count, 200)
        assert page["items"][-1]["text"].startswith("answer 3999")
        await lsp.request("yoi/pod/dispose", {"podId": pod})
    assert min(worst) < 20, f"requests waited up to {', '.join(f'{w:.0f}' for w in worst)} ms"
