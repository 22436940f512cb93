"""``yoi chat`` uses the same MCP servers as the editors: the README's
example manifest, run as written, through the real ``yoi`` process, the real
litellm, the scripted model and the real ``mcp-server-time``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(90)

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_manifest() -> str:
    text = README.read_text()
    section = text[text.index("<!-- mcp-example") :]
    match = re.search(r"```toml\n(.*?)```", section, re.S)
    assert match is not None, "no TOML block after the mcp-example marker"
    return match.group(1)


def test_the_readme_example_answers_what_time_it_is_in_tokyo(
    tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "manifest.toml").write_text(readme_manifest())
    workspace = tmp_path / "ws"
    workspace.mkdir()
    scripted_model.load(
        [
            {
                "tool_calls": [
                    {"name": "mcp__time__get_current_time", "arguments": {"timezone": "Asia/Tokyo"}}
                ]
            },
            {"text": "It is the evening in Tokyo."},
        ]
    )
    env = {
        # the venv's bin first, as after `.venv/bin/pip install mcp-server-time` and activation
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "YOI_HOME": str(tmp_path / "home"),
        "YOI_CONFIG_DIR": str(config),
        "YOI_MODEL": "openai/scripted",
        "YOI_API_BASE": scripted_model.base_url,
        "YOI_API_KEY": "test-key",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "YOI_SHARED_MODEL": "0",
    }
    run = subprocess.run(
        [sys.executable, "-m", "server.cli", "chat", "-p", "What time is it in Tokyo?"],
        env=env,
        cwd=workspace,
        input="y\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "It is the evening in Tokyo." in run.stdout
    assert "mcp__time__get_current_time" in run.stdout
    tools = [t["function"]["name"] for t in scripted_model.requests[0]["tools"]]
    assert "mcp__time__convert_time" in tools
    (answer,) = [m for m in scripted_model.requests[1]["messages"] if m["role"] == "tool"]
    assert '"timezone": "Asia/Tokyo"' in answer["content"]


def test_secrets_never_reach_the_log_or_the_terminal(
    tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    """A server given a token through ${env:NAME} prints it on stderr and
    fails; with every log on (DEBUG), yoi shows *** where the token was."""
    secret = "hunter2-very-secret"
    config = tmp_path / "config"
    config.mkdir()
    (config / "manifest.toml").write_text(
        "[mcp.servers.leaky]\n"
        'command = "/bin/sh"\n'
        'args = ["-c", "echo token is $TOKEN >&2; exit 1"]\n'
        'env = { TOKEN = "${env:LEAKY_TOKEN}" }\n'
        "timeout = 5\n"
        "[mcp.servers.web]\n"
        'url = "http://127.0.0.1:9/mcp?key=${env:LEAKY_TOKEN}"\n'
        'headers = { Authorization = "Bearer ${env:LEAKY_TOKEN}" }\n'
        "timeout = 5\n"
    )
    workspace = tmp_path / "ws"
    workspace.mkdir()
    scripted_model.load([{"text": "fine"}])
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "YOI_HOME": str(tmp_path / "home"),
        "YOI_CONFIG_DIR": str(config),
        "YOI_MODEL": "openai/scripted",
        "YOI_API_BASE": scripted_model.base_url,
        "YOI_API_KEY": "test-key",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "YOI_SHARED_MODEL": "0",
        "YOI_LOG_LEVEL": "DEBUG",
        "LEAKY_TOKEN": secret,
    }
    run = subprocess.run(
        [sys.executable, "-m", "server.cli", "chat", "-p", "hi"],
        env=env,
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "MCP server leaky is not ready" in run.stderr
    assert "token is ***" in run.stderr
    assert "MCP server web is not ready" in run.stderr
    assert secret not in run.stderr and secret not in run.stdout
