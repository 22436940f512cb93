"""The terminal host: ``yoi chat``, ``yoi sessions``, ``yoi log``.

A host like the language server in ``server/``: it implements the runtime's
ports (an event sink, approvals, an editor on disk) for a terminal. The
runtime in ``agent/`` imports no host (tests/test_boundaries.py checks it).
"""
