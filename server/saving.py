"""Accepted edits are saved, so the commands the agent runs next see them.

An edit the user accepts lives in the editor's buffer. When the user kept
all of it (a partly kept edit is theirs to finish) and that buffer had
no unsaved changes before the edit (its text was the file on disk, or the
file was not open at all), the server asks the client to save it with the
request ``yoi/document/save {uri}``, answered ``{saved}``, and waits for the
answer before the edit tool returns. A buffer that already held the user's
unsaved changes is never saved behind their back.

Why the client saves, not the server: a stock LSP client has no request for
"save this document", and a server that wrote the file itself would leave a
modified buffer over a changed file (Vim's W12, VS Code's save conflict).
So only clients that advertise ``capabilities.experimental.yoi.saveDocuments``
are asked; they may answer ``saved: false`` (a setting turns saving off).
For the others, and whenever a save did not happen, ``run_command`` says in
its approval prompt and its result which edited files the command will not
see (:mod:`agent.tools.unsaved`).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.fsutil import read_regular
from agent.tools.fs import decode
from server import protocol as p

if TYPE_CHECKING:
    from server.app import YoiServer

log = logging.getLogger(__name__)

SAVE_TIMEOUT_SECONDS = 10.0


def _disk_text(path: Path) -> str | None:
    try:
        return decode(read_regular(path))
    except OSError:
        return None


async def buffer_is_clean(path: Path, text: str) -> bool:
    """Whether an open buffer holding ``text`` is the file on disk."""
    return await asyncio.to_thread(_disk_text, path) == text


async def save_accepted(server: YoiServer, uri: str) -> bool:
    """Ask the client to save the document at ``uri``; whether it did."""
    if not server.yoi_client_option("saveDocuments"):
        return False
    try:
        answer: Any = await asyncio.wait_for(
            server.request_cancellable(p.DOCUMENT_SAVE, {"uri": uri}), SAVE_TIMEOUT_SECONDS
        )
    except TimeoutError:
        log.warning("%s: no answer for %s in time", p.DOCUMENT_SAVE, uri)
        return False
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.warning("%s failed for %s: %s", p.DOCUMENT_SAVE, uri, exc)
        return False
    saved = answer.get("saved") if isinstance(answer, dict) else getattr(answer, "saved", None)
    return saved is True
