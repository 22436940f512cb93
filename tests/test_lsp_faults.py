"""Provider faults through the real language server: pytest-lsp against the
real ``yoi lsp`` process, which streams through its model process (the real
litellm) from the fault-injecting scripted model on 127.0.0.1.

The two faults that used to pass for success (an HTML page with status 200,
a stream that ends without finish_reason or [DONE]) and a connection cut
mid-stream: each ends the chat with outcome ``error`` and a message that
names it, the text that arrived is kept and marked as cut off, the history
the client reads is what the log restores to, and the log verifies.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from lspkit import Session

from agent.items import Message
from agent.store import RunErrored, SessionStore
from agent.testing import ScriptedModel
from agent.worker import CUT_OFF_MARK
from terminal.sessions import show_log

pytestmark = pytest.mark.timeout(90)

PAGE = "<!doctype html><html><head><title>Sign in</title></head><body>Who are you?</body></html>"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws.resolve()


async def failed_chat(lsp: Session, text: str) -> tuple[str, dict[str, Any]]:
    pod = await lsp.create_pod()
    result = await lsp.chat(pod, text)
    assert result["outcome"] == "error"
    ends = lsp.events(pod, "turnEnd")
    assert [(e["outcome"], e.get("error")) for e in ends] == [("error", result["error"])]
    return pod, result


async def assert_consistent(
    lsp: Session, env: dict[str, str], pod: str, result: dict[str, Any], items: list[Message]
) -> None:
    """The client's history is ``items``; the log verifies, restores to
    them and records the error the client was told."""
    expected = [("message", i.role, i.text) for i in items]
    history = await lsp.request("yoi/pod/history", {"podId": pod})
    assert [(i["kind"], i["role"], i["text"]) for i in history["items"]] == expected
    home = Path(env["YOI_HOME"])
    out = io.StringIO()
    assert show_log(result["sessionId"], home, out=out) == 0
    assert out.getvalue().endswith(" entries, hash chain verified.\n")
    store = SessionStore(home / "sessions")
    restored = store.restore(result["sessionId"]).history
    assert [(i.kind, i.role, i.text) for i in restored if isinstance(i, Message)] == expected
    assert len(restored) == len(items)
    ends = [e for e in store.read(result["sessionId"]).entries if isinstance(e, RunErrored)]
    assert [e.error for e in ends] == [result["error"]]


async def test_an_html_page_with_200_is_an_error(
    lsp: Session, env: dict[str, str], scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"body": PAGE}, {"text": "unused"}])
    pod, result = await failed_chat(lsp, "hello")
    assert result["error"] == (
        f"The model provider for openai/scripted at {scripted_model.base_url} answered with "
        "an HTML page (HTTP 200, text/html), not a chat-completion stream. Check the "
        "model's api_base: it may point at a web page or a proxy's sign-in page."
    )
    assert lsp.events(pod, "textDelta") == []
    assert len(scripted_model.requests) == 1
    await assert_consistent(lsp, env, pod, result, [Message(role="user", text="hello")])


async def test_a_stream_without_finish_reason_or_done_is_cut_off(
    lsp: Session, env: dict[str, str], scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "The answer is forty", "end": "eof"}, {"text": "Forty-two."}])
    pod, result = await failed_chat(lsp, "the answer?")
    assert result["error"] == (
        "The answer from openai/scripted was cut off: the stream ended before the model "
        "finished (no finish_reason came). Ask again to retry."
    )
    assert "".join(d["text"] for d in lsp.events(pod, "textDelta")) == "The answer is forty"
    kept = Message(role="assistant", text="The answer is forty" + CUT_OFF_MARK)
    await assert_consistent(lsp, env, pod, result, [Message(role="user", text="the answer?"), kept])
    again = await lsp.chat(pod, "again")
    assert again["outcome"] == "finished"
    sent = scripted_model.requests[1]["messages"]
    assert {"role": "assistant", "content": kept.text} in sent


async def test_a_connection_cut_mid_stream_is_named(
    lsp: Session, env: dict[str, str], scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "Half an answer", "end": "reset"}])
    pod, result = await failed_chat(lsp, "go")
    assert result["error"].startswith(
        "The answer from openai/scripted was cut off: the connection to the provider broke ("
    )
    assert "connect to" not in result["error"]
    kept = Message(role="assistant", text="Half an answer" + CUT_OFF_MARK)
    await assert_consistent(lsp, env, pod, result, [Message(role="user", text="go"), kept])
