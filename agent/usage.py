"""Token accounting from measured usage.

There is no local tokenizer. Each request's usage says how many tokens the
whole prompt had when the history was ``history_len`` items long. From those
measurements we estimate the size of the context at any history length:

- at a measured length: the measurement (the newest wins);
- between two measurements: linear interpolation by serialized bytes;
- after the last measurement: that measurement plus the new bytes at its own
  tokens-per-byte rate (extrapolation);
- before the first (or with none): bytes / 4, the usual rule of thumb for
  English text and code (no data).

Bytes count what a request sends besides the history too (``base_bytes``: the
system prompt and tool definitions), since every measurement includes it.

Everything is a pure function of the history and the records, linear in the
history's length.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from typing import Protocol

from agent.items import Item

BYTES_PER_TOKEN = 4


class Measurement(Protocol):
    @property
    def history_len(self) -> int: ...
    @property
    def input_tokens(self) -> int: ...


def item_bytes(item: Item) -> int:
    """The item's serialized size in bytes (computed once per item)."""
    return item.wire_bytes


def prefix_bytes(history: Sequence[Item], base: int = 0) -> list[int]:
    """``out[i]`` = ``base`` + serialized bytes of ``history[:i]``."""
    return list(itertools.accumulate((item.wire_bytes for item in history), initial=base))


class TokenEstimator:
    """``base_bytes`` is what every request sends besides the history (the
    system prompt and the tool definitions): measurements include it, so
    counting it keeps the tokens-per-byte rate honest for short histories."""

    def __init__(
        self, history: Sequence[Item], records: Sequence[Measurement], base_bytes: int = 0
    ) -> None:
        self._prefix = prefix_bytes(history, base_bytes)
        n = len(history)
        by_len: dict[int, int] = {}
        for r in records:  # the newest measurement at a length wins
            if 0 < r.history_len <= n:
                by_len[r.history_len] = r.input_tokens
        self._lens = sorted(by_len)
        self._tokens = [by_len[k] for k in self._lens]

    def tokens_at(self, i: int) -> int:
        i = max(0, min(i, len(self._prefix) - 1))
        if i == 0 and self._prefix[0] == 0:
            return 0
        if not self._lens:
            return self._prefix[i] // BYTES_PER_TOKEN
        k = bisect.bisect_left(self._lens, i)
        if k < len(self._lens) and self._lens[k] == i:
            return self._tokens[k]
        b = self._prefix[i]
        if k == 0:  # only measurements above: scale the first one down
            hi_len, hi_tok = self._lens[0], self._tokens[0]
            hi_b = self._prefix[hi_len]
            return hi_tok * b // hi_b if hi_b else hi_tok
        lo_len, lo_tok = self._lens[k - 1], self._tokens[k - 1]
        lo_b = self._prefix[lo_len]
        if k < len(self._lens):  # interpolate
            hi_len, hi_tok = self._lens[k], self._tokens[k]
            hi_b = self._prefix[hi_len]
            if hi_b == lo_b or hi_tok <= lo_tok:
                return lo_tok
            return lo_tok + (hi_tok - lo_tok) * (b - lo_b) // (hi_b - lo_b)
        rate = lo_tok / lo_b if lo_b else 1 / BYTES_PER_TOKEN  # extrapolate
        return lo_tok + round((b - lo_b) * rate)

    def total(self) -> int:
        return self.tokens_at(len(self._prefix) - 1)
