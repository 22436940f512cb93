"""The handlers of the ``yoi/*`` requests (registered in :mod:`server.features`).

Each one is thin: validate the params (``-32602`` naming the field), call the
pod manager or a domain function, shape the result. Runtime errors become
JSON-RPC errors in :mod:`server.errors`. This module is part of the runtime:
it is imported after ``initialize`` has been answered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from server import checkpoints, images, mcp, references, tool_cancel
from server import payloads as pl
from server import protocol as p
from server.app import YoiServer
from server.errors import maps_errors
from server.memory_list import memory_list as list_memory


@maps_errors(p.POD_CREATE)
async def pod_create(ls: YoiServer, params: Any) -> dict[str, Any]:
    return await ls.pods.create(pl.parse(p.POD_CREATE, pl.PodCreateParams, params))


@maps_errors(p.POD_LIST)
async def pod_list(ls: YoiServer, params: Any) -> dict[str, Any]:
    pl.parse(p.POD_LIST, pl.Empty, params)
    return await ls.pods.list()


@maps_errors(p.POD_CONFIGURE)
async def pod_configure(ls: YoiServer, params: Any) -> dict[str, Any]:
    return await ls.pods.configure(pl.parse(p.POD_CONFIGURE, pl.PodConfigureParams, params))


@maps_errors(p.POD_CONTEXT)
async def pod_context(ls: YoiServer, params: Any) -> dict[str, Any]:
    return await ls.pods.context(pl.parse(p.POD_CONTEXT, pl.PodParams, params).pod_id)


@maps_errors(p.PROFILES_LIST)
async def profiles_list(ls: YoiServer, params: Any) -> dict[str, Any]:
    pl.parse(p.PROFILES_LIST, pl.Empty, params)
    return await ls.pods.profiles()


@maps_errors(p.APPROVALS_RULES)
async def approvals_rules(ls: YoiServer, params: Any) -> dict[str, Any]:
    pl.parse(p.APPROVALS_RULES, pl.Empty, params)
    return await ls.pods.approval_rules()


@maps_errors(p.APPROVALS_REVOKE)
async def approvals_revoke(ls: YoiServer, params: Any) -> dict[str, Any]:
    rule = pl.parse(p.APPROVALS_REVOKE, pl.RuleParams, params).id
    return await ls.pods.revoke_rule(rule)


@maps_errors(p.WORKSPACE_TRUST)
async def workspace_trust(ls: YoiServer, params: Any) -> dict[str, Any]:
    pl.parse(p.WORKSPACE_TRUST, pl.Empty, params)
    return await ls.pods.trust_workspace()


@maps_errors(p.BUDGET_RAISE)
async def budget_raise(ls: YoiServer, params: Any) -> dict[str, Any]:
    return ls.pods.raise_budget(pl.parse(p.BUDGET_RAISE, pl.BudgetRaiseParams, params))


@maps_errors(p.POD_DISPOSE)
async def pod_dispose(ls: YoiServer, params: Any) -> None:
    await ls.pods.dispose(pl.parse(p.POD_DISPOSE, pl.PodParams, params).pod_id)


@maps_errors(p.POD_HISTORY)
async def pod_history(ls: YoiServer, params: Any) -> dict[str, Any]:
    return ls.pods.history(pl.parse(p.POD_HISTORY, pl.PodHistoryParams, params))


@maps_errors(p.POD_INTERRUPT)
async def pod_interrupt(ls: YoiServer, params: Any) -> None:
    ls.pods.interrupt(pl.parse(p.POD_INTERRUPT, pl.PodParams, params).pod_id)


@maps_errors(p.POD_NOTIFY)
async def pod_notify(ls: YoiServer, params: Any) -> None:
    parsed = pl.parse(p.POD_NOTIFY, pl.PodNotifyParams, params)
    ls.pods.notify(parsed.pod_id, parsed.message)


@maps_errors(p.POD_COMPACT)
async def pod_compact(ls: YoiServer, params: Any) -> dict[str, Any]:
    return await ls.pods.compact(pl.parse(p.POD_COMPACT, pl.PodParams, params).pod_id)


@maps_errors(p.SESSIONS_LIST)
async def sessions_list(ls: YoiServer, params: Any) -> dict[str, Any]:
    pl.parse(p.SESSIONS_LIST, pl.Empty, params)
    return await ls.pods.sessions()


@maps_errors(p.CHAT)
async def chat(ls: YoiServer, params: Any) -> dict[str, Any]:
    return await ls.pods.chat(pl.parse(p.CHAT, pl.ChatParams, params))


@maps_errors(p.KNOWLEDGE_LIST)
async def knowledge_list(ls: YoiServer, params: Any) -> dict[str, Any]:
    pl.parse(p.KNOWLEDGE_LIST, pl.Empty, params)
    return await (await ls.knowledge()).list()


@maps_errors(p.KNOWLEDGE_GET)
async def knowledge_get(ls: YoiServer, params: Any) -> dict[str, Any]:
    slug = pl.parse(p.KNOWLEDGE_GET, pl.KnowledgeGetParams, params).slug
    return await (await ls.knowledge()).get(slug)


@maps_errors(p.MEMORY_EXTRACT)
async def memory_extract(ls: YoiServer, params: Any) -> dict[str, Any]:
    return await ls.pods.extract(pl.parse(p.MEMORY_EXTRACT, pl.PodParams, params).pod_id)


@maps_errors(p.MEMORY_CONSOLIDATE)
async def memory_consolidate(ls: YoiServer, params: Any) -> dict[str, Any]:
    pl.parse(p.MEMORY_CONSOLIDATE, pl.Empty, params)
    return await (await ls.knowledge()).consolidate()


@maps_errors(p.MEMORY_LIST)
async def memory_list(ls: YoiServer, params: Any) -> dict[str, Any]:
    return await list_memory(ls, pl.parse(p.MEMORY_LIST, pl.MemoryListParams, params))


@maps_errors(p.REFERENCES_COMPLETE)
async def references_complete(ls: YoiServer, params: Any) -> dict[str, Any]:
    parsed = pl.parse(p.REFERENCES_COMPLETE, pl.ReferencesCompleteParams, params)
    return await references.complete(ls, parsed)


HANDLERS: dict[str, Callable[[YoiServer, Any], Awaitable[Any]]] = {
    p.POD_CREATE: pod_create,
    p.POD_LIST: pod_list,
    p.POD_DISPOSE: pod_dispose,
    p.POD_HISTORY: pod_history,
    p.POD_INTERRUPT: pod_interrupt,
    p.POD_NOTIFY: pod_notify,
    p.POD_COMPACT: pod_compact,
    p.POD_CONFIGURE: pod_configure,
    p.BUDGET_RAISE: budget_raise,
    p.POD_CONTEXT: pod_context,
    p.PROFILES_LIST: profiles_list,
    p.APPROVALS_RULES: approvals_rules,
    p.APPROVALS_REVOKE: approvals_revoke,
    p.WORKSPACE_TRUST: workspace_trust,
    p.SESSIONS_LIST: sessions_list,
    p.CHAT: chat,
    p.REFERENCES_COMPLETE: references_complete,
    p.KNOWLEDGE_LIST: knowledge_list,
    p.KNOWLEDGE_GET: knowledge_get,
    p.MEMORY_EXTRACT: memory_extract,
    p.MEMORY_CONSOLIDATE: memory_consolidate,
    p.MCP_LIST: mcp.mcp_list,
    p.MCP_RESTART: mcp.mcp_restart,
    p.MEMORY_LIST: memory_list,
    p.TOOL_CANCEL: tool_cancel.tool_cancel,
    p.CHECKPOINTS_LIST: checkpoints.checkpoints_list,
    p.CHECKPOINTS_DIFF: checkpoints.checkpoints_diff,
    p.CHECKPOINTS_RESTORE: checkpoints.checkpoints_restore,
    p.SESSION_FORK: checkpoints.session_fork,
    p.SESSION_RESEND: checkpoints.session_resend,
    p.IMAGE_GET: images.image_get,
}
