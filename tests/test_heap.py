"""agent/heap.py: the C allocator keeps headroom (glibc's M_TOP_PAD)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(code: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "MALLOC_TOP_PAD_"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={**base, "PYTHONPATH": str(ROOT), **env},
        timeout=30,
    )
    return done.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_headroom_is_set_and_the_environment_wins() -> None:
    code = "from agent.heap import keep_heap_headroom; print(keep_heap_headroom())"
    assert run(code) == "True"
    assert run(code, MALLOC_TOP_PAD_="0") == "False"  # the user's setting stays
