"""Checkpoints: snapshots of the workspace's files per turn, and going back.

- :mod:`agent.checkpoints.git`: ``git`` on a shadow repository, with a clean
  environment (never the user's repository, configuration or hooks).
- :mod:`agent.checkpoints.shadow`: the shadow repository of one workspace:
  incremental snapshots, diffs, blobs, pruning.
- :mod:`agent.checkpoints.recorder`: the worker's port: a snapshot at the
  start of every user turn (logged in the session) and after tool steps.
- :mod:`agent.checkpoints.timeline`: a session's turns and their checkpoints.
- :mod:`agent.checkpoints.restore`: the plan of a restore and the writes to disk.
- :mod:`agent.checkpoints.fork`: the conversation taken back by forking.

The editor side (open documents, confirmation) is in ``server/checkpoints.py``.
"""
