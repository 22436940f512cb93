"""The approval port over LSP: the server asks the client with the request
``yoi/approval``.

Only clients that advertised ``capabilities.experimental.yoi.approvals: true``
are asked. Without it nobody can be asked: the action does not run, the model
is told exactly that (not that the user refused), and the user learns how to
allow such actions through a standard ``window/showMessage`` (once per server)
as well as an alert. An error, an answer that is not one of the three
decisions, or no answer within the timeout mean deny (the user is told why
through an alert). ``allowSession`` is remembered per pod by the runtime's
approval gate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from agent import paths
from agent.manifest.load import MANIFEST_FILE
from agent.ports import ApprovalDecision, ApprovalRequest, ApprovalUnavailable
from server import protocol as p

if TYPE_CHECKING:
    from server.app import YoiServer

log = logging.getLogger(__name__)

DECISIONS: tuple[ApprovalDecision, ...] = ("allow", "deny", "allowSession", "allowAlways")


class LspApprovals:
    def __init__(
        self,
        server: YoiServer,
        pod_id: Callable[[], str],
        warn: Callable[[str], None],
        timeout_seconds: float = 600.0,
    ) -> None:
        self.server = server
        self.pod_id = pod_id
        self.warn = warn
        self.timeout_seconds = timeout_seconds

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        if not self.server.yoi_client_option("approvals"):
            raise ApprovalUnavailable(self._cannot_ask(request))
        params = self.params(request)
        try:
            answer: Any = await asyncio.wait_for(
                self.server.request_cancellable(p.APPROVAL, params), self.timeout_seconds
            )
        except TimeoutError:
            self.warn(f"{request.tool} was denied: no answer to the approval request in time.")
            return "deny"
        except Exception as exc:
            log.warning("yoi/approval failed: %s", exc)
            self.warn(f"{request.tool} was denied: the approval request failed ({exc}).")
            return "deny"
        decision = answer.get("decision") if isinstance(answer, dict) else None
        if decision in DECISIONS:
            return decision  # type: ignore[no-any-return]
        self.warn(f"{request.tool} was denied: the editor answered {answer!r}.")
        return "deny"

    def params(self, request: ApprovalRequest) -> dict[str, Any]:
        """The ``yoi/approval`` params for ``request``."""
        return p.approval_params(
            self.pod_id(), request.tool_call_id, request.tool, request.arguments, request.reason
        )

    def _cannot_ask(self, request: ApprovalRequest) -> str:
        manifest = paths.config_dir() / MANIFEST_FILE
        how = (
            f"The user can allow such actions without being asked by setting [approvals] mode = "
            f'"auto" in {manifest} (or "approvals": "auto" in the editor\'s yoi settings).'
        )
        message = (
            f"This editor cannot ask for approval, so {request.tool} was not run "
            f"({request.reason}). {how}"
        )
        self.warn(message)
        if not self.server.told_approvals_unavailable:
            self.server.told_approvals_unavailable = True
            self.server.show_message(
                f"yoi: this editor cannot ask for approval, so the agent's {request.tool} was not "
                f"run. {how}",
                types.MessageType.Warning,
            )
        return message
