"""An MCP server's tool as one of a pod's tools.

The connection is the hub's (one per server, shared by every pod); the tool
object is the pod's, so it asks the pod's approval gate. A tool asks unless
the configuration says "auto" for it (see
:meth:`agent.mcp.config.ServerConfig.approval_for`); "allow for this session"
covers that one tool. Its arguments are passed on as the model wrote them:
the server checks them against its schema and answers with an error the
model can read. Images in a result reach the model as images (stored like a
pasted one) when the pod has an image store and its model can see them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict

from agent.approvals import ApprovalGate
from agent.errors import ExecutionFailed
from agent.images import ImageRef, checked
from agent.llm.types import ToolSpec
from agent.mcp import results, schema
from agent.tools.base import Tool, ToolArgs, ToolCallContext, ToolOutput, output_from_text

if TYPE_CHECKING:
    from agent.image_input import ImageInput
    from agent.mcp.client import McpConnection, ToolInfo


class McpArgs(ToolArgs):
    """Any JSON object: the server validates it."""

    model_config = ConfigDict(extra="allow", frozen=True)


class McpTool(Tool[McpArgs]):
    args_model = McpArgs

    def __init__(
        self,
        connection: McpConnection,
        info: ToolInfo,
        gate: ApprovalGate,
        images: ImageInput | None = None,
    ) -> None:
        server = connection.name
        self.connection = connection
        self.info = info
        self.gate = gate
        self.images = images
        self.name = schema.tool_name(server, info.name)  # type: ignore[misc]
        self.description = schema.description(  # type: ignore[misc]
            server, info.title, info.description, info.read_only, info.destructive
        )
        self.parameters = schema.sanitize(info.input_schema)

    def spec(self) -> ToolSpec:
        return ToolSpec(name=self.name, description=self.description, parameters=self.parameters)

    def reads_only(self) -> bool:
        return self.info.read_only  # the server's readOnlyHint

    async def run(self, args: McpArgs, call: ToolCallContext) -> ToolOutput:
        arguments: dict[str, Any] = dict(args.model_extra or {})
        server, tool = self.connection.name, self.info.name
        # read at each call: a restart may have brought a new configuration
        if self.connection.config.approval_for(tool, self.info.read_only) == "ask":
            allowed = await self.gate.check(
                call_id=call.call_id,
                tool=self.name,
                arguments=arguments,
                reason=f"Call {tool} on the MCP server {server}",
                session_key=self.name,
            )
            if not allowed:
                raise ExecutionFailed(f"The user denied calling {tool} on the MCP server {server}.")
        result = await self.connection.call_tool(tool, arguments)
        refs, attached = await self._images(result.content)
        text = results.tool_result_text(result, server, attached)
        if result.is_error:
            raise ExecutionFailed(results.error_text(server, tool, text))
        return dataclasses.replace(output_from_text(text), images=tuple(refs))

    async def _images(self, blocks: list[Any]) -> tuple[list[ImageRef], frozenset[int]]:
        """The result's images, stored for the model (and which blocks they were)."""
        if self.images is None or not any(getattr(b, "type", None) == "image" for b in blocks):
            return [], frozenset()
        if await self.images.sees_images() is False:
            return [], frozenset()
        refs: list[ImageRef] = []
        attached: set[int] = set()
        for index, block in enumerate(blocks):
            if getattr(block, "type", None) != "image":
                continue
            try:
                data = await asyncio.to_thread(base64.b64decode, block.data, validate=True)
                mime = checked(data, "the image")
            except (ValueError, binascii.Error):
                continue  # described in the text instead
            name = f"{self.connection.name}:{self.info.name}"
            refs.append(await self.images.store.put(data, mime, name))
            attached.add(index)
        return refs, frozenset(attached)
