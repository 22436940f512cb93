"""Running ``git`` on a shadow repository, and nothing else.

Every call gets a clean environment: only ``PATH``, the locale and variables
that point git at the shadow repository (``GIT_DIR``, ``GIT_WORK_TREE``,
``GIT_INDEX_FILE``), with the system and global configuration switched off
(``GIT_CONFIG_NOSYSTEM``, ``GIT_CONFIG_GLOBAL=/dev/null``) and hooks, the
fsmonitor, auto-gc and line-ending conversion disabled on the command line.
So the user's own ``.git``, index, stash, hooks and configuration are never
read or written: a ``GIT_*`` variable inherited from the user's shell cannot
redirect a call either.

The calls are synchronous (a snapshot is a few short processes); the async
callers run them in a thread.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from agent.errors import YoiError

# Settings forced on every call (``-c`` wins over any config file).
_FORCED = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.autocrlf=false",
    "core.safecrlf=false",
    "core.filemode=true",
    "core.symlinks=true",
    "core.quotePath=false",
    "core.excludesFile=",
    "core.untrackedCache=true",
    "gc.auto=0",
    "maintenance.auto=false",
    "commit.gpgSign=false",
    "advice.addEmbeddedRepo=false",
    "user.name=yoi",
    "user.email=yoi@localhost",
)


class GitFailed(YoiError):
    """A git command of the checkpoint engine failed (or git is missing)."""


class ShadowGit:
    """``git`` bound to one shadow repository and one work tree."""

    def __init__(self, git_dir: Path, work_tree: Path) -> None:
        self.git_dir = git_dir
        self.work_tree = work_tree
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LC_ALL": "C",
            "HOME": str(git_dir),
            "XDG_CONFIG_HOME": str(git_dir),
            "GIT_DIR": str(git_dir),
            "GIT_WORK_TREE": str(work_tree),
            "GIT_INDEX_FILE": str(git_dir / "index"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_OPTIONAL_LOCKS": "0",
        }

    def run(
        self, args: Sequence[str], *, input: bytes | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[bytes]:
        command = ["git"]
        for setting in _FORCED:
            command += ["-c", setting]
        command += list(args)
        try:
            done = subprocess.run(
                command,
                input=input,
                capture_output=True,
                cwd=self.work_tree,
                env=self.env,
                check=False,
            )
        except FileNotFoundError:
            raise GitFailed("Checkpoints need the `git` command, which is not installed.") from None
        except OSError as exc:
            raise GitFailed(f"git could not run: {exc}") from exc
        if check and done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip().splitlines()
            raise GitFailed(
                f"git {args[0]} failed in the checkpoint repository {self.git_dir}: "
                + (message[-1] if message else f"exit status {done.returncode}")
            )
        return done

    def out(self, args: Sequence[str], *, input: bytes | None = None) -> bytes:
        return self.run(args, input=input).stdout

    def text(self, args: Sequence[str], *, input: bytes | None = None) -> str:
        return self.out(args, input=input).decode("utf-8", errors="surrogateescape").strip()


def split_z(data: bytes) -> list[str]:
    """NUL-separated git output as paths (bytes that are not UTF-8 kept as
    surrogates, so they round-trip through ``os.fsencode``)."""
    return [os.fsdecode(part) for part in data.split(b"\0") if part]
