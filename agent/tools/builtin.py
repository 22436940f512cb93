"""The built-in tools and what they need from the host."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.approvals import ApprovalGate
from agent.ports import EditorPort
from agent.process import DEFAULT_HIDDEN_ENV
from agent.tools.base import Tool
from agent.tools.command import RunCommand
from agent.tools.files import EditFile, ListDir, ReadFile, WriteFile
from agent.tools.fs import ScopedFs
from agent.tools.ignore import IgnoreTree
from agent.tools.search import Glob, Grep

if TYPE_CHECKING:
    from agent.image_input import ImageInput


@dataclass(frozen=True)
class ToolEnv:
    """The pieces the built-in tools work through. ``editor`` receives the
    proposed edits; ``fs`` reads through the scope (and the same editor's
    buffers). ``hidden_env`` names environment variables ``run_command``
    must not pass on (the model's API key)."""

    fs: ScopedFs
    editor: EditorPort
    approvals: ApprovalGate
    command_timeout: float = 120.0
    command_output_bytes: int = 30_000
    hidden_env: tuple[str, ...] = DEFAULT_HIDDEN_ENV
    images: ImageInput | None = None  # read_file returns image files as images


def builtin_tools(env: ToolEnv) -> list[Tool[Any]]:
    """``read_file``, ``list_dir``, ``glob``, ``grep``, ``write_file``,
    ``edit_file`` and ``run_command``."""
    root = env.fs.scope.root
    ignore = IgnoreTree(root) if root is not None else None
    return [
        ReadFile(env.fs, env.images),
        ListDir(env.fs),
        Glob(env.fs, ignore),
        Grep(env.fs, ignore),
        WriteFile(env.fs, env.editor),
        EditFile(env.fs, env.editor),
        RunCommand(
            env.fs.scope,
            env.approvals,
            timeout=env.command_timeout,
            max_output_bytes=env.command_output_bytes,
            hidden_env=env.hidden_env,
            fs=env.fs,
        ),
    ]
