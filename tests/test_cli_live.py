"""The terminal host shows a running command's output as it comes (the
``toolOutput`` events), dim and indented under the call."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import cli_env, workspace, yoi  # noqa: F401 (fixtures)

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(60)


def test_chat_shows_command_output_live(
    cli_env: dict[str, str],  # noqa: F811
    workspace: Path,  # noqa: F811
    scripted_model: ScriptedModel,
) -> None:
    command = "echo first-line; echo second-line"
    scripted_model.load(
        [
            {"tool_calls": [{"name": "run_command", "arguments": {"command": command}}]},
            {"text": "Ran it."},
        ]
    )
    run = yoi("chat", "--yes", "-p", "run it", env=cli_env, cwd=workspace)
    assert run.returncode == 0, run.stderr
    assert "  │ first-line\n  │ second-line\n" in run.stdout  # not a tty: no colours
    assert run.stdout.index("second-line") < run.stdout.index("✓ exit 0")
    assert "Ran it." in run.stdout
