"""The tools a pod uses to work with sub-agents: ``spawn_agent``,
``send_to_agent``, ``read_agent_output``, ``stop_agent``, ``list_agents``.
They only translate arguments; :class:`~agent.agents.manager.Children` does
the work."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ConfigDict, Field

from agent.agents.record import ScopeRequest
from agent.tools.base import Tool, ToolArgs, ToolCallContext, ToolOutput

if TYPE_CHECKING:
    from agent.agents.manager import Children


class ScopeArgs(ToolArgs):
    write: list[str] | None = Field(
        default=None,
        description=(
            "Folders or files (relative to the workspace root) the sub-agent may write; only it "
            "writes there while it runs. Default: the whole workspace (unless readOnly)."
        ),
    )
    read: list[str] | None = Field(
        default=None,
        description="Folders it may read. Default: everything you may read.",
    )
    deny: list[str] = Field(default_factory=list, description="Folders it may not even read.")


class SpawnArgs(ToolArgs):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    task: str = Field(
        min_length=1,
        description="What the sub-agent should do, with all the context it needs.",
    )
    name: str | None = Field(
        default=None, description="A short name for it, e.g. research-agent; its id."
    )
    scope: ScopeArgs | None = Field(
        default=None, description="What it may read and write: never more than you may."
    )
    read_only: bool = Field(
        default=False,
        alias="readOnly",
        description="It may only read and search: no edits, no commands.",
    )
    model: str | None = Field(
        default=None, description="Another model for it (e.g. a cheaper one)."
    )
    profile: str | None = Field(
        default=None,
        description="A profile of the manifests for it ([profiles.<name>]: model, mode, tools).",
    )
    background: bool = Field(
        default=False,
        description=(
            "Return at once and let it work while you go on; you get a note with its answer "
            "when it finishes. Default: wait for its answer."
        ),
    )


class AgentIdArgs(ToolArgs):
    id: str = Field(description="The sub-agent's id (its name).")


class SendArgs(AgentIdArgs):
    message: str = Field(min_length=1, description="More work or an answer to its question.")


class NoArgs(ToolArgs):
    pass


class _AgentTool(Tool[Any]):
    def __init__(self, children: Children) -> None:
        self.children = children


class SpawnAgent(_AgentTool):
    name: ClassVar[str] = "spawn_agent"
    description: ClassVar[str] = (
        "Start a sub-agent: another agent with its own context that does one task (research, a "
        "side change in its own folder) and answers with a final message. Give it a complete "
        "task. By default you wait for its answer; with background: true it works while you go "
        "on. While it runs, only it may write in the folders it was given."
    )
    args_model: ClassVar[type[ToolArgs]] = SpawnArgs

    async def run(self, args: SpawnArgs, call: ToolCallContext) -> ToolOutput:
        scope = args.scope or ScopeArgs()
        text = await self.children.spawn(
            call_id=call.call_id,
            task=args.task,
            name=args.name,
            scope=ScopeRequest(
                write=tuple(scope.write) if scope.write is not None else None,
                read=tuple(scope.read) if scope.read is not None else None,
                deny=tuple(scope.deny),
                read_only=args.read_only,
            ),
            model=args.model,
            profile=args.profile,
            background=args.background,
        )
        return _output(text)


class SendToAgent(_AgentTool):
    name: ClassVar[str] = "send_to_agent"
    description: ClassVar[str] = (
        "Give one of your sub-agents more work (it continues its own conversation); you get a "
        "note with its answer."
    )
    args_model: ClassVar[type[ToolArgs]] = SendArgs

    async def run(self, args: SendArgs, call: ToolCallContext) -> ToolOutput:
        return _output(await self.children.send(args.id, args.message))


class ReadAgentOutput(_AgentTool):
    name: ClassVar[str] = "read_agent_output"
    read_only: ClassVar[bool] = True
    description: ClassVar[str] = "A sub-agent's status and its latest answer."
    args_model: ClassVar[type[ToolArgs]] = AgentIdArgs

    async def run(self, args: AgentIdArgs, call: ToolCallContext) -> ToolOutput:
        return _output(self.children.output(args.id))


class StopAgent(_AgentTool):
    name: ClassVar[str] = "stop_agent"
    description: ClassVar[str] = (
        "Stop a running sub-agent; the folders it could write are yours again."
    )
    args_model: ClassVar[type[ToolArgs]] = AgentIdArgs

    async def run(self, args: AgentIdArgs, call: ToolCallContext) -> ToolOutput:
        return _output(await self.children.stop(args.id))


class ListAgents(_AgentTool):
    name: ClassVar[str] = "list_agents"
    read_only: ClassVar[bool] = True
    description: ClassVar[str] = "Your sub-agents: id, status, what they may write, their task."
    args_model: ClassVar[type[ToolArgs]] = NoArgs

    async def run(self, args: NoArgs, call: ToolCallContext) -> ToolOutput:
        return _output(self.children.listing())


def agent_tools(children: Children) -> list[Tool[Any]]:
    return [
        SpawnAgent(children),
        SendToAgent(children),
        ReadAgentOutput(children),
        StopAgent(children),
        ListAgents(children),
    ]


def _output(text: str) -> ToolOutput:
    """The first line is the summary, the rest (an answer) the content."""
    head, _, rest = text.partition("\n")
    return ToolOutput(summary=head, content=rest.strip("\n") or None)


READ_ONLY_DROPS = frozenset({"write_file", "edit_file", "run_command"})
