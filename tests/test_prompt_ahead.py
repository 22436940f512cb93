"""The system prompt rendered as a pod is made (agent/prompts/ahead.py): the
first turn uses it, unless what it was made from changed in between."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from podkit import Workspace, make_workspace

from agent.events import Alert
from agent.prompts.ahead import MAX_CHECKED_RECORDS, RenderAhead, prompt_inputs
from agent.segments import TextSegment
from agent.testing import ScriptedModel

RECORD = (
    "---\ndescription: {description}\nmodel_invocation: true\nuser_invocable: true\n"
    "created_at: '2026-11-25T00:00:00Z'\nupdated_at: '2026-11-25T00:00:00Z'\n"
    "last_sources: []\n---\n# Record\n\nBody.\n"
)


def say(text: str) -> list[TextSegment]:
    return [TextSegment(kind="text", text=text)]


@pytest.fixture
def ws(tmp_path: Path, scripted_model: ScriptedModel) -> Workspace:
    return make_workspace(tmp_path, scripted_model)


def system_prompt(ws: Workspace) -> str:
    message = ws.model.requests[0]["messages"][0]
    assert message["role"] == "system"
    return str(message["content"])


async def test_agents_md_written_after_the_pod_is_made_reaches_the_first_request(
    ws: Workspace,
) -> None:
    ws.model.load([{"text": "ok"}])
    pod = await ws.pod()
    await asyncio.sleep(0.2)  # the rendering made ahead is done
    (ws.root / "AGENTS.md").write_text("Always answer in haiku.\n")
    await pod.chat(say("hi"))
    assert "Always answer in haiku." in system_prompt(ws)
    await pod.close()


async def test_agents_md_edited_after_the_pod_is_made_is_read_again(ws: Workspace) -> None:
    agents = ws.root / "AGENTS.md"
    agents.write_text("Use tabs.\n")
    ws.model.load([{"text": "ok"}])
    pod = await ws.pod()
    await asyncio.sleep(0.2)
    agents.write_text("Use spaces, four of them.\n")
    await pod.chat(say("hi"))
    prompt = system_prompt(ws)
    assert "Use spaces, four of them." in prompt and "Use tabs." not in prompt
    await pod.close()


async def test_knowledge_recorded_after_the_pod_is_made_is_resident(ws: Workspace) -> None:
    folder = ws.root / ".yoi" / "knowledge"
    folder.mkdir(parents=True)
    (folder / "style.md").write_text(RECORD.format(description="House style"))
    ws.model.load([{"text": "ok"}])
    pod = await ws.pod()
    await asyncio.sleep(0.2)
    (folder / "naming.md").write_text(RECORD.format(description="How we name things"))
    await pod.chat(say("hi"))
    prompt = system_prompt(ws)
    assert "- style: House style" in prompt and "- naming: How we name things" in prompt
    await pod.close()


async def test_an_unreadable_agents_md_is_reported_by_the_turn_not_at_creation(
    ws: Workspace,
) -> None:
    (ws.root / "AGENTS.md").write_bytes(b"\xff\xfe bad")
    ws.model.load([{"text": "ok"}])
    pod = await ws.pod()
    await asyncio.sleep(0.2)
    assert not [a for a in ws.recorder.of(Alert) if a.source == "agents_md"]
    await pod.chat(say("hi"))
    assert len([a for a in ws.recorder.of(Alert) if a.source == "agents_md"]) == 1
    await pod.close()


class Renderer:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> tuple[str, list[str]]:
        self.calls += 1
        return f"prompt {self.calls}", [f"problem {self.calls}"]


async def test_render_ahead_reuses_its_rendering_while_the_inputs_hold() -> None:
    render, problems, key = Renderer(), [], ["a"]
    ahead = RenderAhead(render, inputs=lambda: tuple(key), problem=problems.append)
    ahead.start()
    await asyncio.sleep(0)
    assert await ahead() == "prompt 1"
    assert render.calls == 1 and problems == ["problem 1"]  # reported when taken
    # taken once: a second call renders (a pod renders once per session anyway)
    assert await ahead() == "prompt 2"


async def test_render_ahead_renders_again_when_an_input_changed() -> None:
    render, problems, key = Renderer(), [], ["a"]
    ahead = RenderAhead(render, inputs=lambda: tuple(key), problem=problems.append)
    ahead.start()
    await asyncio.sleep(0)
    key.append("b")
    assert await ahead() == "prompt 2"
    assert problems == ["problem 2"]  # the first rendering's problems are not reported


async def test_render_ahead_without_a_key_never_renders_early() -> None:
    render = Renderer()
    ahead = RenderAhead(render, inputs=lambda: None, problem=lambda _: None)
    ahead.start()
    await asyncio.sleep(0)
    assert render.calls == 0
    assert await ahead() == "prompt 1"


async def test_render_ahead_that_failed_renders_again() -> None:
    calls = []

    async def render() -> tuple[str, list[str]]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("template broke")
        return "fine", []

    ahead = RenderAhead(render, inputs=lambda: (1,), problem=lambda _: None)
    ahead.start()
    await asyncio.sleep(0)
    assert await ahead() == "fine" and len(calls) == 2


def test_prompt_inputs_see_agents_md_and_records(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    before = prompt_inputs(tmp_path, knowledge)  # neither exists yet
    assert before is not None
    (tmp_path / "AGENTS.md").write_text("x")
    with_agents = prompt_inputs(tmp_path, knowledge)
    assert with_agents != before
    knowledge.mkdir()
    (knowledge / "a.md").write_text("a")
    with_record = prompt_inputs(tmp_path, knowledge)
    assert with_record != with_agents
    assert prompt_inputs(tmp_path, knowledge) == with_record  # stable while nothing changes
    (knowledge / "a.md").write_text("longer")
    assert prompt_inputs(tmp_path, knowledge) != with_record


def test_prompt_inputs_give_up_on_a_large_knowledge_folder(tmp_path: Path) -> None:
    for n in range(MAX_CHECKED_RECORDS + 1):
        (tmp_path / f"r{n}.md").write_text("x")
    assert prompt_inputs(None, tmp_path) is None
