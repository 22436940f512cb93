"""Helpers to build real pods against the scripted model in tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.disk_editor import DiskEditor
from agent.events import Alert, Event, TextDelta
from agent.factory import PodHost, PodSpec, open_pod
from agent.manifest import load_manifest
from agent.pod import Pod
from agent.ports import AllowAll, ApprovalDecision, ApprovalPort, ApprovalRequest, EditorPort
from agent.store import SessionStore
from agent.testing import ScriptedModel


@dataclass
class Recorder:
    """An event sink that keeps everything."""

    events: list[Event] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def emit(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait_for(self, kind: type[Any], patience: float = 5.0) -> Any:
        """The first event of ``kind``, waiting for it if needed."""
        async with asyncio.timeout(patience):
            while not self.of(kind):
                self._changed.clear()
                await self._changed.wait()
        return self.of(kind)[0]

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def text(self) -> str:
        return "".join(e.text for e in self.of(TextDelta))

    def alerts(self) -> list[str]:
        return [e.message for e in self.of(Alert)]


@dataclass
class ScriptedApprovals:
    answers: list[ApprovalDecision] = field(default_factory=list)
    asked: list[ApprovalRequest] = field(default_factory=list)

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        self.asked.append(request)
        return self.answers.pop(0) if self.answers else "deny"


@dataclass
class Workspace:
    root: Path
    home: Path
    config: Path
    model: ScriptedModel
    recorder: Recorder = field(default_factory=Recorder)

    def manifest_overrides(self, **extra: Any) -> dict[str, Any]:
        overrides: dict[str, Any] = {
            "model": {
                "name": "openai/scripted",
                "api_base": self.model.base_url,
                "max_retries": 2,
                "retry_base_delay": 0.01,
                "retry_max_delay": 0.05,
                "timeout_seconds": 10.0,
            }
        }
        for key, value in extra.items():
            overrides.setdefault(key, {}).update(value)
        return overrides

    async def pod(
        self,
        *,
        resume: str | None = None,
        approver: ApprovalPort | None = None,
        editor: EditorPort | None = None,
        recorder: Recorder | None = None,
        **manifest: Any,
    ) -> Pod:
        env = {"YOI_API_KEY": "test-key"}
        loaded = load_manifest(
            self.root,
            env=env,
            config_dir=self.config,
            overrides=self.manifest_overrides(**manifest),
        )
        host = PodHost(
            events=recorder or self.recorder,
            approvals=approver or AllowAll(),
            editor=editor or DiskEditor(),
        )
        spec = PodSpec(
            root=self.root,
            home=self.home,
            loaded=loaded,
            resume_session_id=resume,
            env=env,
            config_dir=self.config,
        )
        return await open_pod(spec, host)

    def store(self) -> SessionStore:
        return SessionStore(self.home / "sessions")


def make_workspace(tmp_path: Path, model: ScriptedModel) -> Workspace:
    root = tmp_path / "ws"
    root.mkdir()
    home = tmp_path / "home"
    config = tmp_path / "config"
    config.mkdir()
    return Workspace(root=root.resolve(), home=home, config=config, model=model)
