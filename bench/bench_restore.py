"""Restoring a 100,000-entry session, against the floor of reading it.

One run builds a ~95 MB session log with the store's own writer (user turns
with typed segments, reasoning, tool calls and results of varied sizes,
assistant replies, usage, turn ends), then measures:

- floor: read the file, ``json.loads`` and SHA-256 each line (the least any
  verified restore must do);
- store: ``SessionStore.restore``, the call ``yoi/pod/create
  {resumeSessionId}`` makes (in a worker thread);
- lsp: ``yoi/pod/create {resumeSessionId}`` through the real ``yoi lsp
  --stdio`` process, measured at the client;
- ``yoi/pod/history`` of that pod: all items, and the last 200 (``limit``);
- RSS: a fresh process before and after ``SessionStore.restore``, and the
  server process after ``yoi/pod/create``, against the log's size.

Prints each figure and its ratio against the floor (medians of several runs).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from agent import items
from agent.items import Item
from agent.segments import FileSegment, Segment, TextSegment
from agent.store import (
    ItemsEntry,
    LlmUsage,
    LogEntry,
    RunCompleted,
    SessionStart,
    SessionStore,
    TurnEnd,
    UserInput,
)
from agent.store.entries import entry_body, load_entry
from server.app import converter

ENTRIES = 100_000
SESSION = "019ab1c2-bench-restore"
RUNS = 5
PAGE = 200
PAGE_RUNS = 20
VOCABULARY = (
    "def return self value item path result error config session token import class for "
    "while if else try except raise yield async await None True False len list dict str "
    "int bytes open read write line offset count index name kind data text"
)
WORDS = tuple(VOCABULARY.split())


# ---------------------------------------------------------------- the log


def code_corpus(rng: random.Random, size: int) -> str:
    """Code-like text to cut tool outputs and file contents from."""
    lines: list[str] = []
    total = 0
    while total < size:
        indent = "    " * rng.randrange(4)
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(2, 12)))
        line = f'{indent}{words}("{rng.choice(WORDS)}", {rng.randrange(1000)})'
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines)


class Turns:
    """Deterministic, varied turns written the way a pod writes them: the
    user input, then per model step its items and its usage, then the end."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.corpus = code_corpus(self.rng, 2_000_000)
        self.history_len = 0
        self.turns = 0
        self.calls = 0

    def cut(self, mean: int) -> str:
        size = min(int(self.rng.lognormvariate(0, 1.1) * mean), 200_000)
        start = self.rng.randrange(len(self.corpus) - size)
        return self.corpus[start : start + size]

    def prose(self, mean: int) -> str:
        text = self.cut(mean).replace("(", " ").replace('"', "")
        return text + " — done ✓" if self.rng.random() < 0.3 else text

    def usage(self) -> LlmUsage:
        return LlmUsage(
            history_len=self.history_len,
            input_tokens=1000 + 40 * self.history_len,
            output_tokens=self.rng.randrange(20, 800),
            cache_read_tokens=30 * self.history_len,
        )

    def turn(self) -> list[LogEntry]:
        rng = self.rng
        self.turns += 1
        path = f"src/pkg/mod_{rng.randrange(300)}.py"
        segments: list[Segment] = [TextSegment(kind="text", text=f"look at {self.turns} in ")]
        text = f"look at {self.turns} in @{path}"
        if rng.random() < 0.4:
            segments.append(FileSegment(kind="file", path=path))
            text += f"\n\n[File: {path}]\n{self.cut(1500)}"
        entries: list[LogEntry] = [UserInput(segments=segments, text=text)]
        self.history_len += 1
        rounds = rng.choices((0, 1, 2), weights=(65, 25, 10))[0]
        for _ in range(rounds):
            step: list[Item] = []
            if rng.random() < 0.3:
                step.append(items.Reasoning(text=self.prose(300), signature="sig" * 20))
            self.calls += 1
            call_id = f"call_{self.calls}"
            tool = rng.choice(("read_file", "grep", "run_command", "edit_file"))
            args = {"path": path, "pattern": rng.choice(WORDS), "limit": rng.randrange(500)}
            step.append(items.ToolCall(call_id=call_id, name=tool, arguments=json.dumps(args)))
            step.append(
                items.ToolResult(
                    call_id=call_id,
                    name=tool,
                    summary=f"{tool} {path}: {rng.randrange(1, 400)} lines",
                    content=self.cut(1800),
                    is_error=rng.random() < 0.05,
                )
            )
            entries += [ItemsEntry(items=step), self.usage()]
            self.history_len += len(step)
        entries += [ItemsEntry(items=[items.assistant(self.prose(700))]), self.usage()]
        self.history_len += 1
        entries += [TurnEnd(turn_count=self.turns), RunCompleted(outcome="finished")]
        return entries


