"""Search tools: ``glob`` (files by name) and ``grep`` (files by content).

Both honour ``.gitignore``, include hidden files, skip ``.git``, never follow
symlinked directories and only report paths the scope lets the agent read.

``grep`` uses ripgrep when it is installed and a Python walk otherwise; the
two produce the same output for the same tree (same files, same order, same
format), and files open in the editor are searched in their buffer text in
both. Patterns use Python ``re`` syntax; one that ripgrep cannot run
(backreferences, look-around) is searched with the Python backend.

- :mod:`.glob`: the ``glob`` tool.
- :mod:`.grep`: the ``grep`` tool (arguments, editor buffers, choosing a
  backend, rendering).
- :mod:`.hits`: what both backends produce (a query, hits per file) and the
  output format.
- :mod:`.python_backend` and :mod:`.ripgrep`: the two backends.
"""

from agent.tools.search.glob import Glob, GlobArgs
from agent.tools.search.grep import Grep, GrepArgs

__all__ = ["Glob", "GlobArgs", "Grep", "GrepArgs"]
