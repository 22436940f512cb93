"""Runs an MCP stdio server so that it dies with its host.

Started by :mod:`agent.mcp.client` as ``python -I -S launch.py <command>
<args>...`` (stdlib only, so it starts in a few milliseconds). It leads a
process group of its own, asks Linux to send it SIGTERM when its host dies
(``PR_SET_PDEATHSIG``, as the model process does), runs the server in its
group with the same stdin, stdout and stderr, and exits with the server's
status. The server runs at a lower priority (``nice`` +10): MCP servers start
while the user's first chat does, and on a busy machine the chat goes first.
On SIGTERM, SIGINT or SIGHUP it ends the whole group (the server and anything
the server started): SIGTERM first, SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from types import FrameType

GRACE_SECONDS = 2.0
NICENESS = 10
HOST_VAR = "YOI_HOST_PID"


def _die_with_host() -> bool:
    """Whether the host is still there (it may have died before prctl)."""
    host = os.environ.pop(HOST_VAR, "")
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    return not (host.isdigit() and os.getppid() != int(host))


def _end_group(child: subprocess.Popen[bytes], leader: bool) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if leader:
            os.killpg(os.getpgrp(), signal.SIGTERM)
        else:
            child.terminate()
    deadline = time.monotonic() + GRACE_SECONDS
    while child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if leader:
            os.killpg(os.getpgrp(), signal.SIGKILL)  # ends this process too
        else:
            child.kill()


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: launch.py COMMAND [ARG...]", file=sys.stderr)
        return 2
    if not _die_with_host():
        return 1
    with contextlib.suppress(OSError):
        os.setsid()  # already a group leader when started with start_new_session
    leader = os.getpgrp() == os.getpid()
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    try:
        child = subprocess.Popen(argv)
    except OSError as exc:
        print(f"cannot start the MCP server {argv[0]!r}: {exc}", file=sys.stderr)
        return 127

    def stop(signum: int, frame: FrameType | None) -> None:
        _end_group(child, leader)
        os._exit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    return child.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
