"""The approval gate: asks the host before a tool does something risky.

In ``auto`` mode every request is allowed without asking. In ``ask`` mode the
port is asked; an ``allowSession`` answer is remembered for the gate's
lifetime under the request's session key, an ``allowAlways`` one as a rule of
the workspace in the user's config (agent/approval_rules.py), which later
sessions of that workspace find before asking. A port that fails, or any answer
but ``allow`` / ``allowSession``, means deny. A port that cannot ask anyone
raises :class:`~agent.ports.ApprovalUnavailable`; the gate turns it into a
tool error that says so (the model is not told the user refused).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Literal

from agent.approval_rules import RuleStore
from agent.errors import ExecutionFailed
from agent.ports import ApprovalPort, ApprovalRequest, ApprovalUnavailable

log = logging.getLogger(__name__)

ApprovalMode = Literal["ask", "auto"]


class ApprovalGate:
    def __init__(
        self,
        port: ApprovalPort,
        mode: ApprovalMode,
        cwd: Path,
        rules: RuleStore | None = None,
    ) -> None:
        self._port = port
        self._mode = mode
        self._cwd = cwd
        self._rules = rules  # the user's lasting rules (None: the workspace has no root)
        self._session_allowed: set[str] = set()

    @property
    def mode(self) -> ApprovalMode:
        return self._mode

    @mode.setter
    def mode(self, mode: ApprovalMode) -> None:  # a profile's approvals
        self._mode = mode

    def allowed_for_session(self, session_key: str) -> bool:
        return session_key in self._session_allowed

    async def check(
        self,
        *,
        call_id: str,
        tool: str,
        arguments: dict[str, Any],
        reason: str,
        session_key: str,
    ) -> bool:
        """Whether the call may go ahead."""
        if self._mode == "auto" or session_key in self._session_allowed:
            return True
        rules = self._rules
        if rules is not None and await asyncio.to_thread(rules.allows, self._cwd, session_key):
            return True
        request = ApprovalRequest(
            tool_call_id=call_id,
            tool=tool,
            arguments=arguments,
            reason=reason,
            cwd=self._cwd,
            session_key=session_key,
        )
        try:
            decision: object = await self._port.request_approval(request)
        except ApprovalUnavailable as exc:
            raise ExecutionFailed(str(exc)) from None
        except Exception:
            log.warning(
                "approval request for %s (%s) failed; denying", tool, call_id, exc_info=True
            )
            return False
        if decision == "allowSession":
            self._session_allowed.add(session_key)
            return True
        if decision == "allowAlways":
            self._session_allowed.add(session_key)
            if rules is not None:
                label = str(arguments.get("command") or tool)
                try:
                    await asyncio.to_thread(
                        rules.add, self._cwd, key=session_key, tool=tool, label=label
                    )
                except OSError as exc:  # allowed now; only the rule is lost
                    log.warning("could not save the approval rule for %s: %s", label, exc)
            return True
        if decision == "allow":
            return True
        if decision != "deny":
            log.warning("unexpected approval answer %r for %s; denying", decision, tool)
        return False
