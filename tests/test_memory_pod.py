"""Memory through scripted sessions: extraction after runs, consolidation into
records, resident knowledge, #slug, and the scope guarding the memory tree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from podkit import Workspace, make_workspace

from agent.events import Alert, ToolResultEvent
from agent.memory.extract import EXTENSION_DOMAIN
from agent.segments import KnowledgeSegment, TextSegment
from agent.store import Extension
from agent.testing import ScriptedModel


def say(text: str) -> list[TextSegment]:
    return [TextSegment(kind="text", text=text)]


def usage(prompt: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": 10}


EXTRACTED = {
    "decisions": [
        {"options": ["sqlite", "postgres"], "chosen": "sqlite", "rationale": "single user"}
    ],
    "requests": [{"intent": "store sessions", "summary": "persist sessions locally"}],
}


def extract_step(payload: dict[str, Any] = EXTRACTED) -> dict[str, Any]:
    return {
        "tool_calls": [{"name": "write_extracted", "arguments": payload}],
        "usage": usage(300),
    }


DONE = {"text": "done", "usage": usage(300)}
MEMORY = {"memory": {"extract_threshold": 10}}


@pytest.fixture
def ws(tmp_path: Path, scripted_model: ScriptedModel) -> Workspace:
    return make_workspace(tmp_path, scripted_model)


def staging_files(ws: Workspace) -> list[Path]:
    return sorted((ws.root / ".yoi" / "memory" / "_staging").glob("*.json"))


async def test_extraction_after_a_run_writes_a_stamped_staging_file(ws: Workspace) -> None:
    ws.model.load([{"text": "We will use sqlite.", "usage": usage(4000)}, extract_step(), DONE])
    pod = await ws.pod(**MEMORY)
    await pod.chat(say("which database?"))
    (staged,) = staging_files(ws)
    data = json.loads(staged.read_text())
    assert data["source"]["session_id"] == pod.session_id
    assert data["source"]["range"][0] == 0 and data["source"]["range"][1] > 0
    assert data["decisions"][0]["chosen"] == "sqlite"
    # the model never saw or wrote the source: the pod stamped it
    worker_call = ws.model.requests[1]
    assert "session_id" not in json.dumps(worker_call["messages"][-1]["content"])
    assert "[User] which database?" in worker_call["messages"][-1]["content"]
    # the pointer is in the log and comes back on restore
    entries = ws.store().read(pod.session_id).entries
    (pointer,) = [e for e in entries if isinstance(e, Extension) and e.domain == EXTENSION_DOMAIN]
    assert pointer.payload["staging_id"] == staged.stem  # type: ignore[index]
    session = pod.session_id
    await pod.close()
    again = await ws.pod(resume=session, **MEMORY)
    assert again.memory is not None and again.memory.pointer is not None
    assert again.memory.pointer.staging_id == staged.stem
    await again.close()


async def test_below_the_threshold_nothing_is_extracted(ws: Workspace) -> None:
    ws.model.load([{"text": "short", "usage": usage(100)}])
    pod = await ws.pod(memory={"extract_threshold": 100_000})
    await pod.chat(say("hi"))
    assert staging_files(ws) == []
    assert len(ws.model.requests) == 1
    await pod.close()


async def test_a_failing_extraction_leaves_the_pointer_and_tells_the_user(ws: Workspace) -> None:
    ws.model.load(
        [{"text": "answer", "usage": usage(4000)}, {"status": 400, "error": "bad request"}]
    )
    pod = await ws.pod(**MEMORY)
    result = await pod.chat(say("hi"))
    assert result.outcome == "finished"
    assert pod.memory is not None and pod.memory.pointer is None
    assert staging_files(ws) == []
    assert any(a.source == "memory" for a in ws.recorder.of(Alert))
    entries = ws.store().read(pod.session_id).entries
    # no memory pointer (the turn's checkpoint is an extension of another domain)
    assert not any(isinstance(e, Extension) and e.domain == EXTENSION_DOMAIN for e in entries)
    await pod.close()


async def test_consolidation_creates_a_knowledge_record_and_a_decision(ws: Workspace) -> None:
    knowledge = {
        "name": "memory_write",
        "arguments": {
            "kind": "knowledge",
            "slug": "storage",
            "frontmatter": {
                "description": "Sessions are stored in sqlite",
                "model_invocation": True,
                "user_invocable": True,
                "last_sources": [{"session_id": "s", "range": [0, 3]}],
            },
            "body": "# Storage\n\nWe use sqlite for sessions (single user).\n",
        },
    }
    decision = {
        "name": "memory_write",
        "arguments": {
            "kind": "decision",
            "slug": "use-sqlite",
            "frontmatter": {
                "status": "resolved",
                "sources": [{"session_id": "s", "range": [0, 3]}],
            },
            "body": "Use sqlite: single user.\n",
        },
    }
    ws.model.load(
        [
            {"text": "We will use sqlite.", "usage": usage(4000)},
            extract_step(),
            DONE,
            {"tool_calls": [knowledge, decision], "usage": usage(500)},
            {"text": "Folded 1 entry: one decision, one knowledge record.", "usage": usage(500)},
        ]
    )
    pod = await ws.pod(memory={"extract_threshold": 10, "consolidate_threshold_files": 1})
    await pod.chat(say("which database?"))
    record = ws.root / ".yoi" / "knowledge" / "storage.md"
    assert record.exists() and "model_invocation: true" in record.read_text()
    assert (ws.root / ".yoi" / "memory" / "decisions" / "use-sqlite.md").exists()
    assert staging_files(ws) == []  # consumed
    assert not (ws.root / ".yoi" / "memory" / "_staging" / ".consolidation.lock").exists()
    await pod.close()
    # a new pod lists the record as resident knowledge in its system prompt
    ws.model.load([{"text": "ok"}])
    fresh = await ws.pod(memory={"extract_threshold": 100_000})
    await fresh.chat(say("hello"))
    system_prompt = ws.model.requests[-1]["messages"][0]["content"]
    assert "## Resident knowledge" in system_prompt
    assert "- storage: Sessions are stored in sqlite" in system_prompt
    await fresh.close()


async def test_a_linter_violation_goes_back_to_the_model(ws: Workspace) -> None:
    bad = {
        "name": "memory_write",
        "arguments": {
            "kind": "decision",
            "slug": "Use SQLite!",
            "frontmatter": {"status": "maybe", "sources": []},
            "body": "x",
        },
    }
    good = {
        "name": "memory_write",
        "arguments": {
            "kind": "decision",
            "slug": "use-sqlite",
            "frontmatter": {"status": "open", "sources": [{"session_id": "s", "range": [0, 1]}]},
            "body": "x\n",
        },
    }
    ws.model.load(
        [
            {"text": "answer", "usage": usage(4000)},
            extract_step(),
            DONE,
            {"tool_calls": [bad], "usage": usage(300)},
            {"tool_calls": [good], "usage": usage(300)},
            {"text": "fixed", "usage": usage(300)},
        ]
    )
    pod = await ws.pod(memory={"extract_threshold": 10, "consolidate_threshold_files": 1})
    await pod.chat(say("hi"))
    fix_request = ws.model.requests[4]["messages"]
    told = [m["content"] for m in fix_request if m["role"] == "tool"][-1]
    assert "Nothing was written" in told and "such as 'use-sqlite'" in told
    assert (ws.root / ".yoi" / "memory" / "decisions" / "use-sqlite.md").exists()
    await pod.close()


async def test_knowledge_reference_and_tools_and_the_guarded_tree(ws: Workspace) -> None:
    folder = ws.root / ".yoi" / "knowledge"
    folder.mkdir(parents=True)
    (folder / "style.md").write_text(
        "---\ndescription: House style\nmodel_invocation: false\nuser_invocable: true\n"
        "created_at: '2026-11-25T00:00:00Z'\nupdated_at: '2026-11-25T00:00:00Z'\n"
        "last_sources: []\n---\n# Style\n\nTabs, never spaces.\n"
    )
    write = {
        "tool_calls": [
            {"name": "write_file", "arguments": {"path": ".yoi/knowledge/evil.md", "content": "x"}},
            {"name": "knowledge_read", "arguments": {"slug": "style"}},
        ]
    }
    ws.model.load([write, {"text": "ok"}])
    pod = await ws.pod(**MEMORY)
    await pod.chat([*say("follow "), KnowledgeSegment(kind="knowledge", slug="style")])
    sent = ws.model.requests[0]["messages"][-1]["content"]
    assert "#style" in sent and "Tabs, never spaces." in sent and "description:" not in sent
    denied, read = ws.recorder.of(ToolResultEvent)
    assert not denied.ok
    assert "read-only" in denied.summary or "deny rule" in denied.summary
    assert not (folder / "evil.md").exists()
    assert read.ok
    tool_texts = [m["content"] for m in ws.model.requests[1]["messages"] if m["role"] == "tool"]
    assert "Tabs, never spaces." in tool_texts[-1]
    await pod.close()


def test_a_dead_consolidations_lock_is_resumed_with_the_same_entries(tmp_path: Path) -> None:
    import subprocess
    import sys

    from agent.memory.consolidate import LOCK_NAME, ConsolidationBusy, acquire, release

    staging = tmp_path / "_staging"
    staging.mkdir()
    for name in ("a", "b", "c"):
        (staging / f"{name}.json").write_text("{}")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    (staging / LOCK_NAME).write_text(
        json.dumps({"pid": int(dead.stdout), "consumed_ids": ["a", "b"], "started_at": 0})
    )
    consumed = acquire(staging, "test")
    assert [c.staging_id for c in consumed] == ["a", "b"]  # "c" arrived later: next run
    release(staging, consumed, success=True)
    assert sorted(p.stem for p in staging.glob("*.json")) == ["c"]
    assert not (staging / LOCK_NAME).exists()

    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (staging / LOCK_NAME).write_text(json.dumps({"pid": live.pid, "consumed_ids": ["c"]}))
        with pytest.raises(ConsolidationBusy):
            acquire(staging, "test")
    finally:
        live.kill()
        live.wait()


async def test_compaction_extracts_and_consolidates_first_then_resets_the_pointer(
    ws: Workspace,
) -> None:
    summary = {"tool_calls": [{"name": "write_summary", "arguments": {"text": "## Done"}}]}
    ws.model.load([{"text": "We chose sqlite.", "usage": usage(4000)}])
    pod = await ws.pod(
        memory={"extract_threshold": 100_000}, compaction={"compact_retained_tokens": 1}
    )
    await pod.chat(say("which database?"))
    assert staging_files(ws) == []  # below the threshold: nothing yet
    ws.model.load(
        [
            extract_step(),
            DONE,
            {"text": "Nothing worth folding.", "usage": usage(300)},  # consolidation
            summary,
            {"text": "ok"},
        ]
    )
    old = pod.session_id
    new = await pod.compact()
    assert new != old
    consolidation_input = ws.model.requests[2]["messages"][-1]["content"]
    assert old in consolidation_input and "sqlite" in consolidation_input
    assert staging_files(ws) == []  # consumed by the consolidation
    # the new session starts with everything before it recorded: its pointer is
    # past the seed history, in its own log
    assert pod.memory is not None and pod.memory.pointer is not None
    assert pod.memory.pointer.processed_through_entry == 0
    assert pod.memory.pointer.processed_through_history_len == len(pod.history)
    new_log = ws.store().read(new).entries
    assert any(isinstance(e, Extension) and e.domain == EXTENSION_DOMAIN for e in new_log)
    # so the next extraction reads only the new turn, not the summary again
    ws.model.load([{"text": "Then postgres.", "usage": usage(500)}, extract_step(), DONE])
    await pod.chat(say("and later?"))
    outcome = await pod.extract_memory()
    assert outcome is not None
    transcript = ws.model.requests[-2]["messages"][-1]["content"]
    assert "[User] and later?" in transcript
    assert "Compacted context summary" not in transcript and "which database" not in transcript
    await pod.close()


def test_two_consolidations_never_take_the_same_entries(tmp_path: Path) -> None:
    from agent.memory.consolidate import ConsolidationBusy, acquire, release

    staging = tmp_path / "_staging"
    staging.mkdir()
    (staging / "a.json").write_text("{}")
    first = acquire(staging, "pod one")
    assert [c.staging_id for c in first] == ["a"]
    with pytest.raises(ConsolidationBusy, match="this process"):
        acquire(staging, "pod two")
    release(staging, first, success=False)
    assert [c.staging_id for c in acquire(staging, "pod two")] == ["a"]


def memory_notes(ws: Workspace) -> list[Alert]:
    return [a for a in ws.recorder.of(Alert) if a.source == "memory" and a.level == "info"]


async def test_the_first_write_in_a_workspace_says_where_and_how_to_turn_it_off(
    ws: Workspace,
) -> None:
    ws.model.load(
        [
            {"text": "We will use sqlite.", "usage": usage(4000)},
            extract_step(),
            DONE,
            {"text": "And postgres later.", "usage": usage(8000)},
            extract_step(),
            DONE,
        ]
    )
    pod = await ws.pod(**MEMORY)
    await pod.chat(say("which database?"))
    (note,) = memory_notes(ws)
    assert ".yoi/memory/" in note.message and ".yoi/knowledge/" in note.message
    assert "[memory] enabled = false" in note.message
    await pod.chat(say("and later?"))
    assert len(staging_files(ws)) == 2
    assert len(memory_notes(ws)) == 1  # once per workspace, not per write
    await pod.close()


async def test_a_zero_threshold_extracts_only_on_demand(ws: Workspace) -> None:
    ws.model.load([{"text": "answer", "usage": usage(40_000)}, extract_step(), DONE])
    # (compaction off: it would extract first)
    pod = await ws.pod(memory={"extract_threshold": 0}, compaction={"enabled": False})
    await pod.chat(say("hi"))
    assert staging_files(ws) == [] and len(ws.model.requests) == 1
    assert await pod.extract_memory() is not None
    assert len(staging_files(ws)) == 1
    await pod.close()


async def test_with_memory_off_knowledge_is_still_read(ws: Workspace) -> None:
    folder = ws.root / ".yoi" / "knowledge"
    folder.mkdir(parents=True)
    (folder / "style.md").write_text(
        "---\ndescription: House style\nmodel_invocation: true\nuser_invocable: true\n"
        "created_at: '2026-11-25T00:00:00Z'\nupdated_at: '2026-11-25T00:00:00Z'\n"
        "last_sources: []\n---\n# Style\n\nTabs, never spaces.\n"
    )
    ws.model.load([{"text": "ok", "usage": usage(4000)}])
    pod = await ws.pod(memory={"enabled": False, "extract_threshold": 10})
    assert pod.memory is None
    assert "knowledge_read" in pod.worker.tools.names()
    await pod.chat([*say("follow "), KnowledgeSegment(kind="knowledge", slug="style")])
    sent = ws.model.requests[0]["messages"]
    assert "- style: House style" in sent[0]["content"]  # resident
    assert "Tabs, never spaces." in sent[-1]["content"]  # #style attached
    assert len(ws.model.requests) == 1 and staging_files(ws) == []  # nothing extracted
    from agent.memory.runner import MemoryNotEnabled

    with pytest.raises(MemoryNotEnabled, match=r"\[memory\] enabled = false"):
        await pod.extract_memory()
    await pod.close()
