"""Compaction through scripted sessions: the real pod, the real litellm, the
scripted model playing both the agent and the compact worker."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from podkit import Workspace, make_workspace

from agent.compaction.cut import repair_cut, split_for_retained
from agent.compaction.policy import CompactionPolicy
from agent.compaction.transcript import render_transcript
from agent.events import Alert, CompactDone, CompactFailed, CompactStart
from agent.items import Item, Message, Reasoning, ToolCall, ToolResult, assistant, system, user
from agent.segments import TextSegment
from agent.store import RunCompleted, SessionStart, UsageRecord
from agent.testing import ScriptedModel

SUMMARY = (
    "## Completed Tasks\n### Read notes\nRead notes.md.\n"
    "## Active Task\n### Answer\nNext: answer.\n"
    '## Key Decisions\n- none — n/a\n## User Directives\n- "be brief"\n## Current Work\nReading.'
)


def say(text: str) -> list[TextSegment]:
    return [TextSegment(kind="text", text=text)]


def summary_step(text: str = SUMMARY, mark: str | None = None) -> dict[str, Any]:
    calls: list[dict[str, Any]] = []
    if mark:
        calls.append({"name": "mark_read_required", "arguments": {"path": mark}})
    calls.append({"name": "write_summary", "arguments": {"text": text}})
    return {"tool_calls": calls, "usage": {"prompt_tokens": 400, "completion_tokens": 50}}


# extraction would run before every compaction (memory is on by default); these
# tests script only the compaction
MEMORY_OFF = {"enabled": False}
DONE = {"text": "Summary written.", "usage": {"prompt_tokens": 500, "completion_tokens": 5}}


def usage(prompt: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": 10}


@pytest.fixture
def ws(tmp_path: Path, scripted_model: ScriptedModel) -> Workspace:
    w = make_workspace(tmp_path, scripted_model)
    (w.root / "notes.md").write_text("important notes\n" * 20)
    return w


def assert_restores_to_live(ws: Workspace, pod: Any) -> None:
    state = ws.store().restore(pod.session_id)
    assert state.history == pod.history
    assert state.usage == pod.usage_records
    assert state.turn_count == pod.turn_count
    assert state.system_prompt == pod.worker.system_prompt


async def test_mid_run_yield_compacts_and_resumes_the_same_turn(ws: Workspace) -> None:
    ws.model.load(
        [
            {
                "tool_calls": [{"name": "read_file", "arguments": {"path": "notes.md"}}],
                "usage": usage(6000),
            },
            summary_step(mark="notes.md"),
            DONE,
            {"text": "The notes are important.", "usage": usage(1500)},
        ]
    )
    pod = await ws.pod(
        memory=MEMORY_OFF,
        compaction={"compact_request_threshold": 5000, "compact_retained_tokens": 500},
    )
    old = None

    result = await pod.chat(say("read notes.md and tell me"))
    assert result.outcome == "finished", result.error
    rec = ws.recorder
    assert len(rec.of(CompactStart)) == 1
    (done,) = rec.of(CompactDone)
    assert done.session_id == pod.session_id == result.session_id
    new = ws.store().read(pod.session_id)
    start = new.entries[0]
    assert isinstance(start, SessionStart) and start.compacted_from is not None
    old = start.compacted_from.session_id
    old_log = ws.store().read(old).entries
    assert isinstance(old_log[-1], RunCompleted) and old_log[-1].outcome == "yielded"
    # the new context: summary, the re-read file, then the retained tool call and result
    history = pod.history
    assert isinstance(history[0], Message) and history[0].text.startswith(
        "[Compacted context summary]\n\n## Completed Tasks"
    )
    assert "[Auto-read file: notes.md]" in history[1].text  # type: ignore[union-attr]
    assert any(isinstance(i, ToolResult) and i.name == "read_file" for i in history)
    # the resumed request saw the summary, with the same system prompt as before
    resumed = ws.model.requests[-1]["messages"]
    assert resumed[0]["content"] == ws.model.requests[0]["messages"][0]["content"]
    assert "[Compacted context summary]" in str(resumed[1]["content"])
    assert history[-1] == Message(role="assistant", text="The notes are important.")
    # the compact worker read the summarised part as a transcript, and the
    # recently touched files as references
    worker_input = ws.model.requests[1]["messages"][-1]["content"]
    assert "[User] read notes.md and tell me" in worker_input
    assert "- notes.md" in worker_input and "important notes" not in worker_input
    assert_restores_to_live(ws, pod)
    await pod.close()


async def test_post_run_compaction_between_turns(ws: Workspace) -> None:
    ws.model.load(
        [
            {"text": "A long answer.", "usage": usage(6000)},
            summary_step(),
            DONE,
            {"text": "Next answer.", "usage": usage(900)},
        ]
    )
    pod = await ws.pod(
        memory=MEMORY_OFF, compaction={"compact_threshold": 5000, "compact_retained_tokens": 10}
    )
    first_session = pod.session_id
    result = await pod.chat(say("be brief"))
    assert result.outcome == "finished"
    assert pod.session_id != first_session and result.session_id == pod.session_id
    assert pod.usage_records == [] and pod.worker.cache_anchor == 0
    assert ws.store().restore(first_session).history[-1] == assistant("A long answer.")
    second = await pod.chat(say("go on"))
    assert second.outcome == "finished"
    sent = ws.model.requests[-1]["messages"]
    assert "[Compacted context summary]" in str(sent[1]["content"])
    assert_restores_to_live(ws, pod)
    sessions = {s.session_id: s for s in ws.store().list_sessions()}
    assert sessions[pod.session_id].parent_session_id == first_session
    await pod.close()


async def test_a_forgotten_summary_gets_one_nudge(ws: Workspace) -> None:
    ws.model.load(
        [
            {"text": "Answer.", "usage": usage(6000)},
            {"text": "I will summarise later.", "usage": usage(400)},
            summary_step(),
            DONE,
        ]
    )
    pod = await ws.pod(
        memory=MEMORY_OFF, compaction={"compact_threshold": 5000, "compact_retained_tokens": 10}
    )
    await pod.chat(say("hi"))
    assert len(ws.recorder.of(CompactDone)) == 1
    nudge = ws.model.requests[2]["messages"][-1]["content"]
    assert "You have not called write_summary yet" in nudge
    await pod.close()


async def test_no_summary_at_all_fails_clearly_and_keeps_the_session(ws: Workspace) -> None:
    ws.model.load(
        [
            {"text": "Answer.", "usage": usage(6000)},
            {"text": "No.", "usage": usage(400)},
            {"text": "Still no.", "usage": usage(400)},
        ]
    )
    pod = await ws.pod(
        memory=MEMORY_OFF, compaction={"compact_threshold": 5000, "compact_retained_tokens": 10}
    )
    session = pod.session_id
    result = await pod.chat(say("hi"))
    assert result.outcome == "finished"  # the turn itself stands
    assert pod.session_id == session
    (failed,) = ws.recorder.of(CompactFailed)
    assert "without writing a summary" in failed.error
    assert any(a.source == "compactor" and a.level == "warn" for a in ws.recorder.of(Alert))
    assert_restores_to_live(ws, pod)
    assert len(ws.store().list_sessions()) == 1  # no half-written session
    await pod.close()


async def test_compacting_again_right_away_is_thrash(ws: Workspace) -> None:
    long_summary = SUMMARY + "\n" + "detail " * 3000
    ws.model.load(
        [
            {
                "tool_calls": [{"name": "read_file", "arguments": {"path": "notes.md"}}],
                "usage": usage(6000),
            },
            summary_step(long_summary, mark="notes.md"),
            DONE,
        ]
    )
    pod = await ws.pod(
        memory=MEMORY_OFF,
        compaction={"compact_request_threshold": 3000, "compact_retained_tokens": 10},
    )
    result = await pod.chat(say("read it"))
    assert result.outcome == "error"
    assert result.error is not None and "thrash" in result.error
    assert len(ws.recorder.of(CompactDone)) == 1  # compacted once, then stopped
    assert_restores_to_live(ws, pod)
    await pod.close()


async def test_on_demand_compaction(ws: Workspace) -> None:
    ws.model.load([{"text": "Answer.", "usage": usage(3000)}, summary_step(), DONE])
    pod = await ws.pod(memory=MEMORY_OFF, compaction={"compact_retained_tokens": 10})
    await pod.chat(say("hello"))
    old = pod.session_id
    new = await pod.compact()
    assert new == pod.session_id != old
    assert_restores_to_live(ws, pod)
    await pod.close()


async def test_nothing_to_compact_is_a_clear_error(ws: Workspace) -> None:
    from agent.compaction.compactor import CompactionFailed

    ws.model.load([{"text": "short", "usage": usage(100)}])
    pod = await ws.pod(memory=MEMORY_OFF, compaction={"compact_retained_tokens": 8000})
    await pod.chat(say("hi"))
    with pytest.raises(CompactionFailed, match="Nothing to compact"):
        await pod.compact()
    await pod.close()


async def test_threshold_order_warning(ws: Workspace) -> None:
    pod = await ws.pod(
        memory=MEMORY_OFF, compaction={"compact_threshold": 9000, "compact_request_threshold": 5000}
    )
    assert any("compact_threshold" in a for a in ws.recorder.alerts())
    await pod.close()


# ---------------------------------------------------------------- pure parts


def test_cut_never_separates_a_call_from_its_result() -> None:
    history: list[Item] = [
        user("q"),
        Reasoning(text="think"),
        assistant("looking"),
        ToolCall(call_id="a", name="read_file", arguments="{}"),
        ToolCall(call_id="b", name="read_file", arguments="{}"),
        ToolResult(call_id="a", name="read_file", summary="A", content="x" * 400),
        ToolResult(call_id="b", name="read_file", summary="B", content="y" * 400),
        assistant("done"),
    ]
    for cut in range(1, len(history)):
        fixed = repair_cut(history, cut)
        retained = history[fixed:]
        calls = {i.call_id for i in retained if isinstance(i, ToolCall)}
        assert all(r.call_id in calls for r in retained if isinstance(r, ToolResult)), cut
        assert fixed == 0 or not isinstance(history[fixed - 1], Reasoning), cut
    assert repair_cut(history, 5) == 1  # back to the reasoning of that response
    assert repair_cut(history, 7) == 7


def test_split_keeps_the_newest_items_that_fit() -> None:
    history: list[Item] = [user("a" * 400), assistant("b" * 400), user("c" * 40), assistant("d")]
    records = [UsageRecord(history_len=4, input_tokens=1000)]
    assert split_for_retained(history, records, 5000) == 0
    assert split_for_retained(history, records, 200) == 2
    assert split_for_retained(history, records, 100) == 3  # only the newest answer fits
    assert split_for_retained(history, records, 1) == 4  # summarise everything


def test_transcript_is_pruned_and_capped() -> None:
    items: list[Item] = [
        user("hello"),
        Reasoning(text="secret thoughts"),
        ToolCall(call_id="c", name="grep", arguments='{"pattern": "x"}'),
        ToolResult(call_id="c", name="grep", summary="3 matches", content="a\nb\nc"),
        system("note"),
    ]
    text = render_transcript(items)
    assert text == "[User] hello\n\n[ToolCall] grep\n\n[ToolResult] 3 matches\n\n[System] note"
    long = render_transcript([user(f"message {n} " + "x" * 50) for n in range(200)], max_chars=2000)
    assert len(long) < 2200 and "left out to fit the budget" in long
    assert long.startswith("[User] message 0") and "message 199" in long


def test_circuit_breaker() -> None:
    policy = CompactionPolicy(compact_threshold=10, request_threshold=20)
    assert policy.should_compact_after_run(11) and policy.should_yield(21)
    assert not policy.failed() and not policy.failed()
    assert policy.failed() and policy.disabled
    assert not policy.should_compact_after_run(11) and not policy.should_yield(21)


async def test_the_compact_worker_input_is_capped(ws: Workspace) -> None:
    ws.model.load(
        [
            {"text": "Answer.", "usage": usage(6000)},
            {
                "text": "Reading a lot.",
                "tool_calls": [{"name": "read_file", "arguments": {"path": "notes.md"}}],
                "usage": usage(70000),
            },
        ]
    )
    pod = await ws.pod(
        memory=MEMORY_OFF,
        compaction={
            "compact_threshold": 5000,
            "compact_retained_tokens": 10,
            "compact_worker_max_input_tokens": 50000,
        },
    )
    await pod.chat(say("hi"))
    (failed,) = ws.recorder.of(CompactFailed)
    assert "over its cap of 50,000" in failed.error
    assert len(ws.model.requests) == 2  # stopped before a third request
    await pod.close()


# ---------------------------------------------------------------- sized by the window


def test_thresholds_follow_the_window_and_explicit_numbers_win() -> None:
    from agent.compaction.policy import Thresholds, budgets_for, thresholds_for
    from agent.manifest import CompactionSection

    default = CompactionSection()
    assert thresholds_for(default, None) is None  # needs the window
    assert thresholds_for(default, 128_000) == Thresholds(96_000, 115_200)
    assert thresholds_for(default, 32_000) == Thresholds(24_000, 28_800)
    explicit = CompactionSection(compact_threshold=50_000, compact_request_threshold=60_000)
    assert thresholds_for(explicit, None) == Thresholds(50_000, 60_000)
    # only the request threshold set: between turns still comes first
    assert thresholds_for(
        CompactionSection(compact_request_threshold=20_000), 128_000
    ) == Thresholds(20_000, 20_000)
    assert thresholds_for(CompactionSection(compact_threshold=0), 128_000) == Thresholds(
        None, 115_200
    )
    ratio = CompactionSection(compact_threshold_ratio=0.5, compact_request_threshold_ratio=0.6)
    assert thresholds_for(ratio, 100_000) == Thresholds(50_000, 60_000)
    assert thresholds_for(CompactionSection(enabled=False), 128_000) == Thresholds(None, None)
    # what a compaction keeps fits under the lower threshold
    large = budgets_for(Thresholds(96_000, 115_200), 8000, 8000)
    assert (large.retained, large.read) == (8000, 8000)
    small = budgets_for(Thresholds(5000, 6000), 8000, 0)
    assert (small.retained, small.read) == (1250, 1250)


def test_no_compaction_again_without_progress() -> None:
    policy = CompactionPolicy(compact_threshold=1000, request_threshold=2000)
    assert policy.succeeded(tokens_after=1200)  # still over: a floor is set
    policy.request_made()
    assert not policy.should_compact_after_run(1300)  # grew, but not by a quarter
    assert policy.should_compact_after_run(1451)
    assert not policy.succeeded(tokens_after=400) and policy.floor is None


def big_result(call_id: str, size: int) -> ToolResult:
    return ToolResult(
        call_id=call_id, name="read_file", summary=f"Read {call_id}", content="y" * size
    )


def test_an_oversized_result_is_kept_as_a_stub_and_nothing_else_is_summarised() -> None:
    from agent.compaction.cut import plan_retention

    history: list[Item] = [
        user("read it"),
        ToolCall(call_id="a", name="read_file", arguments="{}"),
        big_result("a", 40_000),
    ]
    retention = plan_retention(history, [], 1000)  # no measurement: bytes / 4
    assert retention is not None and retention.cut == 0 and retention.stubbed == 1
    kept = retention.retained
    assert kept[:2] == history[:2] and isinstance(kept[2], ToolResult)
    assert kept[2].summary == "Read a" and "Output removed" in (kept[2].content or "")
    assert re.search(r"about 10,0\d\d tokens", kept[2].content or "")  # 40,000 bytes / 4


def test_a_stubbed_result_keeps_how_its_edits_ended() -> None:
    """A reloaded chat shows an edit's outcome from its result, also after
    compaction cut the result's output."""
    from agent.compaction.cut import plan_retention
    from agent.items import EditOutcome

    edits = [EditOutcome(uri="file:///w/a.py", status="partial", message="1 of 2 hunks kept")]
    result = ToolResult(
        call_id="a", name="edit_file", summary="Edited a.py", content="y" * 40_000, edits=edits
    )
    history: list[Item] = [
        user("edit it"),
        ToolCall(call_id="a", name="edit_file", arguments="{}"),
        result,
    ]
    retention = plan_retention(history, [], 1000)
    assert retention is not None and retention.stubbed == 1
    stub = retention.retained[2]
    assert isinstance(stub, ToolResult) and "Output removed" in (stub.content or "")
    assert stub.edits == edits and stub.summary == "Edited a.py"


