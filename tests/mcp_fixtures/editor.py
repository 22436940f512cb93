"""A stand-in editor for the tests: starts ``yoi lsp --stdio`` with pipes,
initializes it, waits until every MCP server it reports is ready, prints the
server's pid, then sleeps until it is killed (its pipe ends close with it,
as when a real editor dies).

    python editor.py WORKSPACE
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any


def send(pipe: IO[bytes], message: dict[str, Any]) -> None:
    body = json.dumps(message).encode()
    pipe.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    pipe.flush()


def receive(pipe: IO[bytes], wanted: int) -> dict[str, Any]:
    while True:
        length = 0
        while (line := pipe.readline().strip()) != b"":
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        message: dict[str, Any] = json.loads(pipe.read(length))
        if message.get("id") == wanted and "method" not in message:
            return message


def main(root: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "lsp", "--stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert server.stdin is not None and server.stdout is not None
    params = {"processId": None, "rootUri": root.as_uri(), "capabilities": {}}
    send(server.stdin, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params})
    receive(server.stdout, 1)
    send(server.stdin, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
    for ident in range(2, 600):
        send(server.stdin, {"jsonrpc": "2.0", "id": ident, "method": "yoi/mcp/list"})
        servers = receive(server.stdout, ident)["result"]["servers"]
        if servers and all(s["status"] == "ready" for s in servers):
            break
        time.sleep(0.1)
    print(server.pid, flush=True)
    time.sleep(3600)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
