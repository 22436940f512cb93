"""Malformed JSON-RPC against the real server process: every request gets the
right answer within 2 s, nothing crashes, nothing pops up, and a valid chat
works afterwards.

The messages are generated deterministically (a seeded RNG) over every kind
of bad input a careless or hostile client sends; the client here is a raw
reader/writer of LSP frames, since a real client library would refuse to
send most of them.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(240)

PATIENCE = 2.0


@dataclass
class Case:
    body: bytes
    expect: int | None  # the error code; None: a result; "dropped" when no answer is due
    answer_id: Any = None  # the id the answer carries (None: id null)
    answered: bool = True
    label: str = ""


class RawClient:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self.proc = proc
        self.stdin = proc.stdin
        self.stdout = proc.stdout
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.shown: list[dict[str, Any]] = []
        self.log = bytearray()
        self.reader = asyncio.ensure_future(self._read())
        self.log_reader = asyncio.ensure_future(self._read_log())

    async def _read_log(self) -> None:
        assert self.proc.stderr is not None
        while chunk := await self.proc.stderr.read(65536):
            self.log += chunk

    async def _read(self) -> None:
        while True:
            length = 0
            while True:
                line = await self.stdout.readline()
                if not line:
                    return
                if not line.strip():
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            message = json.loads(await self.stdout.readexactly(length))
            method = message.get("method")
            if method == "window/showMessage":
                self.shown.append(message)
            elif method is not None and "id" in message:  # a request to the client
                self.write_json({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif method is None:
                await self.inbox.put(message)

    def write(self, body: bytes) -> None:
        self.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)

    def write_json(self, message: dict[str, Any]) -> None:
        self.write(json.dumps(message).encode())

    async def answer(self, patience: float = PATIENCE) -> dict[str, Any]:
        return await asyncio.wait_for(self.inbox.get(), patience)

    async def request(
        self, msg_id: int, method: str, params: Any, patience: float = 30
    ) -> dict[str, Any]:
        self.write_json({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        while True:
            message = await self.answer(patience)
            if message.get("id") == msg_id:
                return message


def rpc(msg_id: Any, method: Any, params: Any = None, **extra: Any) -> bytes:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
    if params is not None:
        message["params"] = params
    message.update(extra)
    return json.dumps(message).encode()


def notification(method: str, params: Any) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "method": method, "params": params}).encode()


def cases(rng: random.Random, root: Path) -> Iterator[Case]:
    """About 1,100 bad (and a few good) messages, in a shuffled order."""
    ids = iter(range(10_000, 100_000))
    uri = (root / "app.py").as_uri()
    made: list[Case] = []
    for _ in range(200):  # bodies that are not JSON
        junk = rng.choice(
            [
                b'{"jsonrpc": "2.0", "id": 1, "method":',
                bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))),
                b"\xff\xfe not utf-8",
                b"{'single': 'quotes'}",
                b"NaN garbage",
            ]
        )
        made.append(Case(junk, -32700, label="unparsable"))
    for _ in range(80):  # batches
        batch = [json.loads(rpc(next(ids), "yoi/pod/list", {}))] * rng.randrange(1, 4)
        made.append(Case(json.dumps(batch).encode(), -32600, label="batch"))
    for value in (1, "text", None, True, 3.5) * 10:  # not an object
        made.append(Case(json.dumps(value).encode(), -32600, label="not an object"))
    for _ in range(60):  # no or wrong "jsonrpc"
        msg_id = next(ids)
        body: dict[str, Any] = {"id": msg_id, "method": "yoi/pod/list", "params": {}}
        if rng.random() < 0.5:
            body["jsonrpc"] = rng.choice(["1.0", 2, None, "2"])
        made.append(Case(json.dumps(body).encode(), -32600, msg_id, label="envelope"))
    for method in [None, 7, "", {"a": 1}, ["x"]] * 12:  # bad methods
        msg_id = next(ids)
        made.append(Case(rpc(msg_id, method), -32600, msg_id, label="bad method"))
    for bad_id in [{"a": 1}, [1], True, False, 1.5] * 12:  # bad ids
        made.append(Case(rpc(bad_id, "yoi/pod/list", {}), -32600, None, label="bad id"))
    for depth in (1200, 5000, 20000) * 10:  # nesting
        nested = "[" * depth + "]" * depth
        body = f'{{"jsonrpc": "2.0", "id": 1, "method": "yoi/pod/list", "params": {nested}}}'
        made.append(Case(body.encode(), -32700, label="deep nesting"))
    for digits in (4301, 10_000, 50_000) * 10:  # absurd integers
        body = f'{{"jsonrpc": "2.0", "id": {"9" * digits}, "method": "yoi/pod/list"}}'
        made.append(Case(body.encode(), -32700, label="huge integer"))
    for _ in range(60):  # params carrying a "jsonrpc" key: answered normally
        msg_id = next(ids)
        params = {"jsonrpc": "2.0", "id": 3, "method": "exit", "extra": rng.random()}
        made.append(Case(rpc(msg_id, "yoi/pod/list", params), None, msg_id, label="jsonrpc key"))
    for method in ["yoi/pod/list", "yoi/sessions/list", "yoi/knowledge/list"] * 20:  # no params
        msg_id = next(ids)
        made.append(Case(rpc(msg_id, method), None, msg_id, label="no params"))
    for _ in range(60):  # unknown methods
        msg_id = next(ids)
        method = rng.choice(["yoi/nope", "textDocument/nothing", "x", "yoi/pod/create/extra"])
        made.append(Case(rpc(msg_id, method, {}), -32601, msg_id, label="unknown method"))
    bad_params: list[tuple[str, Any]] = [
        ("yoi/chat", None),
        ("yoi/chat", {"podId": 7, "input": []}),
        ("yoi/chat", {"podId": "pod-x", "input": "hello"}),
        ("yoi/chat", {"podId": "pod-x", "input": [{"kind": "nope"}]}),
        ("yoi/pod/dispose", {"podId": ""}),
        ("yoi/pod/history", {"podId": "missing"}),
        ("yoi/knowledge/get", {"slug": ""}),
        ("yoi/references/complete", {"limit": -1}),
        ("yoi/pod/create", {"resumeSessionId": ""}),
        ("yoi/pod/create", ["positional"]),
    ]
    for _ in range(15):
        for method, params in bad_params:
            msg_id = next(ids)
            if params is None:
                body = rpc(msg_id, method)
            else:
                body = json.dumps(
                    {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}
                ).encode()
            made.append(Case(body, -32602, msg_id, label=f"params of {method}"))
    for _ in range(40):  # a long string where LSP expects a list (notifications: no answer)
        junk = "x" * rng.choice([1000, 50_000, 200_000])
        made.append(
            Case(
                notification(
                    "textDocument/didChange",
                    {"textDocument": {"uri": uri, "version": 2}, "contentChanges": junk},
                ),
                None,
                answered=False,
                label="string for a list",
            )
        )
        made.append(
            Case(
                notification(
                    "workspace/didChangeWorkspaceFolders",
                    {"event": {"added": [], "removed": junk}},
                ),
                None,
                answered=False,
                label="string for a list",
            )
        )
    for bad_uri in ["file:///project/a%00b.py", "file:///project/a\x00b.py"] * 15:  # NUL bytes
        made.append(
            Case(
                notification(
                    "textDocument/didOpen",
                    {
                        "textDocument": {
                            "uri": bad_uri,
                            "languageId": "python",
                            "version": 1,
                            "text": "x = 1\n",
                        }
                    },
                ),
                None,
                answered=False,
                label="NUL uri",
            )
        )
        msg_id = next(ids)
        made.append(
            Case(
                rpc(msg_id, "yoi/references/complete", {"prefix": "app"}),
                None,
                msg_id,
                label="completion after a NUL uri",
            )
        )
    for _ in range(20):  # a second initialize
        msg_id = next(ids)
        made.append(
            Case(
                rpc(msg_id, "initialize", {"capabilities": {}, "rootUri": None}),
                -32600,
                msg_id,
                label="second initialize",
            )
        )
    rng.shuffle(made)
    yield from made


async def start_server(env: dict[str, str], root: Path) -> RawClient:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        "lsp",
        "--stdio",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        limit=1 << 24,
    )
    return RawClient(proc)


async def test_a_thousand_malformed_messages_are_all_answered_and_nothing_breaks(
    env: dict[str, str], tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "app.py").write_text("print('hi')\n")
    client = await start_server(env, root)
    try:
        # before initialize: requests are refused, notifications dropped
        for msg_id in range(1, 6):
            client.write(rpc(msg_id, "yoi/pod/list", {}))
            answer = await client.answer(30 if msg_id == 1 else PATIENCE)  # 1: the start-up
            assert answer["id"] == msg_id and answer["error"]["code"] == -32002, answer
        client.write(notification("initialized", {}))
        init = await client.request(
            100, "initialize", {"capabilities": {}, "rootUri": root.as_uri(), "processId": None}
        )
        assert "capabilities" in init["result"]
        client.write(notification("initialized", {}))
        # the runtime loads in the background after initialized (a second or
        # two on a busy machine); from then on every answer is due in 2 s
        assert "result" in await client.request(101, "yoi/pod/list", {})

        sent = 0
        for case in cases(random.Random(20261201), root):
            client.write(case.body)
            sent += 1
            if not case.answered:
                continue
            try:
                answer = await client.answer()
            except TimeoutError:
                raise AssertionError(
                    f"no answer within {PATIENCE} s to {case.label}: {case.body[:200]!r}"
                ) from None
            assert answer.get("id") == case.answer_id, (case.label, answer)
            if case.expect is None:
                assert "result" in answer, (case.label, answer)
            else:
                assert answer["error"]["code"] == case.expect, (case.label, answer)
            assert answer.get("error", {}).get("code") != -32603, (case.label, answer)
        assert sent >= 1000

        # the server is alive, responsive, and still works end to end
        probe = await client.request(200_000, "yoi/pod/list", {})
        assert probe["result"] == {"pods": []} or "pods" in probe["result"]
        scripted_model.load([{"text": "still here"}])
        created = await client.request(200_001, "yoi/pod/create", {})
        pod = created["result"]["podId"]
        chat = await client.request(  # the model process loads now: be patient
            200_002, "yoi/chat", {"podId": pod, "input": [{"kind": "text", "text": "hi"}]}, 120
        )
        assert chat["result"]["outcome"] == "finished", chat
        completion = await client.request(200_003, "yoi/references/complete", {"prefix": "app"})
        assert any(i["path"] == "app.py" for i in completion["result"]["items"])
        assert client.shown == [], client.shown  # no pop-ups
        await client.request(200_004, "shutdown", None)
        client.write(notification("exit", None))
        assert await asyncio.wait_for(client.proc.wait(), 10) == 0
    finally:
        if client.proc.returncode is None:
            client.proc.kill()
            await client.proc.wait()
        client.reader.cancel()
        await asyncio.gather(client.log_reader, return_exceptions=True)
    log = client.log.decode(errors="replace")
    assert "Traceback" not in log, log[-3000:]