def test_a_retained_tail_the_cut_made_too_large_is_shrunk() -> None:
    from agent.compaction.cut import plan_retention

    history: list[Item] = [
        user("q" * 4000),
        assistant("looking"),
        ToolCall(call_id="a", name="read_file", arguments="{}"),
        ToolCall(call_id="b", name="read_file", arguments="{}"),
        big_result("a", 3600),
        big_result("b", 2000),
        assistant("done"),
    ]
    retention = plan_retention(history, [], 1000)  # bytes / 4: each result fits alone
    assert retention is not None and retention.cut == 1  # the calls pull both results in
    assert retention.stubbed == 1
    stubbed = [i for i in retention.retained if isinstance(i, ToolResult) and i.call_id == "a"]
    assert "Output removed" in (stubbed[0].content or "")
    assert sum(i.wire_bytes for i in retention.retained) // 4 <= 1000
    assert plan_retention(history[:2], [], 5000) is None  # small: nothing to compact


async def test_a_retained_tail_over_the_threshold_compacts_once(ws: Workspace) -> None:
    """The issue's report: parallel reads kept whole made every turn compact."""
    for name in ("a", "b", "c"):
        (ws.root / f"{name}.txt").write_text(f"{name * 49}\n" * 60)
    reads = [{"name": "read_file", "arguments": {"path": f"{n}.txt"}} for n in ("a", "b", "c")]
    ws.model.load(
        [
            {"tool_calls": reads},
            {"text": "Read all three."},
            summary_step(),
            DONE,
            {"text": "No files need re-reading."},  # the one nudge (files were touched)
            {"text": "Second."},
            {"text": "Third."},
        ]
    )
    # the retained budget (8,000) is above the threshold: held to a quarter of it
    pod = await ws.pod(memory=MEMORY_OFF, compaction={"compact_threshold": 4500})
    first = pod.session_id
    for text in ("read a, b and c", "go on", "and on"):
        result = await pod.chat(say(text))
        assert result.outcome == "finished", result.error
        assert pod.context_tokens() < 4500
    assert len(ws.recorder.of(CompactDone)) == 1
    assert len(ws.store().list_sessions()) == 2
    kept = [i for i in pod.history if isinstance(i, ToolResult)]
    assert len(kept) == 3 and any("Output removed" in (i.content or "") for i in kept)
    sessions = {s.session_id: s for s in ws.store().list_sessions()}
    assert sessions[pod.session_id].parent_session_id == first
    assert sessions[pod.session_id].title == sessions[first].title == "read a, b and c"
    await pod.close()


