"""File tools: ``read_file``, ``list_dir``, ``write_file`` and ``edit_file``.

Writing tools never touch the disk themselves: they propose a whole-file
change to the editor port and report what became of it. A file must have been
read, and be unchanged since, before it can be overwritten or edited.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from agent.errors import EditConflict, ExecutionFailed, FileNotFound, InvalidArgument
from agent.events import EditEvent, EditStatus
from agent.images import describe, is_image_name
from agent.items import EditOutcome, EditOutcomeStatus
from agent.ports import EditorPort, EditResult, ProposedEdit
from agent.tools.base import Tool, ToolArgs, ToolCallContext, ToolOutput
from agent.tools.fs import FileText, FileTooLarge, ScopedFs

if TYPE_CHECKING:
    from agent.image_input import ImageInput

DEFAULT_READ_LINES = 2000
MAX_LINE_CHARS = 2000
MAX_DIR_ENTRIES = 1000
PREVIEW_CONTEXT = 3


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def split_lines(text: str) -> list[str]:
    """Lines as editors number them: split on ``\\n``, no empty line after a
    final newline."""
    if not text:
        return []
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return lines


def number_lines(lines: list[str], first: int) -> str:
    """``%6d\\t<line>`` for each line; over-long lines are cut with a marker."""
    out: list[str] = []
    for number, raw in enumerate(lines, start=first):
        line = raw.removesuffix("\r")
        if len(line) > MAX_LINE_CHARS:
            cut = len(line) - MAX_LINE_CHARS
            line = f"{line[:MAX_LINE_CHARS]} … [line cut: {cut} more characters]"
        out.append(f"{number:6d}\t{line}")
    return "\n".join(out)


# ---------------------------------------------------------------- read_file


class ReadFileArgs(ToolArgs):
    path: str = Field(description="The file to read: relative to the workspace root, or absolute.")
    offset: int | None = Field(
        default=None,
        ge=1,
        description="1-based number of the first line to read. Omit to start at line 1.",
    )
    limit: int | None = Field(
        default=None,
        ge=1,
        description=f"How many lines to read (default {DEFAULT_READ_LINES}).",
    )


class ReadFile(Tool[ReadFileArgs]):
    name: ClassVar[str] = "read_file"
    read_only: ClassVar[bool] = True
    description: ClassVar[str] = (
        "Read a text file. Lines come numbered (`number<TAB>text`); the numbers are not "
        "part of the file. Shows the editor's unsaved text when the file is open there. "
        f"Reads up to {DEFAULT_READ_LINES} lines from the top unless offset/limit are given. "
        "Read a file before editing or overwriting it. An image file (PNG, JPEG, GIF, "
        "WebP) comes back as the image itself."
    )
    args_model: ClassVar[type[ToolArgs]] = ReadFileArgs

    def __init__(self, fs: ScopedFs, images: ImageInput | None = None) -> None:
        self.fs = fs
        self.images = images

    async def run(self, args: ReadFileArgs, call: ToolCallContext) -> ToolOutput:
        if self.images is not None and is_image_name(args.path):
            return await self._image(self.images, args.path)
        first = args.offset or 1
        count = args.limit or DEFAULT_READ_LINES
        try:
            file = await self.fs.read_text(args.path)
        except FileTooLarge:
            if args.offset is None and args.limit is None:
                raise
            return await self._read_window(args.path, first, count)
        shown = self.fs.display(file.path)
        self.fs.tracker.record(file.path, file.text, file.version)
        lines = split_lines(file.text)
        total = len(lines)
        if total == 0:
            return ToolOutput(summary=f"Read 0 lines from {shown} (the file is empty)")
        if first > total:
            raise InvalidArgument(
                f"offset {first} is past the end of {shown}, which has {plural(total, 'line')}."
            )
        chosen = lines[first - 1 : first - 1 + count]
        last = first + len(chosen) - 1
        content = number_lines(chosen, first)
        if first == 1 and last == total:
            return ToolOutput(summary=f"Read {plural(total, 'line')} from {shown}", content=content)
        if last < total:
            content += f"\n[{plural(total - last, 'more line')}; continue with offset={last + 1}]"
        return ToolOutput(
            summary=f"Read lines {first}-{last} of {total} from {shown}", content=content
        )

    async def _image(self, images: ImageInput, raw: str) -> ToolOutput:
        ref = await images.read(raw)
        if await images.sees_images() is False:
            return ToolOutput(
                summary=f"{describe(ref)} is an image; not shown",
                content=f"The model {images.model} cannot view images, so the image was not "
                "sent. Ask the user to describe it if it matters.",
            )
        return ToolOutput(summary=f"Read the image {describe(ref)}", images=(ref,))

    async def _read_window(self, raw: str, first: int, count: int) -> ToolOutput:
        window = await self.fs.read_lines(raw, first, count)
        shown = self.fs.display(window.path)
        if not window.lines:
            raise InvalidArgument(f"offset {first} is past the end of {shown}.")
        last = first + len(window.lines) - 1
        content = number_lines(window.lines, first)
        if not window.reached_end:
            content += f"\n[the file goes on; continue with offset={last + 1}]"
        return ToolOutput(
            summary=f"Read lines {first}-{last} from {shown} (too large to read whole)",
            content=content,
        )


# ---------------------------------------------------------------- list_dir


class ListDirArgs(ToolArgs):
    path: str = Field(
        default=".",
        description="The directory to list, relative to the workspace root or absolute "
        "(default: the workspace root).",
    )


class ListDir(Tool[ListDirArgs]):
    name: ClassVar[str] = "list_dir"
    read_only: ClassVar[bool] = True
    description: ClassVar[str] = (
        "List a directory's entries, sorted by name. Directories end with `/`; symlinks "
        "show their target as `name -> target`. `.git` is not shown."
    )
    args_model: ClassVar[type[ToolArgs]] = ListDirArgs

    def __init__(self, fs: ScopedFs) -> None:
        self.fs = fs

    async def run(self, args: ListDirArgs, call: ToolCallContext) -> ToolOutput:
        path = self.fs.scope.check_read(args.path)
        shown = self.fs.display(path)
        entries = await asyncio.to_thread(self._list, path, shown)
        if not entries:
            return ToolOutput(summary=f"{shown} is empty")
        dirs = sum(1 for e in entries if e.is_dir)
        lines = [e.line for e in entries[:MAX_DIR_ENTRIES]]
        if len(entries) > MAX_DIR_ENTRIES:
            lines.append(f"[{len(entries) - MAX_DIR_ENTRIES} more entries not shown]")
        files = len(entries) - dirs
        summary = (
            f"{shown}: {len(entries)} {'entry' if len(entries) == 1 else 'entries'} "
            f"({dirs} {'directory' if dirs == 1 else 'directories'}, {plural(files, 'file')})"
        )
        return ToolOutput(summary=summary, content="\n".join(lines))

    def _list(self, path: Path, shown: str) -> list[_Entry]:
        if not path.exists():
            raise FileNotFound(f"{shown} does not exist.")
        if not path.is_dir():
            raise InvalidArgument(f"{shown} is a file, not a directory; use read_file to read it.")
        entries: list[_Entry] = []
        try:
            with os.scandir(path) as it:
                for entry in it:
                    if entry.name == ".git":
                        continue
                    if not self.fs.scope.readable(path / entry.name, resolved=True):
                        continue
                    entries.append(_describe(entry))
        except PermissionError:
            raise ExecutionFailed(f"Cannot list {shown}: permission denied.") from None
        except OSError as exc:
            raise ExecutionFailed(f"Cannot list {shown}: {exc.strerror or exc}.") from None
        entries.sort(key=lambda e: e.name)
        return entries


@dataclass(frozen=True)
class _Entry:
    name: str
    line: str
    is_dir: bool


def _describe(entry: os.DirEntry[str]) -> _Entry:
    try:
        is_dir = entry.is_dir()
    except OSError:
        is_dir = False
    name = entry.name + ("/" if is_dir else "")
    if entry.is_symlink():
        try:
            target = os.readlink(entry.path)
        except OSError:
            target = "?"
        return _Entry(entry.name, f"{name} -> {target}", is_dir)
    return _Entry(entry.name, name, is_dir)


# ---------------------------------------------------------------- proposing edits


def ensure_seen(fs: ScopedFs, call: ToolCallContext, path: Path, current: FileText | None) -> None:
    """Raise :class:`EditConflict` unless the agent read ``current`` (an
    existing file) and it has not changed since; a change is reported as a
    ``stale`` edit event."""
    if current is None:
        return
    try:
        fs.tracker.verify(path, current.text, shown=fs.display(path))
    except EditConflict as exc:
        if fs.tracker.has(path):
            _emit(call, path.as_uri(), "stale", str(exc))
            call.edits.append(EditOutcome(uri=path.as_uri(), status="stale", message=str(exc)))
        raise


async def propose(
    fs: ScopedFs,
    editor: EditorPort,
    call: ToolCallContext,
    *,
    tool: str,
    path: Path,
    current: FileText | None,
    after: str,
) -> EditResult:
    """Check that ``current`` is what the agent last saw, propose ``after``
    to the editor, report its progress as edit events, and turn anything but
    ``applied`` into the tool error the model should see."""
    shown = fs.display(path)
    uri = path.as_uri()
    ensure_seen(fs, call, path, current)
    base_version = current.version if current is not None and current.from_buffer else None
    if base_version is None and current is not None:
        base_version = fs.tracker.version_of(path)
    edit = ProposedEdit(
        call_id=call.call_id,
        tool=tool,
        path=path,
        before=current.text if current is not None else None,
        after=after,
        base_version=base_version,
        label=f"yoi: {tool} {shown} (call {call.call_id})",
    )
    _emit(call, uri, "proposed", None)
    try:
        result = await editor.apply_edit(edit)
    except asyncio.CancelledError:  # interrupted during the review: say how it ended
        _emit(call, uri, "failed", "interrupted before the editor answered")
        raise
    _emit(call, uri, result.status, result.message)
    if result.status == "applied":
        fs.tracker.mark_edited(path)
    call.edits.append(_outcome(uri, result))
    detail = f" ({result.message})" if result.message else ""
    match result.status:
        case "applied" if result.partial:
            fs.tracker.forget(path)
            raise EditConflict(
                f"The user applied only part of the change to {shown} (they left some of it "
                "out in the review). Read it again to see what it contains now before going on."
            )
        case "applied":
            fs.tracker.record(path, after, result.new_version)
            return result
        case "rejected":
            raise EditConflict(
                f"The user rejected the change to {shown}; nothing was written{detail}. "
                "Ask the user what they want instead of retrying the same change."
            )
        case "stale":
            raise EditConflict(
                f"{shown} changed before the change could be applied, so nothing was "
                f"written{detail}. Read it again before editing."
            )
        case _:
            raise ExecutionFailed(f"The change to {shown} could not be applied{detail}.")


def _outcome(uri: str, result: EditResult) -> EditOutcome:
    """How the edit ended, for the tool's result in the history."""
    match result.status:
        case "applied":
            status: EditOutcomeStatus = "partial" if result.partial else "applied"
        case "proposed":  # an editor port that never answered
            status = "failed"
        case _:
            status = result.status
    return EditOutcome(uri=uri, status=status, message=result.message)


