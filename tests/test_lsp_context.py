"""Compaction and memory out of the box, through the real server: with no
configuration a session that grows past the default threshold (sized by the
model's window, known to litellm or not) compacts, shows progress and goes
on; memory extracts and consolidates into knowledge the editor lists; one
oversized tool output compacts once and the next request fits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lspkit import Session, eventually, start, stop
from lsprotocol import types

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws.resolve()


def usage(prompt: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": 10}


DONE = {"text": "done", "usage": usage(300)}
EXTRACT = {
    "tool_calls": [
        {
            "name": "write_extracted",
            "arguments": {
                "decisions": [
                    {"options": ["sqlite", "files"], "chosen": "sqlite", "rationale": "one user"}
                ]
            },
        }
    ],
    "usage": usage(300),
}
CONSOLIDATE = {
    "tool_calls": [
        {
            "name": "memory_write",
            "arguments": {
                "kind": "knowledge",
                "slug": "session-store",
                "frontmatter": {
                    "description": "Sessions are stored in sqlite",
                    "model_invocation": True,
                    "user_invocable": True,
                    "last_sources": [{"session_id": "s", "range": [0, 3]}],
                },
                "body": "# Session store\n\nSessions live in sqlite (one user).\n",
            },
        }
    ],
    "usage": usage(500),
}
SUMMARY = {
    "tool_calls": [
        {"name": "write_summary", "arguments": {"text": "## Completed Tasks\nChose sqlite."}}
    ],
    "usage": usage(400),
}


def progress_titled(session: Session, title: str) -> list[list[Any]]:
    return [
        values
        for values in session.client.progress_reports.values()
        if values and getattr(values[0], "title", "") == title
    ]


def ended(session: Session, title: str) -> bool:
    found = progress_titled(session, title)
    return bool(found) and all(isinstance(v[-1], types.WorkDoneProgressEnd) for v in found)


# litellm knows gpt-4o's window; the scripted model gets the fallback
WINDOWS = {"openai/gpt-4o": (128_000, "model"), "openai/scripted": (32_000, "fallback")}


@pytest.mark.parametrize("model", list(WINDOWS))
async def test_an_unconfigured_session_compacts_and_remembers(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel, model: str
) -> None:
    window, source = WINDOWS[model]
    known = source == "model"
    compact_at, request_at = round(window * 0.75), round(window * 0.9)
    script: list[dict[str, Any]] = [
        {"text": "Noted."},
        {"text": "Sqlite it is.", "usage": usage(window // 2)},
        # past 30,000 new tokens after turn two only with the large window
        *([EXTRACT, DONE] if known else []),
        {"text": "Schema written.", "usage": usage(round(window * 0.8))},  # over compact_at
        # the large window extracts after turn three; the small one before compacting
        EXTRACT,
        DONE,
        CONSOLIDATE,  # before compacting, what is staged is folded in
        {"text": "Folded one entry.", "usage": usage(500)},
        SUMMARY,
        DONE,
        {"text": "Continuing."},
    ]
    scripted_model.load(script)
    session = await start({**env, "YOI_MODEL": model}, root)
    try:
        pod = await session.create_pod()
        (listed,) = (await session.request("yoi/pod/list", {}))["pods"]
        assert "contextWindow" not in listed  # not asked yet: pod/create never waits for it
        first = await session.chat(pod, "we need a session store")
        await session.chat(pod, "which database?")
        assert session.events(pod, "compactStart") == []
        third = await session.chat(pod, "write the schema")
        assert third["outcome"] == "finished", third.get("error")

        # compacted once, between turns three and four, in a new session
        (done,) = session.events(pod, "compactDone")
        assert third["sessionId"] == done["sessionId"] != first["sessionId"]
        usage_event = session.events(pod, "usage")[-1]
        assert usage_event["contextWindow"] == window
        assert usage_event["contextWindowSource"] == source
        assert usage_event["compactAt"] == compact_at
        assert usage_event["compactRequestAt"] == request_at
        (listed,) = (await session.request("yoi/pod/list", {}))["pods"]
        assert listed["sessionId"] == done["sessionId"]
        assert (listed["contextWindow"], listed["compactAt"]) == (window, compact_at)
        assert listed["contextTokens"] < compact_at
        fourth = await session.chat(pod, "go on")
        assert fourth["outcome"] == "finished"
        assert "[Compacted context summary]" in json.dumps(scripted_model.requests[-1]["messages"])
        assert len(scripted_model.requests) == len(script)  # nothing unscripted was asked

        # progress for each piece of work, each one ended
        for title in ("Extracting memory", "Consolidating memory", "Compacting context"):
            assert await eventually(lambda title=title: ended(session, title)), title
        # the memory the editor lists, and the one note saying where it went
        records = (await session.request("yoi/knowledge/list", {}))["records"]
        assert [r["slug"] for r in records] == ["session-store"]
        notes = [a for a in session.events(pod, "alert") if a["source"] == "memory"]
        assert len(notes) == 1 and notes[0]["level"] == "info"
        assert ".yoi/memory" in notes[0]["message"]
        assert "[memory] enabled = false" in notes[0]["message"]
        # the compacted session is listed with the conversation's title
        sessions = {
            s["sessionId"]: s for s in (await session.request("yoi/sessions/list", {}))["sessions"]
        }
        compacted = sessions[done["sessionId"]]
        assert compacted["parentSessionId"] == first["sessionId"]
        assert (
            compacted["title"] == sessions[first["sessionId"]]["title"] == "we need a session store"
        )
    finally:
        await stop(session)


async def test_one_tool_output_over_the_threshold_compacts_once(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    (root / ".yoi").mkdir()
    (root / ".yoi" / "manifest.toml").write_text(
        "[model]\ncontext_window = 20000\n"  # compact at 15,000, mid-turn at 18,000
        "[worker.tool_output]\ndefault_max_bytes = 400000\n"  # lets one output pass both
        "[memory]\nenabled = false\n"  # the script plays the agent only
    )
    (root / "big.txt").write_text("".join(f"{n:05d} {'x' * 73}\n" for n in range(1500)))
    scripted_model.load(
        [
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "big.txt"}}]},
            {"text": "It is a long file; I will read parts of it."},
            {"text": "Still here."},
        ]
    )
    session = await start(env, root)
    try:
        pod = await session.create_pod()
        (listed,) = (await session.request("yoi/pod/list", {}))["pods"]
        assert listed["contextWindow"] == 20000 and listed["contextWindowSource"] == "manifest"
        assert (listed["compactAt"], listed["compactRequestAt"]) == (15000, 18000)
        result = await session.chat(pod, "what is in big.txt?")
        assert result["outcome"] == "finished", result.get("error")
        (done,) = session.events(pod, "compactDone")
        assert result["sessionId"] == done["sessionId"]
        # the request after compacting is under the threshold: the call stayed, its
        # output became a note the model can act on
        after = scripted_model.requests[1]
        assert len(json.dumps(after["messages"]) + json.dumps(after["tools"])) // 4 < 15000
        tool_message = next(m for m in after["messages"] if m["role"] == "tool")
        assert "Output removed when the context was compacted" in tool_message["content"]
        assert session.events(pod, "usage")[-1]["contextTokens"] < 15000
        assert (await session.chat(pod, "and now?"))["outcome"] == "finished"
        assert len(session.events(pod, "compactDone")) == 1  # no compaction without progress
        assert len(scripted_model.requests) == 3  # no summarising worker was needed
    finally:
        await stop(session)
