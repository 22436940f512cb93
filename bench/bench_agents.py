"""What sub-agents cost.

1. The write check. Every pod's scope now also asks the registry's write
   claims (agent/agents/claims.py: one ``stat`` of ``pods.json``, a re-read
   only when it changed). Measured in-process: ``check_write`` of a plain
   :class:`~agent.scope.Scope` against the same scope guarding claims, with
   ``pods.json`` holding 1 and 50 sub-agents' claims (none covering the path,
   the common case), alternating, in one run.

2. A foreground sub-agent, through the real server and the scripted model: a
   parent turn of three requests whose middle tool is ``spawn_agent`` (the
   child makes one request), against a turn of three requests whose middle
   tool is ``list_dir``, i.e. the same model round trips plus one for the
   child. The difference is opening the child pod, its session log, the
   registry reservation and closing it.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from lspkit import Session, server_env, start, stop

from agent.agents.claims import ClaimView
from agent.agents.scope import AgentScope
from agent.registry import PodRegistry
from agent.scope import Scope
from agent.testing import ScriptedModel

CHECKS = 20_000
ROUNDS = 20


def per_check(scope: Scope, path: str) -> float:
    began = time.perf_counter()
    for _ in range(CHECKS):
        scope.check_write(path)
    return (time.perf_counter() - began) / CHECKS * 1e6


def bench_checks(base: Path) -> None:
    root = base / "ws"
    (root / "src").mkdir(parents=True)
    plain = Scope.default(root)
    print(f"check_write, {CHECKS} calls per sample, median of 7 (microseconds per call):")
    for claims in (1, 50):
        home = base / f"home{claims}"
        registry = PodRegistry(home)
        for n in range(claims):
            (root / f"d{n}").mkdir(exist_ok=True)
            registry.reserve(f"pod-{n}", f"agent-{n}", "pod-p", (str(root / f"d{n}"),), root)
        guarded = AgentScope.guarding(plain, ClaimView(home), "pod-p")
        a, b = [], []
        for _ in range(7):
            a.append(per_check(plain, "src/app.py"))
            b.append(per_check(guarded, "src/app.py"))
        pa, pb = statistics.median(a), statistics.median(b)
        print(
            f"  {claims:>2} claims: plain {pa:6.2f} us, with claims {pb:6.2f} us "
            f"({pb / pa:4.2f}x, +{pb - pa:.2f} us)"
        )


def script(middle: str) -> list[dict[str, object]]:
    if middle == "spawn":
        tool = {"name": "spawn_agent", "arguments": {"task": "CHILD answer", "readOnly": True}}
    else:
        tool = {"name": "list_dir", "arguments": {"path": "."}}
    steps: list[dict[str, object]] = [
        {"match": "PARENT", "tool_calls": [tool]},
        {"match": "PARENT", "text": "done"},
    ]
    if middle == "spawn":
        steps.insert(1, {"match": "CHILD", "text": "the child's answer"})
    else:
        steps.insert(1, {"match": "PARENT", "tool_calls": [tool]})
    return steps


async def one_turn(session: Session, model: ScriptedModel, middle: str) -> float:
    model.load(script(middle))
    pod = await session.create_pod()
    began = time.perf_counter()
    result = await session.chat(pod, "PARENT go")
    elapsed = time.perf_counter() - began
    assert result["outcome"] == "finished", result
    await session.request("yoi/pod/dispose", {"podId": pod})
    return elapsed * 1000


async def bench_turns(base: Path) -> None:
    root = base / "ws2"
    root.mkdir()
    (root / "app.py").write_text("print('hi')\n")
    with ScriptedModel() as model:
        session = await start(server_env(base / "h", base / "c", model.base_url), root)
        try:
            await one_turn(session, model, "list")  # warm-up: the model process starts
            plain, spawned = [], []
            for _ in range(ROUNDS):
                plain.append(await one_turn(session, model, "list"))
                spawned.append(await one_turn(session, model, "spawn"))
        finally:
            await stop(session)
    pm, sm = statistics.median(plain), statistics.median(spawned)
    print(f"a turn of 3 requests, {ROUNDS} alternating rounds (ms; median, quartiles):")
    print(f"  middle tool list_dir:          {pm:7.1f}  {quartiles(plain)}")
    print(
        f"  middle tool spawn_agent (+1):  {sm:7.1f}  {quartiles(spawned)}  "
        f"({sm / pm:4.2f}x, +{sm - pm:.1f} ms)"
    )


def quartiles(values: list[float]) -> str:
    q = statistics.quantiles(values, n=4)
    return f"[{q[0]:.1f} .. {q[2]:.1f}]"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp).resolve()
        bench_checks(base)
        asyncio.run(bench_turns(base))


if __name__ == "__main__":
    main()
