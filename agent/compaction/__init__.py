"""Compaction: when a session outgrows the model's context, summarise its
older part with a disposable worker and go on in a new, linked session.

- :mod:`~agent.compaction.window`: the model's input window, which sizes it;
- :mod:`~agent.compaction.cut`: where to cut and what is retained (pure, linear
  in history length);
- :mod:`~agent.compaction.transcript`: the pruned transcript the worker reads;
- :mod:`~agent.compaction.tools`: the compact worker's tools;
- :mod:`~agent.compaction.compactor`: running the worker and building the new
  history;
- :mod:`~agent.compaction.policy`: thresholds, thrash, progress and the circuit
  breaker;
- :mod:`~agent.compaction.runner`: the pod's side (progress, the switch).
"""
