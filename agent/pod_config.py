"""A pod's settings that can change between turns: the model, the mode, the
reasoning effort and the profile (``yoi/pod/configure``).

:class:`PodConfig` resolves a change against the manifest's profiles and
applies the result to the pod's parts (the worker's client, the tools it is
offered, its request settings, the approval gate). The pod logs each change
as a ``config_changed`` entry, and a restored pod applies what its log says
(:meth:`PodConfig.from_log`), so a session comes back as the user left it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from agent.approvals import ApprovalGate, ApprovalMode
from agent.errors import YoiError
from agent.manifest.schema import ProfileSection
from agent.modes import MODES, Mode, parse_mode, refuser
from agent.worker import Worker

CONFIGURED = "configured"  # the key of the session config that holds the choices


class ConfigError(YoiError):
    """A change that cannot be made (an unknown profile or mode); the message
    says what is accepted."""


@dataclass(frozen=True)
class Settings:
    """What the pod runs with. ``profile`` is the last profile chosen (its
    values applied then; later explicit changes win over it)."""

    model: str
    mode: Mode = "agent"
    reasoning_effort: str | None = None
    profile: str | None = None
    tools: tuple[str, ...] | None = None  # the profile's tool list
    approvals: ApprovalMode | None = None  # the profile's approvals

    def to_log(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"tools": list(self.tools) if self.tools else None}

    def to_wire(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "mode": self.mode,
            "reasoningEffort": self.reasoning_effort,
            "profile": self.profile,
        }


@dataclass(frozen=True)
class Change:
    """A request to change settings; ``None`` leaves a setting as it is. An
    empty ``reasoning_effort`` goes back to the manifest's."""

    model: str | None = None
    mode: str | None = None
    reasoning_effort: str | None = None
    profile: str | None = None  # "": none


class PodConfig:
    """The settings of one pod and how to apply them. ``switch_model`` makes
    the pod talk to another model (it returns the name the client reports)."""

    def __init__(
        self,
        *,
        current: Settings,
        profiles: Mapping[str, ProfileSection],
        default_effort: str | None,
        default_approvals: ApprovalMode,
        worker: Worker,
        gate: ApprovalGate,
        switch_model: Callable[[str], str],
    ) -> None:
        self.current = current
        self._profiles = profiles
        self._default_effort = default_effort
        self._default_approvals = default_approvals
        self._worker = worker
        self._gate = gate
        self._switch_model = switch_model

    def resolve(self, change: Change) -> Settings:
        """The settings ``change`` leads to (nothing applied yet); raises
        :class:`ConfigError`."""
        new = self.current
        if change.profile == "":  # no profile: its tool list and approvals go; the rest stays
            new = dataclasses.replace(new, profile=None, tools=None, approvals=None)
        elif change.profile is not None:
            new = self._with_profile(new, change.profile)
        if change.model is not None:
            model = change.model.strip()
            if not model:
                raise ConfigError("model must not be empty (a litellm model string).")
            new = dataclasses.replace(new, model=model)
        if change.mode is not None:
            try:
                new = dataclasses.replace(new, mode=parse_mode(change.mode))
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        if change.reasoning_effort is not None:
            effort = change.reasoning_effort.strip() or self._default_effort
            new = dataclasses.replace(new, reasoning_effort=effort)
        return new

    def _with_profile(self, base: Settings, name: str) -> Settings:
        profile = self._profiles.get(name)
        if profile is None:
            known = ", ".join(sorted(self._profiles)) or "none are defined"
            raise ConfigError(
                f"There is no profile {name!r} ([profiles.{name}] in a manifest); "
                f"profiles: {known}."
            )
        return Settings(
            model=profile.model or base.model,
            mode=profile.mode or base.mode,
            reasoning_effort=profile.reasoning_effort or base.reasoning_effort,
            profile=name,
            tools=profile.tools,
            approvals=profile.approvals,
        )

    def apply(self, settings: Settings) -> None:
        """Make the pod run with ``settings``."""
        worker = self._worker
        if settings.model and worker.client.model_name != settings.model:
            self._switch_model(settings.model)
        worker.tools.restrict(refuser(settings.mode, settings.tools))
        worker.settings = dataclasses.replace(
            worker.settings,
            request=dataclasses.replace(
                worker.settings.request, reasoning_effort=settings.reasoning_effort
            ),
        )
        self._gate.mode = settings.approvals or self._default_approvals
        self.current = settings

    def from_log(self, config: Mapping[str, Any]) -> Settings | None:
        """The settings a restored session's config holds (``None``: it
        never changed them). Values no longer valid (a profile removed, a mode
        unknown) fall back to the current settings."""
        logged = config.get(CONFIGURED)
        if not isinstance(logged, Mapping):
            return None
        current = self.current
        mode = logged.get("mode")
        tools = logged.get("tools")
        listed = tuple(t for t in tools if isinstance(t, str)) if isinstance(tools, list) else None
        profile = _text(logged.get("profile"))
        # approvals come from the profile as the manifests define it now, never
        # from the log: a profile removed (or a workspace no longer trusted)
        # must not keep running commands unasked
        defined = self._profiles.get(profile) if profile else None
        return Settings(
            model=_text(logged.get("model")) or current.model,
            mode=mode if mode in MODES else current.mode,
            reasoning_effort=_text(logged.get("reasoning_effort")) or current.reasoning_effort,
            profile=profile,
            tools=listed,
            approvals=defined.approvals if defined is not None else None,
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
