"""The language server's MCP servers: started with the runtime, shown and
restarted over ``yoi/mcp/*``, their status changes sent as ``yoi/mcp/changed``.

:func:`start_mcp` runs when the runtime loads (after ``initialized``, with the
first ``yoi/*`` request): it builds the hub at once (pods opened from then on
get its tools as the servers become ready). The servers start at the first
quiet moment: once the model process is warm (``YOI_PREWARM=0``: no wait for
it) and no turn has run for :data:`QUIET_SECONDS`, so a chat sent early goes
first and the servers start after its turn (at the latest
:data:`LATEST_START` s after the runtime loaded). Importing the SDK costs
about a second of CPU in this process and each server as much in its own:
started with the first chat, they made it 1.5 to 3 times slower on two cores
(bench/bench_mcp_startup.py). The configuration is read and the SDK
imported in worker threads. Problems with the configuration, and servers an
untrusted workspace declares, are shown once per server lifetime.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from lsprotocol import types
from pydantic import Field

from agent import secrets
from agent.fuzzy import FuzzyIndex
from agent.mcp.config import load_setup
from agent.mcp.hub import McpHub, ServerState, start_hub
from server import payloads as pl
from server import protocol as p
from server.app import YoiServer, import_quietly, prewarm_enabled
from server.errors import invalid_params, maps_errors, request_failed

log = logging.getLogger(__name__)

WARM_UP_PATIENCE = 60.0  # stop waiting for the model process's warm-up after this long
QUIET_SECONDS = 2.0  # no turn for this long: the servers start
LATEST_START = 120.0  # start them anyway this long after the runtime loaded
_POLL = 0.2


class McpRestartParams(pl.Params):
    name: str = Field(min_length=1)


def start_mcp(server: YoiServer) -> McpHub:
    """The server's hub; its servers start in the background."""
    hub = McpHub()

    def changed(state: ServerState) -> None:
        if not server.shut_down:
            server.protocol.notify(p.MCP_CHANGED, state_to_wire(state))

    hub.listeners.append(changed)
    server.run_task(_configure(server, hub), "MCP start-up")
    return hub


async def _after_warm_up(server: YoiServer) -> None:
    process = server.model_process
    if process is None or not prewarm_enabled():
        return
    with contextlib.suppress(Exception):  # a failed warm-up is the chat's to report
        async with asyncio.timeout(WARM_UP_PATIENCE):
            await process.wait_ready()


async def _quiet_moment(server: YoiServer) -> None:
    """Once the model process is warm and no turn has run for a while."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    await _after_warm_up(server)
    quiet_since = loop.time()
    for _ in range(int((LATEST_START - (quiet_since - began)) / _POLL)):
        now = loop.time()
        if any(entry.pod.busy for entry in server.pods.entries.values()):
            quiet_since = now
        elif now - quiet_since >= QUIET_SECONDS:
            return
        await asyncio.sleep(_POLL)


async def _configure(server: YoiServer, hub: McpHub) -> None:
    await _quiet_moment(server)
    setup = await start_hub(
        hub,
        server.root,
        env=secrets.environ(),
        overrides=server.overrides(),
        importer=import_quietly,
    )
    for problem in setup.problems:
        server.show_message(f"yoi: {problem}", types.MessageType.Warning)
    if setup.untrusted:
        server.show_message(f"yoi: {setup.untrusted}", types.MessageType.Warning)
    if setup.servers:
        names = ", ".join(s.name for s in setup.servers)
        server.log_message(f"yoi: starting MCP servers: {names}")


async def stop_mcp(hub: McpHub | None) -> None:
    if hub is not None:
        await hub.stop()


def state_to_wire(state: ServerState) -> dict[str, Any]:
    return {
        "name": state.name,
        "status": state.status,
        "transport": state.transport,
        "source": state.source,
        "tools": list(state.tools),
        "toolCount": len(state.tools),
        "prompts": list(state.prompts),
        "resourceCount": state.resources,
        "lastError": state.last_error,
        "connects": state.connects,
    }


def _hub(ls: YoiServer) -> McpHub:
    hub = ls.pods.mcp
    if hub is None:  # the runtime always starts one; a host that did not has none
        return McpHub()
    return hub


@maps_errors(p.MCP_LIST)
async def mcp_list(ls: YoiServer, params: Any) -> dict[str, Any]:
    pl.parse(p.MCP_LIST, pl.Empty, params)
    hub = _hub(ls)
    return {
        "servers": [state_to_wire(s) for s in hub.states()],
        "configured": hub.configured.is_set(),
    }


@maps_errors(p.MCP_RESTART)
async def mcp_restart(ls: YoiServer, params: Any) -> dict[str, Any]:
    """Restart a server with its configuration read afresh (an edited entry
    applies, a new one starts, a removed or disabled one stops)."""
    name = pl.parse(p.MCP_RESTART, McpRestartParams, params).name
    hub = _hub(ls)
    if not hub.configured.is_set():
        raise request_failed(
            "The MCP servers have not started yet (they start once the model client is "
            "warm); try again in a moment.",
            "failed",
        )
    setup = await asyncio.to_thread(
        load_setup, ls.root, env=secrets.environ(), overrides=ls.overrides()
    )
    await asyncio.to_thread(import_quietly, "agent.mcp.client")
    if not await hub.reload(name, setup):
        known = ", ".join(sorted(hub.connections)) or "none are configured"
        raise invalid_params(p.MCP_RESTART, f"`name`: no MCP server {name!r} ({known})")
    return {"name": name, "restarting": name in hub.connections}


def reference_items(ls: YoiServer, kind: str, prefix: str, limit: int) -> list[dict[str, Any]]:
    """``yoi/references/complete`` items after the files (``@server:uri``, a
    server's resources) and the workflows (``/server:prompt``, its prompts)."""
    hub = ls.pods.mcp
    if hub is None or limit <= 0 or kind not in ("file", "workflow"):
        return []
    details: dict[str, str] = {}
    for name, connection in hub.connections.items():
        if connection.status != "ready":
            continue
        if kind == "file":
            for resource in connection.resources:
                about = resource.description or resource.name
                details[f"{name}:{resource.uri}"] = f"{about} · MCP {name}"
        else:
            for prompt in connection.prompts:
                details[f"{name}:{prompt.name}"] = f"{prompt.description or ''} · MCP {name}"
    matches = FuzzyIndex(list(details)).search(prefix, limit)
    items: list[dict[str, Any]] = []
    for match in matches:
        item = {"kind": kind, "label": match.path, "detail": details[match.path], "open": False}
        if kind == "file":
            item["path"] = match.path
        items.append(item)
    return items
