"""``/undo`` and ``/rewind`` in ``yoi chat``: take the files and the
conversation back to before a turn (:func:`agent.checkpoints.rewind.restore`).

- ``/undo``: back to before the last turn;
- ``/rewind``: the turns, numbered, with the files each changed;
- ``/rewind N``: back to before turn ``N``.

Files changed outside the agent since then are only overwritten after a yes on
the terminal (``--yes`` answers it). The conversation continues in a fork of
the session; the old session stays and can be resumed.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from agent import paths
from agent.checkpoints import rewind
from agent.checkpoints.restore import Plan
from agent.checkpoints.timeline import Turn
from agent.errors import YoiError
from agent.pod import Pod
from agent.store import SessionStore
from terminal.ports import LineReader, TerminalSink

USAGE = (
    "/undo takes the last turn back (files and conversation); /rewind lists the turns; "
    "/rewind N goes back to before turn N."
)


class Rewinder:
    def __init__(self, sink: TerminalSink, reader: LineReader, assume_yes: bool) -> None:
        self.sink = sink
        self.reader = reader
        self.assume_yes = assume_yes
        self.store = SessionStore(paths.sessions_dir(paths.yoi_home()))
        self._pod: Pod | None = None

    async def command(self, pod: Pod, text: str) -> bool:
        """Run ``text`` if it is ``/undo`` or ``/rewind``; whether it was."""
        words = text.split()
        if not words or words[0] not in ("/undo", "/rewind"):
            return False
        try:
            if words == ["/undo"]:
                timeline = await rewind.timeline_of(pod, self.store)
                if not timeline.turns:
                    self._say("Nothing to undo: this session has no turns yet.")
                else:
                    await self._back_to(pod, timeline.turns[-1].index)
            elif words == ["/rewind"]:
                await self._list(pod)
            elif len(words) == 2 and words[0] == "/rewind" and words[1].isdigit():
                await self._back_to(pod, int(words[1]))
            else:
                self._say(USAGE)
        except YoiError as exc:
            self.sink._line(self.sink.style.red(f"yoi: {exc}"))
        return True

    async def _list(self, pod: Pod) -> None:
        timeline = await rewind.timeline_of(pod, self.store)
        if not timeline.turns:
            self._say("This session has no turns yet.")
            return
        for turn in timeline.turns:
            when = datetime.fromtimestamp(turn.ts / 1000).strftime("%H:%M")
            text = " ".join(turn.text.split())
            text = text if len(text) <= 70 else text[:69] + "…"
            mark = "" if turn.commit else "  (no checkpoint)"
            self.sink._line(f"  {turn.index:>3}  {when}  {text}{mark}")
        self._say("/rewind N goes back to before turn N.")

    async def _back_to(self, pod: Pod, index: int) -> None:
        self._pod = pod
        done = await rewind.restore(
            pod, self.store, index, files=True, conversation=True, confirm=self._confirm
        )
        shown = ", ".join(done.files[:6]) + (" …" if len(done.files) > 6 else "")
        files = f"{len(done.files)} file(s) restored ({shown})" if done.files else "no file changed"
        self._say(
            f"Back to before turn {done.turn}: {files}; the conversation continues in session "
            f"{done.session_id} (session {done.forked_from} is kept)."
        )

    async def _confirm(self, turn: Turn, plan: Plan) -> None:
        names = ", ".join(plan.conflicts)
        question = (
            f"Changed outside the agent since turn {turn.index}: {names}. Overwrite "
            "them with the checkpoint?"
        )
        if self.assume_yes:
            self._say(question + " yes (--yes)")
            return
        assert self._pod is not None
        repo = rewind.recorder_of(self._pod).repo
        diffs = await asyncio.to_thread(repo.unified_diff, plan.now, plan.target, plan.conflicts)
        for diff in diffs.values():
            self.sink._line(self.sink.style.dim(diff.rstrip("\n")))
        self.sink._line(self.sink.style.bold(f"{question} [y]es / [n]o"))
        answer = ((await self.reader.readline()) or "n").strip().lower()[:1]
        if answer != "y":
            raise YoiError("Nothing was restored: the changes made outside the agent were kept.")

    def _say(self, text: str) -> None:
        self.sink._line(self.sink.style.dim(text))
