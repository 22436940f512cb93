"""Session titles in the listing: a compacted session carries the title of the
conversation it continues; a fork keeps its own, or its parent's when it has
none."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import items
from agent.ids import uuid7
from agent.segments import TextSegment
from agent.store import Origin, SessionStart, SessionStore, UserInput

pytestmark = pytest.mark.timeout(30)


def session(
    store: SessionStore,
    said: str | None = None,
    *,
    compacted_from: str | None = None,
    forked_from: str | None = None,
) -> str:
    def origin(parent: str | None) -> Origin | None:
        return Origin(session_id=parent, at_hash="0" * 64) if parent else None

    session_id = uuid7()
    head = store.create(
        session_id,
        SessionStart(
            system_prompt="You are yoi.",
            history=[items.system("[Compacted context summary]\n\n## Done")]
            if compacted_from
            else [],
            compacted_from=origin(compacted_from),
            forked_from=origin(forked_from),
        ),
    )
    if said is not None:
        segments = [TextSegment(kind="text", text=said)]
        store.append(session_id, head, [UserInput(segments=segments, text=said)])
    return session_id


def test_compacted_and_forked_sessions_are_titled_by_the_conversation(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    first = session(store, "fix the parser")
    summary_only = session(store, compacted_from=first)
    continued = session(store, "go on", compacted_from=summary_only)
    bare_fork = session(store, forked_from=continued)
    own_fork = session(store, "try another way", forked_from=first)
    orphan = session(store, compacted_from=uuid7())  # its parent was deleted
    titles = {s.session_id: s.title for s in store.list_sessions()}
    assert titles[first] == titles[summary_only] == titles[continued] == "fix the parser"
    assert titles[bare_fork] == "fix the parser"
    assert titles[own_fork] == "try another way"
    assert titles[orphan] == "(empty session)"
    # the cached listing says the same
    again = {s.session_id: s.title for s in store.list_sessions()}
    assert again == titles
