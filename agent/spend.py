"""Money: what each request cost, what a session and a day have spent, and
the budgets that stop a turn before the request that would pass them.

- A request's cost comes from litellm's local cost map (computed in the model
  process, :func:`agent.llm.client.priced`), or from ``[model]
  input_cost_per_mtok`` / ``output_cost_per_mtok`` when the manifest sets them
  (models the map lacks, negotiated prices).
- A session's spend is the sum over its log's ``llm_usage`` entries, so it
  survives restarts with the log.
- A day's spend (UTC) is shared by every yoi process of the user:
  ``$YOI_HOME/spend/<YYYY-MM-DD>.json``, updated under a file lock.
- ``[budget]`` (user manifest only): ``per_session_usd``, ``per_day_usd`` and
  the token variants for models without a price. Before each request the
  pod estimates it (the context's tokens at the input price, plus this
  session's average answer at the output price); if spent + estimate would
  pass a limit, the turn stops with outcome ``budgetExceeded`` and a message
  naming the budget, the spend and how to raise it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agent.fsutil import atomic_write_text
from agent.llm.types import ModelInfo, Usage
from agent.manifest.schema import BudgetSection, MainModelSection

log = logging.getLogger(__name__)

MTOK = 1_000_000


@dataclass(frozen=True)
class Totals:
    usd: float = 0.0
    tokens: int = 0
    unpriced: int = 0  # requests whose price was not known (their tokens count, not their cost)

    def plus(self, usd: float | None, tokens: int) -> Totals:
        return Totals(
            usd=self.usd + (usd or 0.0),
            tokens=self.tokens + tokens,
            unpriced=self.unpriced + (usd is None),
        )


@dataclass(frozen=True)
class Prices:
    """US dollars per token; ``None`` where not known."""

    input: float | None = None
    output: float | None = None

    @classmethod
    def of(cls, section: MainModelSection, info: ModelInfo) -> Prices:
        """The manifest's prices if it sets them, else litellm's map."""
        if section.input_cost_per_mtok is not None or section.output_cost_per_mtok is not None:
            return cls(
                input=(section.input_cost_per_mtok or 0.0) / MTOK,
                output=(section.output_cost_per_mtok or 0.0) / MTOK,
            )
        return cls(input=info.input_cost_per_token, output=info.output_cost_per_token)

    @property
    def known(self) -> bool:
        return self.input is not None and self.output is not None

    def estimate(self, input_tokens: int, output_tokens: int) -> float | None:
        if self.input is None or self.output is None:
            return None
        return input_tokens * self.input + output_tokens * self.output


def request_cost(usage: Usage, section: MainModelSection) -> float | None:
    """What one request cost: the manifest's prices when set, else what the
    model process computed from litellm's cost map."""
    if section.input_cost_per_mtok is not None or section.output_cost_per_mtok is not None:
        return Prices.of(section, ModelInfo()).estimate(usage.input_tokens, usage.output_tokens)
    return usage.cost_usd


def session_totals(records: Sequence[object]) -> Totals:
    """The spend of a session's usage records (``UsageRecord``s)."""
    totals = Totals()
    for record in records:
        cost = getattr(record, "cost_usd", None)
        tokens = int(getattr(record, "input_tokens", 0)) + int(getattr(record, "output_tokens", 0))
        totals = totals.plus(cost, tokens)
    return totals


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


