"""Sub-agents in the terminal: their progress, indented under the parent's.

Each sub-agent's events become short dim lines through the parent's sink
(``┌ research-agent started``, ``│ research-agent → read_file …``,
``└ research-agent finished``); its streamed text is not shown (its final
answer reaches the parent, which says what it needs to). Its approvals are
asked on the same terminal, naming it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.agents.port import ChildPorts, NamedApprovals
from agent.events import Alert, Event, ToolCallEvent, ToolResultEvent, TurnEnd, TurnStart
from terminal.ports import TerminalApprovals, TerminalSink, _one_line, _short_args

if TYPE_CHECKING:
    from agent.pod import Pod


class ChildSink:
    def __init__(self, sink: TerminalSink, name: str) -> None:
        self.sink = sink
        self.name = name

    def emit(self, event: Event) -> None:
        s, name = self.sink.style, self.name
        match event:
            case TurnStart():
                self.sink._line(s.dim(f"  ┌ {name} started"))
            case ToolCallEvent(name=tool, arguments=args):
                self.sink._line(s.dim(f"  │ {name} → {tool} {_short_args(args)}"))
            case ToolResultEvent(ok=ok, summary=summary):
                mark = s.green("✓") if ok else s.red("✗")
                self.sink._line(f"  │ {s.dim(name)}   {mark} {s.dim(_one_line(summary, 120))}")
            case TurnEnd(outcome=outcome, error=error):
                tail = f": {error}" if error else ""
                self.sink._line(s.dim(f"  └ {name} {outcome}{tail}"))
            case Alert():
                self.sink.emit(event.model_copy(update={"source": f"{name}/{event.source}"}))
            case _:
                pass


class TerminalAgentHost:
    def __init__(self, sink: TerminalSink, approvals: TerminalApprovals) -> None:
        self.sink = sink
        self.approvals = approvals

    def child_ports(self, parent: Pod, child_id: str, name: str) -> ChildPorts:
        return ChildPorts(
            events=ChildSink(self.sink, name), approvals=NamedApprovals(self.approvals, name)
        )

    def opened(self, child: Pod, parent: Pod, ports: ChildPorts) -> None:
        return None

    def closed(self, child: Pod) -> None:
        return None
