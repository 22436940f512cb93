"""When to compact, and when to stop trying.

- ``compact_threshold`` is checked after a run (proactive): over it, the pod
  compacts between turns.
- ``compact_request_threshold`` is checked before every request: over it, the
  worker yields mid-run, the pod compacts, and the same turn resumes.
- A yield right after a compaction, before any request was made in the
  compacted context (it is still too large), is *thrash*: the run fails
  instead of looping.
- Three failures in a row turn compaction off for the pod (circuit breaker).

Comparisons are strict (``tokens > threshold``); an unset threshold is off.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_CONSECUTIVE_FAILURES = 3


@dataclass
class CompactionPolicy:
    compact_threshold: int | None
    request_threshold: int | None
    just_compacted: bool = False
    failures: int = 0

    @property
    def disabled(self) -> bool:
        return self.failures >= MAX_CONSECUTIVE_FAILURES

    def warnings(self) -> list[str]:
        if (
            self.compact_threshold is not None
            and self.request_threshold is not None
            and self.compact_threshold > self.request_threshold
        ):
            return [
                f"[compaction] compact_threshold ({self.compact_threshold:,}) is above "
                f"compact_request_threshold ({self.request_threshold:,}), so compaction "
                "between turns never happens first; lower it."
            ]
        return []

    def should_yield(self, tokens: int) -> bool:
        return (
            not self.disabled
            and self.request_threshold is not None
            and tokens > self.request_threshold
        )

    def should_compact_after_run(self, tokens: int) -> bool:
        return (
            not self.disabled
            and not self.just_compacted
            and self.compact_threshold is not None
            and tokens > self.compact_threshold
        )

    def succeeded(self) -> None:
        self.failures = 0
        self.just_compacted = True

    def failed(self) -> bool:
        """Count a failure; True when compaction is now off."""
        self.failures += 1
        return self.disabled

    def request_made(self) -> None:
        """A request went through in the current context: it made progress."""
        self.just_compacted = False