def build_log(root: Path) -> Path:
    store = SessionStore(root)
    head = store.create(
        SESSION,
        SessionStart(
            system_prompt="You are yoi.\n" + "Follow the rules. " * 400,
            config={"max_tokens": 8192, "temperature": 0.2},
            cwd="/home/me/project",
            model="openai/bench",
        ),
    )
    turns = Turns()
    written = 1
    while written < ENTRIES:  # whole turns, a few entries past ENTRIES at most
        batch: list[LogEntry] = []
        while len(batch) < 2000 and written + len(batch) < ENTRIES:
            batch += turns.turn()
        head = store.append(SESSION, head, batch).head
        written += len(batch)
    return store.path(SESSION)


# ---------------------------------------------------------------- measures


class Timing:
    """Wall-clock and CPU seconds of repeated runs (medians)."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def run(self, measure: Callable[[], Any]) -> Any:
        began, cpu = time.perf_counter(), time.process_time()
        result = measure()
        self.wall.append(time.perf_counter() - began)
        self.cpu.append(time.process_time() - cpu)
        return result

    @property
    def seconds(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_seconds(self) -> float:
        return statistics.median(self.cpu)


def old_layout(path: Path, out: Path) -> None:
    """The same log as the previous writer laid it out (fields in model order,
    not canonical order): every line is then verified by parsing it."""
    with open(path, "rb") as src, open(out, "wb") as dst:
        for raw in src:
            obj = json.loads(raw)
            body = entry_body(load_entry({k: v for k, v in obj.items() if "hash" not in k}))
            line = {"hash": obj["hash"], "prev_hash": obj["prev_hash"], "kind": obj["kind"]}
            line.update(body)
            dst.write(json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode())
            dst.write(b"\n")


def floor(path: Path) -> int:
    """Read, parse and hash every line: the least a verified restore does."""
    count = 0
    with open(path, "rb") as f:
        for line in f:
            json.loads(line)
            hashlib.sha256(line).digest()
            count += 1
    return count


def rss_bytes(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (the model process, watchers)."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child))
    except (OSError, IndexError):
        pass  # gone meanwhile
    return total


async def settle(pid: int, patience: float = 60.0) -> None:
    """Wait until the server and its children are idle (under 5% of a core
    for a second), so start-up work does not compete with what is measured."""
    deadline = time.monotonic() + patience
    used = cpu_seconds(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        now = cpu_seconds(pid)
        if now - used < 0.05:
            return
        used = now


def restore_rss(root: Path) -> tuple[int, int]:
    """RSS of a fresh process before and after restoring (store imported)."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from pathlib import Path;"
        "from bench.bench_restore import rss_bytes;"
        "from agent.store import SessionStore;"
        "store = SessionStore(Path(sys.argv[2])); before = rss_bytes();"
        "state = store.restore(sys.argv[3]);"
        "print(before, rss_bytes(), len(state.history))"
    )
    repo = str(Path(__file__).resolve().parents[1])
    out = subprocess.run(
        [sys.executable, "-c", code, repo, str(root), SESSION],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return int(out[0]), int(out[1])


def client_factory() -> LanguageClient:
    client = LanguageClient(converter_factory=converter)

    @client.feature("yoi/event")
    def on_event(params: Any) -> None:
        return None

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def on_log(params: Any) -> None:
        return None

    return client


async def through_server(workspace: Path, env: dict[str, str]) -> dict[str, Any]:
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "server.cli", "lsp", "--stdio"],
        server_env=env,
        client_factory=client_factory,
    )
    client = await config.start()
    assert client._server is not None
    pid = client._server.pid
    await client.initialize_session(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=workspace.as_uri())
    )
    await settle(pid)  # start-up work (the model process warming up, the index) done
    rss_idle = rss_bytes(pid)

    async def request(method: str, params: dict[str, Any]) -> Any:
        return await client.protocol.send_request_async(method, params)

    creates, create_cpu = [], []
    pod = ""
    rss_restored = 0
    for _ in range(RUNS):
        if pod:
            await request("yoi/pod/dispose", {"podId": pod})
            await settle(pid)
        began, cpu = time.perf_counter(), cpu_seconds(pid)
        created = await request("yoi/pod/create", {"resumeSessionId": SESSION})
        creates.append(time.perf_counter() - began)
        create_cpu.append(cpu_seconds(pid) - cpu)
        pod = created["podId"]
        rss_restored = rss_restored or rss_bytes(pid)  # after the first restore

    async def timed(params: dict[str, Any], runs: int) -> tuple[float, Any]:
        times, result = [], None
        for _ in range(runs):
            began = time.perf_counter()
            result = await request("yoi/pod/history", params)
            times.append(time.perf_counter() - began)
        return statistics.median(times), result

    full, everything = await timed({"podId": pod}, RUNS)
    page, last = await timed({"podId": pod, "limit": PAGE}, PAGE_RUNS)
    await client.shutdown_session()
    await client.stop()
    return {
        "create": statistics.median(creates),
        "creates": creates,
        "create_cpu": statistics.median(create_cpu),
        "history_full": full,
        "items": len(everything["items"]),
        "history_page": page,
        "page_items": len(last["items"]),
        "rss_idle": rss_idle,
        "rss_restored": rss_restored,
    }


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        sessions = home / "sessions"
        workspace = Path(tmp) / "ws"
        workspace.mkdir()
        path = build_log(sessions)
        size = path.stat().st_size
        store = SessionStore(sessions)
        lines = floor(path)  # warm the page cache
        history = len(store.restore(SESSION).history)
        base, restore, careful = Timing(), Timing(), Timing()
        for _ in range(RUNS + 2):  # interleaved, so both see the same machine
            base.run(lambda: floor(path))
            restore.run(lambda: store.restore(SESSION))
        old_layout(path, sessions / "old-layout.jsonl")
        for _ in range(RUNS):
            careful.run(lambda: store.restore("old-layout"))
        rss_before, rss_after = restore_rss(sessions)
        env = {
            "PATH": os.environ["PATH"],
            "HOME": tmp,
            "YOI_HOME": str(home),
            "YOI_CONFIG_DIR": f"{tmp}/config",
            "YOI_MODEL": "openai/bench",
            "YOI_API_BASE": "http://127.0.0.1:9/v1",
            "YOI_API_KEY": "bench",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "YOI_SHARED_MODEL": "0",
        }
        lsp = await through_server(workspace, env)

    mb = 1024 * 1024
    floor_s = base.seconds
    print(f"session log: {lines:,} entries, {size / mb:.1f} MiB, {history:,} history items")
    print(f"{'floor (read, json.loads, sha256 per line):':45} {floor_s:6.3f} s")
    rows = [
        ("store restore", restore.seconds, f"  cpu {restore.cpu_seconds / base.cpu_seconds:.2f}x"),
        ("store restore, previous layout", careful.seconds, "  (lines verified by parsing)"),
        (
            "yoi/pod/create {resumeSessionId}",
            lsp["create"],
            f"  server cpu {lsp['create_cpu'] / base.cpu_seconds:.2f}x",
        ),
        (f"yoi/pod/history, all {lsp['items']:,} items", lsp["history_full"], ""),
    ]
    for name, seconds, note in rows:
        print(f"{name + ':':45} {seconds:6.3f} s  {seconds / floor_s:5.2f}x the floor{note}")
    each = " / ".join(f"{c / floor_s:.2f}x" for c in lsp["creates"])
    print(f"  (each yoi/pod/create, the first in a fresh server, then after a dispose: {each})")
    page_ms = lsp["history_page"] * 1000
    name = f"yoi/pod/history, limit {PAGE} ({lsp['page_items']} items):"
    print(f"{name:45} {page_ms:6.1f} ms")
    growth = rss_after - rss_before
    print(
        f"RSS, fresh process: {rss_before / mb:.0f} -> {rss_after / mb:.0f} MiB "
        f"(+{growth / mb:.0f} MiB = {growth / size:.2f}x the log; total {rss_after / size:.2f}x)"
    )
    growth = lsp["rss_restored"] - lsp["rss_idle"]
    print(
        f"RSS, server: {lsp['rss_idle'] / mb:.0f} -> {lsp['rss_restored'] / mb:.0f} MiB "
        f"(+{growth / mb:.0f} MiB = {growth / size:.2f}x the log; "
        f"total {lsp['rss_restored'] / size:.2f}x)"
    )


if __name__ == "__main__":
    asyncio.run(main())
