"""MCP prompts and resources in the user's input.

``/server:prompt`` (a workflow segment) is the server's prompt, rendered by
the server; its arguments are the words that follow it in the message (the
last argument takes the rest of the text). ``@server:uri`` (a file segment)
is the server's resource, read when the message is sent. Both become
attachments like a workflow or a file, and a failure becomes a placeholder
and an alert, never a failed turn. Everything else is the base resolver's.
"""

from __future__ import annotations

from pathlib import Path

from agent.errors import ToolError
from agent.events import Alert
from agent.input import InputResolver, Resolved
from agent.mcp import results
from agent.mcp.hub import McpHub
from agent.segments import (
    Attachment,
    FileSegment,
    Segment,
    TextSegment,
    WorkflowSegment,
    fence,
    mention,
)
from agent.tools.fs import ScopedFs

MAX_BYTES = 256 * 1024


class McpInputResolver(InputResolver):
    def __init__(
        self, hub: McpHub, fs: ScopedFs, root: Path | None, knowledge_dir: Path | None = None
    ) -> None:
        super().__init__(fs, root, knowledge_dir=knowledge_dir)
        self.hub = hub

    async def resolve(self, segments: list[Segment]) -> Resolved:
        mine: dict[int, Attachment] = {}
        alerts: list[Alert] = []
        rest = list(segments)
        for index, segment in enumerate(segments):
            target = self.target(segment)
            if target is None:
                continue
            rest[index] = TextSegment(kind="text", text="")
            server, name = target
            try:
                if isinstance(segment, WorkflowSegment):
                    words = _following_text(segments, index)
                    mine[index] = await self._prompt(server, name, words)
                else:
                    mine[index] = await self._resource(server, name)
            except ToolError as exc:
                mine[index] = Attachment(
                    title=mention(segment), body=f"[not attached: {exc}]", ok=False
                )
                alerts.append(
                    Alert(
                        level="warn",
                        source="input",
                        message=f"{mention(segment)} was not attached: {exc}",
                    )
                )
        base = await super().resolve(rest)
        return Resolved({**base.attachments, **mine}, [*base.alerts, *alerts])

    def target(self, segment: Segment) -> tuple[str, str] | None:
        """``(server, prompt or uri)`` when the segment names a configured
        MCP server's prompt or resource."""
        match segment:
            case WorkflowSegment(slug=slug):
                text = slug
            case FileSegment(path=path, range=None):
                text = path
            case _:
                return None
        server, colon, name = text.partition(":")
        if not colon or not name or server not in self.hub.connections:
            return None
        return server, name

    async def _resource(self, server: str, uri: str) -> Attachment:
        result = await self.hub.connection(server).read_resource(uri)
        text = "\n".join(results.resource_text(c) for c in result.contents) or "(empty)"
        data = text.encode("utf-8")
        note = ""
        if len(data) > MAX_BYTES:
            text = data[:MAX_BYTES].decode("utf-8", errors="ignore")
            note = f"\n[truncated: {len(data) - MAX_BYTES:,} bytes dropped]"
        return Attachment(title=f"MCP resource: {server}:{uri}", body=fence(text) + note)

    async def _prompt(self, server: str, name: str, words: str) -> Attachment:
        connection = self.hub.connection(server)
        info = next((p for p in connection.prompts if p.name == name), None)
        if info is None:
            known = ", ".join(p.name for p in connection.prompts) or "none"
            raise _NotFound(f"the MCP server {server} has no prompt {name!r} (prompts: {known})")
        arguments = _arguments([a for a, _ in info.arguments], words)
        missing = [a for a, required in info.arguments if required and not arguments.get(a)]
        if missing:
            raise _NotFound(
                f"the prompt needs {', '.join(missing)}: write them after /{server}:{name}"
            )
        result = await connection.get_prompt(name, arguments)
        return Attachment(
            title=f"Workflow: {server}:{name} (MCP)", body=results.prompt_text(result, server)
        )


class _NotFound(ToolError):
    pass


def _following_text(segments: list[Segment], index: int) -> str:
    after = segments[index + 1] if index + 1 < len(segments) else None
    return after.text.strip() if isinstance(after, TextSegment) else ""


def _arguments(names: list[str], words: str) -> dict[str, str]:
    """Positional: each word fills the next argument, the last takes the rest."""
    if not names or not words:
        return {}
    parts = words.split(maxsplit=len(names) - 1)
    return dict(zip(names, parts, strict=False))


def input_resolver(
    hub: McpHub | None, fs: ScopedFs, root: Path | None, knowledge_dir: Path | None
) -> InputResolver:
    """The pod's resolver: with MCP prompts and resources when the host has a hub."""
    if hub is None:
        return InputResolver(fs, root, knowledge_dir=knowledge_dir)
    return McpInputResolver(hub, fs, root, knowledge_dir=knowledge_dir)
