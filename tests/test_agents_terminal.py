"""Sub-agents in ``yoi chat``: the real ``yoi`` process, the real litellm and
the scripted model; a sub-agent's progress is printed indented under the
parent's, and its approval question names it."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import cli_env, workspace, yoi  # noqa: F401 (fixtures)

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(60)


def test_chat_prints_a_sub_agents_progress_indented_and_asks_naming_it(
    cli_env: dict[str, str],  # noqa: F811
    workspace: Path,  # noqa: F811
    scripted_model: ScriptedModel,
) -> None:
    scripted_model.load(
        [
            {
                "match": "PARENT",
                "tool_calls": [
                    {
                        "name": "spawn_agent",
                        "arguments": {"task": "CHILD read greet.py", "name": "research-agent"},
                    }
                ],
            },
            {
                "match": "CHILD",
                "tool_calls": [{"name": "read_file", "arguments": {"path": "greet.py"}}],
            },
            {
                "match": "CHILD",
                "tool_calls": [{"name": "run_command", "arguments": {"command": "echo hi"}}],
            },
            {"match": "CHILD", "text": "It prints helo."},
            {"match": "PARENT", "text": "The sub-agent says it prints helo."},
        ]
    )
    run = yoi("chat", "-p", "PARENT look", env=cli_env, cwd=workspace, stdin="n\n")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "  ┌ research-agent started" in out
    assert "  │ research-agent → read_file path='greet.py'" in out
    assert "Allow run_command: research-agent wants to run `echo hi`" in out
    assert "  └ research-agent finished" in out
    assert out.index("└ research-agent finished") < out.index("The sub-agent says it prints helo.")
