"""MCP content as text for the model: tool results, resources and prompts.

A tool result keeps its text blocks as they are. An image sent to the model
as an image is named in the text; one that is not (a model that cannot see,
an unsupported type) and an audio block become a line saying what it was, an
embedded text resource is included under its URI, a binary one is described,
and a resource link names its URI. A result with no content but structured
content shows that as JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from typing import Any

ERROR_LIMIT = 4000


def blocks_text(blocks: Iterable[Any], server: str, attached: frozenset[int] = frozenset()) -> str:
    """The text of a list of content blocks (``ContentBlock`` of the SDK);
    ``attached``: the indices of images sent to the model as images."""
    return "\n".join(
        block_text(block, server, index in attached) for index, block in enumerate(blocks)
    )


def block_text(block: Any, server: str, attached: bool = False) -> str:
    kind = getattr(block, "type", None)
    if kind == "text":
        return str(block.text)
    if kind == "image" and attached:
        return f"[image from {server}: {block.mime_type}, {_size(block.data)}; attached]"
    if kind in ("image", "audio"):
        return (
            f"[{kind} from {server}: {block.mime_type}, {_size(block.data)}; "
            f"{kind}s returned by tools are not shown to the model]"
        )
    if kind == "resource":
        return resource_text(block.resource)
    if kind == "resource_link":
        name = f" ({block.name})" if getattr(block, "name", None) else ""
        return f"[resource link: {block.uri}{name}; reference it as @{server}:{block.uri}]"
    return f"[{kind or 'unknown'} content from {server}]"


def resource_text(contents: Any) -> str:
    """One ``TextResourceContents`` or ``BlobResourceContents``."""
    text = getattr(contents, "text", None)
    if isinstance(text, str):
        return f"[resource {contents.uri}]\n{text}"
    mime = getattr(contents, "mime_type", None) or "binary data"
    return f"[resource {contents.uri}: {mime}, {_size(getattr(contents, 'blob', ''))}]"


def tool_result_text(result: Any, server: str, attached: frozenset[int] = frozenset()) -> str:
    """A ``CallToolResult`` as text (see the module docs)."""
    text = blocks_text(result.content, server, attached)
    if not text.strip() and result.structured_content is not None:
        text = json.dumps(result.structured_content, indent=2, ensure_ascii=False)
    return text if text.strip() else "(no output)"


def error_text(server: str, tool: str, text: str) -> str:
    body = text.strip() or "no details"
    if len(body) > ERROR_LIMIT:
        body = body[:ERROR_LIMIT] + "…"
    return f"The MCP tool {tool} of {server} reported an error: {body}"


def prompt_text(result: Any, server: str) -> str:
    """A ``GetPromptResult``: each message's text, under its role when the
    prompt has more than one message."""
    messages = list(result.messages)
    if len(messages) == 1 and messages[0].role == "user":
        return block_text(messages[0].content, server)
    return "\n\n".join(f"{m.role}: {block_text(m.content, server)}" for m in messages)


def _size(data: str) -> str:
    try:
        count = len(base64.b64decode(data, validate=False))
    except (binascii.Error, ValueError):
        count = len(data)
    return f"{count:,} bytes"
