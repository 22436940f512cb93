"""yoi's agent runtime: pods, the worker loop, tools, sessions, scope.

It knows nothing about editors; hosts reach it through the ports in
:mod:`agent.ports`.
"""
