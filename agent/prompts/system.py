"""The system prompt: the instruction template rendered once per session, and
the sections code appends after it.

The pod renders this once, before its first request, stores the text in the
session log and replays it verbatim afterwards; nothing here caches. Both
functions read files synchronously; async callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from agent.prompts.catalog import PromptCatalog, PromptKey
from agent.prompts.library import PromptLibrary

AGENTS_MD = "AGENTS.md"
_TRIM = " \n"


@dataclass(frozen=True)
class AgentsMd:
    """``<root>/AGENTS.md`` as it goes into the prompt (``None``: no section),
    and warnings for the user (the pod turns them into alerts)."""

    text: str | None
    problems: list[str] = field(default_factory=list)


def read_agents_md(
    root: Path | None, max_bytes: int, *, allowed: Callable[[Path], bool] = lambda _p: True
) -> AgentsMd:
    """Read ``<root>/AGENTS.md``, at most ``max_bytes`` of it. A missing file
    is no section and no warning; a longer one is cut at a UTF-8 boundary with a
    visible marker; an unreadable one is no section and a warning.

    ``allowed`` gets the resolved path (symlinks followed) and may refuse it:
    the pod passes its scope's read check, so an ``AGENTS.md`` that links
    outside the workspace is never read. Only regular files are read."""
    if root is None:
        return AgentsMd(None)
    path = root / AGENTS_MD
    if not os.path.lexists(path):
        return AgentsMd(None)
    resolved = path.resolve()
    if not allowed(resolved):
        return AgentsMd(
            None, [f"{path} points outside the agent's scope ({resolved}); it was left out."]
        )
    try:
        fd = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return AgentsMd(None)
    except OSError as exc:
        return AgentsMd(None, [f"{path} cannot be read ({exc.strerror or exc}); it was left out."])
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return AgentsMd(None, [f"{path} is not a regular file; it was left out."])
        size = info.st_size
        data = f.read(max_bytes + 1)
    truncated = len(data) > max_bytes
    data = data[:max_bytes]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut in the middle of a character is fine; anything else is not UTF-8.
        if not (truncated and exc.start >= len(data) - 3 and exc.end == len(data)):
            return AgentsMd(
                None, [f"{path} is not valid UTF-8 (byte {exc.start}); it was left out."]
            )
        text = data[: exc.start].decode("utf-8")
    if not truncated:
        return AgentsMd(text)
    size = max(size, max_bytes + 1)
    marker = (
        f"\n\n[AGENTS.md truncated: only the first {_kib(max_bytes)} of {_kib(size)} are shown]"
    )
    warning = (
        f"AGENTS.md is {_kib(size)}; only the first {_kib(max_bytes)} are in the prompt. "
        "Raise [prompts] agents_md_max_bytes or shorten it."
    )
    return AgentsMd(text.rstrip(_TRIM) + marker, [warning])


def render_system_prompt(
    *,
    instruction: str,
    catalog: PromptCatalog,
    library: PromptLibrary | None = None,
    cwd: Path | None,
    scope_summary: str,
    tool_names: Sequence[str],
    now: datetime,
    agents_md: str | None,
    resident_knowledge: Sequence[tuple[str, str]] = (),
) -> str:
    """Render ``instruction`` (a ``$prefix/path`` reference) and append the
    working-boundaries section, the AGENTS.md section when there is one and the
    resident-knowledge section when it is not empty. ``library`` defaults to
    the catalog's. Raises
    :class:`agent.errors.PromptError` naming the template and line.

    Template variables: ``now`` (RFC 3339, UTC), ``date``, ``time``, ``cwd``
    (``""`` without a workspace), ``scope``, ``tools`` (sorted names) and
    ``agents_md`` (``""`` when absent; the section is appended anyway, so
    templates only use it to refer to it)."""
    utc = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    variables = {
        "now": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "date": utc.strftime("%Y-%m-%d"),
        "time": utc.strftime("%H:%M:%S"),
        "cwd": str(cwd) if cwd is not None else "",
        "scope": scope_summary,
        "tools": sorted(tool_names),
        "agents_md": agents_md or "",
    }
    body = (library or catalog.library).render(instruction, variables)
    sections = [catalog.render(PromptKey.WORKING_BOUNDARIES_SECTION, scope_summary=scope_summary)]
    if agents_md is not None:
        sections.append(catalog.render(PromptKey.AGENTS_MD_SECTION, agents_md=agents_md))
    if resident_knowledge:
        entries = [(slug, " ".join(text.split())) for slug, text in resident_knowledge]
        sections.append(catalog.render(PromptKey.RESIDENT_KNOWLEDGE_SECTION, entries=entries))
    return join_sections(body, sections)


def warm_templates() -> None:
    """Compile the bundled system prompt and every bundled catalog entry into
    the process's shared cache (:data:`agent.prompts.library.COMPILED`), so the
    first pod's first turn renders them without compiling (blocking: call it
    in a worker thread at start-up). An entry that needs variables it is not
    given is compiled all the same."""
    from agent.errors import PromptError
    from agent.prompts.catalog import load_catalog

    catalog = load_catalog(None, config_dir=Path(os.devnull), env={}).catalog
    render_system_prompt(
        instruction="$yoi/default",
        catalog=catalog,
        cwd=None,
        scope_summary="",
        tool_names=(),
        now=datetime.now(UTC),
        agents_md="",
        resident_knowledge=[("warm", "up")],
    )
    for key in catalog.entries:
        with contextlib.suppress(PromptError):  # compiled; it only lacked variables
            catalog.render(key)


def join_sections(body: str, sections: Sequence[str]) -> str:
    """DIGEST §7.3: the body ending in a newline, then each section after a
    blank line with its trailing blanks trimmed; no trailing blanks at the end.
    An empty body leaves no leading blank lines."""
    out = body if body.endswith("\n") or not body.strip() else body + "\n"
    if not out.strip():
        out = ""
    for section in sections:
        out += ("\n" if out else "") + section.rstrip(_TRIM) + "\n"
    return out.rstrip(_TRIM)


def _kib(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    return f"{size / 1024:.1f}".removesuffix(".0") + " KiB"