class DayLedger:
    """Each UTC day's spend, for every yoi process of the user (blocking: call
    it in a worker thread)."""

    def __init__(self, home: Path) -> None:
        self.folder = home / "spend"

    def path(self, day: str) -> Path:
        return self.folder / f"{day}.json"

    def read(self, day: str | None = None) -> Totals:
        try:
            data = json.loads(self.path(day or today()).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return Totals()
        except (OSError, ValueError) as exc:
            log.warning("spend ledger unreadable (%s); counting from zero", exc)
            return Totals()
        return Totals(
            usd=float(data.get("usd", 0.0)),
            tokens=int(data.get("tokens", 0)),
            unpriced=int(data.get("unpriced", 0)),
        )

    def add(self, usd: float | None, tokens: int, day: str | None = None) -> Totals:
        """Add one request's spend to ``day`` (today); returns the day's totals."""
        day = day or today()
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._locked():
            totals = self.read(day).plus(usd, tokens)
            atomic_write_text(
                self.path(day),
                json.dumps(
                    {"usd": totals.usd, "tokens": totals.tokens, "unpriced": totals.unpriced}
                ),
                mode=0o600,
            )
        return totals

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


class Budget:
    """The user's ``[budget]`` for one pod; the session limits can be raised
    for this pod (``yoi/budget/raise``)."""

    def __init__(self, section: BudgetSection, user_manifest: Path | None) -> None:
        self.per_session_usd = section.per_session_usd
        self.per_day_usd = section.per_day_usd
        self.per_session_tokens = section.per_session_tokens
        self.per_day_tokens = section.per_day_tokens
        self.where = str(user_manifest) if user_manifest else "the user manifest"

    @property
    def active(self) -> bool:
        return any(
            v is not None
            for v in (
                self.per_session_usd,
                self.per_day_usd,
                self.per_session_tokens,
                self.per_day_tokens,
            )
        )

    def check(
        self,
        *,
        session: Totals,
        day: Totals,
        next_usd: float | None,
        next_tokens: int,
    ) -> str | None:
        """Why the next request may not go out (``None``: it may)."""
        raise_session = (
            "raise it in the editor (Raise Session Budget) or in [budget] of " + self.where
        )
        raise_day = f"raise [budget] per_day_usd in {self.where}, or wait for tomorrow (UTC)"
        checks = (
            (
                "per_session_usd",
                self.per_session_usd,
                session.usd,
                next_usd,
                "this session",
                raise_session,
            ),
            ("per_day_usd", self.per_day_usd, day.usd, next_usd, "today", raise_day),
        )
        for key, limit, spent, estimate, what, how in checks:
            if limit is None:
                continue
            if spent + (estimate or 0.0) > limit:
                about = (
                    f" and the next request would cost about ${estimate:.4f}"
                    if estimate is not None
                    else ""
                )
                return (
                    f"Budget reached: {what} has spent ${spent:.4f}{about}, over [budget] "
                    f"{key} = {limit:g}. The turn stopped before that request; {how}."
                )
        token_checks = (
            (
                "per_session_tokens",
                self.per_session_tokens,
                session.tokens,
                "this session",
                raise_session,
            ),
            (
                "per_day_tokens",
                self.per_day_tokens,
                day.tokens,
                "today",
                raise_day.replace("per_day_usd", "per_day_tokens"),
            ),
        )
        for key, cap, used, what, how in token_checks:
            if cap is not None and used + next_tokens > cap:
                return (
                    f"Budget reached: {what} has used {used:,} tokens and the next request "
                    f"would send about {next_tokens:,}, over [budget] {key} = {cap:,}. The turn "
                    f"stopped before that request; {how}."
                )
        return None

    def raise_session(self, usd: float | None, tokens: int | None) -> None:
        if usd is not None:
            self.per_session_usd = usd
        if tokens is not None:
            self.per_session_tokens = tokens


class PodMoney:
    """One pod's spending: prices from its current model, the session's and
    the turn's totals, the day's ledger and the budget."""

    def __init__(
        self,
        *,
        section: MainModelSection,
        budget: Budget,
        ledger: DayLedger,
        info: Callable[[], Awaitable[ModelInfo]],
        records: Sequence[object] = (),
    ) -> None:
        self.section = section
        self.budget = budget
        self.ledger = ledger
        self._info = info
        self.session = session_totals(records)
        self.turn = Totals()
        self.day: Totals | None = None
        self._answers = [int(getattr(r, "output_tokens", 0)) for r in records][-20:]

    def begin_turn(self) -> None:
        self.turn = Totals()

    async def check(self, context_tokens: int) -> str | None:
        """Why the next request (``context_tokens`` to send) may not go out."""
        if not self.budget.active:
            return None
        answer = sum(self._answers) // len(self._answers) if self._answers else 0
        prices = Prices.of(self.section, await self._info())
        day = await asyncio.to_thread(self.ledger.read)
        return self.budget.check(
            session=self.session,
            day=day,
            next_usd=prices.estimate(context_tokens, answer),
            next_tokens=context_tokens + answer,
        )

    async def spent(self, usage: Usage) -> float | None:
        """Count one request (after its usage is logged); returns its cost."""
        cost = request_cost(usage, self.section)
        tokens = usage.input_tokens + usage.output_tokens
        self.session = self.session.plus(cost, tokens)
        self.turn = self.turn.plus(cost, tokens)
        self._answers = [*self._answers[-19:], usage.output_tokens]
        try:
            self.day = await asyncio.to_thread(self.ledger.add, cost, tokens)
        except OSError as exc:
            log.warning("could not record today's spend: %s", exc)
        return cost
