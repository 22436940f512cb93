"""``yoi chat``'s MCP servers: the same configuration as the language
server's (:mod:`agent.mcp.config`), started while the user types. A one-shot
chat (``-p``) waits for them (at most their longest ``timeout``) so its one
turn has their tools."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from agent import secrets
from agent.mcp.hub import McpHub, start_hub


async def start_servers(hub: McpHub, root: Path, overrides: dict[str, Any]) -> None:
    setup = await start_hub(hub, root, env=secrets.environ(), overrides=overrides)
    for note in (*setup.problems, *([setup.untrusted] if setup.untrusted else [])):
        print(f"yoi: {note}", file=sys.stderr)


async def wait_for_servers(hub: McpHub, starting: asyncio.Task[None]) -> None:
    """Wait until the servers are ready or the longest timeout has passed;
    name those that are not."""
    try:
        await asyncio.shield(starting)
    except Exception as exc:
        print(f"yoi: MCP servers could not start: {exc}", file=sys.stderr)
        return
    patience = max((c.config.timeout for c in hub.connections.values()), default=0)
    if not patience:
        return
    try:
        async with asyncio.timeout(patience):
            await hub.wait_ready()
    except TimeoutError:
        late = [s for s in hub.states() if s.status not in ("ready", "disabled")]
        for state in late:
            why = f": {state.last_error}" if state.last_error else ""
            print(
                f"yoi: MCP server {state.name} is not ready ({state.status}{why})", file=sys.stderr
            )
