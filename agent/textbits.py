"""A text as bit planes, for matching a query against every line at once.

Bit ``i`` of plane ``j`` is bit ``j`` of the text's character ``i`` (seven
planes: ASCII; a non-ASCII character reads as ``?``). The positions of any
character are then seven ANDs of whole-text integers, which CPython runs in C
at memory speed, and matching becomes integer arithmetic over every line at
once: a shift moves every position one character on; adding a set of
positions to the run of ones that marks a line carries from the first of
them to the line's end (:meth:`TextBits.after`).

The text is :mod:`agent.fuzzy`'s: lines, each opened by ``"\\n/"``, and a
final newline. Building the planes from a 4 MB text takes tens of
milliseconds, in pieces so that no single C call holds the GIL long;
:meth:`TextBits.cut` and :meth:`TextBits.spliced` change them for one line
with a few integer operations.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

_PIECE = 1 << 18  # characters per piece while building the planes (a multiple of 8)
_ANY = bytes([0] + [1] * 255)
_MIRROR = bytes(int(f"{byte:08b}"[::-1], 2) for byte in range(256))
_SWAPS = ((7, "00AA00AA00AA00AA"), (14, "0000CCCC0000CCCC"), (28, "00000000F0F0F0F0"))


@functools.cache
def _swap_masks() -> list[tuple[int, int]]:
    words = _PIECE // 8
    return [
        (shift, int.from_bytes(bytes.fromhex(pattern)[::-1] * words, "little"))
        for shift, pattern in _SWAPS
    ]


def _planes(raw: bytes) -> list[int]:
    """Seven integers, bit ``i`` of the ``j``-th being bit ``j`` of ``raw[i]``.
    A piece of ``raw`` at a time is read as one integer and each 8x8 block of
    its bits transposed in three rounds of masked swaps (whole-integer
    operations); one byte in eight of the result then belongs to each plane."""
    masks = _swap_masks()
    planes: list[list[bytes]] = [[] for _ in range(7)]
    for start in range(0, len(raw), _PIECE):
        piece = raw[start : start + _PIECE]
        width = (len(piece) + 7) // 8 * 8
        bits = int.from_bytes(piece, "little")
        for shift, mask in masks:
            swap = ((bits >> shift) ^ bits) & mask
            bits ^= swap ^ (swap << shift)
        out = bits.to_bytes(width + 8, "little")
        for plane, parts in enumerate(planes):
            parts.append(out[plane:width:8])
    return [int.from_bytes(b"".join(parts), "little") for parts in planes]


def _select(planes: list[int], mask: int, code: int) -> int:
    """The positions of the character ``code``: seven ANDs."""
    bits = mask
    for bit, plane in enumerate(planes):
        bits &= plane if code >> bit & 1 else mask ^ plane
    return bits


def positions(bits: int) -> Iterator[int]:
    """The set bits of ``bits``, lowest first."""
    raw = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    flags = raw.translate(_ANY)  # so the next nonzero byte is one memchr away
    at = flags.find(1)
    while at != -1:
        byte = raw[at]
        while byte:
            low = byte & -byte
            yield at * 8 + low.bit_length() - 1
            byte ^= low
        at = flags.find(1, at + 1)


def _mirrored(bits: int, size: int) -> int:
    """``bits`` with bit ``i`` moved to ``size - 1 - i``."""
    width = (size + 7) // 8
    raw = bits.to_bytes(width, "big").translate(_MIRROR)
    return int.from_bytes(raw, "little") >> (width * 8 - size)


class TextBits:
    """A text as seven bit planes: bit ``i`` of plane ``j`` is bit ``j`` of
    character ``i`` (a non-ASCII character reads as ``?``); and ``name``, the
    positions inside file names (after a line's last slash)."""

    __slots__ = ("_chars", "inside", "mask", "name", "name_starts", "newline", "planes", "size")

    def __init__(self, planes: list[int], name: int, size: int) -> None:
        self.planes, self.name, self.size = planes, name, size
        self.mask = (1 << size) - 1
        self._chars: dict[str, int] = {}
        self.newline = _select(self.planes, self.mask, ord("\n"))
        self.inside = self.mask ^ self.newline  # a run of ones per line
        self.name_starts = name & ~(name << 1)

    @classmethod
    def of(cls, text: str) -> TextBits:
        raw = text.encode("ascii", "replace")
        size, planes = len(raw), _planes(raw)
        mask = (1 << size) - 1
        # Mirrored (the first character is the top bit), a carry runs from a
        # line's last slash back to its start: what is left is the file name.
        slash = _mirrored(_select(planes, mask, ord("/")), size)
        inside = _mirrored(mask ^ _select(planes, mask, ord("\n")), size)
        before = ((inside + slash) ^ inside ^ slash) & inside
        return cls(planes, _mirrored(inside & ~(before | slash), size), size)

    def cut(self, start: int, end: int) -> TextBits:
        """Without the characters ``start:end``."""
        low = (1 << start) - 1
        planes = [(p & low) | ((p >> end) << start) for p in (*self.planes, self.name)]
        return TextBits(planes[:-1], planes[-1], self.size - (end - start))

    def spliced(self, start: int, piece: str) -> TextBits:
        """With ``piece`` (a newline, a slash and a line) inserted at ``start``."""
        raw = piece.encode("ascii", "replace")
        low, n = (1 << start) - 1, len(raw)
        named = len(piece) - piece.rfind("/") - 1
        pieces = _planes(raw)
        planes = [
            (p & low) | (bits << start) | ((p >> start) << (start + n))
            for p, bits in zip(
                (*self.planes, self.name), (*pieces, ((1 << named) - 1) << (n - named)), strict=True
            )
        ]
        return TextBits(planes[:-1], planes[-1], self.size + n)

    def char(self, ch: str) -> int:
        """Where ``ch`` (ASCII) is; a line's opening slash is not counted."""
        bits = self._chars.get(ch)
        if bits is None:
            bits = _select(self.planes, self.mask, ord(ch))
            if ch == "/":
                bits &= ~(self.newline << 1)
            if len(self._chars) >= 32:
                self._chars.clear()
            self._chars[ch] = bits
        return bits

    def after(self, bits: int) -> int:
        """Every position after the first of ``bits`` on its line: adding
        ``bits`` to a line's run of ones carries from there to its end."""
        inside = self.inside
        return ((inside + bits) ^ inside ^ bits) & inside

    def first(self, bits: int) -> int:
        """The first of ``bits`` on each line."""
        return bits & ~self.after(bits)
