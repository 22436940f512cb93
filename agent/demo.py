"""``make demo``: a short, real yoi session that needs no API key.

It creates a throw-away workspace with a small bug, starts the scripted model
(an OpenAI-compatible server on 127.0.0.1 that plays a fixed script), and runs
the real ``yoi chat`` against it through the real litellm: the agent reads the
file, proposes an edit (approved on the terminal), runs the program (approved
too), and answers. Then it shows the file, the session list and the session's
hash-chained log, and says how to point ``yoi chat`` at a real provider.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from agent.testing import ScriptedModel

BUGGY = 'def greet(name):\n    return "Helo, " + name\n\n\nprint(greet("world"))\n'

SCRIPT = [
    {
        "text": "Let me look at the file first.",
        "tool_calls": [{"name": "read_file", "arguments": {"path": "greet.py"}}],
        "chunk_size": 6,
        "chunk_delay_ms": 15,
    },
    {
        "text": "The greeting is misspelled; fixing it.",
        "tool_calls": [
            {
                "name": "edit_file",
                "arguments": {
                    "path": "greet.py",
                    "old_string": '"Helo, "',
                    "new_string": '"Hello, "',
                },
            }
        ],
        "chunk_size": 6,
        "chunk_delay_ms": 15,
    },
    {
        "text": "Now let me run it to check.",
        "tool_calls": [{"name": "run_command", "arguments": {"command": "python3 greet.py"}}],
        "chunk_size": 6,
        "chunk_delay_ms": 15,
    },
    {
        "text": "Fixed: `greet.py` now prints **Hello, world**.",
        "chunk_size": 5,
        "chunk_delay_ms": 20,
    },
]

REAL_PROVIDER = """\
To use a real model, set a litellm model string and its key, then chat in any folder:

    export YOI_MODEL=anthropic/claude-sonnet-4-5   # or openai/gpt-4.1, ollama/qwen2.5-coder ...
    export YOI_API_KEY=sk-...                      # the provider's key
    export YOI_API_BASE=https://...                # only for OpenAI/Anthropic-compatible gateways
    .venv/bin/yoi chat

or put them in ~/.config/yoi/manifest.toml (see README.md)."""


def heading(text: str) -> None:
    print(f"\n\x1b[1m== {text}\x1b[0m" if sys.stdout.isatty() else f"\n== {text}", flush=True)


def yoi(*args: str, env: dict[str, str], cwd: Path, stdin: str | None = None) -> int:
    command = [sys.executable, "-m", "server.cli", *args]
    return subprocess.run(command, env=env, cwd=cwd, input=stdin, text=True, check=False).returncode


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="yoi-demo-") as tmp, ScriptedModel(SCRIPT) as model:
        workspace = Path(tmp) / "workspace"
        workspace.mkdir()
        (workspace / "greet.py").write_text(BUGGY)
        env = {
            **os.environ,
            "YOI_HOME": str(Path(tmp) / "home"),
            "YOI_CONFIG_DIR": str(Path(tmp) / "config"),
            "YOI_MODEL": "openai/scripted",
            "YOI_API_BASE": model.base_url,
            "YOI_API_KEY": "demo-key",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            # its scripted model is gone when the demo ends: nothing to share
            "YOI_SHARED_MODEL": "0",
        }
        heading(f"A workspace with a bug: {workspace / 'greet.py'}")
        print(BUGGY, end="")
        heading(
            "yoi chat -p 'Fix the greeting in greet.py'   (answers: y to the edit, y to the run)"
        )
        code = yoi(
            "chat", "-p", "Fix the greeting in greet.py", env=env, cwd=workspace, stdin="y\ny\n"
        )
        if code != 0:
            print(f"demo: yoi chat exited with {code}", file=sys.stderr)
            return code
        heading("greet.py after the session")
        print((workspace / "greet.py").read_text(), end="")
        heading("yoi sessions")
        yoi("sessions", env=env, cwd=workspace)
        heading("yoi log <session>   (the append-only, hash-chained session log)")
        sessions = sorted((Path(tmp) / "home" / "sessions").glob("*.jsonl"))
        yoi("log", sessions[-1].stem, env=env, cwd=workspace)
        heading("Next")
        print(REAL_PROVIDER)
        fixed = "Hello, " in (workspace / "greet.py").read_text()
        return 0 if fixed else 1


if __name__ == "__main__":
    sys.exit(main())
