"""The Neovim plugin (``nvim/``) end to end.

Each test runs a real headless Neovim with the plugin on its runtimepath. A
Lua script (the body in the test, wrapped by ``tests/nvim/harness.lua``)
drives the plugin through its commands, keys and Lua API, against the real
``yoi lsp --stdio`` and the scripted model; it answers ``vim.ui.select`` from a
queue like a UI plugin would, and writes what it saw as JSON for the asserts.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lspkit import server_env

from agent.testing import ScriptedModel

REPO = Path(__file__).resolve().parents[1]
PLUGIN = REPO / "nvim"
HARNESS = Path(__file__).resolve().parent / "nvim" / "harness.lua"
YOI = Path(sys.executable).parent / "yoi"
ERROR = 4  # vim.log.levels.ERROR


def _find_nvim() -> tuple[str | None, str]:
    path = shutil.which("nvim")
    if path is None:
        return None, (
            "Neovim is not installed, and `make system-deps` could not install it "
            "(apt-get install neovim needs root and a reachable Debian mirror)"
        )
    version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    found = re.match(r"NVIM v(\d+)\.(\d+)", version.stdout)
    if found is None or (int(found[1]), int(found[2])) < (0, 7):
        return None, f"the plugin needs Neovim 0.7 or newer; found {version.stdout[:40]!r}"
    return path, ""


NVIM, WHY_SKIP = _find_nvim()

pytestmark = [pytest.mark.timeout(120), pytest.mark.skipif(NVIM is None, reason=WHY_SKIP)]

ORIGINAL = "def main():\n    return 1\n"
UTIL = "def one():\n    return 1\n\n\ndef two():\n    return 2\n"


@dataclass
class Neovim:
    """Runs Lua bodies in fresh headless Neovims sharing one home and workspace."""

    root: Path
    env: dict[str, str]
    tmp: Path
    runs: int = 0

    def run(self, body: str, *, allow_errors: bool = False) -> dict[str, Any]:
        self.runs += 1
        script = self.tmp / f"case{self.runs}.lua"
        out = self.tmp / f"out{self.runs}.json"
        script.write_text(f"local T = dofile({json.dumps(str(HARNESS))})\nT.run(function()\n{body}\nend)\n")
        assert NVIM is not None
        proc = subprocess.run(
            [NVIM, "--headless", "--clean", "-n", "--cmd", f"set rtp^={PLUGIN}", "-c", f"luafile {script}", "-c", "cquit 2"],
            cwd=self.root,
            env={**self.env, "YOI_TEST_OUT": str(out)},
            capture_output=True,
            text=True,
            timeout=100,
        )
        assert out.exists(), f"nvim wrote no result (exit {proc.returncode}):\n{proc.stderr}"
        result: dict[str, Any] = json.loads(out.read_text())
        assert "error" not in result, f"{result['error']}\n--- nvim stderr:\n{proc.stderr}"
        assert proc.returncode == 0, proc.stderr
        assert result["globals"] == [], "the plugin must not define globals"
        if not allow_errors:
            errors = [n["message"] for n in result["notifications"] if n["level"] >= ERROR]
            assert errors == [], errors
            assert "Error" not in proc.stderr, proc.stderr
        return result


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / ".git").mkdir(parents=True)
    (ws / "src").mkdir()
    (ws / "app.py").write_text(ORIGINAL)
    (ws / "src" / "util.py").write_text(UTIL)
    return ws.resolve()


@pytest.fixture
def nvim(tmp_path: Path, root: Path, scripted_model: ScriptedModel) -> Neovim:
    home = tmp_path / "home"
    home.mkdir()
    env = server_env(home, tmp_path / "config", scripted_model.base_url)
    env["YOI_TEST_ROOT"] = str(root)
    env["YOI_TEST_CMD"] = json.dumps([str(YOI), "lsp", "--stdio"])
    return Neovim(root=root, env=env, tmp=tmp_path)


def user_message(model: ScriptedModel, request: int) -> str:
    content = model.requests[request]["messages"][-1]["content"]
    assert isinstance(content, str)
    return content


def test_chat_with_an_at_file_sends_the_unsaved_buffer(
    nvim: Neovim, root: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "Seen it.", "chunk_size": 3}])
    result = nvim.run(
        """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        vim.cmd("wincmd p")
        vim.cmd("edit " .. T.root .. "/app.py")
        vim.api.nvim_buf_set_lines(0, 1, 2, false, { "    return 42  # unsaved" })
        T.send("look at @app.py and @src/util.py:5-6, please")
        T.result.chat = T.chat_text()
        T.result.info = T.info()
        T.result.modified = vim.bo.modified
        """
    )
    sent = user_message(scripted_model, 0)
    assert "return 42  # unsaved" in sent
    assert "return 1" not in sent  # neither the disk's app.py nor util.py outside 5-6
    assert "     5\tdef two():" in sent and "def one" not in sent
    assert result["info"]["last_outcome"] == "finished"
    assert "## You\nlook at @app.py and @src/util.py:5-6, please" in result["chat"]
    assert "## yoi\nSeen it." in result["chat"]
    assert result["modified"] is True
    assert (root / "app.py").read_text() == ORIGINAL
