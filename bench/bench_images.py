"""A 5 MB image: how long the host's event loop stalls while it is taken in
and sent to the model process.

A probe task wakes every millisecond and records the longest gap between its
wake-ups (the loop's worst stall). In one run, alternating, with the same
5 MB PNG pasted as a data URL (6.7 MB of base64):

- baseline: the same work done plainly on the loop — decode the data URL,
  hash and store it, build the data URL again, and JSON-encode the request
  line for the model process;
- yoi: the real path — :meth:`ImageInput.prepare` (decoding, hashing and
  writing in a thread, base64 in 64 KB steps so the thread lets go of the
  GIL), :meth:`ImageInput.for_request`, :func:`completion_arguments`, and
  :meth:`ModelProcess.stream` with ``large=True`` (the request line built in a
  thread, the data URL spliced in as bytes instead of JSON-encoded) against a
  real model process and the scripted model.

Prints the median worst stall of each, and their ratio.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from agent.image_input import ImageInput
from agent.image_store import ImageStore
from agent.items import user
from agent.llm import wire
from agent.llm.convert import completion_arguments
from agent.llm.process import ModelProcess
from agent.llm.types import Completed, LlmRequest, ModelConfig
from agent.scope import Scope
from agent.segments import ImageSegment, TextSegment, images_of
from agent.testing import ScriptedModel
from agent.tools.fs import ScopedFs, Tracker

RUNS = 7
SIZE = 5 * 1024 * 1024 - 64


def picture() -> bytes:
    """A PNG signature and 5 MB of noise (the sniffing reads only the head)."""
    return b"\x89PNG\r\n\x1a\n" + os.urandom(SIZE)


class Probe:
    """The loop's longest stall while it runs."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.worst = max(self.worst, now - last)
            last = now

    async def __aenter__(self) -> Probe:
        self._task = asyncio.ensure_future(self._tick())
        await asyncio.sleep(0.01)
        self.worst = 0.0
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.sleep(0.005)  # the probe wakes once more: a stall just before counts
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def request_for(segments: list[ImageSegment | TextSegment], urls: dict[str, str]) -> LlmRequest:
    return LlmRequest(system="bench", items=[user("look", list(segments))], tools=[], images=urls)


async def inline_once(url: str, folder: Path, config: ModelConfig) -> float:
    async with Probe() as probe:
        data = base64.b64decode(url.partition(",")[2], validate=True)
        sha = hashlib.sha256(data).hexdigest()
        (folder / sha).write_bytes(data)
        seg = ImageSegment(
            kind="image", name="shot.png", sha256=sha, mime="image/png", size=len(data)
        )
        again = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        arguments = completion_arguments(request_for([seg], {sha: again}), config)
        line = wire.encode({"op": "stream", "id": 0, "config": {}, "arguments": arguments})
        assert len(line) > SIZE
    return probe.worst


async def yoi_once(
    url: str, images: ImageInput, process: ModelProcess, config: ModelConfig
) -> float:
    async with Probe() as probe:
        (seg,) = await images.prepare([ImageSegment(kind="image", data=url, name="shot.png")])
        assert isinstance(seg, ImageSegment)
        request = request_for([seg], {})
        urls = await images.for_request(request.items)
        request = request_for([seg], urls)
        arguments = completion_arguments(request, config)
        async for event in process.stream(config, arguments, large=True):
            if isinstance(event, Completed):
                break
    assert images_of([seg])
    return probe.worst


async def main() -> None:
    url = "data:image/png;base64," + base64.b64encode(picture()).decode("ascii")
    with tempfile.TemporaryDirectory() as tmp, ScriptedModel() as model:
        root = Path(tmp)
        model.load([{"text": "seen"}] * RUNS)
        config = ModelConfig(model="openai/scripted", api_base=model.base_url, api_key="bench")
        fs = ScopedFs(Scope(root, ()), None, Tracker())  # data URLs only: no file is read
        process = ModelProcess(model=config.model)
        await process.wait_loaded()
        inline, yoi = [], []
        try:
            for run in range(RUNS):
                store = ImageStore(root / f"images-{run}")  # nothing cached between runs
                images = ImageInput(store, fs, model="openai/scripted")
                (root / "inline").mkdir(exist_ok=True)
                inline.append(await inline_once(url, root / "inline", config))
                yoi.append(await yoi_once(url, images, process, config))
        finally:
            await process.close()
    base, ours = statistics.median(inline), statistics.median(yoi)
    print(f"one {SIZE + 64:,}-byte image ({len(url):,} bytes of data URL), {RUNS} runs each")
    print(f"baseline (inline on the loop): worst stall {base * 1000:6.1f} ms")
    print(f"yoi (threads, spliced):        worst stall {ours * 1000:6.1f} ms", end="")
    print(f"  ({base / ours:.1f}x shorter)")


if __name__ == "__main__":
    asyncio.run(main())
