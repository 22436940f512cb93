"""The language server starts without importing litellm (it takes seconds and
is only needed for the first model request)."""

from __future__ import annotations

import subprocess
import sys


def test_serving_modules_do_not_import_litellm() -> None:
    code = (
        "import sys\n"
        "from server.app import create_server\n"
        "create_server()\n"
        "import agent.factory, agent.pod, agent.worker\n"
        "print('litellm' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.strip() == "False"


def test_a_bad_log_level_falls_back_with_a_note(tmp_path: object) -> None:
    import os

    run = subprocess.run(
        [sys.executable, "-m", "server.cli", "sessions"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "YOI_LOG_LEVEL": "verbose", "YOI_HOME": str(tmp_path)},
    )
    assert run.returncode == 0
    assert "ignoring YOI_LOG_LEVEL='VERBOSE'" in run.stderr