async def test_a_compaction_that_stays_over_says_so_once_and_waits(ws: Workspace) -> None:
    long_summary = SUMMARY + "\n" + "detail " * 3000  # about 5,000 tokens
    ws.model.load(
        [
            {"text": "A long answer.", "usage": usage(6000)},
            summary_step(long_summary),
            DONE,
            {"text": "Short."},
            {"text": "Short again."},
        ]
    )
    pod = await ws.pod(
        memory=MEMORY_OFF, compaction={"compact_threshold": 4000, "compact_retained_tokens": 10}
    )
    await pod.chat(say("hi"))
    assert len(ws.recorder.of(CompactDone)) == 1 and pod.context_tokens() > 4000
    (stuck,) = [a for a in ws.recorder.of(Alert) if "still about" in a.message]
    assert stuck.source == "compactor" and "will not compact" in stuck.message
    await pod.chat(say("and?"))
    await pod.chat(say("and?"))
    assert len(ws.recorder.of(CompactDone)) == 1  # no progress, no compaction
    assert len(ws.model.requests) == 5
    await pod.close()


async def test_the_window_comes_from_litellms_map(ws: Workspace) -> None:
    ws.model.load([{"text": "hi"}])
    pod = await ws.pod(model={"name": "openai/gpt-4o"})
    assert pod.context_limits().window is None  # not asked while the pod was built
    await pod.chat(say("hello"))
    limits = pod.context_limits()
    assert (limits.window, limits.window_source) == (128_000, "model")
    assert (limits.compact_at, limits.request_at) == (96_000, 115_200)
    await pod.close()
    configured = await ws.pod(model={"context_window": 50_000}, compaction={"enabled": False})
    limits = configured.context_limits()
    assert (limits.window, limits.window_source) == (50_000, "manifest")
    assert (limits.compact_at, limits.request_at) == (None, None)
    assert configured.compaction is None
    await configured.close()


async def test_explicit_thresholds_hold_before_the_window_is_known(ws: Workspace) -> None:
    pod = await ws.pod(memory=MEMORY_OFF, compaction={"compact_request_threshold": 3000})
    compaction = pod.compaction
    assert compaction is not None
    assert await compaction.should_yield(4000)  # explicit: no need to ask the model
    assert not await compaction.due_after_run(5000)  # from the window, and too small to ask
    assert pod.window.known is None and pod.context_limits().compact_at is None
    assert await compaction.due_after_run(20_000)  # large enough: the window is asked
    assert pod.window.known is not None and pod.window.known.source == "fallback"
    assert pod.context_limits().compact_at == 3000  # kept at or below the request threshold
    await pod.close()
