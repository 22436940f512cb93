"""Low-level file primitives shared by the runtime: atomic writes, and opening
a file for reading only when it is a regular file.

Reading a FIFO blocks until a writer appears (forever, in a workspace), and a
device may never end, so every read of workspace content goes through
:func:`open_regular`, which refuses anything but a regular file without
blocking.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC


class NotRegularFile(OSError):
    """The path is a directory, FIFO, device or socket, not a regular file.
    ``kind`` names it: ``"a directory"``, ``"a FIFO"``, ``"a device"``, ``"a socket"``."""

    def __init__(self, path: str | os.PathLike[str], kind: str) -> None:
        super().__init__(errno.EINVAL, f"not a regular file ({kind})", os.fspath(path))
        self.kind = kind


def file_kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, as a noun phrase."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISREG(mode):
        return "a regular file"
    return "a special file"


def special_kind(path: str | os.PathLike[str]) -> str | None:
    """What ``path`` is when it exists and is neither a regular file nor a
    directory (following symlinks), such as ``"a FIFO"``; else ``None``."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return file_kind(mode)


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file, never
    blocking: a FIFO, device, socket or directory raises
    :class:`NotRegularFile`, and a symlink as the last component raises
    ``OSError`` (``ELOOP``); callers pass resolved paths. The caller closes
    the returned file."""
    # Checked before opening too, so a device is never opened at all.
    before = os.stat(path, follow_symlinks=False)
    if not (stat.S_ISREG(before.st_mode) or stat.S_ISLNK(before.st_mode)):
        raise NotRegularFile(path, file_kind(before.st_mode))
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # replaced by a socket (or FIFO) meanwhile
            raise NotRegularFile(path, "a socket") from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # replaced between the stat and the open
            raise NotRegularFile(path, file_kind(mode))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file; see :func:`open_regular` for what is refused."""
    with open_regular(path) as fh:
        return fh.read()


@functools.cache
def umask() -> int:
    """The process umask, read without changing it (``os.umask`` would race
    with other threads creating files)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a directory's entries (a rename or a new file) to disk; best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(
    path: Path, data: bytes, *, mode: int | None = None, exclusive: bool = False
) -> None:
    """Replace ``path`` with ``data`` so that readers see the old file or the
    new one, never a mix, even after a crash: a temporary file in the same
    directory, fsync, rename, fsync of the directory.

    ``mode`` gives the permission bits; by default an existing file keeps its
    own and a new one gets ``0o666`` minus the umask. With ``exclusive`` the
    file is only created, never replaced: ``FileExistsError`` if it exists.
    The parent directory must exist. On failure the temporary file is removed
    and the error raised."""
    if mode is None:
        try:
            mode = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o666 & ~umask()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    renamed = False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        if exclusive:
            os.link(tmp, path)  # the temporary name is removed below
        else:
            os.replace(tmp, path)
            renamed = True
    finally:
        if not renamed:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    fsync_dir(path.parent)


def atomic_write_text(
    path: Path, text: str, *, mode: int | None = None, exclusive: bool = False
) -> None:
    """:func:`atomic_write_bytes` of ``text`` as UTF-8 (lone surrogates are
    written as they came, not refused)."""
    data = text.encode("utf-8", errors="surrogatepass")
    atomic_write_bytes(path, data, mode=mode, exclusive=exclusive)
