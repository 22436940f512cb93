"""Sub-agents: pods that spawn pods, with delegated scope.

- :mod:`agent.agents.manager`: :class:`Children`, a pod's sub-agents (spawn,
  send, read, stop, list; notes to the parent; interrupt and close).
- :mod:`agent.agents.scope`: the delegated scope (a subset of the parent's)
  and the write claims every pod's scope respects.
- :mod:`agent.agents.claims`: who holds which subtree (the registry's view).
- :mod:`agent.agents.tools`: the tools the model calls.
- :mod:`agent.agents.record`, :mod:`agent.agents.restore`: the parent's log
  of its sub-agents, and restoring it.
- :mod:`agent.agents.port`: what the host provides (events, approvals).
- :mod:`agent.agents.wiring`: the calls :func:`agent.factory.open_pod` makes.
"""
