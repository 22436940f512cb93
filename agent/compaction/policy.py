"""When to compact, and when to stop trying.

- ``compact_threshold`` is checked after a run (proactive): over it, the pod
  compacts between turns.
- ``compact_request_threshold`` is checked before every request: over it, the
  worker yields mid-run, the pod compacts, and the same turn resumes.
- Both default to fractions of the model's input window (75 % and 90 %); an
  explicit number in the manifest wins, and 0 turns that trigger off. When
  only the request threshold is explicit, the between-turns one is kept at or
  below it, so it still comes first.
- What a compaction keeps (the retained tail, the re-read files) is held to a
  quarter of the lower threshold, so the compacted context fits under it.
- A yield right after a compaction, before any request was made in the
  compacted context (it is still too large), is *thrash*: the run fails
  instead of looping.
- A compaction that leaves the context over ``compact_threshold`` (a long
  summary, a large system prompt) sets a *floor*: the pod does not compact
  between turns again until the context has grown a quarter of the threshold
  past it, so it never compacts again without progress.
- Three failures in a row turn compaction off for the pod (circuit breaker).

Comparisons are strict (``tokens > threshold``); an unset threshold is off.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.manifest import CompactionSection

MAX_CONSECUTIVE_FAILURES = 3
KEEP_FRACTION = 4  # what a compaction keeps is at most 1/4 of the lower threshold


@dataclass(frozen=True)
class Thresholds:
    """The effective triggers, in tokens (``None``: that trigger is off)."""

    compact: int | None
    request: int | None

    @property
    def lowest(self) -> int | None:
        values = [t for t in (self.compact, self.request) if t is not None]
        return min(values) if values else None


def thresholds_for(section: CompactionSection, window: int | None) -> Thresholds | None:
    """The thresholds for a model ``window`` (tokens); ``None`` when they
    depend on a window that is not known yet."""
    if not section.enabled:
        return Thresholds(None, None)
    compact, request = section.compact_threshold, section.compact_request_threshold
    if compact is None or request is None:
        if window is None:
            return None
        if request is None:
            request = round(window * section.compact_request_threshold_ratio)
        if compact is None:
            compact = round(window * section.compact_threshold_ratio)
            if section.compact_request_threshold:  # explicit: between turns comes first
                compact = min(compact, section.compact_request_threshold)
    return Thresholds(compact or None, request or None)


@dataclass(frozen=True)
class Budgets:
    """What one compaction may keep, in tokens (0 read budget: no limit)."""

    retained: int
    read: int


def budgets_for(thresholds: Thresholds, retained: int, read: int) -> Budgets:
    """The manifest's budgets, held under the thresholds they must fit."""
    lowest = thresholds.lowest
    if lowest is None:
        return Budgets(retained, read)
    cap = max(1, lowest // KEEP_FRACTION)
    return Budgets(min(retained, cap), cap if read == 0 else min(read, cap))


@dataclass
class CompactionPolicy:
    compact_threshold: int | None
    request_threshold: int | None
    just_compacted: bool = False
    failures: int = 0
    floor: int | None = None  # the context right after a compaction that stayed over

    @property
    def disabled(self) -> bool:
        return self.failures >= MAX_CONSECUTIVE_FAILURES

    def apply(self, thresholds: Thresholds) -> None:
        self.compact_threshold = thresholds.compact
        self.request_threshold = thresholds.request

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
        threshold = self.compact_threshold
        if self.disabled or self.just_compacted or threshold is None or tokens <= threshold:
            return False
        return self.floor is None or tokens > self.floor + self.progress_margin()

    def progress_margin(self) -> int:
        """How much the context must grow past the floor before compacting
        again is worth it."""
        return (self.compact_threshold or 0) // KEEP_FRACTION

    def succeeded(self, tokens_after: int) -> bool:
        """Record a compaction that left ``tokens_after``; True when that is
        still over the between-turns threshold (a floor is now set)."""
        self.failures = 0
        self.just_compacted = True
        threshold = self.compact_threshold
        self.floor = tokens_after if threshold is not None and tokens_after > threshold else None
        return self.floor is not None

    def failed(self) -> bool:
        """Count a failure; True when compaction is now off."""
        self.failures += 1
        return self.disabled

    def request_made(self) -> None:
        """A request went through in the current context: it made progress."""
        self.just_compacted = False


@dataclass(frozen=True)
class ContextLimits:
    """What a client shows about the context: the model's window (``None``
    until known) and when the next compaction will happen (``None``: never,
    or not known yet)."""

    window: int | None
    window_source: str | None
    compact_at: int | None
    request_at: int | None
