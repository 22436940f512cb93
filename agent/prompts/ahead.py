"""The system prompt, rendered before the first turn asks for it.

A new pod's first turn needs its system prompt before anything else: the
session log starts with it and the first request carries it. Rendering it
then (AGENTS.md read, the knowledge folder listed, the template run, in a
worker thread) put about 3 ms in front of every first reply. So the prompt is
rendered as the pod is made, and the first turn takes that rendering if what
it was made from is unchanged: the UTC date, ``AGENTS.md`` (its size, times
and inode, through a symlink too) and the knowledge folder's records. If any
changed, or the folder holds too many records to check cheaply, the first
turn renders afresh, as before. Problems found while rendering (an unreadable
``AGENTS.md``) are reported by the turn that uses the rendering, never at
creation, when no client knows the pod yet.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Hashable
from datetime import UTC, datetime
from pathlib import Path

from agent.prompts.system import AGENTS_MD

log = logging.getLogger(__name__)

Rendering = tuple[str, list[str]]  # the prompt and the problems met

# Past this many knowledge records, checking them all on the event loop
# would cost more than rendering anew: the first turn renders.
MAX_CHECKED_RECORDS = 256


def prompt_inputs(root: Path | None, knowledge_dir: Path | None) -> Hashable | None:
    """A key that changes when anything a rendered system prompt was made from
    changes (a few ``stat`` calls: cheap enough for the event loop). ``None``
    when it cannot tell: then nothing rendered earlier is reused."""
    parts: list[Hashable] = [datetime.now(UTC).date()]
    if root is not None:
        path = root / AGENTS_MD
        parts += [_stat_key(path, follow=False), _stat_key(path, follow=True)]
    if knowledge_dir is not None:
        records: list[Hashable] = []
        try:
            with os.scandir(knowledge_dir) as entries:
                for entry in entries:
                    if len(records) >= MAX_CHECKED_RECORDS:
                        return None
                    try:
                        info = entry.stat()
                    except OSError:
                        records.append((entry.name, None))
                        continue
                    records.append((entry.name, info.st_ino, info.st_mtime_ns, info.st_size))
        except FileNotFoundError:
            pass
        except OSError:
            return None
        parts.append(tuple(sorted(records, key=repr)))
    return tuple(parts)


def _stat_key(path: Path, *, follow: bool) -> Hashable:
    try:
        info = os.stat(path, follow_symlinks=follow)
    except OSError as exc:
        return ("missing", exc.errno)
    return (info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_mode)


class RenderAhead:
    """``await ahead()`` gives the system prompt: the one :meth:`start`
    rendered if its inputs are unchanged, else a fresh one. ``render`` gives
    the prompt and its problems; ``problem`` reports each problem of the
    rendering that is used."""

    def __init__(
        self,
        render: Callable[[], Awaitable[Rendering]],
        *,
        inputs: Callable[[], Hashable | None],
        problem: Callable[[str], None],
    ) -> None:
        self._render = render
        self._inputs = inputs
        self._problem = problem
        self._ahead: asyncio.Future[Rendering] | None = None
        self._key: Hashable | None = None

    def start(self) -> None:
        """Begin rendering now (on the running loop; the work is the
        renderer's, in its thread)."""
        if self._ahead is not None:
            return
        self._key = self._inputs()
        if self._key is not None:
            self._ahead = asyncio.ensure_future(self._render())
            self._ahead.add_done_callback(_retrieved)

    def cancel(self) -> None:
        if self._ahead is not None:
            self._ahead.cancel()
            self._ahead = None

    async def __call__(self) -> str:
        rendering = await self._take_ahead()
        if rendering is None:
            rendering = await self._render()
        prompt, problems = rendering
        for problem in problems:
            self._problem(problem)
        return prompt

    async def _take_ahead(self) -> Rendering | None:
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            return None
        try:
            rendering = await ahead  # usually long done; else as good as rendering now
        except Exception as exc:  # rendered again by the caller, who reports the error
            log.debug("system prompt rendered ahead failed: %s", exc)
            return None
        if self._inputs() != self._key:
            return None
        return rendering


def _retrieved(future: asyncio.Future[Rendering]) -> None:
    """A rendering nobody takes (the pod closed first) must not leave an
    unretrieved error behind."""
    if not future.cancelled():
        future.exception()
