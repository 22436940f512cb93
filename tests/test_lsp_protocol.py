"""The protocol's edges: malformed params, references, progress, start-up."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from lspkit import Session, eventually, open_document, start, stop
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "src" / "server").mkdir(parents=True)
    (ws / "src" / "server" / "pods.py").write_text("x = 1\n")
    (ws / "src" / "server" / "protocol.py").write_text("y = 2\n")
    (ws / "README.md").write_text("# readme\n")
    (ws / "build").mkdir()
    (ws / "build" / "pods_generated.py").write_text("z = 3\n")
    (ws / ".gitignore").write_text("build/\n")
    return ws.resolve()


MALFORMED: list[tuple[str, Any, str]] = [
    ("yoi/pod/create", {"resumeSessionId": 42}, "resumeSessionId"),
    ("yoi/pod/create", [1, 2], "params must be an object"),
    ("yoi/pod/list", "nope", "params must be an object"),
    ("yoi/pod/dispose", {}, "podId"),
    ("yoi/pod/dispose", {"podId": "pod-missing"}, "podId"),
    ("yoi/pod/history", {"podId": 7}, "podId"),
    ("yoi/pod/interrupt", {"podId": ""}, "podId"),
    ("yoi/pod/notify", {"podId": "pod-x"}, "message"),
    ("yoi/sessions/list", 3, "params must be an object"),
    ("yoi/chat", {"podId": "pod-x"}, "input"),
    ("yoi/chat", {"podId": "pod-x", "input": []}, "input"),
    ("yoi/chat", {"podId": "pod-x", "input": [{"kind": "file"}]}, "input[0].file.path"),
    ("yoi/chat", {"podId": "pod-x", "input": [{"kind": "video", "url": "x"}]}, "input[0]"),
    ("yoi/references/complete", {"kind": "pictures"}, "kind"),
    ("yoi/references/complete", {"limit": 0}, "limit"),
]


async def test_malformed_params_answer_invalid_params_and_the_server_stays_up(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    for method, params, field in MALFORMED:
        with pytest.raises(JsonRpcException) as caught:
            await asyncio.wait_for(lsp.request(method, params), 10)
        assert caught.value.code == -32602, (method, params, caught.value)
        assert field in str(caught.value.message), (method, caught.value.message)
    # unknown pod ids in a valid shape are -32602 too
    for method in ("yoi/pod/history", "yoi/pod/interrupt", "yoi/pod/dispose"):
        with pytest.raises(JsonRpcException) as caught:
            await lsp.request(method, {"podId": "pod-gone"})
        assert caught.value.code == -32602 and "pod-gone" in caught.value.message
    with pytest.raises(JsonRpcException) as caught:
        await lsp.request("yoi/pod/create", {"resumeSessionId": "0000-unknown"})
    assert caught.value.code == -32602 and "resumeSessionId" in caught.value.message
    # still serving
    scripted_model.load([{"text": "still here"}])
    pod = await lsp.create_pod()
    assert (await lsp.chat(pod, "hello"))["outcome"] == "finished"


async def test_unknown_methods_are_method_not_found(lsp: Session) -> None:
    with pytest.raises(JsonRpcException) as caught:
        await lsp.request("yoi/pod/teleport", {})
    assert caught.value.code == -32601
    assert (await lsp.request("yoi/pod/list", {}))["pods"] == []  # still serving


async def wait_for_index(lsp: Session, needle: str, patience: float = 10.0) -> list[str]:
    deadline = time.monotonic() + patience
    while True:
        result = await lsp.request("yoi/references/complete", {"prefix": needle})
        labels = [i["label"] for i in result["items"]]
        if any(needle in label for label in labels) or time.monotonic() > deadline:
            return labels
        await asyncio.sleep(0.1)


async def test_references_open_documents_first_then_fuzzy_honouring_gitignore(
    lsp: Session, root: Path
) -> None:
    open_document(lsp.client, lsp.state, root / "src" / "server" / "protocol.py", "y = 2\n")
    result = await lsp.request("yoi/references/complete", {"prefix": "srvpo"})
    items = result["items"]
    assert items[0] == {
        "kind": "file",
        "label": "src/server/protocol.py",
        "path": "src/server/protocol.py",
        "detail": "open",
        "open": True,
    }
    labels = [i["label"] for i in items]
    assert "src/server/pods.py" in labels
    assert not any(label.startswith("build/") for label in labels)  # .gitignore'd
    best = await lsp.request("yoi/references/complete", {"prefix": "pods"})
    assert best["items"][0]["label"] == "src/server/pods.py"


async def test_new_files_appear_without_a_rescan(lsp: Session, root: Path) -> None:
    await lsp.request("yoi/references/complete", {"prefix": ""})  # the first scan is done
    (root / "src" / "freshly_added.py").write_text("")
    labels = await wait_for_index(lsp, "freshly_added")
    assert "src/freshly_added.py" in labels
    (root / "src" / "freshly_added.py").unlink()
    deadline = time.monotonic() + 10
    while "src/freshly_added.py" in labels and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        result = await lsp.request("yoi/references/complete", {"prefix": "freshly"})
        labels = [i["label"] for i in result["items"]]
    assert "src/freshly_added.py" not in labels


async def test_workflow_and_knowledge_completion(lsp: Session, root: Path) -> None:
    (root / ".yoi" / "workflows").mkdir(parents=True)
    (root / ".yoi" / "workflows" / "review.md").write_text(
        "---\ndescription: Review the current diff\n---\nReview it.\n"
    )
    result = await lsp.request("yoi/references/complete", {"prefix": "rev", "kind": "workflow"})
    assert result["items"] == [
        {"kind": "workflow", "label": "review", "detail": "Review the current diff", "open": False}
    ]


async def test_initial_index_reports_progress(lsp: Session) -> None:
    await lsp.request("yoi/references/complete", {"prefix": ""})

    def ended() -> bool:
        reports = list(lsp.client.progress_reports.values())
        return bool(reports) and isinstance(reports[0][-1], types.WorkDoneProgressEnd)

    await eventually(ended)
    (values,) = lsp.client.progress_reports.values()
    assert isinstance(values[0], types.WorkDoneProgressBegin)
    assert values[0].title == "Indexing workspace"
    assert isinstance(values[-1], types.WorkDoneProgressEnd)
    assert values[-1].message is not None and "files" in values[-1].message


async def test_bad_initialization_options_warn_and_fall_back(
    env: dict[str, str], root: Path
) -> None:
    session = await start(env, root, options={"approvals": "sometimes"})
    try:
        await eventually(lambda: bool(session.client.messages))
        (message,) = session.client.messages
        assert message.type == types.MessageType.Warning
        assert "approvals" in message.message
        pod = await session.create_pod()  # defaults still work
        assert pod.startswith("pod-")
    finally:
        await stop(session)


async def test_pod_list_and_dispose(lsp: Session) -> None:
    pod = await lsp.create_pod(name="worker")
    listed = (await lsp.request("yoi/pod/list", {}))["pods"]
    assert [(p["podId"], p["state"], p["turnCount"]) for p in listed] == [(pod, "idle", 0)]
    assert listed[0]["model"] == "openai/scripted"
    assert await lsp.request("yoi/pod/dispose", {"podId": pod}) is None
    assert (await lsp.request("yoi/pod/list", {}))["pods"] == []


async def test_notify_an_idle_pod_starts_a_turn(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "I saw the note"}])
    pod = await lsp.create_pod()
    assert await lsp.request("yoi/pod/notify", {"podId": pod, "message": "CI is red"}) is None
    end = await lsp.wait_event(pod, "turnEnd")
    assert end["outcome"] == "finished"
    sent = scripted_model.requests[0]["messages"]
    assert any("CI is red" in str(m["content"]) for m in sent)


async def test_compaction_on_demand_reports_progress_in_order(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    (root / ".yoi").mkdir()
    (root / ".yoi" / "manifest.toml").write_text(
        # memory would extract before compacting: the script plays the compaction only
        "[compaction]\ncompact_retained_tokens = 10\n[memory]\nenabled = false\n"
    )
    session = await start(env, root)
    try:
        summary = {"tool_calls": [{"name": "write_summary", "arguments": {"text": "## Done"}}]}
        scripted_model.load(
            [
                {"text": "Long.", "usage": {"prompt_tokens": 4000, "completion_tokens": 9}},
                summary,
                {"text": "ok"},
            ]
        )
        pod = await session.create_pod()
        first = (await session.chat(pod, "hello"))["sessionId"]
        result = await session.request("yoi/pod/compact", {"podId": pod})
        assert result["sessionId"] != first
        kinds = [e["event"]["type"] for e in session.state.events if e["podId"] == pod]
        assert kinds.index("compactStart") < kinds.index("compactDone")
        (done,) = session.events(pod, "compactDone")
        assert done["sessionId"] == result["sessionId"]
        compacting = [
            values
            for values in session.client.progress_reports.values()
            if values and getattr(values[0], "title", "") == "Compacting context"
        ]
        assert await eventually(lambda: isinstance(compacting[0][-1], types.WorkDoneProgressEnd))
        (values,) = compacting
        assert isinstance(values[0], types.WorkDoneProgressBegin)
        assert all(isinstance(v, types.WorkDoneProgressReport) for v in values[1:-1])
        assert len(values) >= 3
        percentages = [v.percentage for v in values[1:-1] if v.percentage is not None]
        assert percentages == sorted(percentages)
        history = await session.request("yoi/pod/history", {"podId": pod})
        assert history["sessionId"] == result["sessionId"]
        assert history["items"][0]["text"].startswith("[Compacted context summary]")
    finally:
        await stop(session)


KNOWLEDGE = (
    "---\ndescription: How we name things\nmodel_invocation: true\nuser_invocable: true\n"
    "created_at: '2026-11-25T00:00:00Z'\nupdated_at: '2026-11-25T00:00:00Z'\n"
    "last_sources: []\n---\n# Naming\n\nkebab-case files.\n"
)


async def test_knowledge_list_get_complete_and_changed(lsp: Session, root: Path) -> None:
    folder = root / ".yoi" / "knowledge"
    folder.mkdir(parents=True)
    (folder / "naming.md").write_text(KNOWLEDGE)
    (folder / "broken.md").write_text("no frontmatter at all\n")
    records = (await lsp.request("yoi/knowledge/list", {}))["records"]
    by_slug = {r["slug"]: r for r in records}
    naming = by_slug["naming"]
    assert naming["title"] == "Naming" and naming["description"] == "How we name things"
    assert naming["modelInvocation"] is True and naming["uri"] == (folder / "naming.md").as_uri()
    assert "problem" in by_slug["broken"]  # listed, not hidden
    doc = await lsp.request("yoi/knowledge/get", {"slug": "naming"})
    assert doc["body"].strip() == "# Naming\n\nkebab-case files."
    assert doc["frontmatter"]["description"] == "How we name things"
    with pytest.raises(JsonRpcException) as caught:
        await lsp.request("yoi/knowledge/get", {"slug": "missing-one"})
    assert caught.value.code == -32602 and "slug" in caught.value.message
    done = await lsp.request("yoi/references/complete", {"prefix": "nam", "kind": "knowledge"})
    assert [i["label"] for i in done["items"]] == ["naming"]

    # a hand edit reaches the client as one debounced notification
    await lsp.request("yoi/references/complete", {"prefix": ""})  # the watcher is running
    changed: list[Any] = []

    @lsp.client.feature("yoi/knowledge/changed")
    def on_changed(params: Any) -> None:
        changed.append(params)

    await asyncio.sleep(0.3)
    (folder / "naming.md").write_text(KNOWLEDGE.replace("kebab-case", "snake_case"))
    (folder / "new-note.md").write_text(KNOWLEDGE)
    assert await eventually(lambda: bool(changed))
    await asyncio.sleep(0.5)
    slugs = sorted({s for params in changed for s in params["slugs"]})
    assert slugs == ["naming", "new-note"]
    assert len(changed) <= 2  # debounced, not one per file event


async def test_memory_methods_need_memory_enabled(lsp: Session, root: Path) -> None:
    (root / ".yoi").mkdir(exist_ok=True)
    (root / ".yoi" / "manifest.toml").write_text("[memory]\nenabled = false\n")
    pod = await lsp.create_pod()
    for method, params in (("yoi/memory/extract", {"podId": pod}), ("yoi/memory/consolidate", {})):
        with pytest.raises(JsonRpcException) as caught:
            await lsp.request(method, params)
        assert caught.value.code == -32803
        assert "[memory] enabled = false" in caught.value.message


async def test_memory_extract_on_demand_reports_progress(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    (root / ".yoi").mkdir()
    (root / ".yoi" / "manifest.toml").write_text("[memory]\nextract_threshold = 0\n")  # on demand
    session = await start(env, root)
    try:
        payload = {"requests": [{"intent": "fix a bug", "summary": "fix the parser"}]}
        scripted_model.load(
            [
                {"text": "Fixed.", "usage": {"prompt_tokens": 3000, "completion_tokens": 5}},
                {"tool_calls": [{"name": "write_extracted", "arguments": payload}]},
                {"text": "done"},
            ]
        )
        pod = await session.create_pod()
        await session.chat(pod, "fix the parser")
        result = await session.request("yoi/memory/extract", {"podId": pod})
        assert result["extracted"] is True and "stagingId" in result
        assert (
            result["source"]["session_id"]
            == (await session.request("yoi/pod/list", {}))["pods"][0]["sessionId"]
        )
        staged = root / ".yoi" / "memory" / "_staging" / f"{result['stagingId']}.json"
        assert staged.exists()
        again = await session.request("yoi/memory/extract", {"podId": pod})
        assert again == {"extracted": False}  # nothing new since

        def extracting() -> list[Any]:
            return [
                values
                for values in session.client.progress_reports.values()
                if values and getattr(values[0], "title", "") == "Extracting memory"
            ]

        assert await eventually(
            lambda: (
                bool(extracting()) and isinstance(extracting()[0][-1], types.WorkDoneProgressEnd)
            )
        )
    finally:
        await stop(session)
