"""Modes: what the agent may do, enforced by the tools it is offered.

- ``agent`` (the default): every tool.
- ``plan``: only the tools that read (``Tool.reads_only``: reading, listing
  and searching files, knowledge, sub-agents' output, MCP tools whose server
  marks them ``readOnlyHint``). No edits, no commands.
- ``ask``: no tools at all; the request carries none.

A tool the mode does not offer is not sent to the model, and a call to it all
the same (a model that remembers it from earlier in the conversation) is
refused with a result that says why. A profile's ``tools`` list narrows the
offer further, in every mode.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Literal, get_args

from agent.tools.base import Tool

Mode = Literal["agent", "plan", "ask"]
MODES: tuple[Mode, ...] = get_args(Mode)

Refuser = Callable[[Tool[Any]], str | None]


def refuser(mode: Mode, allowed: Collection[str] | None = None) -> Refuser | None:
    """What :meth:`agent.tools.base.ToolSet.restrict` needs for ``mode`` and
    a profile's tool list (``None``: no list); ``None`` when every tool is
    offered."""
    if mode == "agent" and allowed is None:
        return None
    keep = None if allowed is None else frozenset(allowed)

    def refuse(tool: Tool[Any]) -> str | None:
        if keep is not None and tool.name not in keep:
            return (
                f"{tool.name} is not among the tools of this pod's profile; "
                "do without it, or tell the user what you would use it for."
            )
        if mode == "ask":
            return (
                f"Not run: no tools are available in ask mode, {tool.name} included. Answer "
                "from the conversation; the user can switch to agent mode to let you use tools."
            )
        if mode == "plan" and not tool.reads_only():
            return (
                f"Not run: {tool.name} is not available in plan mode, which only reads and "
                "searches. Put this step in your plan instead; the user can switch to agent "
                "mode to carry the plan out."
            )
        return None

    return refuse


def parse_mode(value: str) -> Mode:
    """``value`` as a :data:`Mode`; ``ValueError`` naming the modes otherwise."""
    for mode in MODES:
        if value == mode:
            return mode
    raise ValueError(f"unknown mode {value!r}: use one of {', '.join(MODES)}")
