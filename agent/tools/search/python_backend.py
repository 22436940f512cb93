"""grep's Python backend: walk the tree (``.gitignore`` honoured, symlinked
directories not followed) and search each regular, non-binary file. Runs in a
thread; ``stop`` ends the walk early."""

from __future__ import annotations

import os
import threading

from agent.fsutil import open_regular
from agent.tools.fs import decode
from agent.tools.ignore import IgnoreTree
from agent.tools.search.hits import MAX_COLLECTED_LINES, Found, Query, search_text


def search_python(query: Query, tree: IgnoreTree, stop: threading.Event) -> Found:
    found = Found([])
    collected = 0
    for path in tree.walk(query.base, symlinks=False):
        if stop.is_set():
            break
        if not query.accepts(path):
            continue
        try:
            with open_regular(path) as fh:
                if os.fstat(fh.fileno()).st_size > query.max_bytes:
                    continue
                data = fh.read()
        except OSError:  # gone, unreadable, or not a regular file (a FIFO)
            continue
        if b"\x00" in data:
            continue
        hits = search_text(path, decode(data), query.regex, query.context)
        if hits is None:
            continue
        found.files.append(hits)
        collected += hits.matches
        if collected >= MAX_COLLECTED_LINES:
            found.stopped_early = True
            break
    return found
