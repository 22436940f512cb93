"""What a workspace manifest may ask for.

``<root>/.yoi/manifest.toml`` is part of the repository, and a repository may
come from anyone. Unless the user trusts the workspace, its manifest may only
narrow what yoi does there, never widen it:

- ``[[scope.deny]]`` rules are kept;
- ``[[scope.allow]]`` rules are kept only when their target is inside the
  workspace root;
- ``approvals.mode = "auto"`` is dropped (``"ask"`` is kept), and so is a
  profile's ``approvals = "auto"``;
- ``[[hooks]]`` (shell commands) are dropped.

Each dropped item is reported as a ``warn`` problem naming the file, the key
and how to allow it. A workspace is trusted when its root is, or is inside, a
folder listed in ``[trust] workspaces`` of the user manifest or the host
overrides; ``[trust]`` in a workspace manifest is ignored (with a warning),
since a repository cannot vouch for itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from agent.manifest.problems import ProblemLog


def is_trusted(root: Path, workspaces: Iterable[str]) -> bool:
    """Whether ``root`` equals or is inside one of ``workspaces`` (absolute or
    ``~`` paths), comparing resolved paths."""
    real = Path(os.path.realpath(root))
    for raw in workspaces:
        trusted = Path(os.path.realpath(Path(raw).expanduser()))
        if real == trusted or real.is_relative_to(trusted):
            return True
    return False


def trusted_workspaces(layers: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """``trust.workspaces`` of the given clean layers, higher layers replacing
    lower ones (as the cascade merges arrays of scalars)."""
    found: tuple[str, ...] = ()
    for layer in layers:
        trust = layer.get("trust")
        if isinstance(trust, Mapping) and "workspaces" in trust:
            found = tuple(str(p) for p in trust["workspaces"])
    return found


def without_trust(
    clean: Mapping[str, Any], file: str, user_file: Path, log: ProblemLog
) -> dict[str, Any]:
    """The workspace layer without its ``[trust]`` and ``[budget]`` tables,
    which only the user sets (trusted workspace or not)."""
    out = dict(clean)
    if out.pop("trust", None) is not None:
        log.warn(
            file,
            "trust",
            "ignored: a workspace manifest cannot trust its own workspace; list trusted "
            f"workspaces in [trust] workspaces of the user manifest {user_file}",
        )
    if out.pop("budget", None) is not None:
        log.warn(
            file,
            "budget",
            "ignored: spending limits are the user's; set [budget] in the user manifest "
            f"{user_file}",
        )
    return out


def restrict_untrusted(
    clean: Mapping[str, Any], root: Path, file: str, user_file: Path, log: ProblemLog
) -> dict[str, Any]:
    """The workspace layer of an untrusted workspace: only what narrows yoi's
    reach is kept (see the module docs); the rest is reported and dropped.
    Scope targets must already be absolute."""
    how = (
        f"this workspace is not trusted; to allow it, add {str(root)!r} to "
        f"[trust] workspaces in the user manifest {user_file}"
    )
    out = dict(clean)
    scope = out.get("scope")
    if isinstance(scope, Mapping) and scope.get("allow"):
        kept = []
        for rule in scope["allow"]:
            if _inside(Path(rule["target"]), root):
                kept.append(rule)
                continue
            permission = rule.get("permission", "read")
            log.warn(
                file,
                "scope.allow",
                f"the rule granting {permission} access to {rule['target']} (outside the "
                f"workspace) was ignored: {how}",
            )
        out["scope"] = {**scope, "allow": kept}
    approvals = out.get("approvals")
    if isinstance(approvals, Mapping) and approvals.get("mode", "ask") != "ask":
        log.warn(
            file,
            "approvals.mode",
            f'mode = "{approvals["mode"]}" was ignored, commands still need approval: {how}',
        )
        out["approvals"] = {k: v for k, v in approvals.items() if k != "mode"}
    profiles = out.get("profiles")
    if isinstance(profiles, Mapping):
        kept_profiles = {}
        for name, profile in profiles.items():
            kept_profiles[name] = profile
            if isinstance(profile, Mapping) and profile.get("approvals", "ask") != "ask":
                log.warn(
                    file,
                    f"profiles.{name}.approvals",
                    f'approvals = "{profile["approvals"]}" was ignored, commands still need '
                    f"approval: {how}",
                )
                kept_profiles[name] = {k: v for k, v in profile.items() if k != "approvals"}
        out["profiles"] = kept_profiles
    for hook in out.pop("hooks", None) or ():
        log.warn(
            file,
            "hooks",
            f"the {hook['point']} hook `{hook['command']}` was ignored, it would run a "
            f"command: {how}",
        )
    return out


def _inside(target: Path, root: Path) -> bool:
    real = Path(os.path.realpath(target))
    base = Path(os.path.realpath(root))
    return real == base or real.is_relative_to(base)