def _emit(call: ToolCallContext, uri: str, status: EditStatus, message: str | None) -> None:
    call.events.emit(EditEvent(id=call.call_id, uri=uri, status=status, message=message))


async def _current(fs: ScopedFs, raw: str) -> tuple[Path, FileText | None]:
    path = fs.scope.check_write(raw)
    try:
        return path, await fs.read_text(path, for_write=True)
    except FileNotFound:
        return path, None


# ---------------------------------------------------------------- write_file


class WriteFileArgs(ToolArgs):
    path: str = Field(
        description="The file to create or overwrite: relative to the workspace root, or "
        "absolute. Missing parent directories are created."
    )
    content: str = Field(description="The complete new content of the file.")


class WriteFile(Tool[WriteFileArgs]):
    name: ClassVar[str] = "write_file"
    description: ClassVar[str] = (
        "Create a file, or replace a file's whole content. To change part of an existing "
        "file prefer edit_file. An existing file must have been read first (read_file) and "
        "not have changed since. The change is proposed to the user's editor, which may "
        "reject it."
    )
    args_model: ClassVar[type[ToolArgs]] = WriteFileArgs

    def __init__(self, fs: ScopedFs, editor: EditorPort) -> None:
        self.fs = fs
        self.editor = editor

    async def run(self, args: WriteFileArgs, call: ToolCallContext) -> ToolOutput:
        path, current = await _current(self.fs, args.path)
        shown = self.fs.display(path)
        if current is not None and current.text == args.content:
            ensure_seen(self.fs, call, path, current)
            return ToolOutput(summary=f"{shown} already has this content; nothing changed")
        await propose(
            self.fs,
            self.editor,
            call,
            tool=self.name,
            path=path,
            current=current,
            after=args.content,
        )
        size = len(args.content.encode("utf-8", errors="surrogatepass"))
        verb = "Created" if current is None else "Wrote"
        return ToolOutput(summary=f"{verb} {shown} ({plural(size, 'byte')})")


