"""``yoi/tool/cancel {podId, callId}``: stop one running tool call (a
command) without interrupting the turn. The model gets the command's output
so far with "stopped by the user"; the turn goes on. Answers
``{stopped: bool}``: false when that call is not running (it has finished, or
is not a tool that can be stopped)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from server import payloads as pl
from server import protocol as p
from server.app import YoiServer
from server.errors import maps_errors


class ToolCancelParams(pl.Params):
    pod_id: pl.PodId
    call_id: str = Field(min_length=1)


@maps_errors(p.TOOL_CANCEL)
async def tool_cancel(ls: YoiServer, params: Any) -> dict[str, Any]:
    parsed = pl.parse(p.TOOL_CANCEL, ToolCancelParams, params)
    pod = ls.pods.get(parsed.pod_id, p.TOOL_CANCEL).pod
    return {"stopped": pod.stop_tool(parsed.call_id)}
