"""An interrupt that comes while the model client is still loading (before
the turn's request reaches the model) ends that turn, and the pod's next chat
works: nothing is left waiting."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lspkit import Session
from lsprotocol import types

from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws.resolve()


@pytest.mark.parametrize(("how", "delay"), [("interrupt", 0.3), ("cancel", 1.0)])
async def test_an_interrupt_while_the_client_loads_leaves_the_pod_usable(
    lsp: Session, scripted_model: ScriptedModel, delay: float, how: str
) -> None:
    # YOI_PREWARM=0 (lspkit): the model process starts with this first chat,
    # so the interrupt lands while it loads (importing litellm alone takes
    # seconds): the first chat never reaches the model
    scripted_model.load([{"text": "second answer"}])
    pod = await lsp.create_pod()
    params = {"podId": pod, "input": [{"kind": "text", "text": "first"}]}
    first = lsp.client.protocol.send_request("yoi/chat", params, msg_id=f"chat-{how}")
    await lsp.wait_event(pod, "turnStart")
    await asyncio.sleep(delay)
    if how == "interrupt":
        await lsp.request("yoi/pod/interrupt", {"podId": pod})
    else:
        lsp.client.cancel_request(types.CancelParams(id=f"chat-{how}"))
    assert (await asyncio.wait_for(asyncio.wrap_future(first), 30))["outcome"] == "interrupted"
    second = await asyncio.wait_for(lsp.chat(pod, "again"), 40)
    assert second["outcome"] == "finished"
    (request,) = scripted_model.requests
    assert "again" in str(request["messages"][-1])
