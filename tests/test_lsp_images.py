"""Images through the real ``yoi lsp`` process: ``image`` segments and
``read_file`` of an image reach a vision model as ``image_url`` content parts
(the real litellm talks to the scripted model, which records the requests);
a model litellm says has no vision, an oversized image and a file that is not
an image are refused with -32602 before any request."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from imagekit import data_url, png
from lspkit import Session
from pygls.exceptions import JsonRpcInvalidParams

from agent.images import MAX_IMAGE_BYTES
from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(60)

VISION = "openai/gpt-4o"  # litellm's map: supports_vision
NO_VISION = "openai/gpt-3.5-turbo"  # mapped, without vision
PICTURE = png(3, 2)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "shot.png").write_bytes(PICTURE)
    (ws / "notes.png").write_text("not an image at all\n")
    return ws.resolve()


async def chat(lsp: Session, pod: str, *segments: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = await lsp.request("yoi/chat", {"podId": pod, "input": list(segments)})
    return result


def text(value: str) -> dict[str, Any]:
    return {"kind": "text", "text": value}


async def rejected(lsp: Session, pod: str, *segments: dict[str, Any]) -> str:
    with pytest.raises(JsonRpcInvalidParams) as caught:  # -32602
        await chat(lsp, pod, *segments)
    assert caught.value.code == -32602
    return str(caught.value)


async def test_a_pasted_image_reaches_a_vision_model_and_is_logged_by_reference(
    lsp: Session, env: dict[str, str], scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "a red square"}])
    pod = await lsp.create_pod(model=VISION)
    url = data_url(PICTURE)
    image = {"kind": "image", "data": url, "name": "screenshot.png"}
    result = await chat(lsp, pod, text("what is this? "), image)
    assert result["outcome"] == "finished"
    assert scripted_model.image_urls == [[url]]
    last = scripted_model.requests[0]["messages"][-1]
    assert last["role"] == "user" and last["content"][0]["type"] == "text"
    assert "[image: screenshot.png]" in last["content"][0]["text"]
    # the log holds a reference; the bytes are stored once, by their hash
    sha = hashlib.sha256(PICTURE).hexdigest()
    home = Path(env["YOI_HOME"])
    log = (home / "sessions" / f"{result['sessionId']}.jsonl").read_text()
    assert sha in log and url.split(",", 1)[1] not in log
    blob = home / "sessions" / "images" / sha
    assert blob.read_bytes() == PICTURE
    assert blob.stat().st_mode & 0o777 == 0o600  # private, like the session logs
    assert blob.parent.stat().st_mode & 0o777 == 0o700


async def test_a_workspace_image_reaches_the_model(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "seen"}, {"text": "seen again"}, {"text": "no image"}])
    pod = await lsp.create_pod(model=VISION)
    await chat(lsp, pod, text("look "), {"kind": "image", "path": "shot.png"})
    assert scripted_model.image_urls == [[data_url(PICTURE)]]
    # an @mention of an image file (a `file` segment) is sent as the image too
    await chat(lsp, pod, text("and "), {"kind": "file", "path": "shot.png"})
    assert scripted_model.image_urls[1] == [data_url(PICTURE), data_url(PICTURE)]
    history = await lsp.request("yoi/pod/history", {"podId": pod})
    assert history["items"][-2]["segments"][1]["kind"] == "image"
    assert history["items"][-2]["segments"][1]["name"] == "shot.png"
    # ... but not to a model without vision: there it stays a file reference
    blind = await lsp.create_pod(model=NO_VISION)
    await chat(lsp, blind, text("and "), {"kind": "file", "path": "shot.png"})
    sent = scripted_model.requests[2]["messages"][-1]["content"]
    assert isinstance(sent, str) and "[not attached: shot.png is a binary file" in sent


async def test_a_model_without_vision_is_refused_before_any_request(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "never"}])
    pod = await lsp.create_pod(model=NO_VISION)
    message = await rejected(
        lsp, pod, text("what is this? "), {"kind": "image", "data": data_url(PICTURE)}
    )
    assert "`input[1]`" in message and "does not accept images" in message
    assert NO_VISION in message
    assert scripted_model.requests == []
    history = await lsp.request("yoi/pod/history", {"podId": pod})
    assert history["items"] == []  # nothing was logged either


async def test_oversized_and_unsupported_images_are_refused_naming_the_field(
    lsp: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    pod = await lsp.create_pod(model=VISION)
    big = PICTURE + b"\0" * MAX_IMAGE_BYTES
    message = await rejected(lsp, pod, text("x"), {"kind": "image", "data": data_url(big)})
    assert "input[1]" in message and "data" in message and "5 MB" in message
    message = await rejected(
        lsp, pod, text("x"), {"kind": "image", "data": data_url(b"BM...", "image/bmp")}
    )
    assert "input[1]" in message and "image/bmp" in message and "PNG, JPEG, GIF or WebP" in message
    bad = {"kind": "image", "data": "data:image/png;base64,@@@@"}
    message = await rejected(lsp, pod, text("x"), bad)
    assert "`input[1].data`: the image is not valid base64" in message
    fake = {"kind": "image", "data": data_url(b"just text, claimed to be a PNG")}
    message = await rejected(lsp, pod, text("x"), fake)
    assert "`input[1].data`: the image is not a PNG, JPEG, GIF or WebP image" in message
    message = await rejected(lsp, pod, text("x"), {"kind": "image", "path": "notes.png"})
    assert "`input[1].path`" in message and "is not a PNG, JPEG, GIF or WebP image" in message
    (root / "huge.png").write_bytes(big)
    message = await rejected(lsp, pod, text("x"), {"kind": "image", "path": "huge.png"})
    assert "`input[1].path`" in message and "5 MB" in message
    message = await rejected(lsp, pod, text("x"), {"kind": "image"})
    assert "input[1]" in message and "exactly one of path or data" in message
    assert scripted_model.requests == []


async def test_read_file_of_an_image_shows_it_to_a_vision_model(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    read = {"tool_calls": [{"name": "read_file", "arguments": {"path": "shot.png"}}]}
    scripted_model.load([read, {"text": "a red square"}, read, {"text": "cannot see"}])
    pod = await lsp.create_pod(model=VISION)
    assert (await chat(lsp, pod, text("look at shot.png")))["outcome"] == "finished"
    messages = scripted_model.requests[1]["messages"]
    roles = [m["role"] for m in messages]
    assert roles[-3:] == ["assistant", "tool", "user"]  # the image follows the tool run
    assert "Read the image shot.png (PNG, " in messages[-2]["content"]
    assert scripted_model.image_urls[1] == [data_url(PICTURE)]
    history = await lsp.request("yoi/pod/history", {"podId": pod})
    result = next(i for i in history["items"] if i["kind"] == "toolResult")
    assert result["images"] == [
        {
            "mime": "image/png",
            "size": len(PICTURE),
            "sha256": hashlib.sha256(PICTURE).hexdigest(),
            "name": "shot.png",
        }
    ]
    # a model without vision gets a note instead, and no image
    blind = await lsp.create_pod(model=NO_VISION)
    assert (await chat(lsp, blind, text("look at shot.png")))["outcome"] == "finished"
    tool = [m for m in scripted_model.requests[3]["messages"] if m["role"] == "tool"][-1]
    assert "cannot view images" in tool["content"]
    assert scripted_model.image_urls[3] == []


async def test_a_restored_session_shows_the_image_and_sends_it_again(
    lsp: Session, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "a red square"}, {"text": "still red"}])
    pod = await lsp.create_pod(model=VISION)
    url = data_url(PICTURE)
    image = {"kind": "image", "data": url, "name": "screenshot.png"}
    result = await chat(lsp, pod, text("what is this? "), image)
    await lsp.request("yoi/pod/dispose", {"podId": pod})
    created = await lsp.request(
        "yoi/pod/create", {"resumeSessionId": result["sessionId"], "model": VISION}
    )
    again = str(created["podId"])
    history = await lsp.request("yoi/pod/history", {"podId": again})
    first = history["items"][0]
    assert first["segments"][1] == {
        "kind": "image",
        "name": "screenshot.png",
        "mime": "image/png",
        "size": len(PICTURE),
        "sha256": hashlib.sha256(PICTURE).hexdigest(),
    }
    await chat(lsp, again, text("and now?"))
    assert scripted_model.image_urls[1] == [url]
    # a client redrawing the chat gets the image by its hash
    sha = first["segments"][1]["sha256"]
    got = await lsp.request("yoi/image/get", {"sha256": sha})
    assert got == {"mime": "image/png", "size": len(PICTURE), "dataUrl": url}
    for bad in ("../../etc/passwd", "0" * 64):
        with pytest.raises(JsonRpcInvalidParams) as caught:
            await lsp.request("yoi/image/get", {"sha256": bad})
        assert "sha256" in str(caught.value)
