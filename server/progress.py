"""Work-done progress (``window/workDoneProgress/create`` + ``$/progress``).

    async with WorkProgress(server, "Indexing workspace") as progress:
        progress.report("12,000 files", percentage=40)
        progress.end_message = "48,211 files"

Clients that did not advertise ``window.workDoneProgress`` get nothing (the
work still runs). Later work (compaction, memory extraction) uses the same
helper.
"""

from __future__ import annotations

import logging
import uuid
from types import TracebackType
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from server.app import YoiServer

log = logging.getLogger(__name__)


class WorkProgress:
    def __init__(self, server: YoiServer, title: str, message: str | None = None) -> None:
        self.server = server
        self.title = title
        self.message = message
        self.token: str | None = None
        self.end_message: str | None = None

    async def __aenter__(self) -> WorkProgress:
        if not self.server.client_supports("window", "work_done_progress"):
            return self
        token = f"yoi-{uuid.uuid4()}"
        try:
            await self.server.work_done_progress.create_async(token)
        except Exception as exc:  # the client refused: go on without progress
            log.info("progress not created: %s", exc)
            return self
        self.token = token
        self.server.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(title=self.title, message=self.message, percentage=0),
        )
        return self

    def report(self, message: str | None = None, percentage: int | None = None) -> None:
        if self.token is None:
            return
        if percentage is not None:
            percentage = max(0, min(100, percentage))
        self.server.work_done_progress.report(
            self.token, types.WorkDoneProgressReport(message=message, percentage=percentage)
        )

    def end(self, message: str | None = None) -> None:
        if self.token is None:
            return
        self.server.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        self.token = None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.end(f"failed: {exc}" if exc is not None else self.end_message)


class LspProgressPort:
    """The runtime's progress port over ``$/progress``."""

    def __init__(self, server: YoiServer) -> None:
        self.server = server

    async def begin(self, title: str, message: str | None = None) -> WorkProgress:
        progress = WorkProgress(self.server, title, message)
        await progress.__aenter__()
        return progress
