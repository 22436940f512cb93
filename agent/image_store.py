"""Where images live, and how a pod takes them in and hands them to the model.

:class:`ImageStore` keeps image bytes content-addressed: ``<folder>/<sha256>``
(the host puts it next to the session logs, ``<home>/sessions/images``). The
log records only an :class:`~agent.images.ImageRef` (hash, type, size), so

- a log stays small: a 5 MB screenshot would be a 6.7 MB base64 line that
  every restore, listing and chain check would read again;
- the hash chain still covers the image: the logged line holds its SHA-256,
  and a blob is checked against its name whenever it is read;
- forks and compacted sessions carry references, not copies, and the same
  image pasted twice is stored once.

:class:`ImageInput` is one pod's side: it stores the images of a turn's input
(:meth:`ImageInput.prepare`), reads image files for ``read_file``, refuses
images for a model litellm says cannot see them, and gives the worker the data
URLs of the images in a request (:meth:`ImageInput.for_request`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path

from agent.errors import ToolError
from agent.fsutil import atomic_write_bytes, open_regular
from agent.images import (
    MAX_IMAGE_BYTES,
    ImageRef,
    ImageRejected,
    checked,
    data_url,
    decode_data_url,
    is_image_name,
    sniff,
    too_large,
)
from agent.items import Item, Message, ToolResult
from agent.llm.types import ModelInfo
from agent.segments import FileSegment, ImageSegment, Segment, images_of
from agent.tools.fs import ScopedFs

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


def _image_file(segment: Segment) -> str | None:
    """The path of a ``file`` segment that names a whole image file."""
    if isinstance(segment, FileSegment) and segment.range is None:
        return segment.path if is_image_name(segment.path) else None
    return None


def _as_image(segment: Segment) -> Segment:
    path = _image_file(segment)
    return segment if path is None else ImageSegment(kind="image", path=path)


def images_in(items: Iterable[Item]) -> list[ImageRef]:
    """Every stored image the items refer to (user input and tool results)."""
    refs: list[ImageRef] = []
    for item in items:
        if isinstance(item, Message) and item.segments:
            refs += images_of(item.segments)
        elif isinstance(item, ToolResult) and item.images:
            refs += item.images
    return refs


class ImageInput:
    """One pod's images: its store, its files, and whether its model sees."""

    def __init__(
        self,
        store: ImageStore,
        fs: ScopedFs,
        model: str,
        ask: Callable[[], Awaitable[ModelInfo]] | None = None,
    ) -> None:
        self.store = store
        self.fs = fs
        self.model = model
        self.ask = ask

    async def sees_images(self) -> bool | None:
        """litellm's ``supports_vision`` for the model; ``None`` when it does
        not know the model (a local server: images are sent and it decides)."""
        if self.ask is None:
            return None
        return (await self.ask()).supports_vision

    def refusal(self) -> str:
        return (
            f"The model {self.model} does not accept images (litellm's model map says it "
            "has no vision support). Remove the image, or use a model that supports vision."
        )

    async def prepare(self, segments: Sequence[Segment]) -> list[Segment]:
        """``segments`` with every new image stored (its ``data`` dropped,
        ``sha256``, ``mime`` and ``size`` set). Raises :class:`ImageRejected`
        naming the field (``input[2].path``) before anything is sent.

        A ``file`` segment that names an image file (``@shot.png``, no line
        range) is sent as the image, unless the model cannot see images
        (then it stays a file reference, which says it is not text)."""
        if not any(isinstance(s, ImageSegment) or _image_file(s) for s in segments):
            return list(segments)
        sees = await self.sees_images()
        if sees is not False:
            segments = [_as_image(s) for s in segments]
        images = [i for i, s in enumerate(segments) if isinstance(s, ImageSegment)]
        if not images:
            return list(segments)
        if sees is False:
            field = f"input[{images[0]}]"
            raise ImageRejected(f"`{field}`: {self.refusal()}", field=field)
        out: list[Segment] = []
        for index, segment in enumerate(segments):
            if isinstance(segment, ImageSegment) and segment.ref() is None:
                out.append(await self._store(index, segment))
            else:
                out.append(segment)
        return out

    async def _store(self, index: int, segment: ImageSegment) -> ImageSegment:
        if segment.data is not None:
            field = f"input[{index}].data"
            try:
                mime, data = await asyncio.to_thread(decode_data_url, segment.data)
            except ValueError as exc:
                raise ImageRejected(f"`{field}`: {exc}", field=field) from None
            name = segment.name
        else:
            assert segment.path is not None
            field = f"input[{index}].path"
            try:
                mime, data, shown = await self._read(segment.path)
            except ImageRejected as exc:
                raise ImageRejected(f"`{field}`: {exc}", field=field) from None
            name = segment.name or shown
        ref = await self.store.put(data, mime, name)
        update = {
            "data": None,
            "name": name,
            "sha256": ref.sha256,
            "mime": ref.mime,
            "size": ref.size,
        }
        return segment.model_copy(update=update)

    async def _read(self, raw: str) -> tuple[str, bytes, str]:
        try:
            path = self.fs.scope.check_read(raw)
        except ToolError as exc:
            raise ImageRejected(str(exc)) from None
        shown = self.fs.display(path)
        try:
            mime, data = await asyncio.to_thread(read_image_file, path, shown)
        except ValueError as exc:
            raise ImageRejected(str(exc)) from None
        return mime, data, shown

    async def read(self, raw: str) -> ImageRef:
        """Store an image file for ``read_file`` (raises :class:`ImageRejected`)."""
        mime, data, shown = await self._read(raw)
        return await self.store.put(data, mime, shown)

    async def for_request(self, items: Sequence[Item]) -> dict[str, str]:
        """The data URLs of the images in ``items`` (by SHA-256); none for a
        model that cannot see them (the request then says what was left out)."""
        refs = images_in(items)
        if not refs or await self.sees_images() is False:
            return {}
        urls: dict[str, str] = {}
        for ref in refs:
            if ref.sha256 not in urls:
                url = await self.store.data_url(ref)
                if url is not None:
                    urls[ref.sha256] = url
        return urls
