"""The MCP servers of one host, shared by all its pods.

A host builds one :class:`McpHub` (cheap: it imports no SDK), hands it to
every pod it opens (:meth:`McpHub.attach` adds the servers' tools to the
pod's tool set, now and whenever a server becomes ready later), and starts
the servers in the background with :func:`start_hub` once the runtime is up:
the configuration is read and the SDK imported in worker threads, so neither
delays the host. Status changes reach ``listeners`` as :class:`ServerState`
snapshots; :meth:`McpHub.stop` closes every connection (and with them every
server process).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.approvals import ApprovalGate
from agent.errors import ExecutionFailed
from agent.mcp.config import McpSetup, load_setup
from agent.tools.base import ToolSet

if TYPE_CHECKING:
    from agent.image_input import ImageInput
    from agent.mcp.client import McpConnection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerState:
    """What a host shows about one server."""

    name: str
    status: str  # starting | ready | error | stopped | disabled
    transport: str
    source: str
    tools: tuple[str, ...] = ()
    prompts: tuple[str, ...] = ()
    resources: int = 0
    last_error: str | None = None
    connects: int = 0


Listener = Callable[[ServerState], None]


@dataclass(frozen=True)
class _Pod:
    gate: ApprovalGate
    images: ImageInput | None


class McpHub:
    def __init__(self) -> None:
        self.connections: dict[str, McpConnection] = {}
        self.disabled: tuple[str, ...] = ()
        self.listeners: list[Listener] = []
        self.configured = asyncio.Event()
        self._bound: weakref.WeakKeyDictionary[ToolSet, _Pod] = weakref.WeakKeyDictionary()
        self._stopped = False
        self._pulse = asyncio.Event()  # set on every status change

    # ------------------------------------------------------------ pods

    def attach(self, tools: ToolSet, gate: ApprovalGate, images: ImageInput | None = None) -> None:
        """Give a pod's tool set the tools of every ready server, and the
        tools of servers that become ready later. ``gate`` asks before a call;
        ``images`` stores the images results carry (none: they are described)."""
        pod = _Pod(gate, images)
        self._bound[tools] = pod
        for connection in self.connections.values():
            if connection.status == "ready":
                self._add_tools(connection, tools, pod)

    def _add_tools(self, connection: McpConnection, tools: ToolSet, pod: _Pod) -> None:
        from agent.mcp.tools import McpTool

        for info in connection.tools:
            tool = McpTool(connection, info, pod.gate, pod.images)
            if tools.get(tool.name) is None:
                tools.add(tool)

    # ------------------------------------------------------------ lifecycle

    def configure(self, setup: McpSetup) -> None:
        """Create (and start) a connection per configured server. The SDK
        must be imported already (see :func:`start_hub`)."""
        if self._stopped:
            return
        self.disabled = setup.disabled
        if setup.servers:  # the SDK: imported by start_hub, off the event loop
            from agent.mcp.client import McpConnection
        for config in setup.servers:
            connection = McpConnection(config, self._changed)
            self.connections[config.name] = connection
            connection.start()
            self._notify(connection)
        self.configured.set()

    def _changed(self, connection: McpConnection) -> None:
        self._pulse.set()
        if connection.status == "ready":
            for tools, pod in list(self._bound.items()):
                self._add_tools(connection, tools, pod)
        self._notify(connection)

    def _notify(self, connection: McpConnection) -> None:
        state = self.state_of(connection)
        for listener in list(self.listeners):
            try:
                listener(state)
            except Exception:
                log.exception("an MCP status listener failed")

    async def stop(self) -> None:
        """Close every connection; their server processes end with them."""
        self._stopped = True
        await asyncio.gather(*(c.stop() for c in self.connections.values()), return_exceptions=True)

    def restart(self, name: str) -> bool:
        connection = self.connections.get(name)
        if connection is None:
            return False
        connection.restart()
        return True

    async def reload(self, name: str, setup: McpSetup) -> bool:
        """Restart ``name`` with its entry of a freshly read ``setup``: a
        changed entry applies, a new one starts, a removed or disabled one
        stops. False when ``name`` is in neither the hub nor the setup."""
        from agent.mcp.client import McpConnection

        config = next((s for s in setup.servers if s.name == name), None)
        connection = self.connections.get(name)
        if config is None:
            if connection is None:
                return name in setup.disabled
            del self.connections[name]
            await connection.stop()
            self.disabled = tuple(sorted({*self.disabled, name} & set(setup.disabled)))
            return True
        self.disabled = tuple(n for n in self.disabled if n != name)
        if connection is None:
            connection = McpConnection(config, self._changed)
            self.connections[name] = connection
            connection.start()
            return True
        connection.config = config  # read at the next connection and every call
        connection.restart()
        return True

    async def wait_ready(self, names: tuple[str, ...] | None = None) -> None:
        """Wait until the named servers (default: all) are ready, for hosts
        that must not go on without them (a scripted demo); the caller bounds
        the wait (``asyncio.timeout``)."""
        await self.configured.wait()
        while not all(
            c.status == "ready" for n, c in self.connections.items() if names is None or n in names
        ):
            self._pulse.clear()
            await self._pulse.wait()

    # ------------------------------------------------------------ views

    def states(self) -> list[ServerState]:
        found = [self.state_of(c) for c in self.connections.values()]
        found += [ServerState(n, "disabled", "", "") for n in self.disabled]
        return sorted(found, key=lambda s: s.name)

    @staticmethod
    def state_of(connection: McpConnection) -> ServerState:
        return ServerState(
            name=connection.name,
            status=connection.status,
            transport=connection.config.transport,
            source=connection.config.source,
            tools=tuple(t.name for t in connection.tools),
            prompts=tuple(p.name for p in connection.prompts),
            resources=len(connection.resources),
            last_error=connection.last_error,
            connects=connection.connects,
        )

    def connection(self, name: str) -> McpConnection:
        found = self.connections.get(name)
        if found is None:
            known = ", ".join(sorted(self.connections)) or "none"
            raise ExecutionFailed(f"There is no MCP server named {name!r} (servers: {known}).")
        return found


async def start_hub(
    hub: McpHub,
    root: Path | None,
    *,
    env: Mapping[str, str],
    config_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    importer: Callable[[str], object] = importlib.import_module,
) -> McpSetup:
    """Read the configuration and start the hub's servers, all off the event
    loop's thread. Returns the setup (its problems and untrusted note are the
    host's to show)."""
    setup = await asyncio.to_thread(
        load_setup, root, env=env, config_dir=config_dir, overrides=overrides
    )
    if setup.servers:
        await asyncio.to_thread(importer, "agent.mcp.client")
    hub.configure(setup)
    return setup
