"""Pod events → ``yoi/event`` notifications.

:class:`LspEventSink` numbers each pod's events (``seq`` strictly increasing)
and coalesces streamed text: consecutive ``textDelta`` (or
``reasoningDelta``) events are merged and sent at most every :data:`WINDOW`
seconds — the first delta after a pause goes out at once, later ones wait at
most the window — so a reply streamed in thousands of chunks reaches the
editor as tens of notifications, byte-identical once concatenated. Any other
event sends the pending text first, so the order is kept.

A running command's live output (``toolOutput``) is coalesced the same way,
per tool call, on the same clock; a call's pending output beyond
:data:`LIVE_TAIL` characters keeps only its end (a client shows the last
lines; the result has the output as the model gets it).

While the model client is still loading (``phase: loadingModel``, the first
chat after start-up), the editor also gets a ``$/progress`` report saying so.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import TYPE_CHECKING, Any

from agent.events import (
    Alert,
    Event,
    Phase,
    ReasoningDelta,
    TextDelta,
    ToolOutputEvent,
    event_to_wire,
)
from server import protocol as p
from server.progress import WorkProgress

if TYPE_CHECKING:
    from server.app import YoiServer

log = logging.getLogger(__name__)

WINDOW = 0.016  # seconds: the longest a streamed delta waits to be sent
LIVE_TAIL = 16384  # characters of one call's live output kept per notification


class LspEventSink:
    def __init__(self, server: YoiServer, pod_id: str, window: float = WINDOW) -> None:
        self.server = server
        self.pod_id = pod_id
        self.window = window
        self.closed = False
        self._seq = itertools.count(1)
        self._pending: tuple[str, list[str]] | None = None  # event type, texts
        self._outputs: dict[str, list[str]] = {}  # live output per tool call
        self._timer: asyncio.TimerHandle | None = None
        self._last_delta = float("-inf")
        self._loading: asyncio.Event | None = None

    def emit(self, event: Event) -> None:
        if self.closed:
            return
        try:
            if isinstance(event, TextDelta | ReasoningDelta):
                self._delta(event.type, event.text)
                return
            if isinstance(event, ToolOutputEvent):
                self._outputs.setdefault(event.id, []).append(event.text)
                self._tick()
                return
            self.flush()
            self._send(event_to_wire(event))
            if isinstance(event, Phase):
                self._phase(event)
            elif isinstance(event, Alert) and event.level != "info":
                log.warning("%s: %s: %s", self.pod_id, event.source, event.message)
        except Exception:  # the sink must never break a run
            log.exception("could not send an event")

    def close(self) -> None:
        """Send what is pending; the sink goes quiet."""
        self.flush()
        self._loaded()
        self.closed = True

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, None
        if pending is not None:
            kind, texts = pending
            self._send({"type": kind, "text": "".join(texts)})
        outputs, self._outputs = self._outputs, {}
        for call_id, texts in outputs.items():
            self._send({"type": "toolOutput", "id": call_id, "text": _tail("".join(texts))})

    # ------------------------------------------------------------ deltas

    def _delta(self, kind: str, text: str) -> None:
        pending = self._pending
        if pending is not None and pending[0] == kind:
            pending[1].append(text)
        else:
            self.flush()
            self._pending = (kind, [text])
        self._tick()

    def _tick(self) -> None:
        """Send what is pending now, or when the window since the last send ends."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if now - self._last_delta >= self.window:
            self._last_delta = now
            self.flush()
        elif self._timer is None:
            self._timer = loop.call_at(self._last_delta + self.window, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._last_delta = asyncio.get_running_loop().time()
        try:
            self.flush()
        except Exception:
            log.exception("could not send an event")

    def _send(self, event: dict[str, Any]) -> None:
        self.server.protocol.notify(p.EVENT, p.event_params(self.pod_id, next(self._seq), event))

    # ------------------------------------------------------------ progress

    def _phase(self, event: Phase) -> None:
        if event.phase == "loadingModel":
            if self._loading is None:
                self._loading = asyncio.Event()
                self.server.run_task(self._report_loading(self._loading), "loading progress")
        else:
            self._loaded()

    def _loaded(self) -> None:
        if self._loading is not None:
            self._loading.set()
            self._loading = None

    async def _report_loading(self, loaded: asyncio.Event) -> None:
        async with WorkProgress(self.server, "yoi", "Loading the model client…") as progress:
            await loaded.wait()
            progress.end_message = "Model client ready"


def _tail(text: str) -> str:
    if len(text) <= LIVE_TAIL:
        return text
    cut = text.find("\n", len(text) - LIVE_TAIL)
    start = cut + 1 if cut != -1 else len(text) - LIVE_TAIL
    return f"[… {start} characters not shown …]\n" + text[start:]
