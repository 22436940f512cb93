"""Images from Neovim (both Neovims, like tests/test_nvim.py): ``:YoiAttach``
puts the image's mention in the chat's input and the message sends the image
itself; ``@`` completion offers image files; what cannot be attached is said."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from imagekit import data_url, png
from lspkit import server_env
from test_nvim import NVIMS, YOI, Binary, Neovim

from agent.testing import ScriptedModel

pytestmark = [pytest.mark.timeout(120)]

PICTURE = png(4, 3)
VISION = "openai/gpt-4o"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / ".git").mkdir(parents=True)
    (ws / "shots").mkdir()
    (ws / "shots" / "error screen.png").write_bytes(PICTURE)
    (ws / "notes.txt").write_text("not an image\n")
    return ws.resolve()


@pytest.fixture(params=NVIMS)
def nvim(
    request: pytest.FixtureRequest, tmp_path: Path, root: Path, scripted_model: ScriptedModel
) -> Neovim:
    binary: Binary = request.param
    home = tmp_path / "home"
    home.mkdir()
    env = server_env(home, tmp_path / "config", scripted_model.base_url)
    env["YOI_MODEL"] = VISION
    env["YOI_TEST_ROOT"] = str(root)
    env["YOI_TEST_CMD"] = json.dumps([str(YOI), "lsp", "--stdio"])
    return Neovim(binary=binary, root=root, env=env, tmp=tmp_path)


def test_yoi_attach_sends_the_image_to_the_model(
    nvim: Neovim, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "A red rectangle."}])
    result = nvim.run(
        """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        vim.cmd("wincmd p")
        vim.cmd("YoiAttach notes.txt")
        vim.cmd("YoiAttach shots/error\\\\ screen.png")
        local chat = require("yoi.chat").get(T.root)
        T.result.input = chat.t:input()
        T.result.focused = vim.api.nvim_get_current_buf() == T.info().bufnr
        chat.t:set_input(chat.t:input() .. " what does it say?")
        T.send()
        T.result.chat = T.chat_text()
        T.result.info = T.info()
        T.result.completion = require("yoi.complete").items(T.root, "errscr")
        """,
    )
    assert result["input"] == '@"shots/error screen.png"'
    assert result["focused"] is True
    warned = [n["message"] for n in result["notifications"]]
    assert "yoi: notes.txt is not an image (PNG, JPEG, GIF or WebP)" in warned
    assert scripted_model.image_urls == [[data_url(PICTURE)]]
    sent = scripted_model.requests[0]["messages"][-1]["content"][0]["text"]
    assert sent.startswith("[image: shots/error screen.png] what does it say?")
    assert '## You\n@"shots/error screen.png" what does it say?' in result["chat"]
    assert "## yoi\nA red rectangle." in result["chat"]
    # `@` completion offers image files, marked as images
    offered = {item["word"]: item["kind"] for item in result["completion"]}
    assert offered['"shots/error screen.png"'] == "image"
    # a resumed session shows the image as the mention it was sent as
    session = result["info"]["session_id"]
    resumed = nvim.run(
        f"""
        T.setup()
        T.answers = {{ {{ match = "what does it say" }} }}
        vim.cmd("YoiSessions")
        T.wait("the resumed session", function()
          return T.info().session_id == "{session}" and T.chat_text():find("A red", 1, true) ~= nil
        end)
        T.result.history = T.chat_text()
        """
    )
    assert resumed["asked"][0]["items"][0].startswith(
        "[image: shots/error screen.png] what does it say?"
    )
    assert '## You\n@"shots/error screen.png" what does it say?' in resumed["history"]


def test_a_model_without_vision_says_so_in_the_chat(
    nvim: Neovim, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "never"}])
    result = nvim.run(
        """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        vim.cmd("YoiAttach shots/error\\\\ screen.png")
        T.send()
        T.result.chat = T.chat_text()
        T.result.outcome = T.info().last_outcome
        """,
        env={"YOI_MODEL": "openai/gpt-3.5-turbo"},
    )
    assert result["outcome"] == "error"
    assert "openai/gpt-3.5-turbo does not accept images" in result["chat"]
    assert scripted_model.requests == []
