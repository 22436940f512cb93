"""Where images live: content-addressed bytes next to the session logs.

:class:`ImageStore` keeps image bytes by their SHA-256: ``<folder>/<sha256>``
(the host puts it next to the session logs, ``<home>/sessions/images``). The
log records only an :class:`~agent.images.ImageRef` (hash, type, size), so

- a log stays small: a 5 MB screenshot would be a 6.7 MB base64 line that
  every restore, listing and chain check would read again;
- the hash chain still covers the image: the logged line holds its SHA-256,
  and a blob is checked against its name whenever it is read;
- forks and compacted sessions carry references, not copies, and the same
  image pasted twice is stored once.

How a pod takes images in and hands them to the model is
:mod:`agent.image_input`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections import OrderedDict
from pathlib import Path

from agent.fsutil import atomic_write_bytes, open_regular
from agent.images import (
    MAX_IMAGE_BYTES,
    ImageRef,
    checked,
    data_url,
    sniff,
    too_large,
)

log = logging.getLogger(__name__)

CACHE_BYTES = 32 * 1024 * 1024  # data URLs kept between requests


class ImageStore:
    """Image bytes by SHA-256, written once; a small cache of data URLs."""

    def __init__(self, folder: Path, cache_bytes: int = CACHE_BYTES) -> None:
        self.folder = folder
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._cached = 0

    async def put(self, data: bytes, mime: str, name: str | None) -> ImageRef:
        sha, url = await asyncio.to_thread(self._write, data, mime)
        self._remember(sha, url)
        return ImageRef(sha256=sha, mime=mime, size=len(data), name=name)

    def _write(self, data: bytes, mime: str) -> tuple[str, str]:
        """Store the bytes (blocking); their hash and data URL."""
        sha = hashlib.sha256(data).hexdigest()
        path = self.folder / sha
        if not path.exists():  # private, like the session logs
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            atomic_write_bytes(path, data, mode=0o600)
        return sha, data_url(mime, data)

    async def data_url(self, ref: ImageRef) -> str | None:
        """The image as a data URL; ``None`` (and a warning in the log) when
        its bytes are gone or do not match their hash."""
        url = self._cache.get(ref.sha256)
        if url is not None:
            self._cache.move_to_end(ref.sha256)
            return url
        url = await asyncio.to_thread(self._read, ref)
        if url is not None:
            self._remember(ref.sha256, url)
        return url

    def _read(self, ref: ImageRef) -> str | None:
        """The stored image as a data URL (blocking), if intact."""
        sha = ref.sha256
        try:
            data = (self.folder / sha).read_bytes()
        except OSError as exc:
            log.warning("image %s cannot be read: %s", sha, exc)
            return None
        if hashlib.sha256(data).hexdigest() != sha:
            log.warning("image %s does not match its hash; not sent", sha)
            return None
        return data_url(ref.mime, data)

    async def load(self, sha: str) -> tuple[ImageRef, str] | None:
        """A stored image by its hash (its type told by its bytes) and its
        data URL, or ``None``."""
        return await asyncio.to_thread(self._load, sha)

    def _load(self, sha: str) -> tuple[ImageRef, str] | None:
        try:
            with open_regular(self.folder / sha) as fh:
                head = fh.read(16)
        except OSError:
            return None
        mime = sniff(head)
        if mime is None:
            return None
        ref = ImageRef(sha256=sha, mime=mime, size=0)
        url = self._read(ref)
        if url is None:
            return None
        size = (len(url) - url.index(",") - 1) * 3 // 4 - url.count("=", -2)
        return ref.model_copy(update={"size": size}), url

    def _remember(self, sha: str, url: str) -> None:
        if sha in self._cache or len(url) > self.cache_bytes:
            return
        self._cache[sha] = url
        self._cached += len(url)
        while self._cached > self.cache_bytes:
            _, dropped = self._cache.popitem(last=False)
            self._cached -= len(dropped)


def read_image_file(path: Path, shown: str) -> tuple[str, bytes]:
    """The type and bytes of an image file (blocking; raises ``ValueError``)."""
    try:
        with open_regular(path) as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_IMAGE_BYTES:
                raise ValueError(too_large(size, shown))
            data = fh.read(MAX_IMAGE_BYTES + 1)
    except FileNotFoundError:
        raise ValueError(f"{shown} does not exist") from None
    except OSError as exc:
        raise ValueError(f"cannot read {shown}: {exc.strerror or exc}") from None
    return checked(data, shown), data
