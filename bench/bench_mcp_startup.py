"""Start-up with two MCP servers configured, against none, in the same run.

With ``mcp-server-time`` and ``mcp-server-git`` (stdio, from PyPI) in the user
manifest, against an empty one, alternating:

- ``initialize`` answered by a cold ``yoi lsp --stdio`` (and idle RSS);
- the first ``yoi/chat``, sent right after ``yoi/pod/create`` and 3 s after
  ``initialized``: the time from sending it until the scripted model endpoint
  receives the request (the servers start in the background meanwhile), with
  a private model process per server (``YOI_SHARED_MODEL=0``) and in a later
  editor session that finds the shared model service warm.

Uses bench_startup.py's helpers; medians; run from the repository root:
``.venv/bin/python bench/bench_mcp_startup.py``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_startup as b

from agent.testing import ScriptedModel

COLD_RUNS = 5
CHAT_RUNS = 3
BIN = Path(sys.executable).parent


def manifest(repo: Path) -> str:
    return (
        "[mcp.servers.time]\n"
        f'command = "{BIN / "mcp-server-time"}"\n\n'
        "[mcp.servers.git]\n"
        f'command = "{BIN / "mcp-server-git"}"\n'
        f'args = ["--repository", "{repo}"]\n'
    )


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, ScriptedModel() as model:
        root = Path(tmp) / "ws"
        root.mkdir()
        (root / "app.py").write_text("print('hi')\n")
        await asyncio.to_thread(subprocess.run, ["git", "init", "-q", str(root)], check=True)
        configs = {}
        for label, text in (("no MCP servers", ""), ("two MCP servers", manifest(root))):
            folder = Path(tmp) / label.replace(" ", "-")
            folder.mkdir()
            (folder / "manifest.toml").write_text(text)
            configs[label] = {
                "PATH": os.environ["PATH"],
                "HOME": tmp,
                "YOI_HOME": f"{tmp}/home",
                "YOI_CONFIG_DIR": str(folder),
                "YOI_MODEL": "openai/scripted",
                "YOI_API_BASE": model.base_url,
                "YOI_API_KEY": "bench",
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                "YOI_SHARED_MODEL": "0",
            }
        init: dict[str, list[float]] = {k: [] for k in configs}
        rss: dict[str, list[float]] = {k: [] for k in configs}
        for _ in range(COLD_RUNS):
            for label, env in configs.items():
                run = await b.cold_initialize(b.YOI_SERVER, env, root)
                init[label].append(run["initialize"])
                rss[label].append(run["runtime_rss"])
        base = "no MCP servers"
        print(f"cold start, median of {COLD_RUNS} processes each:")
        for label in configs:
            i, r = statistics.median(init[label]), statistics.median(rss[label])
            ratio = i / statistics.median(init[base])
            print(
                f"  {label + ':':17} initialize {b.ms(i)} ({ratio:.2f}x)   "
                f"RSS with the runtime {r / 1024:6.1f} MB"
            )
        for delay in (0.0, 3.0):
            firsts: dict[str, list[float]] = {k: [] for k in configs}
            for _ in range(CHAT_RUNS):
                for label, env in configs.items():
                    firsts[label].append((await b.first_chat(env, root, model, delay))[0])
            print(
                f"first yoi/chat sent {delay:.0f} s after initialized → request at the endpoint, "
                f"median of {CHAT_RUNS}:"
            )
            for label in configs:
                f = statistics.median(firsts[label])
                ratio = f / statistics.median(firsts[base])
                print(f"  {label + ':':17} {b.ms(f)} ({ratio:.2f}x)")
        runtime = Path(tempfile.mkdtemp(prefix="yoi-bench-", dir="/tmp"))  # 0700
        shared = {
            label: {**env, "YOI_SHARED_MODEL": "1", "YOI_RUNTIME_DIR": str(runtime)}
            for label, env in configs.items()
        }
        try:
            await b.first_chat(shared[base], root, model, 0.0)  # an earlier session starts it
            for delay in (0.0, 3.0):
                firsts = {k: [] for k in configs}
                for _ in range(CHAT_RUNS):
                    for label, env in shared.items():
                        firsts[label].append((await b.first_chat(env, root, model, delay))[0])
                print(
                    f"first yoi/chat sent {delay:.0f} s after initialized, a later editor session "
                    f"(shared model service warm), median of {CHAT_RUNS}:"
                )
                for label in configs:
                    f = statistics.median(firsts[label])
                    ratio = f / statistics.median(firsts[base])
                    print(f"  {label + ':':17} {b.ms(f)} ({ratio:.2f}x)")
        finally:
            await asyncio.to_thread(b.kill_services, runtime)


if __name__ == "__main__":
    asyncio.run(main())
