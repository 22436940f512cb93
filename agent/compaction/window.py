"""The model's input window: the measure compaction is sized by.

Highest first: ``[model] context_window``; what the model client says
(:meth:`agent.llm.types.LlmClient.model_info`, litellm's local model map);
:data:`FALLBACK_WINDOW` for models litellm does not know.

Asking the client may wait for the model process to load, so a pod never asks
while it is being created: :meth:`ContextWindow.resolve_soon` starts the
question when a turn starts (the turn's first request needs the process
anyway), and the answer is awaited where it is first needed — after that
request, when the process is loaded and the answer is immediate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from agent.llm.types import ModelInfo

log = logging.getLogger(__name__)

FALLBACK_WINDOW = 32_000  # tokens: small enough for most local models
PATIENCE = 10.0  # seconds to wait for the client's answer before using the fallback
# Before the window is known (a pod's first request, while the model process
# may still be loading), a context this small is sent without waiting for it
# (a new session's system prompt, tools, a full AGENTS.md and a question): no
# model yoi can work with has a window it could fill. A larger one (a resumed
# long session) waits for the answer before its first request.
EARLY_CHECK_TOKENS = 12_000

WindowSource = Literal["manifest", "model", "fallback"]


@dataclass(frozen=True)
class Window:
    tokens: int
    source: WindowSource


class ContextWindow:
    """One pod's model window, asked of its client at most once (a question
    that times out is asked again next time)."""

    def __init__(
        self,
        configured: int | None,
        ask: Callable[[], Awaitable[ModelInfo]],
        fallback: int = FALLBACK_WINDOW,
    ) -> None:
        self._ask = ask
        self.fallback = fallback
        self._known = Window(configured, "manifest") if configured is not None else None
        self._task: asyncio.Task[Window] | None = None

    def repoint(self, ask: Callable[[], Awaitable[ModelInfo]]) -> None:
        """The pod switched models: look the new one's window up (a window
        set in the manifest stays: the user chose it)."""
        self._ask = ask
        if self._known is not None and self._known.source == "manifest":
            return
        if self._task is not None:
            self._task.cancel()
        self._known, self._task = None, None

    @property
    def known(self) -> Window | None:
        """The window, once it is known (at once when configured)."""
        return self._known

    def resolve_soon(self) -> None:
        """Start asking the client, if nobody has yet (does not wait)."""
        if self._known is None and (self._task is None or self._task.cancelled()):
            self._task = asyncio.ensure_future(self._resolve())

    async def get(self, patience: float = PATIENCE) -> Window:
        """The window, asking the client if needed; the fallback (not
        remembered) if the client takes longer than ``patience``."""
        if self._known is not None:
            return self._known
        self.resolve_soon()
        assert self._task is not None
        try:
            return await asyncio.wait_for(asyncio.shield(self._task), patience)
        except TimeoutError:
            log.warning("the model client did not say its context window in %s s", patience)
            return Window(self.fallback, "fallback")

    def close(self) -> None:
        """Stop asking (the pod is closing)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _resolve(self) -> Window:
        try:
            info = await self._ask()
        except Exception:  # the protocol says it never raises; a bug must not stop a turn
            log.exception("asking the model client for its context window failed")
            info = ModelInfo()
        window = (
            Window(info.max_input_tokens, "model")
            if info.max_input_tokens is not None
            else Window(self.fallback, "fallback")
        )
        self._known = window
        return window
