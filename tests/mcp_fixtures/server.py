"""A small MCP server for the tests, written with the SDK's ``MCPServer``
(FastMCP in mcp 1.x): tools that answer, fail, return an image or an embedded
resource, hang and crash; a resource; a prompt.

``python server.py stdio`` serves on stdin/stdout; ``python server.py http``
binds 127.0.0.1 on a free port (or ``--port N``), prints the port on its first
line of stdout and serves streamable HTTP at ``/mcp``.
"""

from __future__ import annotations

import argparse
import base64
import os
import socket
import sys

import anyio
import mcp_types as types
from mcp.server.mcpserver import Context, Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

# a 1x1 PNG
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="
)

server = MCPServer("fixture")


@server.tool(annotations=types.ToolAnnotations(read_only_hint=True))
def echo(text: str) -> str:
    """Repeat the text."""
    return f"echo: {text}"


@server.tool()
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@server.tool()
def picture() -> list[str | Image]:
    """A picture and a caption."""
    return ["a one-pixel picture", Image(data=PIXEL, format="png")]


@server.tool()
def embedded() -> types.EmbeddedResource:
    """An embedded text resource."""
    return types.EmbeddedResource(
        type="resource",
        resource=types.TextResourceContents(uri="notes://inline", text="inline notes"),
    )


@server.tool()
def fail(message: str) -> str:
    """Always fails with the message."""
    raise ToolError(message)


@server.tool()
async def hang(seconds: float = 3600) -> str:
    """Answers after a long time."""
    await anyio.sleep(seconds)
    return "woke up"


@server.tool()
def crash() -> str:
    """The process dies."""
    os._exit(3)


@server.tool(annotations=types.ToolAnnotations(read_only_hint=True))
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@server.tool()
async def grow(name: str, ctx: Context) -> str:
    """Adds a tool called ``name`` and tells the client its tools changed."""

    def added() -> str:
        return f"I am {name}"

    server.add_tool(added, name=name, description="A tool added by grow.")
    await ctx.session.send_tool_list_changed()
    return f"added {name}"


@server.resource("notes://readme", name="readme", description="The fixture's readme")
def readme() -> str:
    return "Fixture readme: the answer is 42."


@server.prompt()
def review(topic: str) -> str:
    """Ask for a review."""
    return f"Please review {topic} carefully."


def serve_http(port: int) -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    print(sock.getsockname()[1], flush=True)
    app = server.streamable_http_app(streamable_http_path="/mcp", host="127.0.0.1")
    config = uvicorn.Config(app, log_level="warning")
    anyio.run(lambda: uvicorn.Server(config).serve(sockets=[sock]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("transport", choices=["stdio", "http"])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    print(f"fixture MCP server {os.getpid()} starting", file=sys.stderr, flush=True)
    if args.transport == "stdio":
        server.run("stdio")
    else:
        serve_http(args.port)


if __name__ == "__main__":
    main()
