"""What child processes (``run_command``, command hooks) get from yoi: an
environment without its secrets, and a way to end their whole process group.

Children run non-interactively: no pager, and git never prompts for
credentials on the terminal (it would wait for input that never comes).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable, Mapping

from agent.secrets import PROVIDER_KEYS

DEFAULT_HIDDEN_ENV: tuple[str, ...] = PROVIDER_KEYS
NON_INTERACTIVE: Mapping[str, str] = {
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "GIT_TERMINAL_PROMPT": "0",
}


def child_env(
    hidden: Iterable[str] = DEFAULT_HIDDEN_ENV, *, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The process environment minus the variables named in ``hidden`` (the
    model's API key), plus :data:`NON_INTERACTIVE` and ``extra``."""
    drop = set(hidden)
    env = {name: value for name, value in os.environ.items() if name not in drop}
    env.update(NON_INTERACTIVE)
    if extra:
        env.update(extra)
    return env


def kill_group(pid: int, sig: signal.Signals = signal.SIGKILL) -> None:
    """Send ``sig`` to the process group led by ``pid`` (a child started with
    ``start_new_session=True``); a group that is already gone is no error."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
