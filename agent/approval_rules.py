"""Approval rules that last: "always allow" for one workspace.

An ``allowAlways`` answer to an approval request saves the request's session
key (what "allow for this session" covers: a program such as ``pytest`` or
``npm test`` for simple commands, the exact command for interpreters and
compound commands, a tool such as ``mcp__git__git_status``) as a rule for the
workspace. Later sessions of that workspace skip the question; other
workspaces still ask. A rule ending in ``*`` covers every key it starts with
(``mcp__git__*``: every tool of that MCP server).

Rules live in the user's config folder (``$YOI_CONFIG_DIR/approvals.json``),
never in the repository, keyed by the workspace's resolved path. Editors list
and revoke them (``yoi/approvals/rules``, ``yoi/approvals/revoke``). Blocking
file access: call it in a worker thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from agent.fsutil import atomic_write_text
from agent.ids import short_id

log = logging.getLogger(__name__)

FILE_NAME = "approvals.json"


@dataclass(frozen=True)
class Rule:
    id: str
    key: str  # a session key, or a prefix ending in "*"
    tool: str  # the tool that asked when the rule was saved
    label: str  # what the user saw, e.g. the command
    created_at: int

    def covers(self, key: str) -> bool:
        if self.key.endswith("*"):
            return key.startswith(self.key[:-1])
        return key == self.key


class RuleStore:
    def __init__(self, config_dir: Path) -> None:
        self.path = config_dir / FILE_NAME

    @staticmethod
    def workspace(root: Path) -> str:
        return os.path.realpath(root)

    def rules(self, root: Path) -> list[Rule]:
        return self._read().get(self.workspace(root), [])

    def allows(self, root: Path, key: str) -> bool:
        return any(rule.covers(key) for rule in self.rules(root))

    def add(self, root: Path, *, key: str, tool: str, label: str) -> Rule:
        """Save a rule (an identical one is kept, not doubled)."""
        with self._locked():
            data = self._read()
            rules = data.setdefault(self.workspace(root), [])
            for rule in rules:
                if rule.key == key:
                    return rule
            rule = Rule(
                id=short_id("rule-"),
                key=key,
                tool=tool,
                label=label,
                created_at=int(time.time() * 1000),
            )
            rules.append(rule)
            self._write(data)
        return rule

    def revoke(self, root: Path, rule_id: str) -> bool:
        with self._locked():
            data = self._read()
            rules = data.get(self.workspace(root), [])
            kept = [r for r in rules if r.id != rule_id]
            if len(kept) == len(rules):
                return False
            data[self.workspace(root)] = kept
            self._write(data)
        return True

    def _read(self) -> dict[str, list[Rule]]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("approval rules in %s unreadable (%s): none apply", self.path, exc)
            return {}
        out: dict[str, list[Rule]] = {}
        for folder, rules in (raw.get("workspaces") or {}).items():
            kept = []
            for item in rules if isinstance(rules, list) else ():
                try:
                    kept.append(Rule(**item))
                except TypeError:
                    continue  # a rule this version does not understand
            out[str(folder)] = kept
        return out

    def _write(self, data: dict[str, list[Rule]]) -> None:
        payload = {
            "version": 1,
            "workspaces": {k: [asdict(r) for r in v] for k, v in data.items() if v},
        }
        atomic_write_text(self.path, json.dumps(payload, indent=2) + "\n", mode=0o600)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(
            self.path.parent / f".{FILE_NAME}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
        )
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


TRUST_FILE = "trusted-workspaces.json"


class TrustStore:
    """Workspaces the user trusted from an editor (``yoi/workspace/trust``),
    beside ``[trust] workspaces`` of the user manifest: a list in the user's
    config folder, read by the manifest loader (agent/manifest/load.py)."""

    def __init__(self, config_dir: Path) -> None:
        self.path = config_dir / TRUST_FILE

    def workspaces(self) -> list[str]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            log.warning("trusted workspaces in %s unreadable (%s)", self.path, exc)
            return []
        found = raw.get("workspaces") if isinstance(raw, dict) else None
        return [str(p) for p in found if isinstance(p, str)] if isinstance(found, list) else []

    def trust(self, root: Path) -> None:
        folder = os.path.realpath(root)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        known = self.workspaces()
        if folder not in known:
            payload = {"version": 1, "workspaces": [*known, folder]}
            atomic_write_text(self.path, json.dumps(payload, indent=2) + "\n", mode=0o600)