# ---------------------------------------------------------------- edit_file


class EditFileArgs(ToolArgs):
    path: str = Field(description="The file to edit: relative to the workspace root, or absolute.")
    old_string: str = Field(
        description="The exact text to replace, including whitespace and indentation, as it "
        "appears in the file (without the line numbers read_file shows). Must match exactly "
        "one place unless replace_all is set."
    )
    new_string: str = Field(description="The text to put in its place.")
    replace_all: bool = Field(
        default=False, description="Replace every occurrence of old_string instead of one."
    )


class EditFile(Tool[EditFileArgs]):
    name: ClassVar[str] = "edit_file"
    description: ClassVar[str] = (
        "Replace an exact string in a file. The file must have been read first (read_file) "
        "and not have changed since. old_string must match one place exactly (include "
        "enough surrounding lines to make it unique) or set replace_all. The change is "
        "proposed to the user's editor, which may reject it."
    )
    args_model: ClassVar[type[ToolArgs]] = EditFileArgs

    def __init__(self, fs: ScopedFs, editor: EditorPort) -> None:
        self.fs = fs
        self.editor = editor

    async def run(self, args: EditFileArgs, call: ToolCallContext) -> ToolOutput:
        if not args.old_string:
            raise InvalidArgument(
                "old_string is empty; to create a file or replace its whole content use write_file."
            )
        if args.old_string == args.new_string:
            raise InvalidArgument(
                "old_string and new_string are identical; there is nothing to change."
            )
        path, current = await _current(self.fs, args.path)
        shown = self.fs.display(path)
        if current is None:
            raise FileNotFound(f"{shown} does not exist; use write_file to create it.")
        ensure_seen(self.fs, call, path, current)
        text = current.text
        old, new = args.old_string, args.new_string
        if old not in text and "\r\n" in text and "\r" not in old:
            old, new = old.replace("\n", "\r\n"), new.replace("\n", "\r\n")
        count = text.count(old)
        if count == 0:
            raise EditConflict(
                f"old_string was not found in {shown}. Check whitespace and indentation, or "
                "read the file again."
            )
        if count > 1 and not args.replace_all:
            raise EditConflict(
                f"old_string matches {count} places in {shown} ({_match_lines(text, old)}); "
                "include more surrounding lines to make it unique, or set replace_all."
            )
        after = text.replace(old, new) if args.replace_all else text.replace(old, new, 1)
        await propose(
            self.fs, self.editor, call, tool=self.name, path=path, current=current, after=after
        )
        first_line = text[: text.index(old)].count("\n") + 1
        return ToolOutput(
            summary=f"Edited {shown} ({plural(count, 'replacement')})",
            content=_preview(after, first_line, new.count("\n") + 1),
        )


def _match_lines(text: str, old: str, limit: int = 10) -> str:
    lines: list[int] = []
    start = 0
    while len(lines) <= limit:
        index = text.find(old, start)
        if index == -1:
            break
        lines.append(text.count("\n", 0, index) + 1)
        start = index + len(old)
    shown = ", ".join(str(n) for n in lines[:limit])
    more = ", …" if len(lines) > limit else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


def _preview(text: str, first: int, span: int) -> str:
    lines = split_lines(text)
    start = max(1, first - PREVIEW_CONTEXT)
    end = min(len(lines), first + span - 1 + PREVIEW_CONTEXT)
    return number_lines(lines[start - 1 : end], start)
