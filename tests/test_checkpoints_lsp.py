"""Checkpoints through the real server and the scripted model: restore files
(bytes, modes, deleted and created files, open documents), the user's own git
repository left alone, the confirmation for files the user changed, the
conversation restored by forking, fork and resend, busy pods."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lspkit import Session, capabilities, change_document, open_document, start, stop
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from agent.items import Message
from agent.store import SessionStore
from agent.testing import ScriptedModel

pytestmark = pytest.mark.timeout(90)

APP = "def main():\n    return 1\n"
GIT_ENV = {
    "PATH": os.environ["PATH"],
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_OPTIONAL_LOCKS": "0",  # the test's own `git status` writes nothing
}


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=u", "-c", "user.email=u@u", *args],
        cwd=root,
        env={**GIT_ENV, "HOME": str(root.parent)},
        capture_output=True,
        check=True,
    )
    return done.stdout.decode()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A workspace that is the user's git repository, with a stash entry, a
    staged change and an untracked file of the user's."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.py").write_text(APP)
    (ws / "data.txt").write_bytes(b"line 1\r\nline 2\n\x00binary tail")
    (ws / "keep.txt").write_text("keep me\n")
    (ws / "run.sh").write_text("#!/bin/sh\necho run\n")
    (ws / "run.sh").chmod(0o755)
    (ws / "private.txt").write_text("0600\n")
    (ws / "private.txt").chmod(0o600)
    (ws / ".gitignore").write_text("ignored/\n")
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "init")
    (ws / "keep.txt").write_text("stashed change\n")
    git(ws, "stash", "-q")
    (ws / "staged.txt").write_text("staged\n")
    git(ws, "add", "staged.txt")
    (ws / "untracked.txt").write_text("mine\n")
    (ws / "ignored").mkdir()
    (ws / "ignored" / "big.bin").write_bytes(b"i" * 100)
    config = tmp_path / "config"
    config.mkdir()
    (config / "manifest.toml").write_text('[approvals]\nmode = "auto"\n')
    return ws.resolve()


COMMAND = (
    "printf 'generated\\n' > gen.txt && printf 'more\\n' >> data.txt && rm keep.txt "
    "&& chmod -x run.sh && chmod 644 private.txt && mkdir -p out/deep "
    "&& printf o > out/deep/o.txt && rm untracked.txt"
)
EDIT = {
    "tool_calls": [
        {
            "name": "edit_file",
            "arguments": {"path": "app.py", "old_string": "return 1", "new_string": "return 2"},
        }
    ]
}
READ = {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}]}
RUN = {"tool_calls": [{"name": "run_command", "arguments": {"command": COMMAND}}]}


def tree(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file outside .git: its bytes and permission bits."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            found[rel] = (path.read_bytes(), stat.S_IMODE(path.lstat().st_mode))
    return found


def user_repo(root: Path) -> dict[str, Any]:
    return {
        "index": (root / ".git" / "index").read_bytes(),
        "status": git(root, "status", "--porcelain", "--untracked-files=all"),
        "stash": git(root, "stash", "list"),
        "head": git(root, "rev-parse", "HEAD"),
        "staged": git(root, "ls-files", "-s"),
        "refs": git(root, "for-each-ref"),
        "config": (root / ".git" / "config").read_bytes(),
    }


async def restore(lsp: Session, pod: str, turn: int, **params: Any) -> dict[str, Any]:
    result: dict[str, Any] = await lsp.request(
        "yoi/checkpoints/restore", {"podId": pod, "turn": turn, **params}
    )
    return result


async def test_restore_brings_back_every_file_and_leaves_the_users_repository_alone(
    lsp: Session, env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    before = tree(root)
    repo_before = user_repo(root)
    scripted_model.load([READ, EDIT, RUN, {"text": "done"}])
    lsp.state.edit_answers.append(True)
    pod = await lsp.create_pod()
    assert (await lsp.chat(pod, "change things"))["outcome"] == "finished"
    after_turn = tree(root)
    assert after_turn["app.py"][0] == b"def main():\n    return 2\n"
    assert "keep.txt" not in after_turn and "gen.txt" in after_turn
    assert after_turn["run.sh"][1] == 0o644

    listed = await lsp.request("yoi/checkpoints/list", {"podId": pod})
    (turn,) = listed["turns"]
    assert turn["turn"] == 1 and turn["text"] == "change things" and turn["checkpoint"]
    assert {"app.py", "gen.txt", "keep.txt", "data.txt", "out/deep/o.txt"} <= set(turn["files"])
    diff = await lsp.request("yoi/checkpoints/diff", {"podId": pod, "turn": 1})
    by_path = {f["path"]: f for f in diff["files"]}
    assert by_path["keep.txt"]["status"] == "deleted"
    assert by_path["gen.txt"]["status"] == "added"
    assert "+    return 2" in by_path["app.py"]["diff"]
    assert by_path["app.py"]["before"] == APP and "return 2" in by_path["app.py"]["after"]
    assert by_path["keep.txt"]["after"] is None and by_path["gen.txt"]["before"] is None
    assert by_path["data.txt"]["before"] is None  # not UTF-8 text: the diff only

    result = await restore(lsp, pod, 1)
    assert "keep.txt" in result["files"] and result["sessionId"]
    assert tree(root) == before  # bytes and modes, created and deleted files
    assert not (root / "out").exists()
    assert user_repo(root) == repo_before

    # again: nothing left to do, still consistent
    again = await restore(lsp, pod, 1)
    assert again["files"] == []
    assert tree(root) == before
    store = SessionStore(Path(env["YOI_HOME"]) / "sessions")
    log = store.read(result["sessionId"])
    records = [e.payload for e in log.entries if getattr(e, "domain", "") == "checkpoints"]
    states = [(r["kind"], r.get("state")) for r in records if isinstance(r, dict)]
    assert states.count(("restore", "begun")) == 2 and states.count(("restore", "done")) == 2


async def test_open_unsaved_document_is_restored_through_apply_edit(
    lsp: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    unsaved = APP + "# unsaved\n"
    uri = open_document(lsp.client, lsp.state, root / "app.py", APP)
    change_document(lsp.client, lsp.state, uri, unsaved)
    scripted_model.load([READ, EDIT, {"text": "done"}])
    lsp.state.edit_answers += [True, True]
    pod = await lsp.create_pod()
    await lsp.chat(pod, "edit the open file")
    assert lsp.state.docs[uri][1] == unsaved.replace("return 1", "return 2")
    version = lsp.state.docs[uri][0]
    await restore(lsp, pod, 1)
    restore_edit = lsp.state.edits[-1]
    (change,) = restore_edit.edit.document_changes or []
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.uri == uri and change.text_document.version == version
    assert lsp.state.docs[uri][1] == unsaved  # the buffer, unsaved text included
    assert (root / "app.py").read_text() == APP  # the disk was never the agent's


async def test_a_file_the_user_changed_is_only_overwritten_after_confirmation(
    lsp: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([RUN, {"text": "done"}, {"text": "second"}])
    pod = await lsp.create_pod()
    await lsp.chat(pod, "run it")
    (root / "gen.txt").write_text("the user's own words\n")  # outside the agent
    await lsp.chat(pod, "another turn")  # its start records the user's change
    lsp.state.approval_answers.append({"decision": "deny"})
    with pytest.raises(JsonRpcException) as caught:
        await restore(lsp, pod, 1)
    assert caught.value.code == -32803 and "kept the changes" in caught.value.message
    (asked,) = lsp.state.approvals
    assert asked["tool"] == "restore_checkpoint" and asked["arguments"]["files"] == ["gen.txt"]
    assert "the user's own words" in asked["arguments"]["diffs"]["gen.txt"]
    assert (root / "gen.txt").read_text() == "the user's own words\n"  # nothing changed
    assert not (root / "keep.txt").exists()

    lsp.state.approval_answers.append({"decision": "allow"})
    await restore(lsp, pod, 1)
    assert not (root / "gen.txt").exists() and (root / "keep.txt").read_text() == "keep me\n"


async def test_a_client_without_approvals_gets_a_clear_refusal(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    lsp = await start(env, root, caps=capabilities(approvals=False, annotations=False))
    try:
        scripted_model.load([RUN, {"text": "done"}])
        pod = await lsp.create_pod()
        await lsp.chat(pod, "run it")
        (root / "gen.txt").write_text("edited by the user\n")
        with pytest.raises(JsonRpcException) as caught:
            await restore(lsp, pod, 1)
        assert "cannot ask for confirmation" in caught.value.message
        assert "gen.txt" in caught.value.message
        assert (root / "gen.txt").read_text() == "edited by the user\n"
        assert not (root / "keep.txt").exists()
        await restore(lsp, pod, 1, force=True)
        assert not (root / "gen.txt").exists() and (root / "keep.txt").exists()
    finally:
        await stop(lsp)


async def test_conversation_restore_forks_before_the_turn(
    lsp: Session, env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "one"}, RUN, {"text": "two"}, {"text": "three"}])
    pod = await lsp.create_pod()
    first = await lsp.chat(pod, "first question")
    await lsp.chat(pod, "second question")
    old_session = first["sessionId"]
    result = await restore(lsp, pod, 2, files=True, conversation=True)
    assert result["forkedFrom"] == {"sessionId": old_session, "turn": 2}
    new_session = result["sessionId"]
    assert new_session != old_session and (root / "keep.txt").exists()
    store = SessionStore(Path(env["YOI_HOME"]) / "sessions")
    old, new = store.restore(old_session), store.restore(new_session)  # both verify
    texts = [i.text for i in new.history if isinstance(i, Message) and i.role == "user"]
    assert texts == ["first question"]
    assert new.parent is not None and new.parent.session_id == old_session
    (record,) = [p for d, p in new.extensions if d == "checkpoints" and p["kind"] == "restore"]
    assert record["forkedFrom"] == old_session and record["turn"] == 2
    assert any(isinstance(i, Message) and i.text == "second question" for i in old.history)
    listed = await lsp.request("yoi/checkpoints/list", {"podId": pod})
    assert [t["text"] for t in listed["turns"]] == ["first question"]
    third = await lsp.chat(pod, "third question")
    assert third["outcome"] == "finished" and third["sessionId"] == new_session
    sent = [m["content"] for m in scripted_model.requests[-1]["messages"] if m["role"] == "user"]
    assert "second question" not in str(sent) and "third question" in str(sent)
    store.read(new_session)
    sessions = await lsp.request("yoi/sessions/list", None)
    assert old_session in {s["sessionId"] for s in sessions["sessions"]}


async def test_fork_and_resend(lsp: Session, root: Path, scripted_model: ScriptedModel) -> None:
    scripted_model.load([{"text": "one"}, {"text": "two"}, {"text": "forked"}, {"text": "again"}])
    pod = await lsp.create_pod()
    first = await lsp.chat(pod, "first")
    await lsp.chat(pod, "second")
    forked = await lsp.request("yoi/session/fork", {"podId": pod, "turn": 2})
    assert forked["podId"] != pod and forked["forkedFrom"]["turn"] == 2
    answer = await lsp.chat(forked["podId"], "instead")
    assert answer["outcome"] == "finished"
    listed = await lsp.request("yoi/checkpoints/list", {"podId": pod})
    assert [t["text"] for t in listed["turns"]] == ["first", "second"]  # untouched
    resent = await lsp.request(
        "yoi/session/resend",
        {"podId": pod, "turn": 2, "input": [{"kind": "text", "text": "second, edited"}]},
    )
    assert resent["outcome"] == "finished" and resent["sessionId"] != first["sessionId"]
    listed = await lsp.request("yoi/checkpoints/list", {"podId": pod})
    assert [t["text"] for t in listed["turns"]] == ["first", "second, edited"]


async def test_restore_during_a_turn_is_busy(
    lsp: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "quick"}, {"hang": True}])
    pod = await lsp.create_pod()
    await lsp.chat(pod, "first")
    turn = asyncio.ensure_future(lsp.chat(pod, "slow"))
    async with asyncio.timeout(30):
        while len(lsp.events(pod, "turnStart")) < 2:
            lsp.state.changed.clear()
            await lsp.state.changed.wait()
    with pytest.raises(JsonRpcException) as caught:
        await restore(lsp, pod, 1)
    assert caught.value.code == -32803 and caught.value.data == {"reason": "busy"}
    await lsp.request("yoi/pod/interrupt", {"podId": pod})
    await turn


async def test_an_unknown_turn_is_invalid_params(
    lsp: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    scripted_model.load([{"text": "one"}])
    pod = await lsp.create_pod()
    await lsp.chat(pod, "first")
    with pytest.raises(JsonRpcException) as caught:
        await restore(lsp, pod, 5)
    assert caught.value.code == -32602 and "`turn` 5" in caught.value.message
    with pytest.raises(JsonRpcException) as caught:
        await lsp.request("yoi/checkpoints/diff", {"podId": pod, "turn": 1, "toTurn": 3})
    assert caught.value.code == -32602 and "`toTurn` 3" in caught.value.message


async def test_turns_before_a_compaction_can_be_restored(
    env: dict[str, str], root: Path, scripted_model: ScriptedModel
) -> None:
    (root / ".yoi").mkdir()
    (root / ".yoi" / "manifest.toml").write_text(
        "[compaction]\ncompact_retained_tokens = 10\n[memory]\nenabled = false\n"
    )
    summary = {"tool_calls": [{"name": "write_summary", "arguments": {"text": "## Done"}}]}
    scripted_model.load(
        [
            RUN,
            {"text": "Long.", "usage": {"prompt_tokens": 4000, "completion_tokens": 9}},
            summary,
            *[{"text": "ok"}] * 4,  # the turns, and what compaction asks after them
        ]
    )
    lsp = await start(env, root)
    try:
        pod = await lsp.create_pod()
        first = (await lsp.chat(pod, "before"))["sessionId"]
        compacted = (await lsp.request("yoi/pod/compact", {"podId": pod}))["sessionId"]
        await lsp.chat(pod, "after")
        listed = await lsp.request("yoi/checkpoints/list", {"podId": pod})
        assert listed["sessionId"] == compacted
        assert [t["text"] for t in listed["turns"]] == ["before", "after"]
        assert listed["turns"][0]["checkpoint"] and "gen.txt" in listed["turns"][0]["files"]
        result = await restore(lsp, pod, 1, conversation=True)
        assert not (root / "gen.txt").exists() and (root / "keep.txt").exists()
        assert result["forkedFrom"]["sessionId"] == compacted
        fork = SessionStore(Path(env["YOI_HOME"]) / "sessions").restore(result["sessionId"])
        assert fork.parent is not None and fork.parent.session_id == first
        assert not [i for i in fork.history if isinstance(i, Message) and i.role == "user"]
        again = await lsp.chat(pod, "from the start")
        assert again["outcome"] == "finished", again
        assert again["sessionId"] == result["sessionId"]
        listed = await lsp.request("yoi/checkpoints/list", {"podId": pod})
        assert [t["text"] for t in listed["turns"]] == ["from the start"]
    finally:
        await stop(lsp)


async def test_a_restore_that_cannot_write_says_where_and_can_be_run_again(
    lsp: Session, root: Path, scripted_model: ScriptedModel
) -> None:
    (root / ".gitignore").write_text("ignored/\n*.log\n")
    command = "rm keep.txt && mkdir keep.txt && echo x > keep.txt/run.log && echo n > new.txt"
    scripted_model.load(
        [
            {"tool_calls": [{"name": "run_command", "arguments": {"command": command}}]},
            {"text": "done"},
        ]
    )
    pod = await lsp.create_pod()
    await lsp.chat(pod, "replace keep.txt by a folder")
    with pytest.raises(JsonRpcException) as caught:
        await restore(lsp, pod, 1)  # keep.txt is a folder holding an ignored file
    assert caught.value.code == -32803 and "stopped at" in caught.value.message
    assert "keep.txt" in caught.value.message
    (root / "keep.txt" / "run.log").unlink()  # the user clears the way
    await restore(lsp, pod, 1)
    assert (root / "keep.txt").read_text() == "keep me\n" and not (root / "new.txt").exists()
